/* Live progress on stderr: see progress_term.h. */
#include "progress_term.h"

#include "ev.h"
#include "progress.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct progress_term {
	struct ev_loop *loop;
	int fd;
	struct progress_choice choice;
	void (*where)(void *ctx, char *out, size_t len);
	void *where_ctx;
	struct progress model;
	uint64_t timer;
	int drawn;  /* lines of the block on the terminal, the cursor below them */
	char *last; /* the block as last drawn, to skip redraws that change nothing */
	bool ended;
};

struct progress_choice progress_choose(bool quiet, bool verbose, bool tty, const char *term,
				       const char *no_color)
{
	struct progress_choice c = { .mode = PROGRESS_PLAIN };
	if (quiet)
		return (struct progress_choice){ .mode = PROGRESS_OFF };
	if (!tty || verbose || (term && !strcmp(term, "dumb")))
		return c;
	c.mode = PROGRESS_TTY;
	c.color = !(no_color && *no_color);
	return c;
}

/* All of it: a note must not be lost to a short write. */
static void write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* stderr gone: progress is not worth failing a run for */
		s += w;
		n -= (size_t)w;
	}
}

static int columns(int fd)
{
	struct winsize ws;
	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

/* Moves the cursor to the block's first line and clears from there down,
 * so what is written next replaces it. */
static void erase_block(struct progress_term *t, char *buf, size_t len)
{
	buf[0] = '\0';
	if (t->drawn > 0)
		snprintf(buf, len, "\r\033[%dA\033[J", t->drawn);
	t->drawn = 0;
}

/* Draws the block (prefix first, in the same write): each line clears
 * what an older, longer line left. force: even when it did not change. */
static void draw(struct progress_term *t, const char *prefix, bool force)
{
	if (t->where) {
		char where[160];
		t->where(t->where_ctx, where, sizeof(where));
		progress_set_where(&t->model, where);
	}
	if (t->model.n_devices == 0) {
		/* Nothing to show yet (or ever: a scenario that fails to load). */
		write_all(t->fd, prefix, strlen(prefix));
		return;
	}
	int lines;
	char *block = progress_render_block(&t->model, ev_now(t->loop), columns(t->fd),
					    t->choice.color, &lines);
	if (!force && !*prefix && t->last && !strcmp(t->last, block)) {
		free(block);
		return;
	}
	size_t cap = strlen(prefix) + strlen(block) + (size_t)lines * 4 + 32;
	char *frame = malloc(cap);
	if (!frame)
		abort();
	size_t n = 0;
	if (t->drawn > 0 && !*prefix)
		n += (size_t)snprintf(frame, cap, "\r\033[%dA", t->drawn);
	n += (size_t)snprintf(frame + n, cap - n, "%s", prefix);
	for (const char *s = block; *s;) {
		size_t k = strcspn(s, "\n");
		memcpy(frame + n, s, k);
		n += k;
		memcpy(frame + n, "\033[K\n", 4);
		n += 4;
		s += k + (s[k] == '\n');
	}
	memcpy(frame + n, "\033[J", 3);
	n += 3;
	write_all(t->fd, frame, n);
	free(frame);
	free(t->last);
	t->last = block;
	t->drawn = lines;
}

static void on_tick(struct ev_loop *loop, uint64_t id, void *arg)
{
	(void)id;
	struct progress_term *t = arg;
	t->timer = ev_add_timer(loop, PROGRESS_REDRAW_MS, on_tick, t);
	/* A terminal that does not take more now (scrolled back, Ctrl-S)
	 * skips a frame rather than stalling the loop. */
	struct pollfd pfd = { .fd = t->fd, .events = POLLOUT };
	if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLOUT))
		draw(t, "", false);
}

struct progress_term *progress_term_new(struct ev_loop *loop, int fd, struct progress_choice choice,
					void (*where)(void *ctx, char *out, size_t len),
					void *where_ctx)
{
	struct progress_term *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->loop = loop;
	t->fd = fd;
	t->choice = choice;
	t->where = where;
	t->where_ctx = where_ctx;
	progress_init(&t->model);
	if (choice.mode == PROGRESS_TTY)
		t->timer = ev_add_timer(loop, PROGRESS_REDRAW_MS, on_tick, t);
	return t;
}

struct progress *progress_term_model(struct progress_term *t)
{
	return &t->model;
}

/* text above the block (a terminal whose block is up), else as it is. */
static void print_above(struct progress_term *t, const char *text)
{
	if (t->choice.mode != PROGRESS_TTY || t->ended) {
		write_all(t->fd, text, strlen(text));
		return;
	}
	char erase[32];
	erase_block(t, erase, sizeof(erase));
	size_t n = strlen(erase) + strlen(text) + 1;
	char *prefix = malloc(n);
	if (!prefix)
		abort();
	snprintf(prefix, n, "%s%s", erase, text);
	draw(t, prefix, true);
	free(prefix);
}

void progress_term_update(struct progress_term *t)
{
	size_t n;
	struct progress_note *notes = progress_take_notes(&t->model, &n);
	for (size_t i = 0; i < n; i++) {
		/* On a terminal the block tells the rest. */
		if (t->choice.mode == PROGRESS_PLAIN || notes[i].failure) {
			char *text = progress_render_note(&notes[i], t->choice.color);
			print_above(t, text);
			free(text);
		}
		free(notes[i].text);
	}
	free(notes);
}

void progress_term_say(struct progress_term *t, const char *line)
{
	size_t n = strlen(line) + 2;
	char *text = malloc(n);
	if (!text)
		abort();
	snprintf(text, n, "%s\n", line);
	print_above(t, text);
	free(text);
}

void progress_term_end(struct progress_term *t)
{
	if (t->ended)
		return;
	progress_term_update(t);
	/* The verdict is in: the header keeps the line last seen, and the
	 * scenario's state is not asked again. */
	t->where = NULL;
	if (t->choice.mode == PROGRESS_TTY)
		draw(t, "", true);
	if (t->timer)
		ev_del_timer(t->loop, t->timer);
	t->timer = 0;
	t->ended = true;
}

void progress_term_free(struct progress_term *t)
{
	if (!t)
		return;
	progress_term_end(t);
	progress_free(&t->model);
	free(t->last);
	free(t);
}
