/* Unit tests for wire/checkin.c, the check-in channel codec the update
 * server and the agent share. "was:" marks a rule on which the old readers
 * (the agent's agent_checkin.c, libmicrohttpd's query parsing in the
 * server) behaved otherwise. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "checkin.h"
#include "test_skip.h"

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int line(const char *text, struct checkin_msg *m)
{
	return checkin_parse_line(text, strlen(text), m);
}

static void test_path_is_the_v0_bytes(void **state)
{
	(void)state;
	char buf[CHECKIN_PATH_MAX];

	assert_int_equal(checkin_format_path(buf, sizeof(buf), "dut", "1.0.0", "a"), 40);
	assert_string_equal(buf, "/checkin?device=dut&version=1.0.0&slot=a");
	assert_int_equal(checkin_format_path(buf, sizeof(buf), "d-1_x.y~z", "1.0-rc1+x", "b"),
			 (int)strlen("/checkin?device=d-1_x.y~z&version=1.0-rc1+x&slot=b"));
	assert_string_equal(buf, "/checkin?device=d-1_x.y~z&version=1.0-rc1+x&slot=b");
	assert_int_equal(checkin_format_path(buf, 10, "dut", "1.0.0", "a"), -ENOSPC);
	assert_int_equal(checkin_format_path(buf, 40, "dut", "1.0.0", "a"), -ENOSPC);
	assert_int_equal(checkin_format_path(buf, sizeof(buf), "", "1.0.0", "a"), -EINVAL);
	char big[CHECKIN_VALUE_MAX + 1];
	memset(big, 'x', sizeof(big));
	big[CHECKIN_VALUE_MAX] = '\0';
	assert_int_equal(checkin_format_path(buf, sizeof(buf), big, "1", "a"), -EINVAL);
}

static void test_path_round_trips_any_device_name(void **state)
{
	(void)state;
	char buf[CHECKIN_PATH_MAX], err[128];
	struct checkin_request r;
	const char *names[] = { "dut", "a&b=c", "caf\xc3\xa9", "x%y", "sp ace", "q?#", "p+q" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_true(checkin_format_path(buf, sizeof(buf), names[i], "2.0.0", "b") > 0);
		assert_null(strchr(buf, ' '));
		assert_int_equal(checkin_parse_path(buf, &r, err, sizeof(err)), 0);
		assert_string_equal(r.device, names[i]);
		assert_string_equal(r.version, "2.0.0");
		assert_string_equal(r.slot, "b");
	}
	assert_int_equal(checkin_format_path(buf, sizeof(buf), "a&b", "1", "a"), 38);
	assert_string_equal(buf, "/checkin?device=a%26b&version=1&slot=a");
	/* '+' is literal: a version with '+' is the same bytes on both sides */
	assert_int_equal(
		checkin_parse_path("/checkin?device=d&version=1+x&slot=a", &r, err, sizeof(err)),
		0);
	assert_string_equal(r.version, "1+x");
}

static void test_path_takes_keys_in_any_order_and_skips_unknown_ones(void **state)
{
	(void)state;
	struct checkin_request r;
	char err[128];

	assert_int_equal(checkin_parse_path("/checkin?slot=b&extra=%zz&version=3&device=d%41", &r,
					    err, sizeof(err)),
			 0);
	assert_string_equal(r.device, "dA");
	assert_string_equal(r.version, "3");
	assert_string_equal(r.slot, "b");
}

