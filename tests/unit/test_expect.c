/* Unit tests for the serial expect matcher (harness/machine/expect.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"
#include "test_skip.h"

/* Drives the buffer the way the harness does: one search when the expect
 * starts, then one search_from per appended chunk of chunk_len bytes. Returns
 * true on the first match, leaving the matched line in line. */
static bool feed_and_expect(struct expect_buf *b, const char *text, size_t chunk_len,
			    expect_match_fn fn, void *ctx, char *line, size_t line_cap)
{
	size_t len = strlen(text), off = 0;
	uint64_t seen;

	if (expect_buf_search(b, fn, ctx, line, line_cap))
		return true;
	seen = expect_buf_end_pos(b);
	while (off < len) {
		size_t k = len - off < chunk_len ? len - off : chunk_len;

		expect_buf_append(b, text + off, k);
		off += k;
		if (expect_buf_search_from(b, seen, fn, ctx, line, line_cap)) {
			/* Keep the rest for later expects, as the harness would. */
			expect_buf_append(b, text + off, len - off);
			return true;
		}
		seen = expect_buf_end_pos(b);
	}
	return false;
}

static void test_expect_finds_literal_within_one_chunk(void **state)
{
	struct expect_buf b;
	char line[64];

	(void)state;
	expect_buf_init(&b, 0);
	expect_buf_append(&b, "booting\nvh-agent: boot slot=a\nok\n", 34);
	assert_true(expect_buf_search(&b, expect_match_literal, "slot=a", line, sizeof(line)));
	assert_string_equal(line, "vh-agent: boot slot=a");
	/* The match ended the line, so its newline went with it. */
	assert_string_equal(b.data, "ok\n");
	expect_buf_free(&b);
}

static void test_expect_finds_pattern_straddling_two_reads(void **state)
{
	struct expect_buf b;
	char line[64];
	uint64_t seen;

	(void)state;
	expect_buf_init(&b, 0);
	expect_buf_append(&b, "vh-agent: bo", 12);
	assert_false(
		expect_buf_search(&b, expect_match_literal, "boot slot=a", line, sizeof(line)));
	seen = expect_buf_end_pos(&b);
	expect_buf_append(&b, "ot slot=a\n", 10);
	assert_true(expect_buf_search_from(&b, seen, expect_match_literal, "boot slot=a", line,
					   sizeof(line)));
	assert_string_equal(line, "vh-agent: boot slot=a");
	expect_buf_free(&b);
}

static void test_expect_finds_pattern_fed_one_byte_at_a_time(void **state)
{
	const char *text = "U-Boot 2023.01\nStarting kernel ...\nvh-agent: boot slot=b\n";
	struct expect_buf b;
	struct expect_regex *re;
	char line[64], err[128];

	(void)state;
	expect_buf_init(&b, 0);
	assert_true(feed_and_expect(&b, text, 1, expect_match_literal, "boot slot=b", line,
				    sizeof(line)));
	assert_string_equal(line, "vh-agent: boot slot=b");
	expect_buf_free(&b);

	expect_buf_init(&b, 0);
	re = expect_regex_new("slot=[ab]$", err, sizeof(err));
	assert_non_null(re);
	assert_true(feed_and_expect(&b, text, 1, expect_match_regex, re, line, sizeof(line)));
	assert_string_equal(line, "vh-agent: boot slot=b");
	expect_regex_free(re);
	expect_buf_free(&b);
}

/* QEMU's qtest matcher resets on a mismatch without re-testing the byte that
 * broke the match, so it never finds "ST" in "SST". */
static void test_expect_finds_literal_after_partial_mismatch(void **state)
{
	struct expect_buf b;
	char line[16];

	(void)state;
	expect_buf_init(&b, 0);
	assert_true(feed_and_expect(&b, "SST", 1, expect_match_literal, "ST", line, sizeof(line)));
	assert_string_equal(line, "SST");
	assert_int_equal(b.len, 0);
	expect_buf_free(&b);

	expect_buf_init(&b, 0);
	assert_true(
		feed_and_expect(&b, "SST\n", 4, expect_match_literal, "ST", line, sizeof(line)));
	expect_buf_free(&b);
}

