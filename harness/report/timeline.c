/* The run's timeline model: see timeline.h. Which event lands on which
 * lane, and which pairs of events make a span, is decided here and only
 * here. */
#include "timeline.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *must(void *p)
{
	if (!p) {
		fputs("vharness: out of memory building the report\n", stderr);
		abort();
	}
	return p;
}

static char *dup_or_null(const char *s)
{
	return s ? must(strdup(s)) : NULL;
}

static char *format(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *out = NULL;
	if (vasprintf(&out, fmt, ap) < 0)
		out = NULL;
	va_end(ap);
	return must(out);
}

void timeline_init(struct timeline *tl)
{
	memset(tl, 0, sizeof(*tl));
	tl->seconds = -1;
}

void timeline_free(struct timeline *tl)
{
	for (int i = 0; i < tl->n_lanes; i++) {
		for (size_t k = 0; k < tl->lanes[i].n_lines; k++)
			free(tl->lanes[i].lines[k].text);
		free(tl->lanes[i].lines);
		free(tl->lanes[i].name);
		free(tl->lanes[i].ip);
		free(tl->lanes[i].traffic);
	}
	for (size_t i = 0; i < tl->n_markers; i++) {
		free(tl->markers[i].label);
		free(tl->markers[i].message);
		json_flat_free(&tl->markers[i].fields);
	}
	free(tl->lanes);
	free(tl->markers);
	free(tl->scenario);
	free(tl->seed);
	free(tl->verdict);
	free(tl->verdict_message);
	timeline_init(tl);
}

int timeline_find_lane(const struct timeline *tl, enum timeline_lane_kind kind, const char *name)
{
	for (int i = 0; i < tl->n_lanes; i++)
		if (tl->lanes[i].kind == kind && !strcmp(tl->lanes[i].name, name))
			return i;
	return -1;
}

static int lane(struct timeline *tl, enum timeline_lane_kind kind, const char *name)
{
	int i = timeline_find_lane(tl, kind, name);
	if (i >= 0)
		return i;
	tl->lanes = must(realloc(tl->lanes, (size_t)(tl->n_lanes + 1) * sizeof(*tl->lanes)));
	tl->lanes[tl->n_lanes] = (struct timeline_lane){ .kind = kind,
							 .name = must(strdup(name)),
							 .open_power = -1 };
	return tl->n_lanes++;
}

/* The new marker; label is taken over. */
static struct timeline_marker *add_marker(struct timeline *tl, int lane_index, double t,
					  const char *kind, char *label)
{
	if (tl->n_markers == tl->cap_markers) {
		tl->cap_markers = tl->cap_markers ? tl->cap_markers * 2 : 64;
		tl->markers = must(realloc(tl->markers, tl->cap_markers * sizeof(*tl->markers)));
	}
	struct timeline_marker *m = &tl->markers[tl->n_markers++];
	*m = (struct timeline_marker){ .lane = lane_index,
				       .t = t,
				       .t_end = t,
				       .kind = kind,
				       .label = label,
				       .device_lane = -1,
				       .serial_line = -1,
				       .seq = tl->n_markers - 1 };
	if (tl->lanes[lane_index].kind == TIMELINE_DEVICE)
		m->device_lane = lane_index;
	if (t > tl->t_end)
		tl->t_end = t;
	return m;
}

static void fail_marker(struct timeline *tl, struct timeline_marker *m, char *message)
{
	m->failed = true;
	free(m->message);
	m->message = message;
	tl->lanes[m->lane].n_failures++;
}

/* --- spans that are opened by one event and closed by another --- */

static void close_span(struct timeline *tl, long index, double t)
{
	if (index < 0)
		return;
	struct timeline_marker *m = &tl->markers[index];
	m->t_end = t > m->t ? t : m->t;
}

/* Open impairment, partition and server-down spans: on a network or
 * server lane, by device (and direction). */