static void test_malformed_paths_are_rejected(void **state)
{
	(void)state;
	struct checkin_request r;
	char err[128];
	const char *bad[] = {
		"/checkin",
		"/checkin?",
		"/checkin?device=d&version=1",		     /* was: "" for a missing slot */
		"/checkin?device=&version=1&slot=a",	     /* empty value */
		"/checkin?device=d&version=1&slot=a&",	     /* empty pair */
		"/checkin?device=d&version=1&slot",	     /* pair without '=' */
		"/checkin?device=d&version=1&slot=a&slot=b", /* was: the first one won */
		"/checkin?device=d%&version=1&slot=a",	     /* cut escape */
		"/checkin?device=d%4&version=1&slot=a",
		"/checkin?device=d%4g&version=1&slot=a",
		"/checkin?device=d%00x&version=1&slot=a", /* NUL */
		"/checkin?device=d x&version=1&slot=a",	  /* raw space */
		"/checkin?Device=d&version=1&slot=a",	  /* key charset */
		"/firmware/1.bundle?device=d&version=1&slot=a",
		"/checkinx?device=d&version=1&slot=a",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (checkin_parse_path(bad[i], &r, err, sizeof(err)) != -EINVAL)
			fail_msg("case %zu (%s) parsed", i, bad[i]);
		assert_true(err[0] != '\0');
	}
	/* 63 decoded bytes fit, 64 do not, however they are spelled */
	char buf[512];
	snprintf(buf, sizeof(buf), "/checkin?device=%063d&version=1&slot=a", 0);
	assert_int_equal(checkin_parse_path(buf, &r, err, sizeof(err)), 0);
	snprintf(buf, sizeof(buf), "/checkin?device=%064d&version=1&slot=a", 0);
	assert_int_equal(checkin_parse_path(buf, &r, err, sizeof(err)), -EINVAL);
}

static void test_heartbeat_lines_are_the_v0_bytes(void **state)
{
	(void)state;
	char buf[CHECKIN_LINE_MAX];
	struct checkin_msg m;

	assert_int_equal(checkin_format_heartbeat(buf, sizeof(buf), 0), 16);
	assert_string_equal(buf, "heartbeat seq=0\n");
	assert_int_equal(checkin_format_heartbeat(buf, sizeof(buf), UINT64_MAX), 35);
	assert_int_equal(checkin_parse_line(buf, 34, &m), 0);
	assert_int_equal(m.type, CHECKIN_HEARTBEAT);
	assert_true(m.seq == UINT64_MAX);
	assert_int_equal(checkin_format_heartbeat(buf, 16, 0), -ENOSPC);
}

static void test_heartbeat_and_unknown_lines(void **state)
{
	(void)state;
	struct checkin_msg m;

	assert_int_equal(line("heartbeat seq=42", &m), 0);
	assert_int_equal(m.type, CHECKIN_HEARTBEAT);
	assert_int_equal(m.seq, 42);
	assert_int_equal(line("heartbeat  seq=42 load=3 ", &m), 0);
	assert_int_equal(m.seq, 42);
	/* an unknown type is a sign of life, whatever follows */
	assert_int_equal(line("status ok", &m), 0);
	assert_int_equal(m.type, CHECKIN_OTHER);
	assert_int_equal(line("heartbeats seq=1", &m), 0);
	assert_int_equal(m.type, CHECKIN_OTHER);
	assert_int_equal(line("heartbeat", &m), -EINVAL);
	assert_int_equal(line("heartbeat seq=x", &m), -EINVAL);
	assert_int_equal(line("heartbeat seq=", &m), -EINVAL);
	assert_int_equal(line("heartbeat seq=01", &m), -EINVAL);
	assert_int_equal(line("heartbeat seq=18446744073709551616", &m), -EINVAL);
	assert_int_equal(line("heartbeat seq=1 seq=2", &m), -EINVAL);
	assert_int_equal(line("heartbeat seq=1 junk", &m), -EINVAL);
	assert_int_equal(line("", &m), -EINVAL);
	assert_int_equal(line(" heartbeat seq=1", &m), -EINVAL);
	assert_int_equal(checkin_parse_line("heartbeat seq=1\0", 16, &m), -EINVAL);
	assert_int_equal(checkin_parse_line("status\0", 7, &m), -EINVAL);
}