static void test_expect_finds_regex_after_partial_mismatch(void **state)
{
	struct expect_buf b;
	struct expect_regex *re;
	char line[16], err[128];

	(void)state;
	re = expect_regex_new("ST", err, sizeof(err));
	assert_non_null(re);
	expect_buf_init(&b, 0);
	assert_true(feed_and_expect(&b, "SST", 1, expect_match_regex, re, line, sizeof(line)));
	assert_string_equal(line, "SST");
	expect_buf_free(&b);
	expect_regex_free(re);

	/* The same with an anchor: the match starts at the second byte. */
	re = expect_regex_new("S+T$", err, sizeof(err));
	assert_non_null(re);
	expect_buf_init(&b, 0);
	assert_true(feed_and_expect(&b, "xSST\n", 1, expect_match_regex, re, line, sizeof(line)));
	assert_string_equal(line, "xSST");
	expect_buf_free(&b);
	expect_regex_free(re);
}

static void test_expect_match_consumes_so_line_is_not_matched_twice(void **state)
{
	struct expect_buf b;

	(void)state;
	expect_buf_init(&b, 0);
	expect_buf_append(&b, "ready\n", 6);
	assert_true(expect_buf_search(&b, expect_match_literal, "ready", NULL, 0));
	assert_false(expect_buf_search(&b, expect_match_literal, "ready", NULL, 0));
	expect_buf_append(&b, "ready ready\n", 12);
	/* Two occurrences on one line match twice, then no more. */
	assert_true(expect_buf_search(&b, expect_match_literal, "ready", NULL, 0));
	assert_true(expect_buf_search(&b, expect_match_literal, "ready", NULL, 0));
	assert_false(expect_buf_search(&b, expect_match_literal, "ready", NULL, 0));
	expect_buf_free(&b);
}

static void test_expect_second_expect_sees_text_after_first_match(void **state)
{
	struct expect_buf b;
	char line[64];

	(void)state;
	expect_buf_init(&b, 0);
	expect_buf_append(&b, "a: one\nb: two\nc: three\n", 23);
	assert_true(expect_buf_search(&b, expect_match_literal, "two", line, sizeof(line)));
	/* Text before the first match is gone; text after it is all there. */
	assert_false(expect_buf_search(&b, expect_match_literal, "one", line, sizeof(line)));
	assert_true(expect_buf_search(&b, expect_match_literal, "three", line, sizeof(line)));
	assert_string_equal(line, "c: three");
	expect_buf_free(&b);
}

/* A new expect with a different pattern must see lines an earlier expect's
 * incremental searches already skipped. */
static void test_expect_new_pattern_sees_all_unconsumed_lines(void **state)
{
	struct expect_buf b;
	char line[64];

	(void)state;
	expect_buf_init(&b, 0);
	assert_false(feed_and_expect(&b, "eth0: link up\nnet ready\n", 1, expect_match_literal,
				     "never", line, sizeof(line)));
	assert_true(expect_buf_search(&b, expect_match_literal, "link up", line, sizeof(line)));
	assert_string_equal(line, "eth0: link up");
	expect_buf_free(&b);
}

static void test_expect_matches_prompt_without_newline(void **state)
{
	struct expect_buf b;
	char line[64];

	(void)state;
	expect_buf_init(&b, 0);
	assert_true(feed_and_expect(&b, "Welcome\nlogin: ", 1, expect_match_literal,
				    "login: ", line, sizeof(line)));
	assert_string_equal(line, "login: ");
	assert_int_equal(b.len, 0);
	/* Output continuing on the prompt's line is offered afterwards. */
	expect_buf_append(&b, "root\n", 5);
	assert_true(expect_buf_search(&b, expect_match_literal, "root", line, sizeof(line)));
	expect_buf_free(&b);
}

