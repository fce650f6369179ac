/* QMP client on the event loop: see qmp.h. */
#include "qmp.h"

#include "ev.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

enum { QMP_LINE_MAX = 16384 };

struct qmp_pending {
	struct qmp_pending *next;
	struct qmp *q;
	uint64_t id;
	char *text; /* the command line, until it is queued for writing */
	uint64_t timer;
	uint64_t defer; /* fail_later, for a request made after the close */
	uint64_t timeout_ms;
	qmp_reply_fn fn;
	void *arg;
};

enum qmp_state { QMP_GREETING, QMP_NEGOTIATING, QMP_READY, QMP_CLOSED };

struct qmp {
	struct ev_loop *loop;
	int fd;
	enum qmp_state state;
	struct qmp_handlers h;
	char in[QMP_LINE_MAX];
	size_t in_len;
	bool in_overflow; /* the current line outgrew in: skip to its end */
	char *out;
	size_t out_len, out_cap;
	uint64_t next_id;
	struct qmp_pending *pending; /* sent (or queued), awaiting their replies */
	struct qmp_pending *queued;  /* made before negotiation finished */
	int busy;		     /* callbacks running: qmp_free waits for them */
	bool free_requested;
};

static void on_io(struct ev_loop *loop, int fd, uint32_t events, void *arg);

static void rewatch(struct qmp *q)
{
	if (q->fd < 0)
		return;
	uint32_t events = EPOLLIN | (q->out_len ? EPOLLOUT : 0);
	ev_add_fd(q->loop, q->fd, events, on_io, q);
}

static void really_free(struct qmp *q)
{
	if (q->fd >= 0) {
		ev_del_fd(q->loop, q->fd);
		close(q->fd);
	}
	struct qmp_pending *lists[2] = { q->pending, q->queued };
	for (int i = 0; i < 2; i++) {
		while (lists[i]) {
			struct qmp_pending *p = lists[i];
			lists[i] = p->next;
			if (p->timer)
				ev_del_timer(q->loop, p->timer);
			if (p->defer)
				ev_cancel_defer(q->loop, p->defer);
			free(p->text);
			free(p);
		}
	}
	free(q->out);
	free(q);
}

void qmp_free(struct qmp *q)
{
	if (!q)
		return;
	if (q->busy) {
		q->free_requested = true;
		return;
	}
	really_free(q);
}

/* Ends a callback section; the client may have been freed inside it.
 * Returns false when it was (the caller must not touch q again). */
static bool release(struct qmp *q)
{
	if (--q->busy == 0 && q->free_requested) {
		really_free(q);
		return false;
	}
	return true;
}

bool qmp_ready(const struct qmp *q)
{
	return q->state == QMP_READY;
}

int qmp_json_string(const char *line, const char *key, char *out, size_t outlen)
{
	char needle[64];
	snprintf(needle, sizeof(needle), "\"%s\"", key);
	const char *p = strstr(line, needle);
	if (!p)
		return -1;
	p += strlen(needle);
	while (*p == ' ' || *p == ':')
		p++;
	if (*p != '"')
		return -1;
	p++;
	size_t n = 0;
	while (*p && *p != '"' && n + 1 < outlen) {
		if (*p == '\\' && p[1])
			p++;
		out[n++] = *p++;
	}
	out[n] = '\0';
	return 0;
}

/* The "id" of a reply line; QEMU writes it as the number we sent. */
static bool reply_id(const char *line, uint64_t *id)
{
	const char *p = strstr(line, "\"id\"");
	if (!p)
		return false;
	p += 4;
	while (*p == ' ' || *p == ':')
		p++;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(p, &end, 10);
	if (end == p || errno)
		return false;
	*id = v;
	return true;
}

static void append_out(struct qmp *q, const char *s, size_t n)
{
	if (q->out_len + n > q->out_cap) {
		size_t cap = q->out_cap ? q->out_cap : 1024;
		while (cap < q->out_len + n)
			cap *= 2;
		char *grown = realloc(q->out, cap);
		if (!grown)
			abort();
		q->out = grown;
		q->out_cap = cap;
	}
	memcpy(q->out + q->out_len, s, n);
	q->out_len += n;
}

