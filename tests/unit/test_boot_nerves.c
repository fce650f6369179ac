/* Unit tests for the nerves profile (harness/boot/profile_nerves.c):
 * little_loader's process_uboot_env(). "main.c:N" is line N of its
 * src/main.c (fhunleth/little_loader 000f049b). Nerves' own side of the
 * env: an upgrade (fwup) sets nerves_fw_active to the new slot with
 * upgrade_available=1 and bootcount=0; validating the firmware sets
 * upgrade_available=0. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "boot_cases.h"
#include "test_skip.h"

#define SLOTS "a.kernel_lba=2048|b.kernel_lba=65536|a.kernel_args=console=ttyAMA0 root=/dev/vda2"
#define ON_A "nerves_fw_active=a|upgrade_available=0|bootcount=0|" SLOTS
#define TRY_B "nerves_fw_active=b|upgrade_available=1|bootcount=0|" SLOTS

static const struct boot_case cases[] = {
	/* main.c:60 the env's CRC fails: cleanup with main.c:48-49's default
	 * LBA 512, which main.c:18 keeps free of kernels: nothing boots */
	{ CASE, "", .action = BOOT_ACTION_HALT, .after = "nerves_fw_active",
	  .why = "blank or corrupt env" },
	/* main.c:64 upgrade_available is not "1": no failback check;
	 * main.c:87-92 the slot's kernel_lba and kernel_args */
	{ CASE, ON_A, .slot = 0, .args = "console=ttyAMA0 root=/dev/vda2", .after = ON_A },
	/* main.c:77-81 first try of the new slot: bootcount=1, main.c:83 write */
	{ CASE, TRY_B, .slot = 1, .trial = true, .args = "",
	  .after = "nerves_fw_active=b|upgrade_available=1|bootcount=1", .changed = true },
	/* main.c:66-76 the second power-on with the try not validated: revert
	 * ('b' -> 'a'), upgrade_available=0, bootcount=0 */
	{ CASE, "nerves_fw_active=b|upgrade_available=1|bootcount=1|" SLOTS, .slot = 0,
	  .rolled_back = true, .args = "console=ttyAMA0 root=/dev/vda2",
	  .after = "nerves_fw_active=a|upgrade_available=0|bootcount=0", .changed = true,
	  .why = "did not validate" },
	/* main.c:69-72: anything but 'a' reverts to 'a' */
	{ CASE, "nerves_fw_active=a|upgrade_available=1|bootcount=1|" SLOTS, .slot = 1,
	  .rolled_back = true, .after = "nerves_fw_active=b", .changed = true },
	{ CASE, "nerves_fw_active=c|upgrade_available=1|bootcount=1|" SLOTS, .slot = 0,
	  .rolled_back = true, .after = "nerves_fw_active=a", .changed = true },
	/* main.c:69-72 change the first letter only */
	{ CASE, "nerves_fw_active=bx|upgrade_available=1|bootcount=1|" SLOTS, .slot = 0,
	  .rolled_back = true, .after = "nerves_fw_active=ax", .changed = true },
	/* validated (upgrade_available=0): main.c:64 skips the check, the
	 * stale bootcount stays */
	{ CASE, "nerves_fw_active=b|upgrade_available=0|bootcount=1|" SLOTS, .slot = 1,
	  .after = "bootcount=1" },
	/* main.c:66 strcmp with "1" exactly: any other count is a first try */
	{ CASE, "nerves_fw_active=b|upgrade_available=1|bootcount=2|" SLOTS, .slot = 1,
	  .trial = true, .after = "bootcount=1", .changed = true },
	{ CASE, "nerves_fw_active=b|upgrade_available=1|bootcount=01|" SLOTS, .slot = 1,
	  .trial = true, .after = "bootcount=1", .changed = true },
	/* main.c:64 strcmp with "1" exactly: "yes" and "01" are not an upgrade */
	{ CASE, "nerves_fw_active=b|upgrade_available=01|bootcount=1|" SLOTS, .slot = 1,
	  .after = "bootcount=1" },
	/* main.c:61, 62, 65: a missing variable jumps to cleanup, the default
	 * LBA (main.c:62's message says it skips the check only, but
	 * OK_OR_CLEANUP_MSG leaves the function) */
	{ CASE, "upgrade_available=0|bootcount=0|" SLOTS, .action = BOOT_ACTION_HALT,
	  .after = "nerves_fw_active", .why = "nerves_fw_active missing" },
	{ CASE, "nerves_fw_active=a|bootcount=0|" SLOTS, .action = BOOT_ACTION_HALT,
	  .after = "upgrade_available", .why = "upgrade_available missing" },
	{ CASE, "nerves_fw_active=b|upgrade_available=1|" SLOTS, .action = BOOT_ACTION_HALT,
	  .after = "bootcount", .why = "bootcount missing" },
	/* main.c:88 the slot's kernel_lba missing: default LBA; main.c:83 has
	 * already written bootcount=1 */
	{ CASE, "nerves_fw_active=b|upgrade_available=1|bootcount=0|a.kernel_lba=2048",
	  .action = BOOT_ACTION_HALT, .after = "bootcount=1", .changed = true,
	  .why = "kernel_lba missing" },
	/* main.c:87 a slot letter other than a or b boots from its own
	 * kernel_lba, which is no slot of the A/B layout */
	{ CASE, "nerves_fw_active=c|upgrade_available=0|bootcount=0|c.kernel_lba=1024",
	  .action = BOOT_ACTION_HALT, .why = "neither slot a nor b" },
	{ CASE, "nerves_fw_active=|upgrade_available=0|bootcount=0|" SLOTS,
	  .action = BOOT_ACTION_HALT, .why = "empty" },
	/* main.c:118-137 a slot whose kernel does not load is fatal(): no
	 * fallback, the bootcount=1 written before stays */
	{ CASE, TRY_B, .unbootable = { false, true }, .action = BOOT_ACTION_HALT,
	  .after = "nerves_fw_active=b|bootcount=1", .changed = true, .why = "fatal()" },
	/* neither slot loads: the same halt on the committed one */
	{ CASE, ON_A, .unbootable = { true, true }, .action = BOOT_ACTION_HALT, .after = ON_A },
};