static void test_offer_line_is_the_v0_bytes_and_parses_back(void **state)
{
	(void)state;
	char buf[CHECKIN_LINE_MAX];
	struct checkin_msg m;
	int n = checkin_format_offer(buf, sizeof(buf), "2.0.0", 17000000, SHA);

	assert_string_equal(buf, "offer version=2.0.0 size=17000000 sha256=" SHA
				 " url=/firmware/2.0.0.bundle\n");
	assert_int_equal(n, (int)strlen(buf));
	assert_int_equal(checkin_parse_line(buf, (size_t)n - 1, &m), 0);
	assert_int_equal(m.type, CHECKIN_OFFER);
	assert_string_equal(m.version, "2.0.0");
	assert_int_equal(m.size, 17000000);
	assert_string_equal(m.sha256, SHA);
	assert_string_equal(m.url, "/firmware/2.0.0.bundle");
	assert_int_equal(checkin_format_firmware_path(buf, sizeof(buf), "2.0.0"), 22);
	assert_string_equal(buf, "/firmware/2.0.0.bundle");
	assert_int_equal(checkin_format_firmware_path(buf, sizeof(buf), "../x"), -EINVAL);
	/* what the parser would refuse, the formatter does not write */
	assert_int_equal(checkin_format_offer(buf, sizeof(buf), "a b", 1, SHA), -EINVAL);
	assert_int_equal(checkin_format_offer(buf, sizeof(buf), "1", 0, SHA), -EINVAL);
	assert_int_equal(checkin_format_offer(buf, sizeof(buf), "1", 1, "ABC"), -EINVAL);
	assert_int_equal(checkin_format_offer(buf, 20, "1", 1, SHA), -ENOSPC);
}

static void test_offer_parses_in_any_key_order(void **state)
{
	(void)state;
	struct checkin_msg m;

	assert_int_equal(line("offer  url=/x extra=1 sha256=" SHA " size=1 version=v", &m), 0);
	assert_int_equal(m.type, CHECKIN_OFFER);
	assert_string_equal(m.sha256, SHA);
	assert_string_equal(m.url, "/x");
	assert_string_equal(m.version, "v");
	assert_int_equal(m.size, 1);
}

static void test_malformed_offers_are_rejected(void **state)
{
	(void)state;
	static const char *bad[] = {
		"offer size=1 sha256=" SHA " url=/x",
		"offer version=v sha256=" SHA " url=/x",
		"offer version=v size=0 sha256=" SHA " url=/x",
		"offer version=v size=-1 sha256=" SHA " url=/x",
		"offer version=v size=01 sha256=" SHA " url=/x",
		"offer version=v size=1 sha256=abc url=/x",
		"offer version=v size=1 sha256=" SHA "0 url=/x",
		"offer version=v size=1 "
		"sha256=g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef url=/x",
		"offer version=v size=1 sha256=" SHA " url=x",
		"offer version=v size=1 sha256=" SHA,
		"offer version= size=1 sha256=" SHA " url=/x",
		"offer version=v size=9223372036854775808 sha256=" SHA " url=/x",
		"offer version=v size=1z sha256=" SHA " url=/x",
		/* was: the agent folded uppercase hex */
		"offer version=v size=1 "
		"sha256=0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef url=/x",
		/* was: the agent took any version without spaces */
		"offer version=../x size=1 sha256=" SHA " url=/x",
		/* was: the agent took the first of two */
		"offer version=v version=w size=1 sha256=" SHA " url=/x",
		"offer version=v size=1 sha256=" SHA " url=/x flag",
	};
	struct checkin_msg m;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (line(bad[i], &m) != -EINVAL)
			fail_msg("case %zu (%s) parsed", i, bad[i]);
	/* the largest size an offer may carry */
	assert_int_equal(line("offer version=v size=9223372036854775807 sha256=" SHA " url=/x", &m),
			 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_is_the_v0_bytes),
		cmocka_unit_test(test_path_round_trips_any_device_name),
		cmocka_unit_test(test_path_takes_keys_in_any_order_and_skips_unknown_ones),
		cmocka_unit_test(test_malformed_paths_are_rejected),
		cmocka_unit_test(test_heartbeat_lines_are_the_v0_bytes),
		cmocka_unit_test(test_heartbeat_and_unknown_lines),
		cmocka_unit_test(test_offer_line_is_the_v0_bytes_and_parses_back),
		cmocka_unit_test(test_offer_parses_in_any_key_order),
		cmocka_unit_test(test_malformed_offers_are_rejected),
	};
	return vh_run_tests(tests, NULL, NULL);
}
