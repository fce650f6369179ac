/* Fuzz target: the serial expect matcher (harness/machine/expect.h).
 *
 * Input: byte 0 chooses the matcher and the buffer limit, byte 1 seeds the
 * chunking, then one line of patterns separated by tabs (expected one after
 * the other, round robin), then the console output. Byte 0: bit 0 set means
 * POSIX ERE (expect_match_regex), clear means literal; bits 1-3 pick
 * max_bytes from limits[] (small ones exercise trimming). Digits make
 * readable seeds: '0' literal with the default limit, '1' regex, '2' literal
 * with 16 bytes, and so on. A 0x01 byte in the console output stands for
 * the device powering on again (expect_buf_clear).
 *
 * The output is fed in chunks of 1..16 bytes (mostly 1..8) to two
 * buffers: A is driven as the harness drives it (a full search when an
 * expect starts, then expect_buf_search_from the remembered end position
 * after each append), B gets a full expect_buf_search after each append.
 * Properties:
 *   - differential: A and B find the same match, return the same line and
 *     are left holding the same text (the contract of search_from);
 *   - each buffer holds a contiguous slice of the stream (all bytes appended,
 *     without NUL and '\r'): data == stream[pos, end_pos), pos never goes
 *     back, end_pos counts exactly the bytes kept;
 *   - a matcher is only offered whole lines of unconsumed text (s[len] is
 *     '\n', or '\0' at the very end), never text before pos;
 *   - a match consumes exactly up to its end, plus the newline when it ends
 *     its complete line. */
#include "expect.h"
#include "fuzz.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_EXPECT_PATTERNS 4
#define FUZZ_EXPECT_PATTERN_MAX 48
#define FUZZ_EXPECT_LINE_CAP 40 /* smaller than many lines: truncation is checked too */

static const size_t limits[8] = { 0, 16, 32, 64, 100, 256, 1000, 4096 };

/* Wraps the real matcher: checks what it is offered and remembers the match. */
struct probe {
	expect_match_fn match;
	void *ctx;
	const struct expect_buf *b;
	bool hit;
	uint64_t hit_pos; /* stream position of the offered line */
	size_t hit_len, hit_end;
	bool hit_complete;
};

static bool probe_match(void *ctx, const char *s, size_t len, size_t *end)
{
	struct probe *p = ctx;
	const struct expect_buf *b = p->b;

	FUZZ_CHECK(s >= b->data && s + len <= b->data + b->len,
		   "offered text outside the unconsumed data");
	FUZZ_CHECK(s == b->data || s[-1] == '\n', "offered text does not start a line");
	FUZZ_CHECK(memchr(s, '\n', len) == NULL, "offered text spans lines");
	FUZZ_CHECK(s[len] == '\n' || (s[len] == '\0' && s + len == b->data + b->len),
		   "offered text ends in 0x%02x", (unsigned char)s[len]);
	FUZZ_CHECK(len > 0 || s[len] == '\n', "an empty tail was offered");
	if (!p->match(p->ctx, s, len, end))
		return false;
	FUZZ_CHECK(*end <= len, "matcher ended at %zu in a line of %zu", *end, len);
	p->hit = true;
	p->hit_pos = b->pos + (uint64_t)(s - b->data);
	p->hit_len = len;
	p->hit_end = *end;
	p->hit_complete = s[len] == '\n';
	return true;
}

struct side {
	struct expect_buf b;
	struct probe probe;
	uint64_t seen; /* A only: end position after its last search */
	char line[FUZZ_EXPECT_LINE_CAP];
};

/* The whole filtered stream so far, to check the buffers against. */
struct stream {
	char *data;
	size_t len, cap;
};

static void stream_append(struct stream *st, const char *chunk, size_t len)
{
	if (st->len + len > st->cap) {
		st->cap = (st->len + len) * 2;
		st->data = realloc(st->data, st->cap);
		FUZZ_CHECK(st->data != NULL, "out of memory");
	}
	for (size_t i = 0; i < len; i++)
		if (chunk[i] != '\0' && chunk[i] != '\r')
			st->data[st->len++] = chunk[i];
}