static bool overlaps(const char *a, const char *b)
{
	return !strcmp(a, b) || !strcmp(a, "both") || !strcmp(b, "both");
}

static void close_matching(struct timeline *tl, int lane_index, const char *kind,
			   const char *device, const char *direction, double t)
{
	for (size_t i = 0; i < tl->n_markers; i++) {
		struct timeline_marker *m = &tl->markers[i];
		if (m->lane != lane_index || strcmp(m->kind, kind) || !m->span || m->t_end >= 0)
			continue;
		const char *d = json_flat_get(&m->fields, "device");
		const char *dir = json_flat_get(&m->fields, "direction");
		if (device && d && strcmp(d, device))
			continue;
		if (direction && dir && !overlaps(direction, dir))
			continue;
		close_span(tl, (long)i, t);
	}
}

/* An open span has t_end -1 until it is closed. */
static struct timeline_marker *open_span(struct timeline *tl, int lane_index, double t,
					 const char *kind, char *label)
{
	struct timeline_marker *m = add_marker(tl, lane_index, t, kind, label);
	m->span = true;
	m->t_end = -1;
	return m;
}

/* --- events --- */

static const char *get(const struct json_flat *j, const char *key)
{
	const char *v = json_flat_get(j, key);
	return v ? v : "";
}

static int device_lane(struct timeline *tl, const struct json_flat *ev)
{
	const char *name = json_flat_get(ev, "device");
	return lane(tl, TIMELINE_DEVICE, name && *name ? name : "?");
}

/* Device events; returns the marker (NULL when none was made). */
static struct timeline_marker *device_event(struct timeline *tl, const char *event, double t,
					    const struct json_flat *ev)
{
	int d = device_lane(tl, ev);
	struct timeline_lane *L = &tl->lanes[d];
	if (!strcmp(event, "device")) {
		const char *ip = json_flat_get(ev, "ip");
		if (ip && !L->ip)
			L->ip = must(strdup(ip));
		return NULL;
	}
	if (!strcmp(event, "power_on")) {
		close_span(tl, L->open_power, t);
		struct timeline_marker *m =
			open_span(tl, d, t, "power", format("power on (boot %s)", get(ev, "boot")));
		tl->lanes[d].open_power = (long)(m - tl->markers);
		return m;
	}
	if (!strcmp(event, "power_off") || !strcmp(event, "power_cut") ||
	    !strcmp(event, "reboot")) {
		close_span(tl, L->open_power, t);
		L->open_power = -1;
		const char *reason = json_flat_get(ev, "reason");
		const char *status = json_flat_get(ev, "status");
		char *label = format("%s%s%s%s%s",
				     !strcmp(event, "power_cut") ? "power cut"
				     : !strcmp(event, "reboot")	 ? "reboot"
								 : "power off",
				     status ? ": " : "", status ? status : "", reason ? " — " : "",
				     reason ? reason : "");
		return add_marker(tl, d, t, !strcmp(event, "power_off") ? "power_off" : event,
				  label);
	}
	if (!strcmp(event, "boot_choice")) {
		const char *trial = json_flat_get(ev, "trial");
		return add_marker(tl, d, t, "boot",
				  format("boot slot %s, %s, bootcount %s%s", get(ev, "slot"),
					 get(ev, "version"), get(ev, "bootcount"),
					 trial && !strcmp(trial, "true") ? " (trial)" : ""));
	}
	if (!strcmp(event, "reset"))
		return add_marker(tl, d, t, "reset", must(strdup("reset")));
	if (!strcmp(event, "link"))
		return add_marker(
			tl, d, t, "link",
			format("link %s", !strcmp(get(ev, "up"), "true") ? "up" : "down"));
	if (!strcmp(event, "send"))
		return add_marker(tl, d, t, "send", format("send %s", get(ev, "text")));
	if (!strcmp(event, "mark"))
		return add_marker(tl, d, t, "mark",
				  format("%s: %s", get(ev, "label"), get(ev, "line")));
	if (!strcmp(event, "flash_fault")) {
		const char *op = get(ev, "op");
		bool flush = !strcmp(op, "flush");
		bool worn = !strcmp(get(ev, "why"), "wear_out");
		return add_marker(tl, d, t, "flash_fault",
				  format("flash fault: %s %s%s%s%s%s (%s%s)", op, get(ev, "error"),
					 flush ? "" : " at ", flush ? "" : get(ev, "offset"),
					 flush ? "" : "+", flush ? "" : get(ev, "length"),
					 worn ? "worn out" : "rule ", worn ? "" : get(ev, "rule")));
	}
	if (!strcmp(event, "expect") || !strcmp(event, "expect_not")) {
		const char *result = get(ev, "result");
		bool not = !strcmp(event, "expect_not");
		double waited = atof(get(ev, "seconds"));
		double start = waited > 0 && waited <= t ? t - waited : t;
		struct timeline_marker *m =
			add_marker(tl, d, start, event,
				   format("%s \"%s\": %s", not ? "expect_not" : "expect",
					  get(ev, "pattern"), result));
		m->t_end = t;
		m->span = t > start;
		if (!strcmp(result, "failed") || !strcmp(result, "seen"))
			fail_marker(tl, m,
				    format("%s \"%s\" on %s: %s %s", not ? "expect_not" : "expect",
					   get(ev, "pattern"), L->name, result, get(ev, "line")));
		return m;
	}
	return NULL;
}

