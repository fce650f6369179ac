/* Unit tests for agent_config: the kernel command line parser and the
 * release file's part of the configuration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "agent_config.h"
#include "fields.h"

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
	assert_string_equal(cfg.version, "unknown");
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
	assert_int_equal(
		agent_config_parse(&cfg, "console=ttyS0 quiet tsc_early_khz=2596096 vh.device=dut "
					 "vh.ip=10.77.0.2/24 "
					 "vh.gw=10.77.0.1 vh.slot=b vh.bootcount=3 vh.iface=eth1 "
					 "vh.net_wait_ms=250\n"),
		0);
	assert_string_equal(cfg.device, "dut");
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
	static const char *bad[] = { "",
				     "/24",
				     "10.77.0.2/",
				     "10.77.0.2/33",
				     "10.77.0/24",
				     "10.77.0.256/24",
				     "10.77.0.2/2x",
				     "10.77.0.2/-1",
				     "hostname/24",
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
	assert_int_equal(agent_config_parse(&cfg, "vh.ip=10.77.0.300/24 vh.slot=b"), -1);
	assert_false(cfg.has_ip);
	assert_string_equal(cfg.bad_key, "vh.ip");
	/* Later keys still apply: the boot line must carry the real slot. */
	assert_string_equal(cfg.slot, "b");
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
	memcpy(line, "vh.device=", 10);
	line[sizeof(line) - 1] = '\0';
	assert_int_equal(agent_config_parse(&cfg, line), -1);
	assert_string_equal(cfg.bad_key, "vh.device");
	assert_string_equal(cfg.device, "vh");

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

static void test_ota_keys_parse(void **state)
{
	struct agent_config cfg;
	char buf[INET_ADDRSTRLEN];

	(void)state;
	agent_config_defaults(&cfg);
	assert_false(cfg.has_server);
	assert_false(cfg.upgrade);
	assert_int_equal(cfg.bugs, 0);
	assert_string_equal(cfg.rollback_from, "");
	assert_string_equal(cfg.disk, "/dev/vda");
	assert_int_equal(agent_config_parse(&cfg, "vh.server=10.77.0.1:8080 vh.upgrade=1 "
						  "vh.rollback_from=b vh.disk=/dev/vdb\n"),
			 0);
	assert_true(cfg.has_server);
	assert_string_equal(ip_str(cfg.server_ip, buf), "10.77.0.1");
	assert_int_equal(cfg.server_port, 8080);
	assert_true(cfg.upgrade);
	assert_string_equal(cfg.rollback_from, "b");
	assert_string_equal(cfg.disk, "/dev/vdb");
	assert_int_equal(agent_config_parse(&cfg, "vh.upgrade=0"), 0);
	assert_false(cfg.upgrade);
}

static void test_version_and_bugs_on_the_command_line_are_ignored(void **state)
{
	struct agent_config cfg;

	(void)state;
	agent_config_defaults(&cfg);
	/* not even a bad value is ours to report: these words are not ours */
	assert_int_equal(agent_config_parse(&cfg, "vh.version=9.9.9 vh.bugs=no-backoff "
						  "vh.bugs=from-the-future vh.version="),
			 0);
	assert_string_equal(cfg.version, "unknown");
	assert_int_equal(cfg.bugs, 0);
	assert_string_equal(cfg.bad_key, "");
}

static void test_release_gives_version_and_bugs(void **state)
{
	struct agent_config cfg;
	struct release r = { .version = "2.0.0", .bugs = "no-backoff,single-env-copy" };

	(void)state;
	agent_config_defaults(&cfg);
	assert_int_equal(agent_config_apply_release(&cfg, &r), 0);
	assert_string_equal(cfg.version, "2.0.0");
	assert_int_equal(cfg.bugs, AGENT_BUG_NO_BACKOFF | AGENT_BUG_SINGLE_ENV_COPY);
	/* the command line cannot take them back */
	assert_int_equal(agent_config_parse(&cfg, "vh.version=1.0.0 vh.bugs="), 0);
	assert_string_equal(cfg.version, "2.0.0");
	assert_int_equal(cfg.bugs, AGENT_BUG_NO_BACKOFF | AGENT_BUG_SINGLE_ENV_COPY);
	/* a bug this agent does not know is reported; the known ones apply */
	snprintf(r.bugs, sizeof(r.bugs), "no-backoff,from-the-future");
	assert_int_equal(agent_config_apply_release(&cfg, &r), -1);
	assert_int_equal(cfg.bugs, AGENT_BUG_NO_BACKOFF);
	r.bugs[0] = '\0';
	assert_int_equal(agent_config_apply_release(&cfg, &r), 0);
	assert_int_equal(cfg.bugs, 0);
}

static void test_every_bug_name_round_trips(void **state)
{
	unsigned bugs, all = 0;

	(void)state;
	for (unsigned i = 0; i < 9; i++) {
		const char *name = agent_config_bug_name(1u << i);

		assert_non_null(name);
		assert_int_equal(agent_config_parse_bugs(name, &bugs), 0);
		assert_int_equal(bugs, 1u << i);
		all |= bugs;
	}
	assert_null(agent_config_bug_name(1u << 9));
	assert_null(agent_config_bug_name(3));
	assert_int_equal(
		agent_config_parse_bugs("flip-env-before-image-complete,commit-before-healthy,"
					"no-fsync-before-flip,no-range-resume,no-backoff,single-"
					"env-copy,never-healthy,env-write-not-synced,"
					"flip-after-write-error",
					&bugs),
		0);
	assert_int_equal(bugs, all);
}

