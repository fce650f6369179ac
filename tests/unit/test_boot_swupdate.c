/* Unit tests for the swupdate profile (harness/boot/profile_swupdate.c):
 * the bootloader's part of SWUpdate's update transaction as its guide
 * describes it (sbabic/swupdate 8164b9b2): "rst:N" is line N of
 * doc/source/swupdate-best-practise.rst, "dot:N" of the flowchart it shows,
 * doc/source/statemachine.dot. SWUpdate sets ustate=1 after an install
 * (rst:45); user space sets ustate=0 and the counter to 0 once the new
 * software is healthy (rst:66-67, dot:73-76). The tests name the copy's
 * variable boot_slot with copies a and b. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "boot_cases.h"
#include "test_skip.h"

#define AT_REST "boot_slot=a|ustate=0|bootcount=0|bootlimit=3"
#define INSTALLED "boot_slot=b|ustate=1|bootcount=0|bootlimit=3"

static const struct boot_case cases[] = {
	/* the guide gives no defaults: a blank env cannot start */
	{ CASE, "", .action = BOOT_ACTION_HALT, .why = "blank env" },
	/* dot:83-84 bootcounter++ at every start; dot:85-86 bootcounter <
	 * bootlimit: normal boot; rst:62-63 ustate 0: the configured copy */
	{ CASE, AT_REST, .slot = 0, .after = "boot_slot=a|ustate=0|bootcount=1", .changed = true },
	/* rst:62 "not set" is the same as 0 */
	{ CASE, "boot_slot=a|bootcount=0|bootlimit=3", .slot = 0, .after = "bootcount=1|ustate",
	  .changed = true },
	/* rst:64-65 ustate 1: the new software is under test */
	{ CASE, INSTALLED, .slot = 1, .trial = true, .after = "boot_slot=b|ustate=1|bootcount=1",
	  .changed = true },
	{ CASE, "boot_slot=b|ustate=1|bootcount=1|bootlimit=3", .slot = 1, .trial = true,
	  .after = "bootcount=2", .changed = true },
	/* dot:85 the limit is reached at bootcounter == bootlimit; dot:87-89
	 * ustate == 1: ustate = 3 (FAILED), toggle, normal boot (rst:51-54) */
	{ CASE, "boot_slot=b|ustate=1|bootcount=2|bootlimit=3", .slot = 0, .rolled_back = true,
	  .after = "boot_slot=a|ustate=3|bootcount=3", .changed = true,
	  .why = "ustate=3 (FAILED), toggle" },
	{ CASE, "boot_slot=a|ustate=1|bootcount=2|bootlimit=3", .slot = 1, .rolled_back = true,
	  .after = "boot_slot=b|ustate=3", .changed = true },
	/* dot:97 ustate not 1 at the limit: the rescue system (rst:62-63) */
	{ CASE, "boot_slot=a|ustate=0|bootcount=2|bootlimit=3", .action = BOOT_ACTION_HALT,
	  .after = "bootcount=3", .changed = true, .why = "rescue system" },
	/* dot:103-105 only user space resets the counter: after a fallback
	 * that nobody acknowledged, the next start is the rescue system */
	{ CASE, "boot_slot=a|ustate=3|bootcount=3|bootlimit=3", .action = BOOT_ACTION_HALT,
	  .after = "boot_slot=a|ustate=3|bootcount=4", .changed = true, .why = "rescue system" },
	/* state.h: ustate is one character; "01" is not INSTALLED */
	{ CASE, "boot_slot=b|ustate=01|bootcount=2|bootlimit=3", .action = BOOT_ACTION_HALT,
	  .after = "bootcount=3", .changed = true },
	/* the counters read as U-Boot reads numbers: garbled counts from 0 */
	{ CASE, "boot_slot=a|ustate=0|bootcount=x|bootlimit=3", .slot = 0, .after = "bootcount=1",
	  .changed = true },
	/* no bootlimit reads as 0: every start is at the limit (dot:85), so
	 * an installed update falls back at once */
	{ CASE, "boot_slot=b|ustate=1|bootcount=0", .slot = 0, .rolled_back = true,
	  .after = "boot_slot=a|ustate=3|bootcount=1", .changed = true },
	/* the configured copy names neither copy: nothing to run normally... */
	{ CASE, "boot_slot=x|ustate=0|bootcount=0|bootlimit=3", .action = BOOT_ACTION_HALT,
	  .after = "boot_slot=x|bootcount=1", .changed = true, .why = "names neither copy" },
	/* ...and a toggle from it goes to the first copy */
	{ CASE, "boot_slot=x|ustate=1|bootcount=2|bootlimit=3", .slot = 0, .rolled_back = true,
	  .after = "boot_slot=a|ustate=3", .changed = true },
	/* dot:90-93 a kernel that does not come up: reset and start again;
	 * each start counts (dot:83-84) until the limit toggles (dot:87-89) */
	{ CASE, INSTALLED, .unbootable = { false, true }, .slot = 0, .rolled_back = true,
	  .after = "boot_slot=a|ustate=3|bootcount=3", .changed = true, .passes = 3 },
	/* the same with ustate 0 ends in the rescue system */
	{ CASE, AT_REST, .unbootable = { true, false }, .action = BOOT_ACTION_HALT,
	  .after = "boot_slot=a|ustate=0|bootcount=3", .changed = true, .passes = 3,
	  .why = "rescue system" },
	/* neither copy comes up: toggle, then the rescue system */
	{ CASE, INSTALLED, .unbootable = { true, true }, .action = BOOT_ACTION_HALT,
	  .rolled_back = false, .after = "boot_slot=a|ustate=3|bootcount=4", .changed = true,
	  .passes = 4, .why = "rescue system" },
};