static void test_expect_drops_carriage_returns_and_nuls(void **state)
{
	struct expect_buf b;
	struct expect_regex *re;
	char line[64], err[128];

	(void)state;
	re = expect_regex_new("^done$", err, sizeof(err));
	assert_non_null(re);
	expect_buf_init(&b, 0);
	expect_buf_append(&b, "do\0ne\r\nnext\r\n", 13);
	assert_string_equal(b.data, "done\nnext\n");
	assert_true(expect_buf_search(&b, expect_match_regex, re, line, sizeof(line)));
	assert_string_equal(line, "done");
	assert_string_equal(b.data, "next\n");
	expect_buf_free(&b);
	expect_regex_free(re);
}

static void test_expect_trims_oldest_lines_beyond_max_bytes(void **state)
{
	struct expect_buf b;
	char text[32];
	int i;

	(void)state;
	expect_buf_init(&b, 100);
	for (i = 0; i < 100; i++) {
		snprintf(text, sizeof(text), "line %03d\n", i);
		expect_buf_append(&b, text, strlen(text));
		assert_true(b.len <= 100);
		/* Only whole lines are dropped. */
		assert_true(strncmp(b.data, "line ", 5) == 0);
	}
	/* The newest lines survive, and a pattern in them is still found. */
	assert_non_null(strstr(b.data, "line 099\n"));
	assert_null(strstr(b.data, "line 000"));
	assert_true(expect_buf_search(&b, expect_match_literal, "line 098", NULL, 0));
	assert_int_equal(expect_buf_end_pos(&b), 900);
	expect_buf_free(&b);
}

/* Trimming goes down to three quarters of max_bytes (so a full buffer fed a
 * byte at a time is not shifted on every byte), cutting at the first line
 * boundary that gets there and no further. */
static void test_expect_trims_to_first_line_boundary_below_three_quarters(void **state)
{
	struct expect_buf b;
	int i;

	(void)state;
	expect_buf_init(&b, 100);
	for (i = 0; i < 5; i++)
		expect_buf_append(&b, "0123456789abcdefghi\n", 20);
	assert_int_equal(b.len, 100);
	expect_buf_append(&b, "fifteen bytes.\n", 15);
	/* 115 bytes: 75 may stay; the boundary after line 2 keeps exactly 75. */
	assert_int_equal(b.len, 75);
	assert_int_equal(b.pos, 40);
	assert_true(strncmp(b.data, "0123456789abcdefghi\n", 20) == 0);
	/* Byte-at-a-time appends then grow the buffer back to max_bytes before
	 * the next trim. */
	for (i = 0; i < 25; i++) {
		expect_buf_append(&b, "x", 1);
		assert_int_equal(b.len, 76 + i);
	}
	expect_buf_append(&b, "x", 1);
	assert_true(b.len <= 75);
	expect_buf_free(&b);
}

static void test_expect_keeps_tail_of_overlong_line(void **state)
{
	struct expect_buf b;
	size_t i;

	(void)state;
	expect_buf_init(&b, 64);
	expect_buf_append(&b, "old\n", 4);
	for (i = 0; i < 10000; i++) {
		expect_buf_append(&b, "x", 1);
		assert_true(b.len <= 64);
		assert_true(b.cap <= 256);
	}
	expect_buf_append(&b, "END", 3);
	assert_null(strstr(b.data, "old"));
	assert_int_equal(b.len, strlen(b.data));
	assert_true(expect_buf_search(&b, expect_match_literal, "xxxEND", NULL, 0));

	/* A single chunk far larger than the limit stays bounded too. */
	{
		char *big = malloc(100000);

		memset(big, 'y', 100000);
		big[99999] = 'Z';
		expect_buf_append(&b, big, 100000);
		assert_true(b.len <= 64);
		assert_true(b.cap <= 256);
		assert_int_equal(b.data[b.len - 1], 'Z');
		free(big);
	}
	expect_buf_free(&b);
}

