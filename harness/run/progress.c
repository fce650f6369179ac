/* The live progress model: see progress.h. Which events are worth a note,
 * and what an agent line changes in a device's state, is decided here. */
#include "progress.h"

#include "agent_event.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *must(void *p)
{
	if (!p) {
		fputs("vharness: out of memory (progress)\n", stderr);
		abort();
	}
	return p;
}

void progress_init(struct progress *p)
{
	memset(p, 0, sizeof(*p));
}

void progress_free(struct progress *p)
{
	for (size_t i = 0; i < p->n_notes; i++)
		free(p->notes[i].text);
	free(p->notes);
	free(p->devices);
	progress_init(p);
}

void progress_set_where(struct progress *p, const char *where)
{
	if (where && *where)
		snprintf(p->where, sizeof(p->where), "%s", where);
}

/* A value of kv, without the raw-JSON mark run_event's callers put on
 * numbers and literals; NULL when absent. */
static const char *get(const char *const *kv, const char *key)
{
	for (int i = 0; kv && kv[i]; i += 2) {
		if (!strcmp(kv[i], key)) {
			const char *v = kv[i + 1];
			return v && v[0] == '\x01' ? v + 1 : v;
		}
	}
	return NULL;
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

const struct progress_device *progress_find(const struct progress *p, const char *name)
{
	for (int i = 0; i < p->n_devices; i++)
		if (!strcmp(p->devices[i].name, name))
			return &p->devices[i];
	return NULL;
}

static struct progress_device *device(struct progress *p, const char *name)
{
	struct progress_device *d = (struct progress_device *)progress_find(p, name);
	if (d)
		return d;
	p->devices = must(realloc(p->devices, (size_t)(p->n_devices + 1) * sizeof(*p->devices)));
	d = &p->devices[p->n_devices++];
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->power = "off";
	return d;
}

static __attribute__((format(printf, 4, 5))) void note(struct progress *p, double t, bool failure,
						       const char *fmt, ...)
{
	if (p->finished)
		return; /* after the verdict: the run winding down, not news */
	/* Room for a line and its context lines (PROGRESS_CONTEXT_LINES of at
	 * most 160 bytes); a longer note is cut. */
	char text[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (p->n_notes == p->cap_notes) {
		p->cap_notes = p->cap_notes ? p->cap_notes * 2 : 16;
		p->notes = must(realloc(p->notes, p->cap_notes * sizeof(*p->notes)));
	}
	p->notes[p->n_notes++] =
		(struct progress_note){ .t = t, .failure = failure, .text = must(strdup(text)) };
}

struct progress_note *progress_take_notes(struct progress *p, size_t *n)
{
	struct progress_note *notes = p->notes;
	*n = p->n_notes;
	p->notes = NULL;
	p->n_notes = p->cap_notes = 0;
	return notes;
}

/* " (at file:line)" when the scenario's line is known. */
static const char *at(const struct progress *p, char *buf, size_t len)
{
	if (!p->where[0])
		return "";
	snprintf(buf, len, " (at %s)", p->where);
	return buf;
}

/* The device's last console lines, oldest first, each "    dev | line\n",
 * without the last newline. */
static char *context(const struct progress_device *d)
{
	char *out = must(strdup(""));
	size_t len = 0;
	for (int i = 0; i < d->n_context; i++) {
		int k = (d->next_context - d->n_context + i + PROGRESS_CONTEXT_LINES) %
			PROGRESS_CONTEXT_LINES;
		char *grown = NULL;
		if (asprintf(&grown, "%s%s    %s | %s", out, len ? "\n" : "", d->name,
			     d->context[k]) < 0)
			grown = NULL;
		free(out);
		out = must(grown);
		len = strlen(out);
	}
	return out;
}

static void expect_note(struct progress *p, double t, const char *event, const char *const *kv)
{
	struct progress_device *d = device(p, or_empty(get(kv, "device")));
	const char *result = or_empty(get(kv, "result"));
	const char *pattern = or_empty(get(kv, "pattern"));
	double seconds = atof(or_empty(get(kv, "seconds")));
	bool not = !strcmp(event, "expect_not");
	char where[200];
	if (!strcmp(result, "matched") || !strcmp(result, "absent")) {
		note(p, t, false, "%s: %s \"%s\" %s after %.1fs", d->name, event, pattern,
		     not ? "not seen" : "matched", seconds);
		return;
	}
	if (get(kv, "try")) {
		/* try_expect: the scenario asked and goes on; no failure. */
		note(p, t, false, "%s: try_expect \"%s\" not matched after %.1fs: %s", d->name,
		     pattern, seconds, or_empty(get(kv, "line")));
		return;
	}
	/* failed (expect) or seen (expect_not): at once, with what the
	 * console said last. */
	char *ctx = context(d);
	note(p, t, true, "%s: %s \"%s\" %s after %.1fs: %s%s%s%s", d->name, event, pattern,
	     not ? "SEEN" : "FAILED", seconds, or_empty(get(kv, "line")),
	     at(p, where, sizeof(where)), ctx[0] ? "\n" : "", ctx);
	free(ctx);
}

static void device_event(struct progress *p, double t, const char *event, const char *const *kv)
{
	struct progress_device *d = device(p, or_empty(get(kv, "device")));
	const char *reason = get(kv, "reason");
	const char *status = get(kv, "status");
	if (!strcmp(event, "power_on")) {
		d->power = "on";
		d->boots = atoi(or_empty(get(kv, "boot")));
		note(p, t, false, "%s: power on (boot %d)", d->name, d->boots);
	} else if (!strcmp(event, "boot_choice")) {
		/* The bootloader's pick; the agent's boot line confirms it. */
		if (get(kv, "slot"))
			snprintf(d->slot, sizeof(d->slot), "%s", get(kv, "slot"));
		if (get(kv, "version"))
			snprintf(d->version, sizeof(d->version), "%s", get(kv, "version"));
	} else if (!strcmp(event, "power_cut")) {
		d->power = "cut";
		note(p, t, false, "%s: power cut%s%s%s%s%s", d->name, reason ? " (" : "",
		     or_empty(reason), reason ? ")" : "", d->activity[0] ? " during " : "",
		     d->activity);
	} else if (!strcmp(event, "power_off")) {
		d->power = "off";
		note(p, t, false, "%s: power off%s%s%s%s", d->name, status ? ": " : "",
		     or_empty(status), reason ? " - " : "", or_empty(reason));
	} else if (!strcmp(event, "reboot")) {
		d->power = "rebooting";
		note(p, t, false, "%s: reboot", d->name);
	} else if (!strcmp(event, "reset")) {
		note(p, t, false, "%s: reset", d->name);
	} else if (!strcmp(event, "link")) {
		note(p, t, false, "%s: link %s", d->name,
		     !strcmp(or_empty(get(kv, "up")), "true") ? "up" : "down");
	}
}

static bool is_one_of(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (!strcmp(s, *words))
			return true;
	return false;
}

void progress_event(struct progress *p, double t, const char *event, const char *const *kv)
{
	static const char *const device_events[] = { "device",	  "power_on",  "boot_choice",
						     "power_cut", "power_off", "reboot",
						     "reset",	  "link",      NULL };
	static const char *const network_events[] = { "impair", "clear", "partition", "heal",
						      NULL };
	char where[200];
	if (is_one_of(event, device_events)) {
		device_event(p, t, event, kv);
	} else if (!strcmp(event, "expect") || !strcmp(event, "expect_not")) {
		expect_note(p, t, event, kv);
	} else if (!strcmp(event, "expect_group")) {
		const char *missing = get(kv, "missing");
		note(p, t, missing != NULL, "vh.%s \"%s\": %s, %s of %s after %.1fs%s%s%s",
		     or_empty(get(kv, "call")), or_empty(get(kv, "pattern")),
		     or_empty(get(kv, "result")), or_empty(get(kv, "matched")),
		     or_empty(get(kv, "need")), atof(or_empty(get(kv, "seconds"))),
		     missing ? "; missing: " : "", or_empty(missing),
		     missing ? at(p, where, sizeof(where)) : "");
	} else if (is_one_of(event, network_events)) {
		const char *direction = get(kv, "direction");
		const char *spec = get(kv, "spec");
		note(p, t, false, "%s: %s %s%s%s%s%s", or_empty(get(kv, "network")), event,
		     or_empty(get(kv, "device")), direction ? " " : "", or_empty(direction),
		     spec ? ": " : "", or_empty(spec));
	} else if (!strcmp(event, "server_down") || !strcmp(event, "server_up")) {
		note(p, t, false, "%s: server %s", or_empty(get(kv, "server")),
		     event[7] == 'd' ? "down" : "up");
	} else if (!strcmp(event, "publish") || !strcmp(event, "unpublish")) {
		note(p, t, false, "%s: %s %s", or_empty(get(kv, "server")), event,
		     or_empty(get(kv, "version")));
	} else if (!strcmp(event, "check")) {
		bool ok = !strcmp(or_empty(get(kv, "result")), "pass");
		note(p, t, !ok, "check %s: %s%s", ok ? "passed" : "FAILED",
		     or_empty(get(kv, "what")), ok ? "" : at(p, where, sizeof(where)));
	} else if (!strcmp(event, "verdict")) {
		const char *v = or_empty(get(kv, "verdict"));
		/* Not a failure note even when it failed: on a terminal the
		 * verdict's own line follows at once. */
		note(p, t, false, "verdict %s", v);
		snprintf(p->verdict, sizeof(p->verdict), "%s", v);
		p->finished = true;
	}
}

/* --- agent lines --- */

static void agent_state(struct progress_device *d, const struct agent_event *ev)
{
	const char *slot = agent_event_get(ev, "slot");
	const char *pct = agent_event_get(ev, "progress");
	const char *name = ev->name;
	if (!strcmp(name, "boot")) {
		snprintf(d->slot, sizeof(d->slot), "%s", slot ? slot : "");
		snprintf(d->version, sizeof(d->version), "%s",
			 or_empty(agent_event_get(ev, "version")));
		d->activity[0] = '\0';
	} else if (!strcmp(name, "update offered")) {
		snprintf(d->activity, sizeof(d->activity), "offered %s",
			 or_empty(agent_event_get(ev, "version")));
	} else if ((!strcmp(name, "download") || !strcmp(name, "install")) && pct) {
		snprintf(d->activity, sizeof(d->activity), "%s %s%%", name, pct);
	} else if (!strcmp(name, "download resumed")) {
		snprintf(d->activity, sizeof(d->activity), "download resumed at %s",
			 or_empty(agent_event_get(ev, "offset")));
	} else if (!strcmp(name, "download interrupted")) {
		snprintf(d->activity, sizeof(d->activity), "download interrupted");
	} else if (!strcmp(name, "install complete")) {
		snprintf(d->activity, sizeof(d->activity), "installed slot %s", or_empty(slot));
	} else if (!strcmp(name, "commit")) {
		snprintf(d->activity, sizeof(d->activity), "committed slot %s", or_empty(slot));
	} else if (!strcmp(name, "rollback")) {
		snprintf(d->activity, sizeof(d->activity), "rolled back from %s",
			 or_empty(agent_event_get(ev, "from")));
	} else if (!strcmp(name, "update failed")) {
		snprintf(d->activity, sizeof(d->activity), "update failed: %s",
			 or_empty(agent_event_get(ev, "reason")));
	}
}

void progress_line(struct progress *p, const char *name, double t, const char *line)
{
	struct progress_device *d = device(p, name);
	/* Blank lines (a shell's banner is framed in them) would crowd out
	 * the lines that say something. */
	if (line[strspn(line, " \t")]) {
		snprintf(d->context[d->next_context], sizeof(d->context[0]), "%s", line);
		d->next_context = (d->next_context + 1) % PROGRESS_CONTEXT_LINES;
		if (d->n_context < PROGRESS_CONTEXT_LINES)
			d->n_context++;
	}
	struct agent_event ev;
	if (agent_event_parse(line, strlen(line), &ev) < 0)
		return;
	const char *text = strstr(line, AGENT_EVENT_PREFIX) + strlen(AGENT_EVENT_PREFIX);
	snprintf(d->agent, sizeof(d->agent), "%s", text);
	agent_state(d, &ev);
	/* Every 10% of a download or install is for the block; a line each
	 * would bury the rest, and so would each failed connection attempt. */
	if (agent_event_get(&ev, "progress") || !strcmp(ev.name, "connect failed"))
		return;
	note(p, t, false, "%s: %s", d->name, text);
}