static void test_nerves_reproduces_little_loader(void **state)
{
	(void)state;
	struct boot_profile_cfg cfg;
	boot_cfg_init(&cfg, &boot_profile_nerves);
	boot_cases_run(&cfg, cases, sizeof(cases) / sizeof(cases[0]));
}

/* A new slot that never loads: this power-on halts (main.c:118-137), the
 * next one reverts (main.c:66-76) and boots the old slot. */
static void test_nerves_unbootable_update_reverts_on_the_next_power_on(void **state)
{
	(void)state;
	struct boot_profile_cfg cfg;
	struct ubootenv env;
	struct boot_outcome out;
	struct boot_case ctx = { .unbootable = { false, true } };
	boot_cfg_init(&cfg, &boot_profile_nerves);
	assert_int_equal(boot_env_from(&env, TRY_B), 0);
	assert_int_equal(boot_power_on(&cfg, &env, boot_case_bootable, NULL, &ctx, &out), 0);
	assert_int_equal(out.decision.action, BOOT_ACTION_HALT);
	assert_true(out.env_changed);
	assert_int_equal(boot_power_on(&cfg, &env, boot_case_bootable, NULL, &ctx, &out), 0);
	assert_int_equal(out.decision.action, BOOT_ACTION_BOOT);
	assert_int_equal(out.decision.slot, 0);
	assert_true(out.decision.rolled_back);
	assert_int_equal(out.decision.rollback_from, 1);
	assert_string_equal(out.decision.kernel_args, "console=ttyAMA0 root=/dev/vda2");
	const struct boot_var *v = boot_decision_var(&out.decision, "nerves_fw_active");
	assert_true(v->written);
	assert_string_equal(v->old, "b");
	assert_string_equal(v->new, "a");
	assert_non_null(boot_decision_var(&out.decision, "a.kernel_lba"));
	ubootenv_free(&env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nerves_reproduces_little_loader),
		cmocka_unit_test(test_nerves_unbootable_update_reverts_on_the_next_power_on),
	};
	return vh_run_tests(tests, NULL, NULL);
}
