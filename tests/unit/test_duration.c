/* Unit tests for human durations (base/duration.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "duration.h"
#include "test_skip.h"

/* Parses text, failing the test with the text when it is rejected. */
static uint64_t parse_ok(const char *text)
{
	uint64_t ms = 0xdeadbeef;
	if (duration_parse_ms(text, &ms) != 0)
		fail_msg("\"%s\" was rejected", text);
	return ms;
}

static void assert_rejected(const char *text)
{
	uint64_t ms = 0xdeadbeef;
	if (duration_parse_ms(text, &ms) != -1)
		fail_msg("\"%s\" was accepted as %llu ms", text ? text : "(null)",
			 (unsigned long long)ms);
	/* A rejected text leaves the output alone. */
	assert_true(ms == 0xdeadbeef);
}

static void test_duration_parses_every_unit(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("30s"), 30000);
	assert_int_equal(parse_ok("2sec"), 2000);
	assert_int_equal(parse_ok("500ms"), 500);
	assert_int_equal(parse_ok("2m"), 120000);
	assert_int_equal(parse_ok("3min"), 180000);
	assert_int_equal(parse_ok("1h"), 3600000);
	assert_int_equal(parse_ok("0ms"), 0);
}

static void test_duration_bare_number_means_seconds(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("5"), 5000);
	assert_int_equal(parse_ok("0.25"), 250);
}

static void test_duration_microseconds_round_up_to_whole_ms(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("250us"), 1);
	assert_int_equal(parse_ok("1us"), 1);
	assert_int_equal(parse_ok("1000us"), 1);
	assert_int_equal(parse_ok("1001us"), 2);
	assert_int_equal(parse_ok("0us"), 0);
}

static void test_duration_accepts_fractions(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("1.5s"), 1500);
	assert_int_equal(parse_ok("0.5m"), 30000);
	assert_int_equal(parse_ok(".5s"), 500);
	assert_int_equal(parse_ok("1.25h"), 4500000);
	assert_int_equal(parse_ok("0.1s"), 100);
}

static void test_duration_decimal_seconds_are_exact_to_the_ms(void **state)
{
	(void)state;
	/* Binary floating point must not push "x.yyy s" one ms up through the
	 * round-up meant for microseconds. */
	char text[32];
	for (uint64_t ms = 0; ms < 20000; ms++) {
		snprintf(text, sizeof(text), "%llu.%03llus", (unsigned long long)(ms / 1000),
			 (unsigned long long)(ms % 1000));
		uint64_t got = parse_ok(text);
		if (got != ms)
			fail_msg("\"%s\" parsed as %llu ms", text, (unsigned long long)got);
	}
}

static void test_duration_ignores_surrounding_whitespace(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("  30s"), 30000);
	assert_int_equal(parse_ok("30s \t\n"), 30000);
	assert_int_equal(parse_ok("\t2m "), 120000);
	assert_int_equal(parse_ok(" 7 "), 7000);
}

static void test_duration_rejects_empty_and_null(void **state)
{
	(void)state;
	assert_rejected(NULL);
	assert_rejected("");
	assert_rejected("   ");
}

static void test_duration_rejects_negative(void **state)
{
	(void)state;
	assert_rejected("-1s");
	assert_rejected(" -5");
	assert_rejected("-0.5ms");
}

static void test_duration_rejects_unknown_unit_and_garbage(void **state)
{
	(void)state;
	assert_rejected("5x");
	assert_rejected("s");
	assert_rejected("ms");
	assert_rejected("5 s"); /* the unit is attached */
	assert_rejected("5ss");
	assert_rejected("5s5");
	assert_rejected("5S");
	assert_rejected(".");
	assert_rejected("inf");
	assert_rejected("nan");
}

static void test_duration_rejects_overflow(void **state)
{
	(void)state;
	assert_rejected("1e400s");
	assert_rejected("99999999999999999999999h");
	assert_rejected("18446744073709551616ms");
	/* Large but representable: about 31 years. */
	assert_int_equal(parse_ok("1000000000s"), 1000000000000ull);
}

static void assert_formats_as(uint64_t ms, const char *want)
{
	char buf[32];
	assert_string_equal(duration_format(ms, buf, (int)sizeof(buf)), want);
}

static void test_duration_format_picks_shortest_unit(void **state)
{
	(void)state;
	assert_formats_as(0, "0ms");
	assert_formats_as(250, "250ms");
	assert_formats_as(999, "999ms");
	assert_formats_as(1000, "1s");
	assert_formats_as(1500, "1.5s");
	assert_formats_as(30000, "30s");
	assert_formats_as(90000, "90s");
	assert_formats_as(120000, "2m");
	assert_formats_as(3600000, "60m");
}

static void test_duration_format_round_trips_typical_values(void **state)
{
	(void)state;
	static const uint64_t values[] = { 1,	  250,	 500,	 999,	  1000,
					   1500,  2500,	 10000,	 30000,	  45500,
					   60000, 90000, 120000, 1800000, 3600000 };
	char buf[32];
	for (size_t k = 0; k < sizeof(values) / sizeof(values[0]); k++) {
		duration_format(values[k], buf, (int)sizeof(buf));
		uint64_t back = parse_ok(buf);
		if (back != values[k])
			fail_msg("%llu ms formats as \"%s\", which parses as %llu ms",
				 (unsigned long long)values[k], buf, (unsigned long long)back);
	}
}

static void test_duration_format_keeps_every_millisecond(void **state)
{
	(void)state;
	/* A timeout of "1234ms" or "100.5s" must be reported as given, not
	 * rounded to three significant digits. */
	static const uint64_t values[] = { 1234, 1001, 12345, 100500, 61001, 1234567 };
	char buf[32];
	for (size_t k = 0; k < sizeof(values) / sizeof(values[0]); k++) {
		duration_format(values[k], buf, (int)sizeof(buf));
		uint64_t back = 0;
		if (duration_parse_ms(buf, &back) != 0 || back != values[k])
			fail_msg("%llu ms formats as \"%s\" (parses back as %llu ms)",
				 (unsigned long long)values[k], buf, (unsigned long long)back);
	}
}

static void test_duration_format_truncates_to_buffer(void **state)
{
	(void)state;
	char buf[4];
	duration_format(123456, buf, (int)sizeof(buf));
	assert_int_equal(strlen(buf), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_parses_every_unit),
		cmocka_unit_test(test_duration_bare_number_means_seconds),
		cmocka_unit_test(test_duration_microseconds_round_up_to_whole_ms),
		cmocka_unit_test(test_duration_accepts_fractions),
		cmocka_unit_test(test_duration_decimal_seconds_are_exact_to_the_ms),
		cmocka_unit_test(test_duration_ignores_surrounding_whitespace),
		cmocka_unit_test(test_duration_rejects_empty_and_null),
		cmocka_unit_test(test_duration_rejects_negative),
		cmocka_unit_test(test_duration_rejects_unknown_unit_and_garbage),
		cmocka_unit_test(test_duration_rejects_overflow),
		cmocka_unit_test(test_duration_format_picks_shortest_unit),
		cmocka_unit_test(test_duration_format_round_trips_typical_values),
		cmocka_unit_test(test_duration_format_keeps_every_millisecond),
		cmocka_unit_test(test_duration_format_truncates_to_buffer),
	};
	return vh_run_tests(tests, NULL, NULL);
}