static void test_bad_ota_values_are_rejected(void **state)
{
	static const char *bad_server[] = {
		"10.77.0.1",	 "10.77.0.1:",
		"10.77.0.1:0",	 "10.77.0.1:65536",
		":8080",	 "host:8080",
		"10.77.0.1:80x", "1234567890123456789012345678901234567890:1"
	};
	struct agent_config cfg;
	struct in_addr ip;
	unsigned short port;
	unsigned bugs;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_server) / sizeof(bad_server[0]); i++)
		assert_int_equal(agent_config_parse_server(bad_server[i], &ip, &port), -1);
	agent_config_defaults(&cfg);
	assert_int_equal(agent_config_parse(&cfg, "vh.server=nope"), -1);
	assert_false(cfg.has_server);
	assert_string_equal(cfg.bad_key, "vh.server");

	agent_config_defaults(&cfg);
	assert_int_equal(agent_config_parse(&cfg, "vh.upgrade=2 vh.rollback_from=c vh.disk=vda"),
			 -1);
	assert_string_equal(cfg.bad_key, "vh.upgrade");
	assert_false(cfg.upgrade);
	assert_string_equal(cfg.rollback_from, "");
	assert_string_equal(cfg.disk, "/dev/vda");

	assert_int_equal(agent_config_parse_bugs("no-backoff,", &bugs), -1);
	assert_int_equal(agent_config_parse_bugs(",", &bugs), -1);
	assert_int_equal(agent_config_parse_bugs("no-backof", &bugs), -1);
}

static void test_snapshot_keys_default_off(void **state)
{
	struct agent_config cfg;

	(void)state;
	agent_config_defaults(&cfg);
	assert_int_equal(agent_config_parse(&cfg, "console=ttyS0 vh.slot=a"), 0);
	assert_false(cfg.snapshot);
	assert_false(cfg.has_mac);
	assert_false(cfg.has_seed);
	assert_int_equal(cfg.seed, 0);
}

static void test_snapshot_keys_parse(void **state)
{
	static const unsigned char mac[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
	struct agent_config cfg;

	(void)state;
	agent_config_defaults(&cfg);
	assert_int_equal(agent_config_parse(&cfg, "vh.snapshot=1 vh.mac=52:54:00:AB:cd:Ef "
						  "vh.seed=18446744073709551615\n"),
			 0);
	assert_true(cfg.snapshot);
	assert_true(cfg.has_mac);
	assert_memory_equal(cfg.mac, mac, sizeof(mac));
	assert_true(cfg.has_seed);
	assert_true(cfg.seed == UINT64_MAX);
	assert_int_equal(agent_config_parse(&cfg, "vh.snapshot=0 vh.seed=0"), 0);
	assert_false(cfg.snapshot);
	assert_true(cfg.has_seed);
	assert_int_equal(cfg.seed, 0);
	assert_string_equal(cfg.bad_key, "");
}

static void test_malformed_mac_is_rejected(void **state)
{
	static const char *bad[] = { "",
				     "52:54:00:ab:cd",
				     "52:54:00:ab:cd:ef:01",
				     "52:54:00:ab:cd:e",
				     "52-54-00-ab-cd-ef",
				     "5:254:00:ab:cd:ef",
				     "52:54:00:ab:cd:eg",
				     "52:54:00:ab:cd:ef:",
				     " 52:54:00:ab:cd:e",
				     "0x52:54:00:ab:cd" };
	unsigned char mac[6] = { 1, 2, 3, 4, 5, 6 };
	static const unsigned char untouched[6] = { 1, 2, 3, 4, 5, 6 };
	struct agent_config cfg;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(agent_config_parse_mac(bad[i], mac), -1);
	assert_memory_equal(mac, untouched, sizeof(mac));
	agent_config_defaults(&cfg);
	assert_int_equal(agent_config_parse(&cfg, "vh.mac=52:54:00:ab:cd vh.slot=b"), -1);
	assert_false(cfg.has_mac);
	assert_string_equal(cfg.bad_key, "vh.mac");
	assert_string_equal(cfg.slot, "b");
}

static void test_malformed_seed_and_snapshot_are_rejected(void **state)
{
	static const char *bad[] = { "",
				     "-1",
				     "+1",
				     " 1",
				     "1 ",
				     "0x10",
				     "12a",
				     "1.5",
				     "18446744073709551616",
				     "99999999999999999999999" };
	struct agent_config cfg;
	uint64_t seed = 7;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(wire_decimal_u64(bad[i], strlen(bad[i]), &seed));
	assert_int_equal(seed, 7);
	agent_config_defaults(&cfg);
	assert_int_equal(agent_config_parse(&cfg, "vh.seed=18446744073709551616"), -1);
	assert_false(cfg.has_seed);
	assert_string_equal(cfg.bad_key, "vh.seed");

	agent_config_defaults(&cfg);
	assert_int_equal(agent_config_parse(&cfg, "vh.snapshot=yes vh.seed=x"), -1);
	assert_false(cfg.snapshot);
	assert_false(cfg.has_seed);
	assert_string_equal(cfg.bad_key, "vh.snapshot");
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
		cmocka_unit_test(test_ota_keys_parse),
		cmocka_unit_test(test_version_and_bugs_on_the_command_line_are_ignored),
		cmocka_unit_test(test_release_gives_version_and_bugs),
		cmocka_unit_test(test_every_bug_name_round_trips),
		cmocka_unit_test(test_bad_ota_values_are_rejected),
		cmocka_unit_test(test_snapshot_keys_default_off),
		cmocka_unit_test(test_snapshot_keys_parse),
		cmocka_unit_test(test_malformed_mac_is_rejected),
		cmocka_unit_test(test_malformed_seed_and_snapshot_are_rejected),
		cmocka_unit_test(test_netmask_covers_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