static void test_expect_regex_anchors_match_per_line(void **state)
{
	struct expect_buf b;
	struct expect_regex *re;
	char line[64], err[128];

	(void)state;
	re = expect_regex_new("^slot=[ab]$", err, sizeof(err));
	assert_non_null(re);
	expect_buf_init(&b, 0);
	expect_buf_append(&b, "x slot=a\nslot=a y\nslot=b\n", 25);
	assert_true(expect_buf_search(&b, expect_match_regex, re, line, sizeof(line)));
	assert_string_equal(line, "slot=b");
	assert_int_equal(b.len, 0);
	expect_buf_free(&b);
	expect_regex_free(re);

	/* An empty complete line matches ^$; a consumed line leaves none behind. */
	re = expect_regex_new("^$", err, sizeof(err));
	assert_non_null(re);
	expect_buf_init(&b, 0);
	expect_buf_append(&b, "a\nb\n", 4);
	assert_true(expect_buf_search(&b, expect_match_literal, "a", NULL, 0));
	assert_false(expect_buf_search(&b, expect_match_regex, re, NULL, 0));
	expect_buf_append(&b, "\n", 1);
	strcpy(line, "unset");
	assert_true(expect_buf_search(&b, expect_match_regex, re, line, sizeof(line)));
	assert_string_equal(line, "");
	assert_int_equal(b.len, 0);
	assert_false(expect_buf_search(&b, expect_match_regex, re, line, sizeof(line)));
	expect_buf_free(&b);
	expect_regex_free(re);
}

/* "foo$" must not match the tail "foo" of a line about to become "foobar":
 * whether it did would depend on how QEMU's writes were chunked. */
static void test_expect_regex_dollar_waits_for_end_of_line(void **state)
{
	struct expect_buf b;
	struct expect_regex *re;
	char line[64], err[128];
	uint64_t seen;

	(void)state;
	re = expect_regex_new("progress=4$", err, sizeof(err));
	assert_non_null(re);
	expect_buf_init(&b, 0);
	expect_buf_append(&b, "progress=4", 10);
	assert_false(expect_buf_search(&b, expect_match_regex, re, line, sizeof(line)));
	seen = expect_buf_end_pos(&b);
	expect_buf_append(&b, "0\n", 2);
	assert_false(expect_buf_search_from(&b, seen, expect_match_regex, re, line, sizeof(line)));
	seen = expect_buf_end_pos(&b);
	expect_buf_append(&b, "progress=4\n", 11);
	assert_true(expect_buf_search_from(&b, seen, expect_match_regex, re, line, sizeof(line)));
	assert_string_equal(line, "progress=4");
	expect_buf_free(&b);
	expect_regex_free(re);
}

static void test_expect_invalid_regex_reports_error(void **state)
{
	char err[256] = "";

	(void)state;
	assert_null(expect_regex_new("boot (slot", err, sizeof(err)));
	assert_non_null(strstr(err, "invalid regex \"boot (slot\": "));
	assert_true(strlen(err) > strlen("invalid regex \"boot (slot\": "));
	/* A tiny error buffer is truncated, not overrun. */
	assert_null(expect_regex_new("[", err, 4));
	assert_int_equal(strlen(err), 3);
}

struct offer_count {
	const char *needle;
	size_t calls, bytes;
};

static bool counting_match(void *ctx, const char *s, size_t len, size_t *end)
{
	struct offer_count *c = ctx;

	c->calls++;
	c->bytes += len;
	return expect_match_literal((void *)c->needle, s, len, end);
}

/* Byte-at-a-time input must cost work proportional to the line length per
 * byte, not to everything buffered: 2000 lines of 40 bytes offer ~40 bytes
 * per append, where re-offering the whole buffer would offer ~1600000. */