static struct timeline_marker *network_event(struct timeline *tl, const char *event, double t,
					     const struct json_flat *ev)
{
	int n = lane(tl, TIMELINE_NETWORK, get(ev, "network"));
	const char *device = json_flat_get(ev, "device");
	const char *direction = json_flat_get(ev, "direction");
	if (!strcmp(event, "network"))
		return NULL;
	if (!strcmp(event, "impair")) {
		close_matching(tl, n, "impair", device, direction, t);
		return open_span(tl, n, t, "impair",
				 format("%s %s: %s", get(ev, "device"), get(ev, "direction"),
					get(ev, "spec")));
	}
	if (!strcmp(event, "clear")) {
		close_matching(tl, n, "impair", device, NULL, t);
		return add_marker(tl, n, t, "clear", format("clear %s", get(ev, "device")));
	}
	if (!strcmp(event, "partition"))
		return open_span(tl, n, t, "partition", format("partition %s", get(ev, "device")));
	/* heal */
	close_matching(tl, n, "partition", device, NULL, t);
	return add_marker(tl, n, t, "heal", format("heal %s", get(ev, "device")));
}

static struct timeline_marker *server_event(struct timeline *tl, const char *event, double t,
					    const struct json_flat *ev)
{
	int s = lane(tl, TIMELINE_SERVER, get(ev, "server"));
	if (!strcmp(event, "update_server") || !strcmp(event, "http_connect") ||
	    !strcmp(event, "http_disconnect"))
		return NULL; /* in the requests that follow; too many to draw */
	if (!strcmp(event, "server_down"))
		return open_span(tl, s, t, "server_down", must(strdup("server down")));
	if (!strcmp(event, "server_up")) {
		close_matching(tl, s, "server_down", NULL, NULL, t);
		return add_marker(tl, s, t, "server_up", must(strdup("server up")));
	}
	if (!strcmp(event, "checkin"))
		return add_marker(tl, s, t, "checkin",
				  format("check-in %s: %s slot %s", get(ev, "device"),
					 get(ev, "version"), get(ev, "slot")));
	if (!strcmp(event, "offer"))
		return add_marker(tl, s, t, "offer",
				  format("offer %s to %s (%s bytes)", get(ev, "version"),
					 get(ev, "device"), get(ev, "size")));
	if (!strcmp(event, "publish") || !strcmp(event, "unpublish"))
		return add_marker(tl, s, t, "publish", format("%s %s", event, get(ev, "version")));
	/* http_request */
	const char *range = json_flat_get(ev, "range");
	struct timeline_marker *m =
		add_marker(tl, s, t, "http",
			   format("%s %s%s%s → %s, %s bytes (%s)", get(ev, "method"),
				  get(ev, "path"), range ? " Range " : "", range ? range : "",
				  get(ev, "status"), get(ev, "bytes"), get(ev, "result")));
	return m;
}

