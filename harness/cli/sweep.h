/* `vharness sweep`: the pure parts, unit-tested without guests: its options,
 * the cut points a recording run left (sweep-points.tsv), each point's
 * outcome from its run's events, and the table. cmd_sweep.c runs them. */
#ifndef VH_SWEEP_H
#define VH_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SWEEP_MAX_DEFINES 64
#define SWEEP_DEFAULT_MAX 50
#define SWEEP_MAX_JOBS 64

/* What a cut point is: a console line, a flush (or FUA write) reaching the
 * flash, a write reaching it. */
enum sweep_cut_kind { SWEEP_CUT_LINE, SWEEP_CUT_FLUSH, SWEEP_CUT_WRITE };
const char *sweep_cut_kind_name(enum sweep_cut_kind k);

struct sweep_opts {
	bool help;
	const char *scenario;
	enum sweep_cut_kind kind;
	const char *pattern; /* of --cut-at line:PATTERN, NULL for flush and write */
	const char *from;    /* --from PATTERN, NULL: the whole run */
	int jobs;	     /* --jobs N */
	bool jobs_auto;	     /* --jobs auto */
	const char *flash;   /* volatile (default), torn, ordered, durable */
	int max;
	bool seed_set;
	uint64_t seed;
	const char *artifacts; /* NULL: vharness-out/sweep-<scenario> */
	const char *defines[SWEEP_MAX_DEFINES];
	int n_defines;
};

/* argv[0] is "sweep". 0, or -1 with err naming the bad option (exit 2). */
int sweep_parse(int argc, char **argv, struct sweep_opts *o, char *err, size_t errlen);
void sweep_usage(FILE *out);

struct sweep_point {
	char device[32];
	long ordinal; /* among the device's points in the window, from 1 */
	char *line;   /* the device's last console line at the point */
};

/* Which of total recorded points a sweep with --max max runs, in order,
 * as indices into them in idx (room for max); returns how many. Lines:
 * the first max. Flushes and writes, of which an update has many and the
 * last ones matter most: max spread evenly from the first to the last. */
int sweep_select(int total, int max, enum sweep_cut_kind kind, int *idx);

/* Reads "device<TAB>ordinal<TAB>line" rows, at most max. 0 or -1 with err
 * naming the row. The caller frees with sweep_points_free. */
int sweep_points_read(FILE *f, int max, struct sweep_point **out, int *n, char *err, size_t errlen);
void sweep_points_free(struct sweep_point *p, int n);

enum sweep_kind { SWEEP_PASS, SWEEP_BRICKED, SWEEP_CHECK_FAILED, SWEEP_NOT_REACHED, SWEEP_ERROR };

struct sweep_outcome {
	enum sweep_kind kind;
	char slot;	  /* the slot booted after the cut, 0 when unknown */
	char version[32]; /* its version, "" when unknown */
	long cut_event;	  /* the sweep_cut event's line in events.jsonl, -1 none */
};

/* What a point's run did, from its events.jsonl (f, may be NULL) and its
 * exit code: the slot is the device's last boot_choice after the cut. */
void sweep_outcome_read(FILE *events, const char *device, int exit_code, struct sweep_outcome *out);

/* "pass (slot a 1.0.0)", "bricked", "check failed", ... */
void sweep_outcome_text(const struct sweep_outcome *o, char *out, size_t len);

/* One row per point: point, device, cut (kind and ordinal), line,
 * outcome, and the message's first line for a failure (messages[i], may be
 * NULL). */
void sweep_table_print(FILE *out, enum sweep_cut_kind kind, const struct sweep_point *p,
		       const struct sweep_outcome *o, const char *const *messages, int n);

#endif