static void test_expect_search_from_offers_only_new_and_changed_lines(void **state)
{
	struct expect_buf b;
	struct offer_count c = { .needle = "never" };
	char text[41];
	uint64_t seen;
	size_t i, j, appends = 0;

	(void)state;
	expect_buf_init(&b, 1 << 20);
	memset(text, 'z', 39);
	text[39] = '\n';
	text[40] = '\0';
	assert_false(expect_buf_search(&b, counting_match, &c, NULL, 0));
	seen = expect_buf_end_pos(&b);
	for (i = 0; i < 2000; i++) {
		for (j = 0; j < 40; j++) {
			expect_buf_append(&b, text + j, 1);
			appends++;
			assert_false(expect_buf_search_from(&b, seen, counting_match, &c, NULL, 0));
			seen = expect_buf_end_pos(&b);
		}
	}
	assert_int_equal(b.len, 80000);
	assert_true(c.calls <= appends);
	assert_true(c.bytes <= appends * 40);
	/* A fresh search still sees every buffered line. */
	c.calls = 0;
	assert_false(expect_buf_search(&b, counting_match, &c, NULL, 0));
	assert_int_equal(c.calls, 2000);
	expect_buf_free(&b);
}

/* Positions are stream offsets, so trimming or consuming between two
 * searches does not make the caller's remembered position point elsewhere. */
static void test_expect_search_from_survives_trimming_and_consumption(void **state)
{
	struct expect_buf b;
	char line[64];
	uint64_t seen;
	int i;

	(void)state;
	expect_buf_init(&b, 64);
	expect_buf_append(&b, "first\n", 6);
	assert_true(expect_buf_search(&b, expect_match_literal, "first", NULL, 0));
	seen = expect_buf_end_pos(&b);
	assert_int_equal(seen, 6);
	for (i = 0; i < 20; i++)
		expect_buf_append(&b, "filler line\n", 12);
	expect_buf_append(&b, "tar", 3);
	assert_false(expect_buf_search_from(&b, seen, expect_match_literal, "target", NULL, 0));
	seen = expect_buf_end_pos(&b);
	expect_buf_append(&b, "get\n", 4);
	assert_true(expect_buf_search_from(&b, seen, expect_match_literal, "target", line,
					   sizeof(line)));
	assert_string_equal(line, "target");
	/* A position from before clear() still works after it. */
	expect_buf_append(&b, "junk", 4);
	seen = expect_buf_end_pos(&b);
	expect_buf_clear(&b);
	assert_int_equal(b.len, 0);
	assert_int_equal(expect_buf_end_pos(&b), seen);
	expect_buf_append(&b, "ok\n", 3);
	assert_true(expect_buf_search_from(&b, seen, expect_match_literal, "ok", NULL, 0));
	expect_buf_free(&b);
}

static void test_expect_line_start_finds_beginning_of_line(void **state)
{
	struct expect_buf b;

	(void)state;
	expect_buf_init(&b, 0);
	expect_buf_append(&b, "ab\ncd\nef", 8);
	assert_int_equal(expect_buf_line_start(&b, 0), 0);
	assert_int_equal(expect_buf_line_start(&b, 2), 0); /* the newline itself */
	assert_int_equal(expect_buf_line_start(&b, 3), 3);
	assert_int_equal(expect_buf_line_start(&b, 4), 3);
	assert_int_equal(expect_buf_line_start(&b, 7), 6);
	assert_int_equal(expect_buf_line_start(&b, 8), 6);
	assert_int_equal(expect_buf_line_start(&b, 99), 6);
	expect_buf_free(&b);
}

static void test_expect_truncates_copied_line_to_capacity(void **state)
{
	struct expect_buf b;
	char line[5];

	(void)state;
	expect_buf_init(&b, 0);
	expect_buf_append(&b, "abcdefgh\n", 9);
	assert_true(expect_buf_search(&b, expect_match_literal, "gh", line, sizeof(line)));
	assert_string_equal(line, "abcd");
	expect_buf_free(&b);
}

struct collected {
	char text[4096];
	int n;
};

