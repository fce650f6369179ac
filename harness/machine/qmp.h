/* A QMP client on the event loop: requests go out at once, replies come back
 * as callbacks, nothing ever waits. QMP speaks one JSON object per line; we
 * need only "did it return or fail", the event names and a few string
 * fields, so lines are classified by key rather than fully parsed. Each
 * request carries an "id", which QEMU echoes in its reply. */
#ifndef VH_QMP_H
#define VH_QMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ev_loop;
struct qmp;

struct qmp_handlers {
	/* An asynchronous event line ({"event": NAME, ...}). */
	void (*event)(void *ctx, const char *name, const char *line);
	/* QEMU closed the socket (or it failed); called once, after every
	 * pending request has been completed as failed. */
	void (*closed)(void *ctx, const char *why);
	void *ctx;
};

/* Completes a request: ok with QEMU's reply line ({"return": ...}), or not
 * ok with a one-line reason (QEMU's {"error": ...} line, "no reply within
 * N ms", "QMP closed"). Always called from the loop, never from inside
 * qmp_request. It may free the client. */
typedef void (*qmp_reply_fn)(void *arg, bool ok, const char *text);

/* Takes the connected socket fd (made non-blocking here) and watches it on
 * loop. The client reads QEMU's greeting and negotiates capabilities by
 * itself; requests made before that are queued and sent after. Handlers may
 * be NULL. NULL when out of memory. */
struct qmp *qmp_new(struct ev_loop *loop, int fd, const struct qmp_handlers *handlers);

/* Closes the socket and frees the client. Pending requests are dropped
 * without their callbacks (their owner is going away too). Safe inside any
 * of the client's own callbacks. NULL is ignored. */
void qmp_free(struct qmp *q);

/* Sends {"execute": execute, "arguments": arguments} (arguments is a JSON
 * object text or NULL). fn (may be NULL) is called exactly once. */
void qmp_request(struct qmp *q, const char *execute, const char *arguments, uint64_t timeout_ms,
		 qmp_reply_fn fn, void *arg);

/* True once the greeting and capabilities negotiation are done. */
bool qmp_ready(const struct qmp *q);

/* Extracts the string value of "key" from a flat JSON line into out.
 * 0, or -1 when the key is absent or its value is not a string. */
int qmp_json_string(const char *line, const char *key, char *out, size_t outlen);

#endif
