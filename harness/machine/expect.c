/* Serial expect matcher: see expect.h for the contract. */
#include "expect.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPECT_DEFAULT_MAX_BYTES (64 * 1024)

/* The matcher is a pure core with no error channel for allocation; a harness
 * that cannot allocate a few KiB cannot report anything useful either. */
static void *expect_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q) {
		fputs("vharness: out of memory\n", stderr);
		abort();
	}
	return q;
}

static void expect_buf_reserve(struct expect_buf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 256;

	if (need <= b->cap)
		return;
	while (cap < need)
		cap *= 2;
	b->data = expect_xrealloc(b->data, cap);
	b->cap = cap;
}

void expect_buf_init(struct expect_buf *b, size_t max_bytes)
{
	memset(b, 0, sizeof(*b));
	b->max_bytes = max_bytes ? max_bytes : EXPECT_DEFAULT_MAX_BYTES;
	expect_buf_reserve(b, 1);
	b->data[0] = '\0';
}

void expect_buf_free(struct expect_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* Removes data[0..cut); positions stay valid because pos counts what left. */
static void expect_buf_drop(struct expect_buf *b, size_t cut)
{
	if (cut == 0)
		return;
	memmove(b->data, b->data + cut, b->len - cut + 1);
	b->len -= cut;
	b->pos += cut;
	b->tail = b->tail >= cut ? b->tail - cut : 0;
}

/* Trims to three quarters of max_bytes rather than to max_bytes itself, so a
 * full buffer fed one byte at a time moves its contents once per max/4 bytes
 * instead of on every byte. */
static void expect_buf_trim(struct expect_buf *b)
{
	size_t target, min_cut;
	const char *nl;

	if (b->len <= b->max_bytes)
		return;
	target = b->max_bytes - b->max_bytes / 4;
	if (target == 0)
		target = 1;
	min_cut = b->len - target;
	if (b->len - b->tail <= target) {
		/* Some line boundary at or before the tail satisfies the limit:
		 * cut after the first newline at or beyond min_cut - 1. */
		nl = memchr(b->data + min_cut - 1, '\n', b->tail - (min_cut - 1));
		expect_buf_drop(b, (size_t)(nl - b->data) + 1);
	} else {
		/* One line alone is too long: keep its newest bytes. */
		expect_buf_drop(b, min_cut);
	}
}

static void expect_buf_append_slice(struct expect_buf *b, const char *chunk, size_t len)
{
	size_t i;

	expect_buf_reserve(b, b->len + len + 1);
	for (i = 0; i < len; i++) {
		char c = chunk[i];

		if (c == '\r' || c == '\0')
			continue;
		b->data[b->len++] = c;
		if (c == '\n')
			b->tail = b->len;
	}
	b->data[b->len] = '\0';
}

void expect_buf_append(struct expect_buf *b, const char *chunk, size_t len)
{
	/* Feeding a large chunk in slices bounds the peak allocation near
	 * max_bytes instead of max_bytes + len. */
	size_t slice = b->max_bytes / 4 ? b->max_bytes / 4 : 1;

	while (len > 0) {
		size_t k = len < slice ? len : slice;

		expect_buf_append_slice(b, chunk, k);
		expect_buf_trim(b);
		chunk += k;
		len -= k;
	}
}

uint64_t expect_buf_end_pos(const struct expect_buf *b)
{
	return b->pos + b->len;
}

size_t expect_buf_line_start(const struct expect_buf *b, size_t offset)
{
	const char *nl;

	if (offset >= b->tail)
		return b->tail;
	nl = memrchr(b->data, '\n', offset);
	return nl ? (size_t)(nl - b->data) + 1 : 0;
}

bool expect_buf_search_from(struct expect_buf *b, uint64_t from, expect_match_fn match, void *ctx,
			    char *line, size_t line_cap)
{
	size_t off;

	if (from <= b->pos)
		off = 0;
	else if (from - b->pos >= b->len)
		off = b->tail;
	else
		off = expect_buf_line_start(b, (size_t)(from - b->pos));

	while (off < b->len) {
		const char *s = b->data + off;
		const char *nl = memchr(s, '\n', b->len - off);
		size_t l = nl ? (size_t)(nl - s) : b->len - off;
		size_t end = 0;

		if (match(ctx, s, l, &end)) {
			size_t cut;

			if (end > l)
				end = l;
			if (line && line_cap > 0) {
				size_t n = l < line_cap - 1 ? l : line_cap - 1;

				memcpy(line, s, n);
				line[n] = '\0';
			}
			cut = off + end;
			if (nl && end == l)
				cut++;
			expect_buf_drop(b, cut);
			return true;
		}
		if (!nl)
			break;
		off += l + 1;
	}
	return false;
}

bool expect_buf_search(struct expect_buf *b, expect_match_fn match, void *ctx, char *line,
		       size_t line_cap)
{
	return expect_buf_search_from(b, b->pos, match, ctx, line, line_cap);
}

void expect_buf_clear(struct expect_buf *b)
{
	b->pos += b->len;
	b->len = 0;
	b->tail = 0;
	if (b->data)
		b->data[0] = '\0';
}

bool expect_match_literal(void *needle_cstr, const char *s, size_t len, size_t *end)
{
	const char *needle = needle_cstr;
	size_t n;
	const char *p;

	if (!needle)
		return false;
	n = strlen(needle);
	p = memmem(s, len, needle, n);
	if (!p)
		return false;
	*end = (size_t)(p - s) + n;
	return true;
}

struct expect_regex {
	regex_t re;
	char *scratch; /* NUL-terminated copy where REG_STARTEND is missing */
	size_t scratch_cap;
};

struct expect_regex *expect_regex_new(const char *pattern, char *err, size_t errlen)
{
	struct expect_regex *re = expect_xrealloc(NULL, sizeof(*re));
	int rc;

	memset(re, 0, sizeof(*re));
	rc = regcomp(&re->re, pattern, REG_EXTENDED);
	if (rc != 0) {
		if (err && errlen > 0) {
			char why[256];

			regerror(rc, &re->re, why, sizeof(why));
			snprintf(err, errlen, "invalid regex \"%s\": %s", pattern, why);
		}
		/* regfree is not valid after a failed regcomp. */
		free(re);
		return NULL;
	}
	return re;
}

void expect_regex_free(struct expect_regex *re)
{
	if (!re)
		return;
	regfree(&re->re);
	free(re->scratch);
	free(re);
}

bool expect_match_regex(void *ctx, const char *s, size_t len, size_t *end)
{
	struct expect_regex *re = ctx;
	regmatch_t m[1];
	int eflags = s[len] == '\n' ? 0 : REG_NOTEOL;
	const char *subject = s;

#ifdef REG_STARTEND
	/* Matches in place: the line ends at '\n', not at a NUL. */
	m[0].rm_so = 0;
	m[0].rm_eo = (regoff_t)len;
	eflags |= REG_STARTEND;
#else
	if (re->scratch_cap < len + 1) {
		re->scratch = expect_xrealloc(re->scratch, len + 1);
		re->scratch_cap = len + 1;
	}
	memcpy(re->scratch, s, len);
	re->scratch[len] = '\0';
	subject = re->scratch;
#endif
	if (regexec(&re->re, subject, 1, m, eflags) != 0)
		return false;
	*end = (size_t)m[0].rm_eo;
	return true;
}

void line_ring_init(struct line_ring *r, size_t n)
{
	memset(r, 0, sizeof(*r));
	r->n = n;
	if (n > 0) {
		r->lines = expect_xrealloc(NULL, n * sizeof(*r->lines));
		memset(r->lines, 0, n * sizeof(*r->lines));
	}
	r->partial_cap = LINE_RING_LINE_MAX + 1;
	r->partial = expect_xrealloc(NULL, r->partial_cap);
	r->partial[0] = '\0';
}

void line_ring_free(struct line_ring *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->lines[i]);
	free(r->lines);
	free(r->partial);
	memset(r, 0, sizeof(*r));
}

static void line_ring_push(struct line_ring *r)
{
	char *slot;

	if (r->n == 0)
		return;
	slot = r->lines[r->head];
	if (!slot)
		slot = r->lines[r->head] = expect_xrealloc(NULL, LINE_RING_LINE_MAX + 1);
	memcpy(slot, r->partial, r->partial_len + 1);
	r->head = (r->head + 1) % r->n;
	if (r->count < r->n)
		r->count++;
}

void line_ring_append(struct line_ring *r, const char *chunk, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		char c = chunk[i];

		if (c == '\r' || c == '\0')
			continue;
		if (c == '\n') {
			line_ring_push(r);
			r->partial_len = 0;
		} else if (r->partial_len < LINE_RING_LINE_MAX) {
			r->partial[r->partial_len++] = c;
		}
		r->partial[r->partial_len] = '\0';
	}
}

void line_ring_each(const struct line_ring *r, void (*fn)(void *ctx, const char *line), void *ctx)
{
	size_t i;

	for (i = 0; i < r->count; i++)
		fn(ctx, r->lines[(r->head + r->n - r->count + i) % r->n]);
	if (r->partial_len > 0)
		fn(ctx, r->partial);
}
