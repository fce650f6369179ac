/* Live progress of one run (issue 13 §3): what a person watching the run
 * wants to know now. A model fed the run's events (the same as
 * events.jsonl gets) and its devices' console lines, and two ways of
 * telling it:
 *
 *   - notes: one line per significant event (boot, power cut, fault,
 *     expect, check, verdict), queued for whoever prints them; a failed
 *     expect's note carries the device's last console lines;
 *   - a block: one header line (the scenario's file:line and the elapsed
 *     time) and a line per device (power, boot, slot, version, download or
 *     install progress, the agent's last line), for a terminal that redraws
 *     it in place.
 *
 * Pure: no I/O and no clock (times are given), so unit tests feed it lines
 * and compare the text. The terminal side is progress_term.h. */
#ifndef VH_PROGRESS_H
#define VH_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

/* Console lines a failed expect's note shows. */
#define PROGRESS_CONTEXT_LINES 5
/* Device lines a block shows; more devices are summed up in one line. */
#define PROGRESS_BLOCK_DEVICES 12

struct progress_device {
	char name[64];
	const char *power; /* "off", "on", "rebooting", "cut" */
	int boots;
	char slot[8];
	char version[48];
	char activity[64]; /* "download 40%", "install 30%", "committed b", ... */
	char agent[160];   /* the agent's last line, without its marker */
	char context[PROGRESS_CONTEXT_LINES][160]; /* last non-blank console lines, a ring */
	int n_context, next_context;
};

struct progress_note {
	double t;
	bool failure; /* a failed expect, check or fault: shown even over a block */
	char *text;   /* one line, or several for a failure's context */
};

struct progress {
	struct progress_device *devices;
	int n_devices;
	char where[160]; /* the scenario's file:line last seen, "" when none yet */
	struct progress_note *notes;
	size_t n_notes, cap_notes;
	bool finished; /* the verdict is in: nothing more is noted */
	char verdict[32];
};

void progress_init(struct progress *p);
void progress_free(struct progress *p);

/* One run event at t seconds (kv: NULL-terminated key/value pairs; a value
 * starting with '\x01' is a raw JSON literal, as for run_event). */
void progress_event(struct progress *p, double t, const char *event, const char *const *kv);

/* One complete console line of device (no newline): kept for a failed
 * expect's context; an agent line (wire/agent_event.h) also updates the
 * device's state and may make a note. */
void progress_line(struct progress *p, const char *device, double t, const char *line);

/* Where the scenario is now ("flaky.lua:12"); NULL or "" (it has
 * returned, say) keeps where it was last seen. */
void progress_set_where(struct progress *p, const char *where);

/* The device named so, or NULL. */
const struct progress_device *progress_find(const struct progress *p, const char *name);

/* Hands the queued notes to the caller, who frees each text and the array;
 * the queue is empty after. */
struct progress_note *progress_take_notes(struct progress *p, size_t *n);

/* --- renderings (progress_render.c) --- */

/* A note as plain lines, "[    12.345] text\n" (its other lines indented
 * under the text), the same stamp vh.log prints; colour: a failure in red.
 * Returns a malloc'd string. */
char *progress_render_note(const struct progress_note *n, bool color);

/* The block at now seconds, each line cut to width - 1 visible columns and
 * ending in "\n"; colour: SGR codes (bold header, power states). Returns a
 * malloc'd string and the number of lines in *lines. */
char *progress_render_block(const struct progress *p, double now, int width, bool color,
			    int *lines);

#endif
