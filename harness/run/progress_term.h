/* Where live progress (progress.h) goes: stderr, in one of three modes.
 *
 *   PROGRESS_TTY    a terminal: the block is redrawn in place on a timer
 *                   (at most every PROGRESS_REDRAW_MS, only when it
 *                   changed, never when the terminal would block us);
 *                   failures and other people's lines are printed above it.
 *   PROGRESS_PLAIN  no terminal (CI), TERM=dumb or -v: one line per note,
 *                   no escape codes, no redraws.
 *   PROGRESS_OFF    -q, and runs of a suite that share the terminal.
 *
 * stdout is left to what uses it (the verdict of a passing run). */
#ifndef VH_PROGRESS_TERM_H
#define VH_PROGRESS_TERM_H

#include <stdbool.h>
#include <stddef.h>

#define PROGRESS_REDRAW_MS 200

struct ev_loop;
struct progress;
struct progress_term;

enum progress_mode { PROGRESS_OFF, PROGRESS_PLAIN, PROGRESS_TTY };

struct progress_choice {
	enum progress_mode mode;
	bool color; /* SGR colours: only on a terminal, and never with NO_COLOR */
};

/* The mode for a stream: quiet (-q) is off; a terminal (tty) is redrawn
 * unless TERM is "dumb" or verbose (-v echoes consoles there, which a
 * redraw would garble); anything else gets plain lines. no_color: the
 * NO_COLOR variable (any non-empty value turns colour off, no-color.org). */
struct progress_choice progress_choose(bool quiet, bool verbose, bool tty, const char *term,
				       const char *no_color);

/* Progress on fd in mode (not PROGRESS_OFF); the clock is the loop's.
 * where (may be NULL) says the scenario's file:line for each redraw. NULL
 * when out of memory. */
struct progress_term *progress_term_new(struct ev_loop *loop, int fd, struct progress_choice choice,
					void (*where)(void *ctx, char *out, size_t len),
					void *where_ctx);

/* The model to feed; call progress_term_update after. */
struct progress *progress_term_model(struct progress_term *t);

/* Prints what the model noted since the last call (plain: every note; a
 * terminal: failures, above the block) and marks the block for a redraw. */
void progress_term_update(struct progress_term *t);

/* A line of someone else's (vh.log, a notice; no newline), printed without
 * disturbing the block. */
void progress_term_say(struct progress_term *t, const char *line);

/* The run is over: the block is drawn one last time and left on the
 * terminal as the run's last state, and redraws stop. */
void progress_term_end(struct progress_term *t);

/* Ends (if not yet) and frees. NULL is ignored. */
void progress_term_free(struct progress_term *t);

#endif
