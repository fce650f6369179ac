/* Unit tests for the rauc profile (harness/boot/profile_rauc.c). Each case
 * cites what it reproduces:
 *   "uboot.sh:N"  line N of RAUC's contrib/uboot.sh (rauc 3991031a);
 *   "rauc uboot.c:N"  how RAUC itself edits the env (src/bootloaders/uboot.c):
 *              install makes the slot primary (282-337: first in BOOT_ORDER,
 *              BOOT_x_LEFT=3), mark-good sets BOOT_x_LEFT=3 (207-218),
 *              mark-bad drops it from BOOT_ORDER with BOOT_x_LEFT=0 (168-218);
 *   "strto.c:N", "setexpr.c:N", "cli_hush.c:N"  U-Boot 6073c36b. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "boot_cases.h"
#include "test_skip.h"

static const struct boot_case cases[] = {
	/* blank env: uboot.sh:5-7 defaults, then uboot.sh:13-18 takes A and
	 * uboot.sh:16 counts the try; uboot.sh:30-31 saves */
	{ CASE, "", .slot = 0, .args = "rauc.slot=A",
	  .after = "BOOT_ORDER=A B|BOOT_A_LEFT=2|BOOT_B_LEFT=3", .changed = true,
	  .why = "BOOT_ORDER empty" },
	/* uboot.sh:5-7 `test -n "${X}"` is quoted: empty counts as unset */
	{ CASE, "BOOT_ORDER=|BOOT_A_LEFT=|BOOT_B_LEFT=1", .slot = 0,
	  .after = "BOOT_ORDER=A B|BOOT_A_LEFT=2|BOOT_B_LEFT=1", .changed = true },
	/* normal boot: uboot.sh:14 `test 0x3 -gt 0`, uboot.sh:16 3 - 1 */
	{ CASE, "BOOT_ORDER=A B|BOOT_A_LEFT=3|BOOT_B_LEFT=3", .slot = 0, .args = "rauc.slot=A",
	  .after = "BOOT_A_LEFT=2|BOOT_B_LEFT=3", .changed = true },
	/* after `rauc install` to B (rauc uboot.c:295-335): B first */
	{ CASE, "BOOT_ORDER=B A|BOOT_A_LEFT=3|BOOT_B_LEFT=3", .slot = 1, .args = "rauc.slot=B",
	  .after = "BOOT_B_LEFT=2|BOOT_A_LEFT=3", .changed = true },
	/* B's tries used up without mark-good: uboot.sh:21 `test 0x0 -gt 0` is
	 * false, the loop goes on to A */
	{ CASE, "BOOT_ORDER=B A|BOOT_A_LEFT=3|BOOT_B_LEFT=0", .slot = 0, .rolled_back = true,
	  .args = "rauc.slot=A", .after = "BOOT_ORDER=B A|BOOT_A_LEFT=2|BOOT_B_LEFT=0",
	  .changed = true, .why = "BOOT_B_LEFT=0: no attempts left" },
	/* marked bad: gone from BOOT_ORDER (rauc uboot.c:182-197) */
	{ CASE, "BOOT_ORDER=A|BOOT_A_LEFT=1|BOOT_B_LEFT=0", .slot = 0,
	  .after = "BOOT_ORDER=A|BOOT_A_LEFT=0", .changed = true },
	/* uboot.sh:11-12: after a slot is found the rest is skipped */
	{ CASE, "BOOT_ORDER=A A B|BOOT_A_LEFT=1|BOOT_B_LEFT=3", .slot = 0,
	  .after = "BOOT_A_LEFT=0|BOOT_B_LEFT=3", .changed = true },
	/* no slot left: uboot.sh:33-37 resets both to 3, saveenv, reset; the
	 * next run takes A */
	{ CASE, "BOOT_ORDER=A B|BOOT_A_LEFT=0|BOOT_B_LEFT=0", .slot = 0,
	  .after = "BOOT_A_LEFT=2|BOOT_B_LEFT=3", .changed = true, .passes = 2 },
	/* BOOT_ORDER naming no slot: uboot.sh:13/20 match nothing, every run
	 * resets (uboot.sh:37): a reset loop */
	{ CASE, "BOOT_ORDER=C|BOOT_A_LEFT=2|BOOT_B_LEFT=2", .action = BOOT_ACTION_HALT,
	  .reset_loop = true, .after = "BOOT_ORDER=C|BOOT_A_LEFT=3|BOOT_B_LEFT=3",
	  .changed = true },
	/* cli_hush.c:3584 the for list splits on spaces only, runs of them too */
	{ CASE, "BOOT_ORDER=  B   A |BOOT_A_LEFT=3|BOOT_B_LEFT=3", .slot = 1,
	  .after = "BOOT_B_LEFT=2", .changed = true },
	{ CASE, "BOOT_ORDER=B\tA|BOOT_A_LEFT=3|BOOT_B_LEFT=3", .action = BOOT_ACTION_HALT,
	  .reset_loop = true, .after = "BOOT_B_LEFT=3", .changed = false },
	/* the counters are hex: setexpr.c:119 hextoul reads them and
	 * env_set_hex writes "%lx"; uboot.sh:14 reads "0x${BOOT_A_LEFT}"
	 * (rauc 3fc36bbc) */
	{ CASE, "BOOT_ORDER=A B|BOOT_A_LEFT=a|BOOT_B_LEFT=3", .slot = 0, .after = "BOOT_A_LEFT=9",
	  .changed = true },
	{ CASE, "BOOT_ORDER=A B|BOOT_A_LEFT=10|BOOT_B_LEFT=3", .slot = 0, .after = "BOOT_A_LEFT=f",
	  .changed = true },
	/* garbled counters: strto.c:65 "0xzz" and "0x0x3" read as 0 */
	{ CASE, "BOOT_ORDER=A B|BOOT_A_LEFT=zz|BOOT_B_LEFT=3", .slot = 1, .rolled_back = true,
	  .after = "BOOT_A_LEFT=zz|BOOT_B_LEFT=2", .changed = true },
	{ CASE, "BOOT_ORDER=A B|BOOT_A_LEFT=0x3|BOOT_B_LEFT=3", .slot = 1, .rolled_back = true,
	  .after = "BOOT_A_LEFT=0x3", .changed = true },
	/* strto.c:115-120 simple_strtol: all ones is -1, not > 0 */
	{ CASE, "BOOT_ORDER=A B|BOOT_A_LEFT=ffffffffffffffff|BOOT_B_LEFT=3", .slot = 1,
	  .rolled_back = true, .after = "BOOT_B_LEFT=2", .changed = true },
	/* a long counter is read whole: 70 digits, hex, wraps as ulong */
	{ CASE,
	  "BOOT_ORDER=A B|BOOT_A_LEFT=0000000000000000000000000000000000000000000000000000000000"
	  "000000000001|BOOT_B_LEFT=3",
	  .slot = 0, .after = "BOOT_A_LEFT=0", .changed = true },
	/* a trailing letter stops the number: "3x" is 3 for both test and setexpr */
	{ CASE, "BOOT_ORDER=A B|BOOT_A_LEFT=3x|BOOT_B_LEFT=3", .slot = 0, .after = "BOOT_A_LEFT=2",
	  .changed = true },
	/* cli_hush.c:3615: a counter holding a space is re-parsed by hush */
	{ CASE, "BOOT_ORDER=A B|BOOT_A_LEFT=3 4|BOOT_B_LEFT=3", .action = BOOT_ACTION_HALT,
	  .after = "BOOT_A_LEFT=3 4", .why = "not modelled" },
	/* uboot.sh:41-43: a kernel that does not load ends the script at the
	 * prompt; the try stays counted (saved at uboot.sh:31) */
	{ CASE, "BOOT_ORDER=A B|BOOT_A_LEFT=3|BOOT_B_LEFT=3", .unbootable = { true, false },
	  .action = BOOT_ACTION_HALT, .after = "BOOT_A_LEFT=2|BOOT_B_LEFT=3", .changed = true,
	  .why = "U-Boot's prompt" },
	/* uboot.sh:18 "${default_bootargs} root=/dev/mmcblk0p1 rauc.slot=A",
	 * with no root= unless configured */
	{ CASE, "BOOT_ORDER=A B|BOOT_A_LEFT=3|BOOT_B_LEFT=3|default_bootargs=console=ttyS0",
	  .slot = 0, .args = "console=ttyS0 rauc.slot=A", .after = "BOOT_A_LEFT=2",
	  .changed = true },
};

