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

/* A matcher looks for its pattern in s[0..len). On a match it returns true
 * and sets *end to the offset just past the match. */
typedef bool (*expect_match_fn)(void *ctx, const char *s, size_t len, size_t *end);

struct expect_buf {
	char *data;        /* unconsumed text, NUL-terminated for convenience */
	size_t len;
	size_t cap;
	size_t max_bytes;  /* oldest complete lines are dropped beyond this */
};

/* Initialises an empty buffer that keeps at most max_bytes of unconsumed text. */
void expect_buf_init(struct expect_buf *b, size_t max_bytes);
void expect_buf_free(struct expect_buf *b);

/* Appends a chunk of serial output. NUL bytes and '\r' are dropped. */
void expect_buf_append(struct expect_buf *b, const char *chunk, size_t len);

/* Offers every line of the unconsumed text (oldest first, then the partial
 * tail) to match. On the first match, consumes up to the match's end, copies
 * the matching line (without newline, truncated to line_cap-1) into line if
 * line != NULL, and returns true. Returns false and consumes nothing
 * otherwise. */
bool expect_buf_search(struct expect_buf *b, expect_match_fn match, void *ctx,
		       char *line, size_t line_cap);

/* Drops all unconsumed text (used when a device powers on again). */
void expect_buf_clear(struct expect_buf *b);

/* Ready-made matchers. */
bool expect_match_literal(void *needle_cstr, const char *s, size_t len, size_t *end);

struct expect_regex;
/* Compiles a POSIX extended regex; NULL and an error message in err on failure. */
struct expect_regex *expect_regex_new(const char *pattern, char *err, size_t errlen);
void expect_regex_free(struct expect_regex *re);
bool expect_match_regex(void *re, const char *s, size_t len, size_t *end);

/* Keeps the last n complete lines seen (for failure reports). */
struct line_ring {
	char **lines;
	size_t n, head, count;
	char *partial;       /* bytes of the line being assembled */
	size_t partial_len, partial_cap;
};
void line_ring_init(struct line_ring *r, size_t n);
void line_ring_free(struct line_ring *r);
void line_ring_append(struct line_ring *r, const char *chunk, size_t len);
/* Calls fn for each kept line, oldest first, then the partial line if any. */
void line_ring_each(const struct line_ring *r, void (*fn)(void *ctx, const char *line), void *ctx);

#endif
