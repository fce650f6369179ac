/* Unit tests for agent_config: the kernel command line parser. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "agent_config.h"

static const char *ip_str(struct in_addr a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static void test_defaults_when_cmdline_has_no_vh_words(void **state)
{
	struct agent_config cfg;

	(void)state;
	agent_config_defaults(&cfg);
	assert_int_equal(agent_config_parse(&cfg, "console=ttyS0 quiet\n"), 0);
	assert_string_equal(cfg.device, "vh");
	assert_string_equal(cfg.version, "0.0.0");
	assert_string_equal(cfg.slot, "a");
	assert_string_equal(cfg.iface, "eth0");
	assert_int_equal(cfg.bootcount, 0);
	assert_false(cfg.has_ip);
	assert_false(cfg.has_gw);
	assert_string_equal(cfg.bad_key, "");
}

static void test_full_cmdline_parses_every_key(void **state)
{
	struct agent_config cfg;
	char buf[INET_ADDRSTRLEN];

	(void)state;
	agent_config_defaults(&cfg);
	assert_int_equal(agent_config_parse(&cfg,
		"console=ttyS0 quiet tsc_early_khz=2596096 vh.device=dut vh.ip=10.77.0.2/24 "
		"vh.gw=10.77.0.1 vh.version=1.0.0 vh.slot=b vh.bootcount=3 vh.iface=eth1 "
		"vh.net_wait_ms=250\n"), 0);
	assert_string_equal(cfg.device, "dut");
	assert_string_equal(cfg.version, "1.0.0");
	assert_string_equal(cfg.slot, "b");
	assert_string_equal(cfg.iface, "eth1");
	assert_int_equal(cfg.bootcount, 3);
	assert_int_equal(cfg.net_wait_ms, 250);
	assert_true(cfg.has_ip);
	assert_string_equal(ip_str(cfg.ip, buf), "10.77.0.2");
	assert_int_equal(cfg.prefix_len, 24);
	assert_true(cfg.has_gw);
	assert_string_equal(ip_str(cfg.gw, buf), "10.77.0.1");
}

static void test_ip_without_prefix_is_a_host_address(void **state)
{
	struct in_addr a;
	unsigned prefix = 99;

	(void)state;
	assert_int_equal(agent_config_parse_cidr("192.168.1.5", &a, &prefix), 0);
	assert_int_equal(prefix, 32);
}

static void test_malformed_cidr_is_rejected(void **state)
{
	static const char *bad[] = { "", "/24", "10.77.0.2/", "10.77.0.2/33", "10.77.0/24",
		"10.77.0.256/24", "10.77.0.2/2x", "10.77.0.2/-1", "hostname/24",
		"10.77.0.2/24/1" };
	struct in_addr a;
	unsigned prefix;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(agent_config_parse_cidr(bad[i], &a, &prefix), -1);
}

static void test_bad_ip_is_reported_and_leaves_network_off(void **state)
{
	struct agent_config cfg;

	(void)state;
	agent_config_defaults(&cfg);
	assert_int_equal(agent_config_parse(&cfg, "vh.ip=10.77.0.300/24 vh.version=2.0.0"), -1);
	assert_false(cfg.has_ip);
	assert_string_equal(cfg.bad_key, "vh.ip");
	/* Later keys still apply: the boot line must carry the real version. */
	assert_string_equal(cfg.version, "2.0.0");
}

static void test_first_bad_key_wins(void **state)
{
	struct agent_config cfg;

	(void)state;
	agent_config_defaults(&cfg);
	assert_int_equal(agent_config_parse(&cfg, "vh.bootcount=x vh.gw=nope"), -1);
	assert_string_equal(cfg.bad_key, "vh.bootcount");
	assert_int_equal(cfg.bootcount, 0);
	assert_false(cfg.has_gw);
}

static void test_empty_and_overlong_values_are_rejected(void **state)
{
	struct agent_config cfg;
	char line[400];

	(void)state;
	agent_config_defaults(&cfg);
	assert_int_equal(agent_config_parse(&cfg, "vh.slot="), -1);
	assert_string_equal(cfg.slot, "a");

	agent_config_defaults(&cfg);
	memset(line, 'x', sizeof(line));
	memcpy(line, "vh.version=", 11);
	line[sizeof(line) - 1] = '\0';
	assert_int_equal(agent_config_parse(&cfg, line), -1);
	assert_string_equal(cfg.bad_key, "vh.version");
	assert_string_equal(cfg.version, "0.0.0");

	agent_config_defaults(&cfg);
	assert_int_equal(agent_config_parse(&cfg, "vh.iface=abcdefghijklmnop"), -1);
	assert_string_equal(cfg.iface, "eth0");
}

static void test_similar_words_are_not_ours(void **state)
{
	struct agent_config cfg;

	(void)state;
	agent_config_defaults(&cfg);
	assert_int_equal(agent_config_parse(&cfg, "xvh.ip=bad vh.ipx=1 vh.ip vh.unknown=1"), 0);
	assert_false(cfg.has_ip);
}

static void test_netmask_covers_edges(void **state)
{
	(void)state;
	assert_int_equal(ntohl(agent_config_netmask(0).s_addr), 0);
	assert_int_equal(ntohl(agent_config_netmask(24).s_addr), 0xffffff00u);
	assert_int_equal(ntohl(agent_config_netmask(32).s_addr), 0xffffffffu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_when_cmdline_has_no_vh_words),
		cmocka_unit_test(test_full_cmdline_parses_every_key),
		cmocka_unit_test(test_ip_without_prefix_is_a_host_address),
		cmocka_unit_test(test_malformed_cidr_is_rejected),
		cmocka_unit_test(test_bad_ip_is_reported_and_leaves_network_off),
		cmocka_unit_test(test_first_bad_key_wins),
		cmocka_unit_test(test_empty_and_overlong_values_are_rejected),
		cmocka_unit_test(test_similar_words_are_not_ours),
		cmocka_unit_test(test_netmask_covers_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
