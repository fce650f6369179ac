/* A device's serial console: see console.h. */
#include "console.h"

#include "artifacts.h"
#include "ev.h"
#include "expect.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

enum { EXPECT_BUFFER_BYTES = 256 * 1024, LINE_MAX_BYTES = 64 * 1024, MATCH_LINE_MAX = 1024 };

struct console_wait {
	struct console_wait *next;
	struct console *c;
	enum console_wait_kind kind;
	struct console_matcher m;
	uint64_t seen; /* stream offset this expect has already searched */
	uint64_t timer;
	console_wait_fn fn;
	void *arg;
	uint64_t marked; /* CONSOLE_MARK: the number of the line it last marked */
};

struct console_write {
	struct console_write *next;
	struct console *c;
	char *data;
	size_t len, off;
	uint64_t timeout_ms;
	uint64_t timer;
	uint64_t defer; /* its completion, once finished */
	console_done_fn done;
	void *arg;
	bool ok;
	char why[160];
};

struct console {
	struct ev_loop *loop;
	int fd; /* -1 when detached */
	int echo_fd;
	bool writable_watch;
	struct serial_log *log;
	struct expect_buf buf; /* unconsumed text, for expects */
	struct line_ring ring; /* last lines, for failure reports */
	char *line;	       /* the line being assembled, for line watchers */
	size_t line_len, line_cap;
	bool quiet; /* no bytes for CONSOLE_QUIET_MS */
	uint64_t quiet_timer;
	uint64_t lines_seen; /* complete lines so far, numbering them for marks */
	uint64_t bytes;
	struct console_wait *waits;
	struct console_write *writes;	/* FIFO, head written first */
	struct console_write *finished; /* completions due on the next turn */
	void (*line_fn)(void *arg, const char *line);
	void *line_arg;
};

struct console *console_new(struct ev_loop *loop, const char *log_path, int echo_fd, char *err,
			    size_t errlen)
{
	struct console *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->loop = loop;
	c->fd = -1;
	c->echo_fd = echo_fd;
	if (log_path) {
		c->log = serial_log_open(log_path, err, errlen);
		if (!c->log) {
			free(c);
			return NULL;
		}
	}
	expect_buf_init(&c->buf, EXPECT_BUFFER_BYTES);
	line_ring_init(&c->ring, CONSOLE_LAST_LINES);
	return c;
}

static void wait_free(struct console_wait *w)
{
	if (w->timer)
		ev_del_timer(w->c->loop, w->timer);
	if (w->m.free)
		w->m.free(w->m.ctx);
	free(w);
}

static void unlink_wait(struct console *c, struct console_wait *w)
{
	for (struct console_wait **p = &c->waits; *p; p = &(*p)->next) {
		if (*p == w) {
			*p = w->next;
			return;
		}
	}
}

/* Ends a wait: it leaves the console first, so its fn may start new ones. */
static void wake(struct console_wait *w, bool ok, const char *text)
{
	unlink_wait(w->c, w);
	console_wait_fn fn = w->fn;
	void *arg = w->arg;
	wait_free(w);
	fn(arg, ok, text);
}

static void write_free(struct console *c, struct console_write *wr)
{
	if (wr->timer)
		ev_del_timer(c->loop, wr->timer);
	if (wr->defer)
		ev_cancel_defer(c->loop, wr->defer);
	free(wr->data);
	free(wr);
}

void console_free(struct console *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		ev_del_fd(c->loop, c->fd);
	while (c->waits) {
		struct console_wait *w = c->waits;
		c->waits = w->next;
		wait_free(w);
	}
	struct console_write *lists[2] = { c->writes, c->finished };
	for (int i = 0; i < 2; i++) {
		while (lists[i]) {
			struct console_write *wr = lists[i];
			lists[i] = wr->next;
			write_free(c, wr);
		}
	}
	if (c->quiet_timer)
		ev_del_timer(c->loop, c->quiet_timer);
	serial_log_close(c->log);
	expect_buf_free(&c->buf);
	line_ring_free(&c->ring);
	free(c->line);
	free(c);
}

/* --- matching --- */

struct match_ctx {
	struct console *c;
	struct console_matcher *m;
};

