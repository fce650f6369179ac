/* lines: bytes that arrive in arbitrary chunks (a socket, a serial console,
 * a chunked HTTP body) cut into complete lines. No I/O, no allocation: the
 * caller owns the line buffer and hands the splitter each chunk it reads.
 *
 * Rules:
 * - A line ends at '\n'. The '\n' is not part of the line, nor is one '\r'
 *   right before it ("\r\n" and "\n" end lines alike). Any other '\r' and any
 *   other byte, NUL included, is line content: use the length, not strlen.
 * - Overflow: a line longer than cap - 1 bytes keeps its first cap - 1 bytes;
 *   the rest, up to its '\n', is dropped, and the line is reported once, at
 *   its '\n', with truncated set. A long line is never split into several.
 * - A stream that ends inside a line yields that last line only through
 *   lines_finish.
 *
 * Typical use:
 *	while (off < n) {
 *		size_t used;
 *		bool done = lines_push(&l, buf + off, n - off, &used);
 *		off += used;
 *		if (!done)
 *			break;
 *		handle(l.buf, l.len, l.truncated);
 *	} */
#ifndef VH_LINES_H
#define VH_LINES_H

#include <stdbool.h>
#include <stddef.h>

struct lines {
	char *buf;	 /* the caller's storage: cap bytes, line + NUL */
	size_t cap;	 /* >= 1 */
	size_t len;	 /* bytes of the current line in buf */
	bool truncated;	 /* the current line lost bytes to the overflow rule */
	bool complete;	 /* buf holds a finished line; the next push starts anew */
	size_t dropped;	 /* bytes of the current line past cap - 1 */
	bool dropped_cr; /* the last dropped byte was '\r' (it may end the line) */
};

/* Starts splitting into buf (cap >= 1 bytes, owned by the caller and used
 * until the splitter is abandoned; nothing to free). Lines hold at most
 * cap - 1 bytes. */
void lines_init(struct lines *l, char *buf, size_t cap);

/* Takes bytes from data[0..len) up to and including the next '\n' and sets
 * *used to their count. Returns true when that completed a line: l->buf then
 * holds it NUL-terminated (l->len bytes, l->truncated per the overflow
 * rule), valid until the next push; the remaining len - *used bytes belong
 * to the next line. Returns false when all len bytes were taken (*used ==
 * len) without ending a line. */
bool lines_push(struct lines *l, const void *data, size_t len, size_t *used);

/* At the end of the stream: returns true when an unfinished line is held
 * (it is then complete in l->buf, as from lines_push, a last '\r' stripped
 * as if the '\n' had come), false when the stream ended on a line
 * boundary. */
bool lines_finish(struct lines *l);

#endif