static void test_swupdate_reproduces_the_guides_state_machine(void **state)
{
	(void)state;
	struct boot_profile_cfg cfg;
	char err[256];
	boot_cfg_init(&cfg, &boot_profile_swupdate);
	assert_int_equal(boot_cfg_set(&cfg, "slot_var", "boot_slot", err, sizeof(err)), 0);
	assert_int_equal(boot_cfg_check(&cfg, err, sizeof(err)), 0);
	boot_cases_run(&cfg, cases, sizeof(cases) / sizeof(cases[0]));
}

/* The guide names no variable for the copy to boot: it must be given. */
static void test_swupdate_needs_the_slot_variable(void **state)
{
	(void)state;
	struct boot_profile_cfg cfg;
	char err[256];
	boot_cfg_init(&cfg, &boot_profile_swupdate);
	assert_int_equal(boot_cfg_check(&cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "needs option slot_var"));
	assert_int_equal(boot_cfg_set(&cfg, "slot_var", "ustate", err, sizeof(err)), 0);
	assert_int_equal(boot_cfg_check(&cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "slot_var and ustate_var"));
}

/* Copies named by partition number, and SWUpdate's
 * CONFIG_UPDATE_STATE_BOOTLOADER set to another name. */
static void test_swupdate_uses_configured_names(void **state)
{
	(void)state;
	struct boot_profile_cfg cfg;
	char err[256];
	boot_cfg_init(&cfg, &boot_profile_swupdate);
	assert_int_equal(boot_cfg_set(&cfg, "slot_var", "rootpart", err, sizeof(err)), 0);
	assert_int_equal(boot_cfg_set(&cfg, "slot_a", "2", err, sizeof(err)), 0);
	assert_int_equal(boot_cfg_set(&cfg, "slot_b", "3", err, sizeof(err)), 0);
	assert_int_equal(boot_cfg_set(&cfg, "ustate_var", "upgrade_state", err, sizeof(err)), 0);
	assert_int_equal(boot_cfg_check(&cfg, err, sizeof(err)), 0);
	static const struct boot_case named[] = {
		{ CASE, "rootpart=3|upgrade_state=1|bootcount=1|bootlimit=2", .slot = 0,
		  .rolled_back = true, .after = "rootpart=2|upgrade_state=3|bootcount=2",
		  .changed = true },
	};
	boot_cases_run(&cfg, named, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_swupdate_reproduces_the_guides_state_machine),
		cmocka_unit_test(test_swupdate_needs_the_slot_variable),
		cmocka_unit_test(test_swupdate_uses_configured_names),
	};
	return vh_run_tests(tests, NULL, NULL);
}
