/* The reconnect storm after each heal: how the fleet came back, as a
 * histogram of connections and check-ins per 100 ms window (issue 12 §3),
 * read from events.jsonl and written as reconnects.txt next to it. A fleet
 * whose devices all retry on the same schedule shows one tall bar; backoff
 * with jitter shows a spread.
 *
 * A storm starts at a heal (the heal events of one lan:heal() share a
 * moment) and ends at the next partition, the next heal, the run's last
 * event or RECONNECTS_SPAN_S after it, whichever comes first. */
#ifndef VH_RECONNECTS_H
#define VH_RECONNECTS_H

#include <stdio.h>

#define RECONNECTS_BIN_MS 100
#define RECONNECTS_SPAN_S 30
#define RECONNECTS_BINS (RECONNECTS_SPAN_S * 1000 / RECONNECTS_BIN_MS)
#define RECONNECTS_MAX 16 /* storms kept per run */

struct reconnect_storm {
	double heal_t, end_t; /* run seconds */
	char network[64];
	int healed; /* heal events at its start: devices let back in */
	int connects[RECONNECTS_BINS], checkins[RECONNECTS_BINS];
};

struct reconnects {
	struct reconnect_storm storms[RECONNECTS_MAX];
	int n;
};

/* Reads events.jsonl lines from in. Lines that do not parse are skipped
 * (the report shows them). Returns the number of storms. */
int reconnects_read(FILE *in, struct reconnects *out);

/* The histogram as text, one block per storm. Returns 0 or -1. */
int reconnects_print(FILE *out, const struct reconnects *r);

/* Writes dir/reconnects.txt when dir's events.jsonl has a heal; nothing
 * (and 0) when it has none. -1 with a message in err when it cannot. */
int reconnects_write_dir(const char *dir, char *err, size_t errlen);

#endif
