/* Unit tests for base/lines.c: chunks in, complete lines out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lines.h"
#include "test_skip.h"

/* Feeds text in pieces of step bytes and collects the lines it completes,
 * each as "<line>" or "<line>~" when truncated, joined by '|'. */
static void split(const char *text, size_t len, size_t step, size_t cap, bool finish, char *out,
		  size_t outlen)
{
	char buf[64];
	struct lines l;
	size_t off = 0;

	assert_true(cap <= sizeof(buf));
	lines_init(&l, buf, cap);
	out[0] = '\0';
	while (off < len) {
		size_t n = len - off < step ? len - off : step, at = 0;

		while (at < n) {
			size_t used;
			bool done = lines_push(&l, text + off + at, n - at, &used);

			assert_true(used <= n - at);
			at += used;
			if (!done) {
				assert_int_equal(at, n);
				break;
			}
			assert_int_equal(strlen(l.buf), l.len);
			snprintf(out + strlen(out), outlen - strlen(out), "%s%s%s",
				 out[0] ? "|" : "", l.buf, l.truncated ? "~" : "");
		}
		off += n;
	}
	if (finish && lines_finish(&l))
		snprintf(out + strlen(out), outlen - strlen(out), "%s%s%s", out[0] ? "|" : "",
			 l.buf, l.truncated ? "~" : "");
}

static void test_lines_are_the_same_for_every_chunk_size(void **state)
{
	(void)state;
	const char *text = "heartbeat seq=0\r\noffer x=1\n\nlast";
	char got[256];

	for (size_t step = 1; step <= strlen(text); step++) {
		split(text, strlen(text), step, 64, false, got, sizeof(got));
		assert_string_equal(got, "heartbeat seq=0|offer x=1|");
		split(text, strlen(text), step, 64, true, got, sizeof(got));
		assert_string_equal(got, "heartbeat seq=0|offer x=1||last");
	}
}

static void test_push_reports_bytes_used_up_to_the_newline(void **state)
{
	(void)state;
	char buf[32];
	struct lines l;
	size_t used;
	const char *a = "heart", *b = "beat seq=1\r\nhe";

	lines_init(&l, buf, sizeof(buf));
	assert_false(lines_push(&l, a, strlen(a), &used));
	assert_int_equal(used, 5);
	assert_true(lines_push(&l, b, strlen(b), &used));
	assert_int_equal(used, 12);
	assert_string_equal(l.buf, "heartbeat seq=1");
	assert_false(l.truncated);
	assert_false(lines_push(&l, b + used, strlen(b) - used, &used));
	assert_string_equal(l.buf, "he");
	assert_true(lines_push(&l, "\n", 1, &used));
	assert_string_equal(l.buf, "he");
	assert_true(lines_push(&l, "\n", 1, &used));
	assert_string_equal(l.buf, "");
	assert_int_equal(l.len, 0);
}

static void test_only_a_carriage_return_before_the_newline_is_stripped(void **state)
{
	(void)state;
	char got[128];

	split("a\rb\n\r\r\n\r\n", 9, 1, 64, false, got, sizeof(got));
	assert_string_equal(got, "a\rb|\r|");
}

static void test_overlong_line_keeps_its_head_and_is_reported_once_truncated(void **state)
{
	(void)state;
	char got[256];
	const char *text = "0123456789abcdef\nok\n";

	/* cap 8: lines keep 7 bytes */
	for (size_t step = 1; step <= strlen(text); step++) {
		split(text, strlen(text), step, 8, false, got, sizeof(got));
		assert_string_equal(got, "0123456~|ok");
	}
}

static void test_line_that_exactly_fits_is_not_truncated_even_with_crlf(void **state)
{
	(void)state;
	char got[128];

	/* cap 5: four bytes fit; the '\r' that does not fit is the line end */
	for (size_t step = 1; step <= 6; step++) {
		split("abcd\r\n", 6, step, 5, false, got, sizeof(got));
		assert_string_equal(got, "abcd");
	}
	split("abcd\rX\n", 7, 7, 5, false, got, sizeof(got));
	assert_string_equal(got, "abcd~");
	split("abcdX\r\n", 7, 7, 5, false, got, sizeof(got));
	assert_string_equal(got, "abcd~");
	split("abcd\n", 5, 5, 5, false, got, sizeof(got));
	assert_string_equal(got, "abcd");
}

static void test_nul_bytes_are_content_and_counted_in_len(void **state)
{
	(void)state;
	char buf[16];
	struct lines l;
	size_t used;

	lines_init(&l, buf, sizeof(buf));
	assert_true(lines_push(&l, "a\0b\n", 4, &used));
	assert_int_equal(used, 4);
	assert_int_equal(l.len, 3);
	assert_memory_equal(l.buf, "a\0b", 4);
}

static void test_finish_yields_an_unfinished_line_once(void **state)
{
	(void)state;
	char buf[8];
	struct lines l;
	size_t used;

	lines_init(&l, buf, sizeof(buf));
	assert_false(lines_finish(&l));
	assert_true(lines_push(&l, "x\n", 2, &used));
	assert_false(lines_finish(&l));
	assert_false(lines_push(&l, "0123456789", 10, &used));
	assert_true(lines_finish(&l));
	assert_string_equal(l.buf, "0123456");
	assert_true(l.truncated);
	assert_false(lines_finish(&l));
}

static void test_one_byte_buffer_holds_only_empty_lines(void **state)
{
	(void)state;
	char got[64];

	split("abc\n\n", 5, 1, 1, false, got, sizeof(got));
	assert_string_equal(got, "~|");
	split("abc\n\n", 5, 5, 1, false, got, sizeof(got));
	assert_string_equal(got, "~|");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_are_the_same_for_every_chunk_size),
		cmocka_unit_test(test_push_reports_bytes_used_up_to_the_newline),
		cmocka_unit_test(test_only_a_carriage_return_before_the_newline_is_stripped),
		cmocka_unit_test(test_overlong_line_keeps_its_head_and_is_reported_once_truncated),
		cmocka_unit_test(test_line_that_exactly_fits_is_not_truncated_even_with_crlf),
		cmocka_unit_test(test_nul_bytes_are_content_and_counted_in_len),
		cmocka_unit_test(test_finish_yields_an_unfinished_line_once),
		cmocka_unit_test(test_one_byte_buffer_holds_only_empty_lines),
	};
	return vh_run_tests(tests, NULL, NULL);
}