static void flush_out(struct qmp *q)
{
	while (q->out_len && q->fd >= 0) {
		ssize_t n = write(q->fd, q->out, q->out_len);
		if (n > 0) {
			memmove(q->out, q->out + n, q->out_len - (size_t)n);
			q->out_len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		break; /* EAGAIN: EPOLLOUT resumes; errors show as EOF on read */
	}
	rewatch(q);
}

static void complete(struct qmp_pending *p, bool ok, const char *text)
{
	struct qmp *q = p->q;
	if (p->timer)
		ev_del_timer(q->loop, p->timer);
	if (p->defer)
		ev_cancel_defer(q->loop, p->defer);
	qmp_reply_fn fn = p->fn;
	void *arg = p->arg;
	free(p->text);
	free(p);
	if (fn)
		fn(arg, ok, text);
}

static void unlink_pending(struct qmp_pending **list, struct qmp_pending *p)
{
	for (struct qmp_pending **pp = list; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			return;
		}
	}
}

static void on_request_timeout(struct ev_loop *loop, uint64_t id, void *arg)
{
	(void)loop, (void)id;
	struct qmp_pending *p = arg;
	struct qmp *q = p->q;
	p->timer = 0;
	unlink_pending(&q->pending, p);
	unlink_pending(&q->queued, p);
	char why[96];
	snprintf(why, sizeof(why), "no reply within %" PRIu64 " ms", p->timeout_ms);
	q->busy++;
	complete(p, false, why);
	release(q);
}

static void send_pending(struct qmp *q, struct qmp_pending *p)
{
	append_out(q, p->text, strlen(p->text));
	free(p->text);
	p->text = NULL;
	p->next = q->pending;
	q->pending = p;
}

static void on_negotiated(void *arg, bool ok, const char *text)
{
	struct qmp *q = arg;
	(void)text;
	if (!ok)
		return; /* QEMU will not talk to us: its requests time out or it closes */
	q->state = QMP_READY;
	/* Oldest first: the queue is a stack. */
	struct qmp_pending *rev = NULL;
	while (q->queued) {
		struct qmp_pending *p = q->queued;
		q->queued = p->next;
		p->next = rev;
		rev = p;
	}
	while (rev) {
		struct qmp_pending *p = rev;
		rev = p->next;
		send_pending(q, p);
	}
	flush_out(q);
}

static struct qmp_pending *new_pending(struct qmp *q, const char *execute, const char *arguments,
				       uint64_t timeout_ms, qmp_reply_fn fn, void *arg)
{
	struct qmp_pending *p = calloc(1, sizeof(*p));
	if (!p)
		abort();
	p->q = q;
	p->id = q->next_id++;
	p->fn = fn;
	p->arg = arg;
	p->timeout_ms = timeout_ms;
	size_t len = strlen(execute) + (arguments ? strlen(arguments) : 0) + 64;
	p->text = malloc(len);
	if (!p->text)
		abort();
	if (arguments)
		snprintf(p->text, len, "{\"execute\":\"%s\",\"arguments\":%s,\"id\":%" PRIu64 "}\n",
			 execute, arguments, p->id);
	else
		snprintf(p->text, len, "{\"execute\":\"%s\",\"id\":%" PRIu64 "}\n", execute, p->id);
	p->timer = ev_add_timer(q->loop, timeout_ms, on_request_timeout, p);
	return p;
}

/* A request that can never be answered still completes from the loop. */
static void fail_later(struct ev_loop *loop, void *arg)
{
	(void)loop;
	struct qmp_pending *p = arg;
	struct qmp *q = p->q;
	p->defer = 0;
	unlink_pending(&q->queued, p);
	q->busy++;
	complete(p, false, "QMP closed");
	release(q);
}

void qmp_request(struct qmp *q, const char *execute, const char *arguments, uint64_t timeout_ms,
		 qmp_reply_fn fn, void *arg)
{
	struct qmp_pending *p = new_pending(q, execute, arguments, timeout_ms, fn, arg);
	if (q->state == QMP_READY) {
		send_pending(q, p);
		flush_out(q);
		return;
	}
	/* Parked until negotiation finishes (or the socket closes). */
	p->next = q->queued;
	q->queued = p;
	if (q->state == QMP_CLOSED)
		p->defer = ev_defer(q->loop, fail_later, p);
}

