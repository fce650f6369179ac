#include "qmp.h"

#include "ev.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void qmp_init(struct qmp *q, int fd)
{
	memset(q, 0, sizeof(*q));
	q->fd = fd;
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

/* Takes one complete line out of the buffer into line; false if none. */
static bool take_line(struct qmp *q, char *line, size_t cap)
{
	char *nl = memchr(q->buf, '\n', q->len);
	if (!nl)
		return false;
	size_t n = (size_t)(nl - q->buf);
	size_t copy = n < cap - 1 ? n : cap - 1;
	memcpy(line, q->buf, copy);
	line[copy] = '\0';
	if (copy && line[copy - 1] == '\r')
		line[copy - 1] = '\0';
	memmove(q->buf, nl + 1, q->len - n - 1);
	q->len -= n + 1;
	return true;
}

/* Reads into the buffer; 1 read something, 0 nothing yet, -1 closed/error. */
static int fill(struct qmp *q)
{
	if (q->len == sizeof(q->buf)) /* a line longer than we care about: drop it */
		q->len = 0;
	ssize_t n = read(q->fd, q->buf + q->len, sizeof(q->buf) - q->len);
	if (n > 0) {
		q->len += (size_t)n;
		return 1;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	return -1;
}

static void dispatch_event(struct qmp *q, const char *line)
{
	char name[64];
	if (q->on_event && qmp_json_string(line, "event", name, sizeof(name)) == 0)
		q->on_event(q->ctx, name, line);
}

/* Waits for a line that is not an event; events are dispatched meanwhile. */
static int wait_reply(struct qmp *q, int timeout_ms, char *line, size_t cap)
{
	uint64_t deadline = ev_clock_ms() + (uint64_t)timeout_ms;
	for (;;) {
		while (take_line(q, line, cap)) {
			if (strstr(line, "\"event\"") && !strstr(line, "\"return\""))
				dispatch_event(q, line);
			else
				return 0;
		}
		uint64_t now = ev_clock_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		struct pollfd pfd = { .fd = q->fd, .events = POLLIN };
		int r = poll(&pfd, 1, (int)(deadline - now));
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0 && fill(q) < 0)
			return -EPIPE;
	}
}

static int send_all(int fd, const char *s)
{
	size_t len = strlen(s);
	while (len > 0) {
		ssize_t n = write(fd, s, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pfd = { .fd = fd, .events = POLLOUT };
				poll(&pfd, 1, 100);
				continue;
			}
			return -1;
		}
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

int qmp_handshake(struct qmp *q, int timeout_ms, char *err, size_t errlen)
{
	char line[1024];
	int r = wait_reply(q, timeout_ms, line, sizeof(line));
	if (r < 0 || !strstr(line, "\"QMP\"")) {
		snprintf(err, errlen, "no QMP greeting (%s)", r < 0 ? strerror(-r) : line);
		return -1;
	}
	return qmp_command(q, "{\"execute\":\"qmp_capabilities\"}", timeout_ms, err, errlen);
}

int qmp_command(struct qmp *q, const char *json, int timeout_ms, char *err, size_t errlen)
{
	if (send_all(q->fd, json) < 0 || send_all(q->fd, "\n") < 0) {
		snprintf(err, errlen, "QMP write failed: %s", strerror(errno));
		return -1;
	}
	char line[2048];
	int r = wait_reply(q, timeout_ms, line, sizeof(line));
	if (r < 0) {
		snprintf(err, errlen, "QMP %s: %s", json, r == -ETIMEDOUT ? "no reply" : strerror(-r));
		return -1;
	}
	if (strstr(line, "\"return\""))
		return 0;
	snprintf(err, errlen, "QMP %s failed: %s", json, line);
	return -1;
}

int qmp_pump(struct qmp *q)
{
	char line[2048];
	for (;;) {
		int r = fill(q);
		while (take_line(q, line, sizeof(line)))
			dispatch_event(q, line);
		if (r <= 0)
			return r < 0 ? -1 : 0;
	}
}