static void test_rauc_reproduces_contrib_uboot_sh(void **state)
{
	(void)state;
	struct boot_profile_cfg cfg;
	boot_cfg_init(&cfg, &boot_profile_rauc);
	boot_cases_run(&cfg, cases, sizeof(cases) / sizeof(cases[0]));
}

/* A slot whose kernel never loads: each power-on halts and costs it a
 * try; once its tries are gone the next slot in BOOT_ORDER boots. */
static void test_rauc_unbootable_slot_costs_a_try_per_power_on(void **state)
{
	(void)state;
	struct boot_profile_cfg cfg;
	struct ubootenv env;
	struct boot_outcome out;
	struct boot_case ctx = { .unbootable = { false, true } };
	boot_cfg_init(&cfg, &boot_profile_rauc);
	assert_int_equal(boot_env_from(&env, "BOOT_ORDER=B A|BOOT_A_LEFT=3|BOOT_B_LEFT=3"), 0);
	for (int i = 2; i >= 0; i--) {
		assert_int_equal(boot_power_on(&cfg, &env, boot_case_bootable, NULL, &ctx, &out),
				 0);
		assert_int_equal(out.decision.action, BOOT_ACTION_HALT);
		assert_true(out.unbootable[1]);
		char want[8];
		snprintf(want, sizeof(want), "%d", i);
		assert_string_equal(ubootenv_get(&env, "BOOT_B_LEFT"), want);
	}
	assert_int_equal(boot_power_on(&cfg, &env, boot_case_bootable, NULL, &ctx, &out), 0);
	assert_int_equal(out.decision.action, BOOT_ACTION_BOOT);
	assert_int_equal(out.decision.slot, 0);
	assert_true(out.decision.rolled_back);
	assert_int_equal(out.decision.rollback_from, 1);
	/* both unbootable: every power-on halts, on A's two tries left (B has
	 * none), then uboot.sh:33-37 refills both and B is tried again */
	ctx.unbootable[0] = true;
	for (int i = 0; i < 2; i++)
		assert_int_equal(boot_power_on(&cfg, &env, boot_case_bootable, NULL, &ctx, &out),
				 0);
	assert_string_equal(ubootenv_get(&env, "BOOT_A_LEFT"), "0");
	assert_int_equal(boot_power_on(&cfg, &env, boot_case_bootable, NULL, &ctx, &out), 0);
	assert_int_equal(out.passes, 2);
	assert_int_equal(out.decision.action, BOOT_ACTION_HALT);
	assert_string_equal(ubootenv_get(&env, "BOOT_B_LEFT"), "2");
	assert_string_equal(ubootenv_get(&env, "BOOT_A_LEFT"), "3");
	ubootenv_free(&env);
}