static void check_slice(const struct side *s, const struct stream *st, const char *who)
{
	const struct expect_buf *b = &s->b;

	FUZZ_CHECK(expect_buf_end_pos(b) == st->len, "%s: end_pos %llu, stream %zu bytes", who,
		   (unsigned long long)expect_buf_end_pos(b), st->len);
	FUZZ_CHECK(b->pos + b->len == st->len &&
			   (b->len == 0 || memcmp(b->data, st->data + b->pos, b->len) == 0),
		   "%s: buffer is not stream[pos, end)", who);
	FUZZ_CHECK(b->data[b->len] == '\0', "%s: data not NUL-terminated", who);
	FUZZ_CHECK(b->tail <= b->len && (b->tail == 0 || b->data[b->tail - 1] == '\n') &&
			   memchr(b->data + b->tail, '\n', b->len - b->tail) == NULL,
		   "%s: tail %zu is not the start of the last line", who, b->tail);
}

/* One search on one side; checks what a hit consumed. */
static bool search(struct side *s, bool from_seen)
{
	uint64_t pos_before = s->b.pos;
	bool hit;

	s->probe.hit = false;
	s->line[0] = '\0';
	if (from_seen)
		hit = expect_buf_search_from(&s->b, s->seen, probe_match, &s->probe, s->line,
					     sizeof(s->line));
	else
		hit = expect_buf_search(&s->b, probe_match, &s->probe, s->line, sizeof(s->line));
	s->seen = expect_buf_end_pos(&s->b);
	FUZZ_CHECK(hit == s->probe.hit, "search says %d, the matcher %d", hit, s->probe.hit);
	FUZZ_CHECK(s->b.pos >= pos_before, "pos went back");
	if (!hit) {
		FUZZ_CHECK(s->b.pos == pos_before, "a failed search consumed text");
		return false;
	}
	uint64_t want = s->probe.hit_pos + s->probe.hit_end;
	if (s->probe.hit_complete && s->probe.hit_end == s->probe.hit_len)
		want++;
	FUZZ_CHECK(s->b.pos == want, "a match consumed up to %llu, not %llu",
		   (unsigned long long)s->b.pos, (unsigned long long)want);
	size_t n = s->probe.hit_len < sizeof(s->line) - 1 ? s->probe.hit_len : sizeof(s->line) - 1;
	FUZZ_CHECK(strlen(s->line) <= n, "returned line longer than the matched one");
	return true;
}

static void compare(const struct side *a, const struct side *b, bool hit_a, bool hit_b)
{
	FUZZ_CHECK(hit_a == hit_b, "search_from %s, full search %s", hit_a ? "matched" : "did not",
		   hit_b ? "matched" : "did not");
	if (hit_a) {
		FUZZ_CHECK(a->probe.hit_pos == b->probe.hit_pos &&
				   a->probe.hit_end == b->probe.hit_end,
			   "search_from matched at %llu+%zu, full search at %llu+%zu",
			   (unsigned long long)a->probe.hit_pos, a->probe.hit_end,
			   (unsigned long long)b->probe.hit_pos, b->probe.hit_end);
		FUZZ_CHECK(strcmp(a->line, b->line) == 0, "lines \"%s\" and \"%s\"", a->line,
			   b->line);
	}
	FUZZ_CHECK(a->b.pos == b->b.pos && a->b.len == b->b.len && a->b.tail == b->b.tail &&
			   memcmp(a->b.data, b->b.data, a->b.len) == 0,
		   "the buffers differ after the same searches");
}

struct run {
	struct side a, b;
	bool regex;
	char patterns[FUZZ_EXPECT_PATTERNS][FUZZ_EXPECT_PATTERN_MAX + 1];
	struct expect_regex *res[FUZZ_EXPECT_PATTERNS];
	size_t n_patterns, cur;
	bool a_searched; /* A's current expect has had its first, full search */
};

