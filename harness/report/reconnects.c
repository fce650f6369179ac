/* reconnects: the reconnect-storm histogram (rules in the header). */
#include "reconnects.h"

#include "artifacts.h"
#include "json_flat.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* heal events of one lan:heal() are written in one loop turn */
#define SAME_HEAL_S 0.05
#define BAR_MAX 50

static struct reconnect_storm *open_storm(struct reconnects *r)
{
	return r->n > 0 && r->storms[r->n - 1].end_t < 0 ? &r->storms[r->n - 1] : NULL;
}

static void close_storm(struct reconnects *r, double t)
{
	struct reconnect_storm *s = open_storm(r);
	if (s)
		s->end_t = t < s->heal_t + RECONNECTS_SPAN_S ? t : s->heal_t + RECONNECTS_SPAN_S;
}

static void on_event(struct reconnects *r, const char *event, double t, const char *network)
{
	struct reconnect_storm *s = open_storm(r);
	if (!strcmp(event, "heal")) {
		if (s && t - s->heal_t <= SAME_HEAL_S &&
		    !strcmp(s->network, network ? network : "")) {
			s->healed++;
			return;
		}
		close_storm(r, t);
		if (r->n == RECONNECTS_MAX)
			return;
		s = &r->storms[r->n++];
		memset(s, 0, sizeof(*s));
		s->heal_t = t;
		s->end_t = -1;
		s->healed = 1;
		snprintf(s->network, sizeof(s->network), "%s", network ? network : "");
		return;
	}
	if (!strcmp(event, "partition")) {
		close_storm(r, t);
		return;
	}
	if (!s)
		return;
	if (t >= s->heal_t + RECONNECTS_SPAN_S) {
		close_storm(r, t);
		return;
	}
	int bin = (int)((t - s->heal_t) * 1000 / RECONNECTS_BIN_MS);
	if (bin < 0 || bin >= RECONNECTS_BINS)
		return;
	if (!strcmp(event, "http_connect"))
		s->connects[bin]++;
	else if (!strcmp(event, "checkin"))
		s->checkins[bin]++;
}

int reconnects_read(FILE *in, struct reconnects *out)
{
	char *line = NULL, err[128];
	size_t cap = 0;
	double last_t = 0;
	memset(out, 0, sizeof(*out));
	while (getline(&line, &cap, in) > 0) {
		line[strcspn(line, "\n")] = '\0';
		struct json_flat j;
		if (json_flat_parse(line, &j, err, sizeof(err)) == 0) {
			const char *event = json_flat_get(&j, "event"), *t = json_flat_get(&j, "t");
			if (event && t) {
				last_t = strtod(t, NULL);
				on_event(out, event, last_t, json_flat_get(&j, "network"));
			}
		}
		json_flat_free(&j);
	}
	free(line);
	close_storm(out, last_t);
	return out->n;
}

static int sum(const int *v, int n)
{
	int s = 0;
	for (int i = 0; i < n; i++)
		s += v[i];
	return s;
}

static void print_storm(FILE *out, const struct reconnect_storm *s)
{
	int bins = (int)((s->end_t - s->heal_t) * 1000 / RECONNECTS_BIN_MS) + 1;
	if (bins > RECONNECTS_BINS)
		bins = RECONNECTS_BINS;
	/* quiet tail windows say nothing */
	while (bins > 1 && !s->connects[bins - 1] && !s->checkins[bins - 1])
		bins--;
	int peak = 0, peak_bin = 0;
	for (int i = 0; i < bins; i++)
		if (s->connects[i] > peak)
			peak = s->connects[i], peak_bin = i;
	fprintf(out,
		"heal of %d device%s on %s at %.3f s: %d connections and %d check-ins in the"
		" next %.1f s; peak %d connections in one %d ms window (+%.1f s)\n",
		s->healed, s->healed == 1 ? "" : "s", s->network, s->heal_t, sum(s->connects, bins),
		sum(s->checkins, bins), s->end_t - s->heal_t, peak, RECONNECTS_BIN_MS,
		peak_bin * RECONNECTS_BIN_MS / 1000.0);
	fprintf(out, "  window (s)  connects  checkins\n");
	for (int i = 0; i < bins; i++) {
		if (!s->connects[i] && !s->checkins[i])
			continue;
		int bar = peak > BAR_MAX ? s->connects[i] * BAR_MAX / peak : s->connects[i];
		fprintf(out, "  +%5.1f  %10d  %8d  ", i * RECONNECTS_BIN_MS / 1000.0,
			s->connects[i], s->checkins[i]);
		for (int k = 0; k < bar; k++)
			putc('#', out);
		putc('\n', out);
	}
}

int reconnects_print(FILE *out, const struct reconnects *r)
{
	fprintf(out,
		"# Reconnect storms: connections to the update server and check-ins per %d ms"
		" after each heal\n# (windows with neither are left out)\n",
		RECONNECTS_BIN_MS);
	for (int i = 0; i < r->n; i++) {
		putc('\n', out);
		print_storm(out, &r->storms[i]);
	}
	return ferror(out) ? -1 : 0;
}

static int put(FILE *f, const void *arg)
{
	return reconnects_print(f, arg);
}

int reconnects_write_dir(const char *dir, char *err, size_t errlen)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/events.jsonl", dir);
	FILE *in = fopen(path, "r");
	if (!in) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct reconnects *r = malloc(sizeof(*r));
	if (!r)
		abort();
	int n = reconnects_read(in, r);
	fclose(in);
	int rc = 0;
	if (n > 0) {
		snprintf(path, sizeof(path), "%s/reconnects.txt", dir);
		rc = artifacts_write_whole(path, put, r, err, errlen);
	}
	free(r);
	return rc;
}
