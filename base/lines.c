/* lines: chunks in, complete lines out (see lines.h for the rules). */
#include "lines.h"

#include <string.h>

void lines_init(struct lines *l, char *buf, size_t cap)
{
	l->buf = buf;
	l->cap = cap;
	l->len = 0;
	l->truncated = false;
	l->complete = false;
	l->dropped = 0;
	l->dropped_cr = false;
	buf[0] = '\0';
}

/* Ends the current line: strips the '\r' of a "\r\n" and decides whether
 * bytes were really lost (a lone dropped '\r' was that line end). */
static void lines_end(struct lines *l)
{
	if (l->dropped == 0 && l->len > 0 && l->buf[l->len - 1] == '\r')
		l->buf[--l->len] = '\0';
	l->truncated = l->dropped > 1 || (l->dropped == 1 && !l->dropped_cr);
	l->complete = true;
}

bool lines_push(struct lines *l, const void *data, size_t len, size_t *used)
{
	const char *p = data;
	const char *nl = memchr(p, '\n', len);
	size_t take = nl ? (size_t)(nl - p) : len;
	size_t room, keep;

	if (l->complete)
		lines_init(l, l->buf, l->cap);
	room = l->cap - 1 - l->len;
	keep = take < room ? take : room;
	memcpy(l->buf + l->len, p, keep);
	l->len += keep;
	l->buf[l->len] = '\0';
	if (take > keep) {
		l->dropped += take - keep;
		l->dropped_cr = p[take - 1] == '\r';
	}
	if (!nl) {
		*used = len;
		return false;
	}
	*used = take + 1;
	lines_end(l);
	return true;
}

bool lines_finish(struct lines *l)
{
	if (l->complete || (l->len == 0 && l->dropped == 0))
		return false;
	lines_end(l);
	return true;
}