static void close_now(struct qmp *q, const char *why)
{
	if (q->state == QMP_CLOSED)
		return;
	q->state = QMP_CLOSED;
	ev_del_fd(q->loop, q->fd);
	close(q->fd);
	q->fd = -1;
	struct qmp_pending *lists[2] = { q->pending, q->queued };
	q->pending = q->queued = NULL;
	for (int i = 0; i < 2; i++) {
		while (lists[i] && !q->free_requested) {
			struct qmp_pending *p = lists[i];
			lists[i] = p->next;
			complete(p, false, "QMP closed");
		}
		/* Freed by a callback: the rest go unanswered, as qmp_free says. */
		while (lists[i]) {
			struct qmp_pending *p = lists[i];
			lists[i] = p->next;
			if (p->timer)
				ev_del_timer(q->loop, p->timer);
			free(p->text);
			free(p);
		}
	}
	if (!q->free_requested && q->h.closed)
		q->h.closed(q->h.ctx, why);
}

static void handle_line(struct qmp *q, const char *line)
{
	if (q->state == QMP_GREETING) {
		if (!strstr(line, "\"QMP\""))
			return;
		q->state = QMP_NEGOTIATING;
		struct qmp_pending *p =
			new_pending(q, "qmp_capabilities", NULL, 5000, on_negotiated, q);
		send_pending(q, p);
		flush_out(q);
		return;
	}
	uint64_t id;
	if (!strstr(line, "\"event\"") || strstr(line, "\"return\"")) {
		if (!reply_id(line, &id))
			return; /* a reply to nothing we asked */
		for (struct qmp_pending *p = q->pending; p; p = p->next) {
			if (p->id == id) {
				unlink_pending(&q->pending, p);
				complete(p, strstr(line, "\"return\"") != NULL, line);
				return;
			}
		}
		return; /* timed out already */
	}
	char name[64];
	if (q->h.event && qmp_json_string(line, "event", name, sizeof(name)) == 0)
		q->h.event(q->h.ctx, name, line);
}

/* Splits what arrived into lines; a line longer than the buffer is dropped
 * (QEMU's replies to our commands are short). */
static void take_lines(struct qmp *q)
{
	size_t start = 0;
	for (size_t i = 0; i < q->in_len && !q->free_requested; i++) {
		if (q->in[i] != '\n')
			continue;
		q->in[i] = '\0';
		if (i > start && q->in[i - 1] == '\r')
			q->in[i - 1] = '\0';
		if (!q->in_overflow)
			handle_line(q, q->in + start);
		q->in_overflow = false;
		start = i + 1;
	}
	if (q->free_requested)
		return;
	memmove(q->in, q->in + start, q->in_len - start);
	q->in_len -= start;
	if (q->in_len == sizeof(q->in)) {
		q->in_overflow = true;
		q->in_len = 0;
	}
}

static void on_io(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	(void)loop, (void)fd;
	struct qmp *q = arg;
	q->busy++;
	if (events & EPOLLOUT)
		flush_out(q);
	for (;;) {
		if (q->free_requested || q->state == QMP_CLOSED)
			break;
		ssize_t n = read(q->fd, q->in + q->in_len, sizeof(q->in) - q->in_len);
		if (n > 0) {
			q->in_len += (size_t)n;
			take_lines(q);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		char why[128];
		snprintf(why, sizeof(why), "QMP closed%s%s", n < 0 ? ": " : "",
			 n < 0 ? strerror(errno) : "");
		close_now(q, why);
		break;
	}
	release(q);
}

struct qmp *qmp_new(struct ev_loop *loop, int fd, const struct qmp_handlers *handlers)
{
	struct qmp *q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->loop = loop;
	q->fd = fd;
	q->next_id = 1;
	if (handlers)
		q->h = *handlers;
	int flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	rewatch(q);
	/* once: a watch registered again keeps its component */
	ev_fd_component(loop, fd, ev_component(loop, "qmp"));
	return q;
}