static bool expect_match(void *arg, const char *s, size_t len, size_t *end)
{
	struct match_ctx *mc = arg;
	if (!mc->m->match(mc->m->ctx, s, len, end))
		return false;
	/* A match that runs to the end of an unfinished line may still grow:
	 * "ip=(%S+)" would capture "1" of "10.77.0.2". Such a match counts only
	 * once the console has gone quiet. */
	if (s[len] == '\0' && *end == len && !mc->c->quiet)
		return false;
	return true;
}

bool console_expect_now(struct console *c, struct console_matcher *m, char *line, size_t cap)
{
	struct match_ctx mc = { c, m };
	return expect_buf_search(&c->buf, expect_match, &mc, line, cap);
}

/* Only text that arrived since this expect last looked, so a console that
 * arrives a byte at a time costs a line per byte, not the whole buffer. */
static void check_expects(struct console *c)
{
	char line[MATCH_LINE_MAX];
	struct console_wait *w = c->waits;
	while (w) {
		struct console_wait *next = w->next;
		if (w->kind == CONSOLE_EXPECT) {
			struct match_ctx mc = { c, &w->m };
			bool hit = expect_buf_search_from(&c->buf, w->seen, expect_match, &mc, line,
							  sizeof(line));
			w->seen = expect_buf_end_pos(&c->buf);
			if (hit) {
				wake(w, true, line);
				next = c->waits; /* fn may have changed the list */
			}
		}
		w = next;
	}
}

/* A complete line, for the line watchers. */
static void on_line(struct console *c, const char *line, size_t len)
{
	/* The assembled line is NUL-terminated once it has a byte; an empty
	 * one may still hold the last line's bytes. */
	if (c->line_fn)
		c->line_fn(c->line_arg, len ? line : "");
	struct console_wait *w = c->waits;
	c->lines_seen++;
	while (w) {
		struct console_wait *next = w->next;
		size_t end;
		/* a wake below starts the walk again: a mark fires once a line */
		if (w->kind == CONSOLE_MARK && w->marked == c->lines_seen) {
			w = next;
			continue;
		}
		if (w->kind != CONSOLE_EXPECT && w->m.match(w->m.ctx, line, len, &end)) {
			char copy[MATCH_LINE_MAX];
			snprintf(copy, sizeof(copy), "%.*s", (int)len, line);
			if (w->kind == CONSOLE_MARK) {
				w->marked = c->lines_seen;
				w->fn(w->arg, true, copy); /* stays for the next line */
				w = next;
				continue;
			}
			wake(w, w->kind == CONSOLE_WATCH, copy);
			next = c->waits;
		}
		w = next;
	}
}

static void on_quiet(struct ev_loop *loop, uint64_t id, void *arg)
{
	(void)loop, (void)id;
	struct console *c = arg;
	c->quiet_timer = 0;
	c->quiet = true;
	/* The unfinished line was searched while it could still grow: again. */
	uint64_t tail_pos = c->buf.pos + c->buf.tail;
	for (struct console_wait *w = c->waits; w; w = w->next)
		if (w->seen > tail_pos)
			w->seen = tail_pos;
	check_expects(c);
}

/* One piece of the console that holds at most one newline, at its end. */
static void take_piece(struct console *c, const char *data, size_t n)
{
	if (c->log)
		serial_log_append(c->log, ev_now(c->loop), data, n);
	if (c->echo_fd >= 0) {
		/* Verbose echo is for humans; losing some of it is fine. */
		ssize_t ignored = write(c->echo_fd, data, n);
		(void)ignored;
	}
	line_ring_append(&c->ring, data, n);
	expect_buf_append(&c->buf, data, n);
	for (size_t i = 0; i < n; i++) {
		char ch = data[i];
		if (ch == '\r' || ch == '\0')
			continue;
		if (ch == '\n') {
			on_line(c, c->line ? c->line : "", c->line_len);
			c->line_len = 0;
			continue;
		}
		if (c->line_len + 2 > c->line_cap) {
			if (c->line_cap >= LINE_MAX_BYTES)
				continue; /* an endless line: keep its head only */
			c->line_cap = c->line_cap ? c->line_cap * 2 : 256;
			c->line = realloc(c->line, c->line_cap);
			if (!c->line)
				abort();
		}
		c->line[c->line_len++] = ch;
		c->line[c->line_len] = '\0';
	}
	check_expects(c);
}

