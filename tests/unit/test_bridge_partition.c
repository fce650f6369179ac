/* Unit tests for netem/bridge_partition.c: the nft script for a bridge's
 * islands (pure), and the script applied by nft in a namespace of the
 * test's own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "bridge_partition.h"
#include "child.h"
#include "child_check.h"
#include "sandboxed.h"

static const char *const ab[] = { "vht0-a", "vht1-b" };
static const char *const cd[] = { "vht2-c", "vht3-d" };
static const struct bridge_island two[] = { { ab, 2 }, { cd, 2 } };

static void test_bridge_partition_script_cuts_between_islands_and_from_the_host(void **state)
{
	(void)state;
	char s[4096];
	assert_true(bridge_partition_script("vhb0-lan", two, 2, s, sizeof(s)) > 0);
	assert_non_null(strstr(
		s, "add table bridge vh_part_vhb0_lan\ndelete table bridge vh_part_vhb0_lan\n"));
	assert_non_null(strstr(
		s,
		"iifname { \"vht0-a\", \"vht1-b\" } oifname != { \"vht0-a\", \"vht1-b\" } drop"));
	assert_non_null(strstr(
		s,
		"oifname { \"vht2-c\", \"vht3-d\" } iifname != { \"vht2-c\", \"vht3-d\" } drop"));
	assert_non_null(strstr(s, "type filter hook input priority 0; policy accept;\n\t\tiifname "
				  "{ \"vht0-a\", \"vht1-b\" } drop"));
	assert_non_null(strstr(s, "type filter hook output priority 0; policy accept;\n\t\toifname "
				  "{ \"vht0-a\", \"vht1-b\" } drop"));
}

static void test_bridge_partition_script_without_islands_only_removes_the_table(void **state)
{
	(void)state;
	char s[256];
	assert_true(bridge_partition_script("vhb0-lan", NULL, 0, s, sizeof(s)) > 0);
	assert_string_equal(
		s, "add table bridge vh_part_vhb0_lan\ndelete table bridge vh_part_vhb0_lan\n");
}

static void test_bridge_partition_script_refuses_unsafe_names_and_overflow(void **state)
{
	(void)state;
	char s[4096];
	static const char *const bad[] = { "vht0\"; flush" };
	static const struct bridge_island inj[] = { { bad, 1 } };
	assert_int_equal(bridge_partition_script("vhb0-lan", inj, 1, s, sizeof(s)), -1);
	assert_int_equal(bridge_partition_script("vhb0 lan", NULL, 0, s, sizeof(s)), -1);
	static const struct bridge_island empty[] = { { ab, 0 } };
	assert_int_equal(bridge_partition_script("vhb0-lan", empty, 1, s, sizeof(s)), -1);
	assert_int_equal(bridge_partition_script("vhb0-lan", two, 2, s, 100), -1);
}

/* nft's view of the table, into out. */
static int list_table(char *out, size_t len)
{
	const char *args[] = { getenv("VH_NFT") ? getenv("VH_NFT") : "/usr/sbin/nft", "list",
			       "ruleset", NULL };
	struct child_spec spec = { .argv = args };
	char err[256];
	bool timed_out;
	int status = child_run(&spec, 10000, out, len, &timed_out, err, sizeof(err));
	return status >= 0 && child_status_ok(status) ? 0 : -1;
}

static int child_apply_replaces_and_heal_removes(void)
{
	char err[512], out[8192];
	CHECK_OK(bridge_partition_apply("vhb0-lan", two, 2, err, sizeof(err)));
	CHECK(list_table(out, sizeof(out)) == 0);
	CHECK(strstr(out, "table bridge vh_part_vhb0_lan"));
	CHECK(strstr(out, "\"vht2-c\""));
	/* Replaced whole: the second partition leaves nothing of the first. */
	CHECK_OK(bridge_partition_apply("vhb0-lan", two, 1, err, sizeof(err)));
	CHECK(list_table(out, sizeof(out)) == 0);
	CHECK(strstr(out, "\"vht0-a\"") && !strstr(out, "\"vht2-c\""));
	CHECK_OK(bridge_partition_apply("vhb0-lan", NULL, 0, err, sizeof(err)));
	CHECK(list_table(out, sizeof(out)) == 0);
	CHECK(!strstr(out, "vh_part_vhb0_lan"));
	/* Healing a bridge that was never split is fine too. */
	CHECK_OK(bridge_partition_apply("vhb1-x", NULL, 0, err, sizeof(err)));
	return 0;
}

static void test_bridge_partition_apply_replaces_and_heal_removes(void **state)
{
	(void)state;
	sandboxed_run(child_apply_replaces_and_heal_removes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_bridge_partition_script_cuts_between_islands_and_from_the_host),
		cmocka_unit_test(
			test_bridge_partition_script_without_islands_only_removes_the_table),
		cmocka_unit_test(test_bridge_partition_script_refuses_unsafe_names_and_overflow),
		cmocka_unit_test(test_bridge_partition_apply_replaces_and_heal_removes),
	};
	return vh_run_tests(tests, NULL, NULL);
}