static bool is_one_of(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (!strcmp(s, *words))
			return true;
	return false;
}

int timeline_add_event(struct timeline *tl, const char *line)
{
	static const char *const device_events[] = { "device",	  "power_on",	"power_off",
						     "power_cut", "reboot",	"boot_choice",
						     "reset",	  "link",	"send",
						     "expect",	  "expect_not", "flash_fault",
						     "mark",	  NULL };
	static const char *const network_events[] = { "network",   "impair", "clear",
						      "partition", "heal",   NULL };
	static const char *const server_events[] = {
		"update_server", "server_down",	    "server_up", "checkin",
		"offer",	 "publish",	    "unpublish", "http_request",
		"http_connect",	 "http_disconnect", NULL
	};
	struct json_flat ev;
	char err[128];
	const char *event, *ts;
	if (json_flat_parse(line, &ev, err, sizeof(err)) < 0 ||
	    !(event = json_flat_get(&ev, "event")) || !(ts = json_flat_get(&ev, "t"))) {
		json_flat_free(&ev);
		tl->bad_lines++;
		return -1;
	}
	double t = atof(ts);
	if (tl->n_lanes == 0)
		lane(tl, TIMELINE_SCENARIO, "scenario");
	struct timeline_marker *m = NULL;
	if (is_one_of(event, device_events)) {
		m = device_event(tl, event, t, &ev);
	} else if (is_one_of(event, network_events) && json_flat_get(&ev, "network")) {
		m = network_event(tl, event, t, &ev);
	} else if (is_one_of(event, server_events)) {
		m = server_event(tl, event, t, &ev);
	} else if (!strcmp(event, "run_start")) {
		free(tl->scenario);
		free(tl->seed);
		tl->scenario = dup_or_null(json_flat_get(&ev, "scenario"));
		tl->seed = dup_or_null(json_flat_get(&ev, "seed"));
		const char *wall = json_flat_get(&ev, "unix_time");
		if (wall && atof(wall) > t)
			tl->unix_start = atof(wall) - t;
		m = add_marker(tl, 0, t, "event", must(strdup("run start")));
	} else if (!strcmp(event, "check")) {
		const char *what = get(&ev, "what");
		bool ok = !strcmp(get(&ev, "result"), "pass");
		m = add_marker(tl, 0, t, "check",
			       format("check %s: %s", what, ok ? "pass" : "fail"));
		if (!ok)
			fail_marker(tl, m, format("check failed: %s", what));
	} else if (!strcmp(event, "log")) {
		m = add_marker(tl, 0, t, "log", dup_or_null(get(&ev, "message")));
	} else if (!strcmp(event, "verdict")) {
		free(tl->verdict);
		free(tl->verdict_message);
		tl->verdict = dup_or_null(json_flat_get(&ev, "verdict"));
		tl->verdict_message = dup_or_null(json_flat_get(&ev, "message"));
		tl->seconds = atof(get(&ev, "seconds"));
		m = add_marker(tl, 0, t, "verdict", format("verdict %s", get(&ev, "verdict")));
		m->failed = tl->verdict && strcmp(tl->verdict, "PASS") != 0;
	} else {
		m = add_marker(tl, 0, t, "event", must(strdup(event)));
	}
	if (m) {
		m->fields = ev;
	} else {
		json_flat_free(&ev);
		if (t > tl->t_end)
			tl->t_end = t;
	}
	return 0;
}