static void console_input(struct console *c, const char *data, size_t n)
{
	c->bytes += n;
	c->quiet = false;
	if (c->quiet_timer)
		ev_del_timer(c->loop, c->quiet_timer);
	c->quiet_timer = ev_add_timer(c->loop, CONSOLE_QUIET_MS, on_quiet, c);
	/* Line by line: a watcher that cuts the power on a line detaches the
	 * console, and what the chunk holds after that line never happened. */
	while (n > 0 && c->fd >= 0) {
		const char *nl = memchr(data, '\n', n);
		size_t piece = nl ? (size_t)(nl - data) + 1 : n;
		take_piece(c, data, piece);
		data += piece;
		n -= piece;
	}
}

/* Reads everything the console has; false at end of file (or error). */
static bool drain(struct console *c)
{
	char buf[4096];
	while (c->fd >= 0) {
		ssize_t n = read(c->fd, buf, sizeof(buf));
		if (n > 0) {
			console_input(c, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && errno == EAGAIN;
	}
	return true;
}

/* --- writing --- */

static void write_unlink(struct console_write **list, struct console_write *wr)
{
	for (struct console_write **p = list; *p; p = &(*p)->next) {
		if (*p == wr) {
			*p = wr->next;
			return;
		}
	}
}

static void write_done_later(struct ev_loop *loop, void *arg)
{
	(void)loop;
	struct console_write *wr = arg;
	struct console *c = wr->c;
	wr->defer = 0;
	write_unlink(&c->finished, wr);
	console_done_fn done = wr->done;
	void *darg = wr->arg;
	bool ok = wr->ok;
	char why[sizeof(wr->why)];
	snprintf(why, sizeof(why), "%s", wr->why);
	write_free(c, wr);
	if (done)
		done(darg, ok, ok ? NULL : why);
}

/* Moves a write to the finished list; its caller hears on the next turn,
 * so console_write never completes inside itself. */
static void finish_write(struct console *c, struct console_write *wr, bool ok, const char *why)
{
	write_unlink(&c->writes, wr);
	if (wr->timer)
		ev_del_timer(c->loop, wr->timer);
	wr->timer = 0;
	wr->ok = ok;
	snprintf(wr->why, sizeof(wr->why), "%s", why ? why : "");
	wr->next = c->finished;
	c->finished = wr;
	wr->defer = ev_defer(c->loop, write_done_later, wr);
}

static void fail_writes(struct console *c, const char *why)
{
	while (c->writes)
		finish_write(c, c->writes, false, why);
}

static void on_io(struct ev_loop *loop, int fd, uint32_t events, void *arg);

static void watch(struct console *c)
{
	if (c->fd < 0)
		return;
	bool want_out = c->writes != NULL;
	ev_add_fd(c->loop, c->fd, EPOLLIN | (want_out ? EPOLLOUT : 0), on_io, c);
	c->writable_watch = want_out;
}

static void flush_writes(struct console *c)
{
	while (c->writes && c->fd >= 0) {
		struct console_write *wr = c->writes;
		ssize_t n = write(c->fd, wr->data + wr->off, wr->len - wr->off);
		if (n > 0) {
			wr->off += (size_t)n;
			if (wr->off == wr->len)
				finish_write(c, wr, true, NULL);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		char why[160];
		snprintf(why, sizeof(why), "cannot write to the console: %s",
			 n < 0 ? strerror(errno) : "closed");
		finish_write(c, wr, false, why);
	}
	if (c->fd >= 0 && (c->writes != NULL) != c->writable_watch)
		watch(c);
}

static void on_write_timeout(struct ev_loop *loop, uint64_t id, void *arg)
{
	(void)loop, (void)id;
	struct console_write *wr = arg;
	wr->timer = 0;
	char why[96];
	snprintf(why, sizeof(why), "the guest read nothing of it for %llu ms",
		 (unsigned long long)wr->timeout_ms);
	finish_write(wr->c, wr, false, why);
}

void console_write(struct console *c, const char *text, size_t len, uint64_t timeout_ms,
		   console_done_fn done, void *arg)
{
	struct console_write *wr = calloc(1, sizeof(*wr));
	if (!wr)
		abort();
	wr->c = c;
	wr->data = malloc(len ? len : 1);
	if (!wr->data)
		abort();
	memcpy(wr->data, text, len);
	wr->len = len;
	wr->done = done;
	wr->arg = arg;
	wr->timeout_ms = timeout_ms;
	struct console_write **tail = &c->writes;
	while (*tail)
		tail = &(*tail)->next;
	*tail = wr;
	wr->timer = ev_add_timer(c->loop, timeout_ms, on_write_timeout, wr);
	flush_writes(c);
}

/* --- attaching --- */

static void on_io(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	(void)loop, (void)fd;
	struct console *c = arg;
	if (events & EPOLLOUT)
		flush_writes(c);
	if (c->fd >= 0 && !drain(c)) {
		/* QEMU closed it: its owner hears of the exit from the pidfd. */
		if (c->fd >= 0)
			ev_del_fd(c->loop, c->fd);
		c->fd = -1;
		fail_writes(c, "the console closed");
	}
}

void console_attach(struct console *c, int fd)
{
	c->fd = fd;
	watch(c);
	/* once: a watch registered again keeps its component */
	ev_fd_component(c->loop, fd, ev_component(c->loop, "console"));
	flush_writes(c);
}

void console_detach(struct console *c, bool drain_first)
{
	if (c->fd < 0)
		return;
	if (drain_first)
		drain(c);
	if (c->fd >= 0)
		ev_del_fd(c->loop, c->fd);
	c->fd = -1;
	c->writable_watch = false;
	fail_writes(c, "the device lost power");
}

/* --- waits --- */

static void on_wait_timeout(struct ev_loop *loop, uint64_t id, void *arg)
{
	(void)loop, (void)id;
	struct console_wait *w = arg;
	w->timer = 0;
	if (w->kind == CONSOLE_EXPECT_NOT)
		wake(w, true, NULL);
	else
		wake(w, false, "timed out");
}

struct console_wait *console_wait(struct console *c, enum console_wait_kind kind,
				  struct console_matcher m, uint64_t timeout_ms, console_wait_fn fn,
				  void *arg)
{
	struct console_wait *w = calloc(1, sizeof(*w));
	if (!w)
		abort();
	w->c = c;
	w->kind = kind;
	w->m = m;
	w->fn = fn;
	w->arg = arg;
	/* An expect sees text from now on only through check_expects; what was
	 * there already is the caller's console_expect_now. */
	w->seen = expect_buf_end_pos(&c->buf);
	w->next = c->waits;
	c->waits = w;
	if (kind != CONSOLE_MARK)
		w->timer = ev_add_timer(c->loop, timeout_ms, on_wait_timeout, w);
	return w;
}

void console_wait_cancel(struct console_wait *w)
{
	if (!w)
		return;
	unlink_wait(w->c, w);
	wait_free(w);
}

void console_fail_waits(struct console *c, bool expects, bool watches, const char *why)
{
	struct console_wait *w = c->waits;
	while (w) {
		struct console_wait *next = w->next;
		bool hit =
			w->kind == CONSOLE_EXPECT ? expects : w->kind == CONSOLE_WATCH && watches;
		if (hit) {
			wake(w, false, why);
			next = c->waits;
		}
		w = next;
	}
}

/* --- reports --- */

struct lines_acc {
	char *s;
	size_t len;
};

static void add_line(void *ctx, const char *line)
{
	struct lines_acc *a = ctx;
	size_t n = strlen(line);
	char *grown = realloc(a->s, a->len + n + 4);
	if (!grown)
		abort();
	a->s = grown;
	memcpy(a->s + a->len, "  ", 2);
	memcpy(a->s + a->len + 2, line, n);
	a->len += n + 2;
	a->s[a->len++] = '\n';
	a->s[a->len] = '\0';
}

char *console_last_lines(const struct console *c)
{
	struct lines_acc a = { .s = strdup(""), .len = 0 };
	if (!a.s)
		abort();
	line_ring_each(&c->ring, add_line, &a);
	return a.s;
}

uint64_t console_bytes(const struct console *c)
{
	return c->bytes;
}

void console_on_line(struct console *c, void (*fn)(void *arg, const char *line), void *arg)
{
	c->line_fn = fn;
	c->line_arg = arg;
}
