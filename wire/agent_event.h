/* agent_event: the reference agent's console event lines (docs/ota-protocol.md,
 * "Agent event lines"), formatted by the agent and parsed by the harness.
 *
 *   vh-agent: <name> k=v k=v ...\n
 *
 * The grammar both sides keep:
 * - The marker "vh-agent: " may follow other text on the same console line
 *   (a shell prompt, "vh# vh-agent: boot ..."): the parser starts at its
 *   first occurrence and ignores what comes before.
 * - The name is one or more words of [a-z0-9_-] ("boot", "net up",
 *   "update offered"), the words before the first key=value word.
 * - Then key=value words only: key [a-z0-9_]+, value any bytes but space
 *   (possibly empty), each key at most once, at most AGENT_EVENT_KV_MAX.
 * - Words are separated by spaces; runs of spaces and trailing spaces or
 *   '\r' are tolerated.
 * - A line, marker and newline included, is at most AGENT_EVENT_LINE_MAX - 1
 *   bytes; the formatter cuts longer ones (keeping the newline) and turns
 *   control bytes into '?', so one event is always one line. */
#ifndef VH_AGENT_EVENT_H
#define VH_AGENT_EVENT_H

#include <stdarg.h>
#include <stddef.h>

#define AGENT_EVENT_PREFIX "vh-agent: "
#define AGENT_EVENT_LINE_MAX 512u
#define AGENT_EVENT_KV_MAX 16u

/* Snapshot boot (docs/fleet.md "Snapshot boot"). The template machine boots
 * with vh.snapshot=1 and no identity; its agent prints the event
 * AGENT_SNAPSHOT_POINT ("vh-agent: snapshot point") once eth0 and the disk
 * exist, and waits on the console. The harness saves the machine there. After
 * each restore the harness writes one line, AGENT_IDENTITY_PREFIX followed by
 * the device's vh.* words as they would be on its kernel command line (plus
 * vh.mac= and vh.seed=), and the agent boots on as that device. */
#define AGENT_SNAPSHOT_POINT "snapshot point"
#define AGENT_IDENTITY_PREFIX "vh-identity: "

/* Formats AGENT_EVENT_PREFIX, then fmt's text, then "\n" into buf (cap >=
 * sizeof(AGENT_EVENT_PREFIX) + 1; at most AGENT_EVENT_LINE_MAX is used),
 * NUL-terminated. Control bytes of the text become '?'; text that does not
 * fit is cut and the newline kept. Returns the line's length. fmt is the
 * event's name and key=value words ("boot slot=%s version=%s"). */
size_t agent_event_vformat(char *buf, size_t cap, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
size_t agent_event_format(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The agent's writer: formats one line as agent_event_format and writes it
 * to fd with a single write() (retried on EINTR), so lines of the agent, the
 * kernel and the shell never interleave inside a line. Returns 0, or -1
 * when the write failed; callers carry on either way, since a lost console
 * must not stop the agent. */
int agent_event(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One parsed event line. Self-contained: name and the kv strings point into
 * text, so the struct may outlive the line it was parsed from. */
struct agent_event {
	char text[AGENT_EVENT_LINE_MAX];
	const char *name; /* the name's words joined by single spaces */
	size_t n_kv;
	struct {
		const char *key;
		const char *value;
	} kv[AGENT_EVENT_KV_MAX];
};

/* Parses one console line (line[0..len), without its "\n", as from
 * base/lines.h) into *ev by the grammar above. Returns 0; -ENOENT when the
 * line holds no AGENT_EVENT_PREFIX (not an agent line: kernel, shell);
 * -EINVAL when the text after the marker breaks the grammar or holds a NUL
 * byte. */
int agent_event_parse(const char *line, size_t len, struct agent_event *ev);

/* The value of key in ev, or NULL when the event has no such key. */
const char *agent_event_get(const struct agent_event *ev, const char *key);

#endif