/* --- serial logs --- */

int timeline_parse_serial_line(const char *line, double *t, const char **text)
{
	if (line[0] != '[')
		return -1;
	char *end;
	*t = strtod(line + 1, &end);
	if (end == line + 1 || end[0] != ']')
		return -1;
	*text = end[1] == ' ' ? end + 2 : end + 1;
	return 0;
}

void timeline_add_serial_line(struct timeline *tl, const char *device, double t, const char *text)
{
	if (tl->n_lanes == 0)
		lane(tl, TIMELINE_SCENARIO, "scenario");
	int d = lane(tl, TIMELINE_DEVICE, device);
	struct timeline_lane *L = &tl->lanes[d];
	if (L->n_lines == L->cap_lines) {
		L->cap_lines = L->cap_lines ? L->cap_lines * 2 : 256;
		L->lines = must(realloc(L->lines, L->cap_lines * sizeof(*L->lines)));
	}
	L->lines[L->n_lines++] = (struct timeline_line){ .t = t, .text = must(strdup(text)) };
	const char *agent = strstr(text, "vh-agent: ");
	if (agent)
		add_marker(tl, d, t, "agent", must(strdup(agent + strlen("vh-agent: "))));
	else if (t > tl->t_end)
		tl->t_end = t;
}

/* --- finishing --- */

static int by_time(const void *a, const void *b)
{
	const struct timeline_marker *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	/* Equal times keep the order they were written in. */
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The last line at or before t, or -1. */
static long line_at(const struct timeline_lane *L, double t)
{
	size_t lo = 0, hi = L->n_lines; /* first line after t is in [lo, hi] */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (L->lines[mid].t <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (long)lo - 1;
}

/* The device lane whose address is peer's ("10.77.0.2:41234"), or -1: an
 * HTTP request names its client only so. */
static int lane_of_peer(const struct timeline *tl, const char *peer)
{
	if (!peer)
		return -1;
	size_t n = strcspn(peer, ":");
	for (int i = 0; i < tl->n_lanes; i++) {
		const char *ip = tl->lanes[i].ip;
		if (tl->lanes[i].kind == TIMELINE_DEVICE && ip && strlen(ip) == n &&
		    !strncmp(ip, peer, n))
			return i;
	}
	return -1;
}

/* The verdict's first line when it names this failure: it carries the
 * scenario's file:line. */
static void word_failure(const struct timeline *tl, struct timeline_marker *m)
{
	const char *v = tl->verdict_message;
	if (!v)
		return;
	const char *pattern = json_flat_get(&m->fields, "pattern");
	const char *what = json_flat_get(&m->fields, "what");
	const char *key = pattern ? pattern : what;
	size_t first = strcspn(v, "\n");
	char *head = must(strndup(v, first));
	if (key && *key && strstr(head, key)) {
		free(m->message);
		m->message = head;
		return;
	}
	free(head);
}

void timeline_finish(struct timeline *tl)
{
	double end = tl->t_end;
	for (size_t i = 0; i < tl->n_markers; i++)
		if (tl->markers[i].span && tl->markers[i].t_end < 0)
			close_span(tl, (long)i, end);
	for (int i = 0; i < tl->n_lanes; i++)
		tl->lanes[i].open_power = -1;
	qsort(tl->markers, tl->n_markers, sizeof(*tl->markers), by_time);
	for (size_t i = 0; i < tl->n_markers; i++) {
		struct timeline_marker *m = &tl->markers[i];
		if (m->device_lane < 0) {
			const char *device = json_flat_get(&m->fields, "device");
			m->device_lane =
				device ? timeline_find_lane(tl, TIMELINE_DEVICE, device) : -1;
		}
		if (m->device_lane < 0)
			m->device_lane = lane_of_peer(tl, json_flat_get(&m->fields, "peer"));
		if (m->device_lane >= 0) {
			/* A failed expect's moment is when it gave up. */
			double at = m->failed ? m->t_end : m->t;
			m->serial_line = line_at(&tl->lanes[m->device_lane], at);
		}
		if (m->failed && m->message)
			word_failure(tl, m);
		if (!strcmp(m->kind, "verdict") && tl->verdict_message) {
			free(m->message);
			m->message = must(strdup(tl->verdict_message));
		}
	}
}

/* --- files --- */

static char *read_line(FILE *f, char **buf, size_t *cap)
{
	ssize_t n = getline(buf, cap, f);
	if (n < 0)
		return NULL;
	if (n > 0 && (*buf)[n - 1] == '\n')
		(*buf)[n - 1] = '\0';
	return *buf;
}

static void load_serial(struct timeline *tl, const char *path, const char *device)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	char *buf = NULL;
	size_t cap = 0;
	double last = 0;
	while (read_line(f, &buf, &cap)) {
		double t;
		const char *text;
		if (timeline_parse_serial_line(buf, &t, &text) < 0)
			t = last, text = buf;
		timeline_add_serial_line(tl, device, t, text);
		last = t;
	}
	free(buf);
	fclose(f);
}

/* verdict.txt, for a run whose process ended before writing the verdict
 * event (the suite runner wrote this for it). */
static void load_verdict_file(struct timeline *tl, const char *dir)
{
	char path[4200], line[256];
	snprintf(path, sizeof(path), "%s/verdict.txt", dir);
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	char word[64];
	unsigned long len;
	double seconds;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "verdict %63[^\n]", word) == 1) {
			free(tl->verdict);
			tl->verdict = must(strdup(word));
		} else if (sscanf(line, "seconds %lf", &seconds) == 1) {
			tl->seconds = seconds;
		} else if (sscanf(line, "message %lu", &len) == 1 && len < (16ul << 20)) {
			char *text = must(calloc(1, len + 1));
			if (fread(text, 1, len, f) == len) {
				free(tl->verdict_message);
				tl->verdict_message = text;
			} else {
				free(text);
			}
		}
	}
	fclose(f);
	if (tl->verdict) {
		struct timeline_marker *m =
			add_marker(tl, 0, tl->t_end, "verdict", format("verdict %s", tl->verdict));
		m->failed = strcmp(tl->verdict, "PASS") != 0;
	}
}