static void collect_line(void *ctx, const char *line)
{
	struct collected *c = ctx;

	strcat(c->text, line);
	strcat(c->text, "|");
	c->n++;
}

static void test_line_ring_keeps_last_n_lines_in_order_and_partial(void **state)
{
	struct line_ring r;
	struct collected c = { "", 0 };
	const char *text = "one\r\ntwo\nthree\nfour\nfive\nsix";
	size_t i;

	(void)state;
	line_ring_init(&r, 3);
	for (i = 0; text[i]; i++)
		line_ring_append(&r, text + i, 1);
	line_ring_each(&r, collect_line, &c);
	assert_string_equal(c.text, "three|four|five|six|");
	assert_int_equal(c.n, 4);
	line_ring_free(&r);

	/* Fewer lines than slots, no partial line. */
	memset(&c, 0, sizeof(c));
	line_ring_init(&r, 5);
	line_ring_append(&r, "a\n\nb\n", 5);
	line_ring_each(&r, collect_line, &c);
	assert_string_equal(c.text, "a||b|");
	line_ring_free(&r);

	/* n == 0 keeps no complete lines, only the partial one. */
	memset(&c, 0, sizeof(c));
	line_ring_init(&r, 0);
	line_ring_append(&r, "a\nb", 3);
	line_ring_each(&r, collect_line, &c);
	assert_string_equal(c.text, "b|");
	line_ring_free(&r);
}

static void test_line_ring_keeps_first_bytes_of_long_lines(void **state)
{
	struct line_ring r;
	struct collected c = { "", 0 };
	char *big = malloc(2000);

	(void)state;
	memset(big, 'q', 2000);
	line_ring_init(&r, 2);
	line_ring_append(&r, big, 2000);
	line_ring_append(&r, "\nshort\n", 7);
	line_ring_each(&r, collect_line, &c);
	assert_int_equal(c.n, 2);
	assert_int_equal(strlen(c.text), LINE_RING_LINE_MAX + strlen("|short|"));
	assert_string_equal(c.text + LINE_RING_LINE_MAX, "|short|");
	line_ring_free(&r);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expect_finds_literal_within_one_chunk),
		cmocka_unit_test(test_expect_finds_pattern_straddling_two_reads),
		cmocka_unit_test(test_expect_finds_pattern_fed_one_byte_at_a_time),
		cmocka_unit_test(test_expect_finds_literal_after_partial_mismatch),
		cmocka_unit_test(test_expect_finds_regex_after_partial_mismatch),
		cmocka_unit_test(test_expect_match_consumes_so_line_is_not_matched_twice),
		cmocka_unit_test(test_expect_second_expect_sees_text_after_first_match),
		cmocka_unit_test(test_expect_new_pattern_sees_all_unconsumed_lines),
		cmocka_unit_test(test_expect_matches_prompt_without_newline),
		cmocka_unit_test(test_expect_drops_carriage_returns_and_nuls),
		cmocka_unit_test(test_expect_trims_oldest_lines_beyond_max_bytes),
		cmocka_unit_test(test_expect_trims_to_first_line_boundary_below_three_quarters),
		cmocka_unit_test(test_expect_keeps_tail_of_overlong_line),
		cmocka_unit_test(test_expect_regex_anchors_match_per_line),
		cmocka_unit_test(test_expect_regex_dollar_waits_for_end_of_line),
		cmocka_unit_test(test_expect_invalid_regex_reports_error),
		cmocka_unit_test(test_expect_search_from_offers_only_new_and_changed_lines),
		cmocka_unit_test(test_expect_search_from_survives_trimming_and_consumption),
		cmocka_unit_test(test_expect_line_start_finds_beginning_of_line),
		cmocka_unit_test(test_expect_truncates_copied_line_to_capacity),
		cmocka_unit_test(test_line_ring_keeps_last_n_lines_in_order_and_partial),
		cmocka_unit_test(test_line_ring_keeps_first_bytes_of_long_lines),
	};

	return vh_run_tests(tests, NULL, NULL);
}
