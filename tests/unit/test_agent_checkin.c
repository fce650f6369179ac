/* Unit tests for agent_checkin: check-in line parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "agent_checkin.h"

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

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
		cmocka_unit_test(test_heartbeat_and_unknown_lines),
		cmocka_unit_test(test_offer_parses_in_any_key_order),
		cmocka_unit_test(test_malformed_offers_are_rejected),
		cmocka_unit_test(test_checkin_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