int timeline_load(struct timeline *tl, const char *dir, char *err, size_t errlen)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/events.jsonl", dir);
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	char *buf = NULL;
	size_t cap = 0;
	while (read_line(f, &buf, &cap))
		if (buf[0])
			timeline_add_event(tl, buf);
	free(buf);
	fclose(f);
	if (tl->n_lanes == 0)
		lane(tl, TIMELINE_SCENARIO, "scenario");
	/* Each network's captures: what was delivered, and what the user
	 * backend dropped. */
	for (int i = 0; i < tl->n_lanes && tl->unix_start > 0; i++) {
		if (tl->lanes[i].kind != TIMELINE_NETWORK)
			continue;
		snprintf(path, sizeof(path), "%s/%s.pcap", dir, tl->lanes[i].name);
		timeline_add_pcap(tl, path, false);
		snprintf(path, sizeof(path), "%s/%s-dropped.pcap", dir, tl->lanes[i].name);
		timeline_add_pcap(tl, path, true);
	}
	/* Every serial log, also of a device whose event was lost. */
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n > 11 && !strncmp(e->d_name, "serial-", 7) &&
		    !strcmp(e->d_name + n - 4, ".log")) {
			char device[256];
			snprintf(device, sizeof(device), "%.*s", (int)(n - 11), e->d_name + 7);
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			load_serial(tl, path, device);
		}
	}
	if (d)
		closedir(d);
	if (!tl->verdict)
		load_verdict_file(tl, dir);
	timeline_finish(tl);
	return 0;
}
