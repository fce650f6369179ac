/* Serial expect matcher: a pure core with no I/O.
 *
 * The serial console arrives in arbitrary chunks (QEMU writes a byte at a
 * time). An expect_buf assembles them into lines and keeps the text that no
 * match has consumed yet, so a pattern is found even when it straddles reads
 * and after a partial mismatch ("ST" in "SST"). Matching is line-oriented:
 * each complete line, and the unterminated tail (so prompts such as "# "
 * match before their newline), is offered to the matcher. A successful match
 * consumes the text up to the end of the match; later expects only see what
 * follows. */
#ifndef VH_EXPECT_H
#define VH_EXPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A matcher looks for its pattern in s[0..len). On a match it returns true
 * and sets *end to the offset just past the match.
 *
 * s[len] is always readable: the buffer offers a complete line with
 * s[len] == '\n' and the unterminated tail with s[len] == '\0'. A matcher
 * with an end-of-line anchor uses this so that "foo$" does not match the tail
 * "foo" of a line that is about to become "foobar" (a timing-dependent false
 * positive); expect_match_regex does so. */
typedef bool (*expect_match_fn)(void *ctx, const char *s, size_t len, size_t *end);

struct expect_buf {
	char *data; /* unconsumed text, NUL-terminated for convenience */
	size_t len;
	size_t cap;
	size_t max_bytes; /* oldest complete lines are dropped beyond this */
	uint64_t pos;	  /* stream position of data[0]; grows, never resets */
	size_t tail;	  /* offset in data of the unterminated last line */
};

/* Initialises an empty buffer that keeps at most max_bytes of unconsumed
 * text (0 means a default of 64 KiB). When the limit is passed, whole lines
 * are dropped oldest first, down to about three quarters of max_bytes so that
 * byte-at-a-time appends do not move the buffer on every byte; a single line
 * longer than that keeps only its newest bytes. */
void expect_buf_init(struct expect_buf *b, size_t max_bytes);
/* Releases the buffer's memory; b may be initialised again afterwards. */
void expect_buf_free(struct expect_buf *b);

/* Appends a chunk of serial output. NUL bytes and '\r' are dropped. */
void expect_buf_append(struct expect_buf *b, const char *chunk, size_t len);

/* Stream position just past the last byte kept so far. Positions count the
 * bytes appended (after dropping NUL and '\r') and are not disturbed by
 * consumption, trimming or clearing, so a caller can remember one across
 * appends. */
uint64_t expect_buf_end_pos(const struct expect_buf *b);

/* Offers every line of the unconsumed text (oldest first, then the partial
 * tail) to match. On the first match, consumes up to the match's end, copies
 * the matching line (without newline, truncated to line_cap-1) into line if
 * line != NULL, and returns true. Returns false and consumes nothing
 * otherwise. A match that ends at the end of a complete line consumes its
 * newline too, so the next expect starts on the next line; a match that ends
 * mid-line leaves the rest of that line to be offered (and there, ^ matches
 * at the start of the rest). An empty tail is not offered. */
bool expect_buf_search(struct expect_buf *b, expect_match_fn match, void *ctx, char *line,
		       size_t line_cap);

/* Like expect_buf_search, but offers only the line containing stream
 * position from (starting at that line's beginning, or at the oldest
 * unconsumed byte if that is later) and the lines after it. Lines that ended
 * before from were already offered and cannot have changed, so skipping them
 * keeps byte-at-a-time matching linear:
 *
 *   uint64_t seen;
 *   hit = expect_buf_search(b, fn, ctx, ...);          // new expect: all text
 *   seen = expect_buf_end_pos(b);
 *   on each chunk:
 *     expect_buf_append(b, chunk, n);
 *     hit = expect_buf_search_from(b, seen, fn, ctx, ...);
 *     seen = expect_buf_end_pos(b);
 *
 * The unterminated line is offered again after every append (it may have
 * become a match), so the cost per append is the length of the current line. */
bool expect_buf_search_from(struct expect_buf *b, uint64_t from, expect_match_fn match, void *ctx,
			    char *line, size_t line_cap);

/* Offset in b->data of the start of the line containing offset (clamped to
 * b->len); the tail's start for offset == b->len. */
size_t expect_buf_line_start(const struct expect_buf *b, size_t offset);

/* Drops all unconsumed text (used when a device powers on again). Stream
 * positions keep counting, so a remembered position stays meaningful. */
void expect_buf_clear(struct expect_buf *b);

/* Ready-made matchers. */
/* Finds the NUL-terminated string needle_cstr as a substring of s[0..len). */
bool expect_match_literal(void *needle_cstr, const char *s, size_t len, size_t *end);

struct expect_regex;
/* Compiles a POSIX extended regex; NULL and an error message in err on failure.
 * The caller owns the result and releases it with expect_regex_free. */
struct expect_regex *expect_regex_new(const char *pattern, char *err, size_t errlen);
/* Releases a compiled regex; NULL is allowed. */
void expect_regex_free(struct expect_regex *re);
/* Matches the compiled regex re against s[0..len), which the buffer offers
 * one line at a time. ^ matches at s[0]; $ matches at s[len] only when
 * s[len] == '\n' (a complete line), never at the end of an unterminated tail.
 * To test a whole C string as a line, pass it with a trailing '\n' excluded
 * from len. */
bool expect_match_regex(void *re, const char *s, size_t len, size_t *end);

/* Longest line a line_ring keeps; longer lines keep their first bytes. */
#define LINE_RING_LINE_MAX 512

/* Keeps the last n complete lines seen (for failure reports), plus the line
 * still being assembled. NUL bytes and '\r' are dropped. */
struct line_ring {
	char **lines;
	size_t n, head, count;
	char *partial; /* bytes of the line being assembled */
	size_t partial_len, partial_cap;
};
/* Initialises an empty ring keeping the last n lines (n == 0 keeps none). */
void line_ring_init(struct line_ring *r, size_t n);
/* Releases every kept line. */
void line_ring_free(struct line_ring *r);
/* Adds a chunk of serial output; each '\n' completes a line. */
void line_ring_append(struct line_ring *r, const char *chunk, size_t len);
/* Calls fn for each kept line, oldest first, then the partial line if any. */
void line_ring_each(const struct line_ring *r, void (*fn)(void *ctx, const char *line), void *ctx);

#endif