static void run_select(struct run *r, size_t i)
{
	void *ctx = r->regex ? (void *)r->res[i] : (void *)r->patterns[i];

	r->cur = i;
	r->a.probe.ctx = r->b.probe.ctx = ctx;
	r->a_searched = false;
}

/* Searches both sides for the current expect; a hit starts the next expect
 * at once, with a full search as the harness does. Patterns that match the
 * empty string hit without consuming anything, so the rounds are bounded. */
static void run_searches(struct run *r)
{
	for (int round = 0; round < 2 * FUZZ_EXPECT_PATTERNS; round++) {
		bool ha = search(&r->a, r->a_searched);
		bool hb = search(&r->b, false);

		r->a_searched = true;
		compare(&r->a, &r->b, ha, hb);
		if (!ha)
			return;
		run_select(r, (r->cur + 1) % r->n_patterns);
	}
}

static bool pattern_ok(const char *p, bool regex)
{
	/* glibc's regcomp and regexec are not ours to fuzz: bounded repetition
	 * ("a{255}{255}") and back-references blow up in time or memory. */
	return !regex || (strchr(p, '{') == NULL && strchr(p, '\\') == NULL);
}

/* Reads the tab-separated patterns of line[0..len); false when unusable. */
static bool run_patterns(struct run *r, const char *line, size_t len)
{
	const char *p = line, *end = line + len;

	for (;;) {
		const char *tab = memchr(p, '\t', (size_t)(end - p));
		const char *e = tab ? tab : end;
		size_t n = (size_t)(e - p);
		char *dst = r->patterns[r->n_patterns];

		if (n > FUZZ_EXPECT_PATTERN_MAX || memchr(p, '\0', n))
			return false;
		memcpy(dst, p, n);
		dst[n] = '\0';
		if (!pattern_ok(dst, r->regex))
			return false;
		if (r->regex && !(r->res[r->n_patterns] = expect_regex_new(dst, NULL, 0)))
			return false;
		r->n_patterns++;
		if (!tab || r->n_patterns == FUZZ_EXPECT_PATTERNS)
			return true;
		p = tab + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run r;
	struct stream st = { 0 };
	struct fuzz_rng rng;
	const char *text, *nl;
	size_t text_len;

	if (size < 3)
		return 0;
	memset(&r, 0, sizeof(r));
	r.regex = data[0] & 1;
	rng.state = data[1] | (uint64_t)data[0] << 8;
	text = (const char *)data + 2;
	text_len = size - 2;
	nl = memchr(text, '\n', text_len);
	if (!nl || !run_patterns(&r, text, (size_t)(nl - text)))
		goto out;
	text_len -= (size_t)(nl + 1 - text);
	text = nl + 1;

	for (size_t i = 0; i < 2; i++) {
		struct side *s = i ? &r.b : &r.a;

		expect_buf_init(&s->b, limits[(data[0] >> 1) & 7]);
		s->probe.match = r.regex ? expect_match_regex : expect_match_literal;
		s->probe.b = &s->b;
	}
	run_select(&r, 0);
	run_searches(&r);
	for (size_t off = 0; off < text_len;) {
		size_t k = fuzz_rng_chunk(&rng, 16);

		if (k > text_len - off)
			k = text_len - off;
		if (text[off] == '\x01') {
			expect_buf_clear(&r.a.b);
			expect_buf_clear(&r.b.b);
			k = 1;
		} else {
			const char *ctl = memchr(text + off, '\x01', k);

			if (ctl)
				k = (size_t)(ctl - (text + off));
			expect_buf_append(&r.a.b, text + off, k);
			expect_buf_append(&r.b.b, text + off, k);
			stream_append(&st, text + off, k);
		}
		off += k;
		run_searches(&r);
		check_slice(&r.a, &st, "search_from");
		check_slice(&r.b, &st, "full search");
	}
	expect_buf_free(&r.a.b);
	expect_buf_free(&r.b.b);
	free(st.data);
out:
	for (size_t i = 0; i < FUZZ_EXPECT_PATTERNS; i++)
		expect_regex_free(r.res[i]);
	return 0;
}
