/* A minimal QMP client over a connected stream socket. QMP speaks one JSON
 * object per line; we need only "did it return or fail" and the event name,
 * so replies are classified by key rather than fully parsed. */
#ifndef VH_QMP_H
#define VH_QMP_H

#include <stddef.h>

struct qmp {
	int fd;
	char buf[16384];
	size_t len;
	/* Called for each asynchronous event line ({"event": ...}). */
	void (*on_event)(void *ctx, const char *event_name, const char *line);
	void *ctx;
};

/* Takes ownership of fd (non-blocking is fine). */
void qmp_init(struct qmp *q, int fd);

/* Reads the greeting and negotiates capabilities. 0 or -1 with err. */
int qmp_handshake(struct qmp *q, int timeout_ms, char *err, size_t errlen);

/* Sends one command (a complete JSON object) and waits for its reply. Events
 * that arrive first go to on_event. Returns 0 on {"return"}, -1 on {"error"},
 * timeout or a closed socket, with the reply or the reason in err. */
int qmp_command(struct qmp *q, const char *json, int timeout_ms, char *err, size_t errlen);

/* Reads whatever is available without blocking and dispatches events.
 * Returns 0, or -1 when the peer closed the socket. */
int qmp_pump(struct qmp *q);

/* Extracts the string value of "key" from a flat JSON line into out. */
int qmp_json_string(const char *line, const char *key, char *out, size_t outlen);

#endif
