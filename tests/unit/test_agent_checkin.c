/* Unit tests for agent_checkin: line splitting and check-in line parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "agent_checkin.h"

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_lines_split_across_pushes_and_strip_crlf(void **state)
{
	struct agent_lines l;
	size_t used;
	const char *a = "heart", *b = "beat seq=1\r\nhe";

	(void)state;
	agent_lines_init(&l);
	assert_false(agent_lines_push(&l, a, strlen(a), &used));
	assert_int_equal(used, 5);
	assert_true(agent_lines_push(&l, b, strlen(b), &used));
	assert_int_equal(used, 12);
	assert_string_equal(l.buf, "heartbeat seq=1");
	assert_false(agent_lines_push(&l, b + used, strlen(b) - used, &used));
	assert_string_equal(l.buf, "he");
	assert_true(agent_lines_push(&l, "\n", 1, &used));
	assert_string_equal(l.buf, "he");
	assert_true(agent_lines_push(&l, "\n", 1, &used));
	assert_string_equal(l.buf, "");
}

static void test_overlong_line_is_truncated_and_flagged(void **state)
{
	struct agent_lines l;
	char big[AGENT_CHECKIN_LINE_MAX + 50];
	size_t used;

	(void)state;
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	agent_lines_init(&l);
	assert_true(agent_lines_push(&l, big, sizeof(big), &used));
	assert_int_equal(used, sizeof(big));
	assert_true(l.overflow);
	assert_int_equal(strlen(l.buf), AGENT_CHECKIN_LINE_MAX - 1);
	assert_true(agent_lines_push(&l, "ok\n", 3, &used));
	assert_false(l.overflow);
	assert_string_equal(l.buf, "ok");
}

static void test_heartbeat_and_unknown_lines(void **state)
{
	struct agent_checkin_msg m;

	(void)state;
	assert_int_equal(agent_checkin_parse_line("heartbeat seq=42", &m), 0);
	assert_int_equal(m.type, AGENT_CHECKIN_HEARTBEAT);
	assert_int_equal(m.seq, 42);
	assert_int_equal(agent_checkin_parse_line("status ok", &m), 0);
	assert_int_equal(m.type, AGENT_CHECKIN_OTHER);
	assert_int_equal(agent_checkin_parse_line("heartbeats seq=1", &m), 0);
	assert_int_equal(m.type, AGENT_CHECKIN_OTHER);
	assert_int_equal(agent_checkin_parse_line("heartbeat", &m), -1);
	assert_int_equal(agent_checkin_parse_line("heartbeat seq=x", &m), -1);
	assert_int_equal(agent_checkin_parse_line("heartbeat seq=", &m), -1);
	assert_int_equal(agent_checkin_parse_line("", &m), -1);
	assert_int_equal(agent_checkin_parse_line(" heartbeat seq=1", &m), -1);
}

static void test_offer_parses_in_any_key_order(void **state)
{
	struct agent_checkin_msg m;

	(void)state;
	assert_int_equal(agent_checkin_parse_line("offer version=2.0.0 size=17000000 sha256=" SHA
						  " url=/firmware/2.0.0.bundle", &m), 0);
	assert_int_equal(m.type, AGENT_CHECKIN_OFFER);
	assert_string_equal(m.version, "2.0.0");
	assert_int_equal(m.size, 17000000);
	assert_string_equal(m.sha256, SHA);
	assert_string_equal(m.url, "/firmware/2.0.0.bundle");
	assert_int_equal(agent_checkin_parse_line("offer  url=/x extra=1 sha256=0123456789ABCDEF0123456789abcdef"
						  "0123456789abcdef0123456789abcdef size=1 version=v", &m), 0);
	assert_string_equal(m.sha256, SHA);
	assert_string_equal(m.url, "/x");
}

static void test_malformed_offers_are_rejected(void **state)
{
	static const char *bad[] = {
		"offer size=1 sha256=" SHA " url=/x",
		"offer version=v sha256=" SHA " url=/x",
		"offer version=v size=0 sha256=" SHA " url=/x",
		"offer version=v size=-1 sha256=" SHA " url=/x",
		"offer version=v size=1 sha256=abc url=/x",
		"offer version=v size=1 sha256=" SHA "0 url=/x",
		"offer version=v size=1 sha256=g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef url=/x",
		"offer version=v size=1 sha256=" SHA " url=x",
		"offer version=v size=1 sha256=" SHA,
		"offer version= size=1 sha256=" SHA " url=/x",
		"offer version=v size=18446744073709551615 sha256=" SHA " url=/x",
		"offer version=v size=1z sha256=" SHA " url=/x",
	};
	struct agent_checkin_msg m;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(agent_checkin_parse_line(bad[i], &m), -1);
}

static void test_checkin_path(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(agent_checkin_format_path(buf, sizeof(buf), "dut", "1.0.0", "a"), 0);
	assert_string_equal(buf, "/checkin?device=dut&version=1.0.0&slot=a");
	assert_int_equal(agent_checkin_format_path(buf, 10, "dut", "1.0.0", "a"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_split_across_pushes_and_strip_crlf),
		cmocka_unit_test(test_overlong_line_is_truncated_and_flagged),
		cmocka_unit_test(test_heartbeat_and_unknown_lines),
		cmocka_unit_test(test_offer_parses_in_any_key_order),
		cmocka_unit_test(test_malformed_offers_are_rejected),
		cmocka_unit_test(test_checkin_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