/* The script is an example: bootnames, tries and root= are the system's. */
static void test_rauc_uses_configured_bootnames_and_tries(void **state)
{
	(void)state;
	struct boot_profile_cfg cfg;
	char err[256];
	boot_cfg_init(&cfg, &boot_profile_rauc);
	assert_int_equal(boot_cfg_set(&cfg, "slot_a", "system0", err, sizeof(err)), 0);
	assert_int_equal(boot_cfg_set(&cfg, "slot_b", "system1", err, sizeof(err)), 0);
	assert_int_equal(boot_cfg_set(&cfg, "attempts", "5", err, sizeof(err)), 0);
	assert_int_equal(boot_cfg_set(&cfg, "root_a", "/dev/vda1", err, sizeof(err)), 0);
	assert_int_equal(boot_cfg_set(&cfg, "root_b", "/dev/vda2", err, sizeof(err)), 0);
	assert_int_equal(boot_cfg_check(&cfg, err, sizeof(err)), 0);
	static const struct boot_case named[] = {
		{ CASE, "", .slot = 0, .args = "root=/dev/vda1 rauc.slot=system0",
		  .after = "BOOT_ORDER=system0 system1|BOOT_system0_LEFT=4|BOOT_system1_LEFT=5",
		  .changed = true },
		{ CASE, "BOOT_ORDER=system1 system0|BOOT_system0_LEFT=0|BOOT_system1_LEFT=0",
		  .slot = 1, .args = "root=/dev/vda2 rauc.slot=system1",
		  .after = "BOOT_system0_LEFT=5|BOOT_system1_LEFT=4", .changed = true,
		  .passes = 2 },
	};
	boot_cases_run(&cfg, named, sizeof(named) / sizeof(named[0]));

	boot_cfg_init(&cfg, &boot_profile_rauc);
	assert_int_equal(boot_cfg_set(&cfg, "slot_b", "A", err, sizeof(err)), 0);
	assert_int_equal(boot_cfg_check(&cfg, err, sizeof(err)), -EINVAL);
	boot_cfg_init(&cfg, &boot_profile_rauc);
	assert_int_equal(boot_cfg_set(&cfg, "slot_a", "a;b", err, sizeof(err)), 0);
	assert_int_equal(boot_cfg_check(&cfg, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rauc_reproduces_contrib_uboot_sh),
		cmocka_unit_test(test_rauc_unbootable_slot_costs_a_try_per_power_on),
		cmocka_unit_test(test_rauc_uses_configured_bootnames_and_tries),
	};
	return vh_run_tests(tests, NULL, NULL);
}
