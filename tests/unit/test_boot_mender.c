/* Unit tests for the mender profile (harness/boot/profile_mender.c). Each
 * case cites what it reproduces:
 *   "patch:N"  line N of meta-mender-core/recipes-bsp/u-boot/patches/
 *              0001-Generic-boot-code-for-Mender.patch (meta-mender 17e59874),
 *              which adds include/env_mender.h;
 *   "bootcount.h:N", "bootcount_env.c:N", "strto.c:N", "test.c:N",
 *   "cli_hush.c:N", "autoboot.c:N"  U-Boot 6073c36b: include/bootcount.h,
 *              drivers/bootcount/bootcount_env.c, lib/strto.c, cmd/test.c,
 *              common/cli_hush.c, common/autoboot.c.
 * Partitions are meta-mender's defaults: A = 2, B = 3 (mender-setup.bbclass
 * MENDER_ROOTFS_PART_A/B_NUMBER_DEFAULT), root= /dev/mmcblk0p<N>. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "boot_cases.h"
#include "test_skip.h"

/* what `mender install` writes to boot partition 3 (the client's
 * EnableUpdatedPartition: upgrade_available, mender_boot_part(_hex),
 * bootcount) over an env U-Boot already saved once */
#define SAVED "bootlimit=1|mender_check_saveenv_canary=1|mender_saveenv_canary=1|"
#define ON_A SAVED "upgrade_available=0|bootcount=0|mender_boot_part=2|mender_boot_part_hex=2"
#define TRY_B SAVED "upgrade_available=1|bootcount=0|mender_boot_part=3|mender_boot_part_hex=3"

static const struct boot_case cases[] = {
	/* first boot on a blank env: U-Boot's default env, patch:172-179, 197
	 * (bootlimit=1 bootcount=0 upgrade_available=0 mender_boot_part=2);
	 * bootcount.h:133 sets bootcount=1 in RAM though bootcount_env.c:13
	 * does not save it, and patch:200-202 (canary unset) saves the whole
	 * env, so bootcount=1 reaches the disk */
	{ CASE, "", .slot = 0, .args = "root=/dev/mmcblk0p2",
	  .after = "bootlimit=1|bootcount=1|upgrade_available=0|mender_boot_part=2|"
		   "mender_boot_part_hex=2|mender_check_saveenv_canary=1|mender_saveenv_canary=1",
	  .changed = true, .why = "blank env" },
	/* normal boot of A: bootcount_env.c:13 "if (upgrade_available)" stores
	 * nothing, patch:200 canary already 1: nothing is saved */
	{ CASE, ON_A, .slot = 0, .args = "root=/dev/mmcblk0p2", .after = ON_A },
	/* an env without the canary (written by mkenvimage or fw_setenv):
	 * patch:200-202 saves it, with bootcount.h:133's RAM count */
	{ CASE,
	  "bootlimit=1|upgrade_available=0|bootcount=0|mender_boot_part=2|"
	  "mender_boot_part_hex=2",
	  .slot = 0, .after = "bootcount=1|mender_saveenv_canary=1", .changed = true },
	/* trial boot after `mender install`: bootcount.h:121-131 counts 0 -> 1
	 * and bootcount_env.c:13-16 saves it; bootcount.h:107 1 > 1 is false:
	 * bootcmd boots partition 3 (patch:212, 220, 263-269) */
	{ CASE, TRY_B, .slot = 1, .trial = true, .args = "root=/dev/mmcblk0p3",
	  .after = "bootcount=1|upgrade_available=1|mender_boot_part=3", .changed = true },
	/* second boot without `mender commit`: bootcount.h:107 "bootlimit &&
	 * bootcount > bootlimit" (2 > 1), autoboot.c:481-482 runs altbootcmd
	 * (patch:157), patch:231-237 swaps to partition 2, patch:239-240
	 * upgrade_available=0 and saveenv; bootcount stays 2 */
	{ CASE, SAVED "upgrade_available=1|bootcount=1|mender_boot_part=3|mender_boot_part_hex=3",
	  .slot = 0, .rolled_back = true, .args = "root=/dev/mmcblk0p2",
	  .after = "mender_boot_part=2|mender_boot_part_hex=2|upgrade_available=0|bootcount=2",
	  .changed = true, .why = "bootcount 2 > bootlimit 1: altbootcmd" },
	/* patch:231 "if test ${mender_boot_part} = 2": the other way, 2 -> 3 */
	{ CASE, SAVED "upgrade_available=1|bootcount=1|mender_boot_part=2|mender_boot_part_hex=2",
	  .slot = 1, .rolled_back = true,
	  .after = "mender_boot_part=3|mender_boot_part_hex=3|upgrade_available=0|bootcount=2",
	  .changed = true },
	/* after `mender commit` (upgrade_available=0): bootcount_env.c:24
	 * bootcount_load returns 0, nothing counts, the stale bootcount stays */
	{ CASE, SAVED "upgrade_available=0|bootcount=1|mender_boot_part=3|mender_boot_part_hex=3",
	  .slot = 1, .args = "root=/dev/mmcblk0p3", .after = "bootcount=1" },
	/* bootcount.h:105-107: a larger bootlimit gives more trial boots */
	{ CASE,
	  "bootlimit=3|mender_saveenv_canary=1|upgrade_available=1|bootcount=2|"
	  "mender_boot_part=3|mender_boot_part_hex=3",
	  .slot = 1, .trial = true, .after = "bootcount=3", .changed = true },
	{ CASE,
	  "bootlimit=3|mender_saveenv_canary=1|upgrade_available=1|bootcount=3|"
	  "mender_boot_part=3|mender_boot_part_hex=3",
	  .slot = 0, .rolled_back = true, .after = "bootcount=4|mender_boot_part=2",
	  .changed = true },
	/* bootcount.h:107 "bootlimit &&": 0 means no limit */
	{ CASE,
	  "bootlimit=0|mender_saveenv_canary=1|upgrade_available=1|bootcount=5|"
	  "mender_boot_part=3|mender_boot_part_hex=3",
	  .slot = 1, .trial = true, .after = "bootcount=6", .changed = true },
	/* bootcount.h:105 env_get_ulong("bootlimit", 10, 0): a loaded env
	 * without bootlimit has no limit (the default env is not merged in) */
	{ CASE,
	  "mender_saveenv_canary=1|upgrade_available=1|bootcount=9|mender_boot_part=3|"
	  "mender_boot_part_hex=3",
	  .slot = 1, .trial = true, .after = "bootcount=10|bootlimit", .changed = true },
	/* bootcount_env.c:11-13: upgrade_available is a number, any non-zero
	 * one counts ("2", "1x"); patch:244's `= 1` is only for recovery */
	{ CASE, SAVED "upgrade_available=2|bootcount=0|mender_boot_part=3|mender_boot_part_hex=3",
	  .slot = 1, .trial = true, .after = "bootcount=1", .changed = true },
	{ CASE, SAVED "upgrade_available=1x|bootcount=1|mender_boot_part=3|mender_boot_part_hex=3",
	  .slot = 0, .rolled_back = true, .after = "upgrade_available=0|bootcount=2",
	  .changed = true },
	/* strto.c:65: "yes" reads as 0: not counted */
	{ CASE, SAVED "upgrade_available=yes|bootcount=5|mender_boot_part=3|mender_boot_part_hex=3",
	  .slot = 1, .after = "upgrade_available=yes|bootcount=5" },
	/* bootcount_env.c:11 "int upgrade_available =": 2^32 keeps its low 32
	 * bits, 0 */
	{ CASE,
	  SAVED "upgrade_available=4294967296|bootcount=5|mender_boot_part=3|"
		"mender_boot_part_hex=3",
	  .slot = 1, .after = "bootcount=5" },
	/* strto.c:65-68: a garbled bootcount counts from 0 */
	{ CASE, SAVED "upgrade_available=1|bootcount=x|mender_boot_part=3|mender_boot_part_hex=3",
	  .slot = 1, .trial = true, .after = "bootcount=1", .changed = true },
	/* strto.c:21-26: "0x1" is hex even for base 10: 1 + 1 > 1 */
	{ CASE, SAVED "upgrade_available=1|bootcount=0x1|mender_boot_part=3|mender_boot_part_hex=3",
	  .slot = 0, .rolled_back = true, .after = "bootcount=2", .changed = true },
	/* partition 3 has no kernel: the load fails (patch:265-269),
	 * patch:243-245 "if test ${upgrade_available} = 1; then reset": the
	 * next run counts 2 > 1 and altbootcmd boots partition 2 */
	{ CASE, TRY_B, .unbootable = { false, true }, .slot = 0, .rolled_back = true,
	  .after = "mender_boot_part=2|upgrade_available=0|bootcount=2", .changed = true,
	  .passes = 2 },
	/* with bootlimit=3 it takes four runs to give up on partition 3 */
	{ CASE,
	  "bootlimit=3|mender_saveenv_canary=1|upgrade_available=1|bootcount=0|"
	  "mender_boot_part=3|mender_boot_part_hex=3",
	  .unbootable = { false, true }, .slot = 0, .rolled_back = true,
	  .after = "mender_boot_part=2|upgrade_available=0|bootcount=4", .changed = true,
	  .passes = 4 },
	/* a committed partition without a kernel: patch:244 is false, no
	 * reset: bootcmd ends and U-Boot stops at its prompt */
	{ CASE, ON_A, .unbootable = { true, false }, .action = BOOT_ACTION_HALT, .after = ON_A,
	  .why = "U-Boot stops at its prompt" },
	/* neither partition boots: reset, altbootcmd to 2, which fails with
	 * upgrade_available now 0: the prompt */
	{ CASE, TRY_B, .unbootable = { true, true }, .action = BOOT_ACTION_HALT,
	  .rolled_back = true, .after = "mender_boot_part=2|upgrade_available=0|bootcount=2",
	  .changed = true, .passes = 2 },
	/* upgrade_available unset: bootcount_env.c:21 reads it as 0, so nothing
	 * counts, but cli_hush.c:2453 drops the empty word and test.c:123-126
	 * makes `test = 1` true: a kernel that fails resets forever */
	{ CASE, SAVED "bootcount=0|mender_boot_part=3|mender_boot_part_hex=3",
	  .unbootable = { false, true }, .action = BOOT_ACTION_HALT, .reset_loop = true,
	  .after = "bootcount=0|upgrade_available", .why = "reset loop" },
	/* mender_boot_part unset: `test ${mender_boot_part} = 2` (patch:231) is
	 * true the same way, so altbootcmd goes to 3 */
	{ CASE, SAVED "upgrade_available=1|bootcount=1|mender_boot_part_hex=2", .slot = 1,
	  .rolled_back = true,
	  .after = "mender_boot_part=3|mender_boot_part_hex=3|upgrade_available=0",
	  .changed = true },
	/* the kernel is loaded from ${mender_boot_part_hex} (patch:220, 268),
	 * root= is ${mender_boot_part} (patch:212, 264): when they disagree,
	 * the kernel's partition decides the slot */
	{ CASE, SAVED "upgrade_available=0|bootcount=0|mender_boot_part=2|mender_boot_part_hex=3",
	  .slot = 1, .args = "root=/dev/mmcblk0p2", .after = "mender_boot_part=2",
	  .why = "disagree" },
	/* a partition that is neither rootfs (the data partition) holds no
	 * kernel: patch:244 false: the prompt */
	{ CASE, SAVED "upgrade_available=0|bootcount=0|mender_boot_part=4|mender_boot_part_hex=4",
	  .action = BOOT_ACTION_HALT, .after = "mender_boot_part=4", .why = "not 2 or 3" },
	/* values hush would re-parse (cli_hush.c:3615 make_string) */
	{ CASE,
	  SAVED "upgrade_available=1;reset|bootcount=0|mender_boot_part=3|"
		"mender_boot_part_hex=3",
	  .action = BOOT_ACTION_HALT, .after = "bootcount=0", .why = "not modelled" },
	/* patch:208-211 systemd.machine_id, patch:263-264 root= in front of
	 * ${bootargs} */
	{ CASE, ON_A "|mender_systemd_machine_id=0123abcd|bootargs=console=ttyS0 quiet", .slot = 0,
	  .args = "root=/dev/mmcblk0p2 systemd.machine_id=0123abcd console=ttyS0 quiet",
	  .after = ON_A },
};

static void test_mender_reproduces_meta_mender_uboot_scripts(void **state)
{
	(void)state;
	struct boot_profile_cfg cfg;
	boot_cfg_init(&cfg, &boot_profile_mender);
	boot_cases_run(&cfg, cases, sizeof(cases) / sizeof(cases[0]));
}

/* A layout without a boot partition (MENDER_BOOT_PART_SIZE_MB=0: A = 1,
 * B = 2) or with partitions past 9: mender_boot_part_hex is hex
 * (u-boot-mender.inc mender_number_to_hex). */
static void test_mender_uses_configured_partitions_and_hex_names(void **state)
{
	(void)state;
	struct boot_profile_cfg cfg;
	char err[256];
	boot_cfg_init(&cfg, &boot_profile_mender);
	assert_int_equal(boot_cfg_set(&cfg, "part_a", "5", err, sizeof(err)), 0);
	assert_int_equal(boot_cfg_set(&cfg, "part_b", "10", err, sizeof(err)), 0);
	assert_int_equal(boot_cfg_set(&cfg, "root_base", "/dev/vda", err, sizeof(err)), 0);
	assert_int_equal(boot_cfg_check(&cfg, err, sizeof(err)), 0);
	static const struct boot_case layout[] = {
		{ CASE, "", .slot = 0, .args = "root=/dev/vda5",
		  .after = "mender_boot_part=5|mender_boot_part_hex=5|bootcount=1",
		  .changed = true },
		{ CASE,
		  SAVED "upgrade_available=1|bootcount=0|mender_boot_part=10|"
			"mender_boot_part_hex=a",
		  .slot = 1, .trial = true, .args = "root=/dev/vda10", .after = "bootcount=1",
		  .changed = true },
		{ CASE,
		  SAVED "upgrade_available=1|bootcount=1|mender_boot_part=5|"
			"mender_boot_part_hex=5",
		  .slot = 1, .rolled_back = true,
		  .after = "mender_boot_part=10|mender_boot_part_hex=a", .changed = true },
		/* disk/part.c:543 reads the partition with hextoul: "A", "0xa" and
		 * "000a" are 10 as well */
		{ CASE,
		  SAVED "upgrade_available=0|bootcount=0|mender_boot_part=10|"
			"mender_boot_part_hex=A",
		  .slot = 1, .after = "mender_boot_part_hex=A" },
		{ CASE,
		  SAVED "upgrade_available=0|bootcount=0|mender_boot_part=10|"
			"mender_boot_part_hex=0xa",
		  .slot = 1 },
		{ CASE,
		  SAVED "upgrade_available=0|bootcount=0|mender_boot_part=10|"
			"mender_boot_part_hex=00000000000a",
		  .slot = 1 },
		/* disk/part.c:547-552 "Less than whole string converted": no load */
		{ CASE,
		  SAVED "upgrade_available=0|bootcount=0|mender_boot_part=10|"
			"mender_boot_part_hex=ax",
		  .action = BOOT_ACTION_HALT },
	};
	boot_cases_run(&cfg, layout, sizeof(layout) / sizeof(layout[0]));

	boot_cfg_init(&cfg, &boot_profile_mender);
	assert_int_equal(boot_cfg_set(&cfg, "part_b", "2", err, sizeof(err)), 0);
	assert_int_equal(boot_cfg_check(&cfg, err, sizeof(err)), -EINVAL);
}

/* The events of the rollback pass name each variable, old -> new. */
static void test_mender_rollback_lists_variables_read_and_written(void **state)
{
	(void)state;
	struct boot_profile_cfg cfg;
	struct ubootenv env;
	struct boot_decision d;
	boot_cfg_init(&cfg, &boot_profile_mender);
	assert_int_equal(boot_env_from(&env, SAVED "upgrade_available=1|bootcount=1|"
						   "mender_boot_part=3|mender_boot_part_hex=3"),
			 0);
	assert_int_equal(boot_profile_choose(&cfg, &env, &d), 0);
	static const struct {
		const char *name, *old, *new;
		bool written;
	} want[] = {
		{ "upgrade_available", "1", "0", true },
		{ "mender_boot_part", "3", "2", true },
		{ "mender_boot_part_hex", "3", "2", true },
		{ "bootcount", "1", "2", true },
		{ "bootlimit", "1", "1", false },
		{ "mender_saveenv_canary", "1", "1", false },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct boot_var *v = boot_decision_var(&d, want[i].name);
		assert_non_null(v);
		assert_string_equal(v->old, want[i].old);
		assert_string_equal(v->new, want[i].new);
		assert_int_equal(v->written, want[i].written);
	}
	assert_int_equal(d.rollback_from, 1);
	assert_int_equal(d.bootcount, 2);
	assert_int_equal(d.bootlimit, 1);
	assert_string_equal(d.profile, "mender");
	assert_string_equal(d.slot_name, "2");
	ubootenv_free(&env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mender_reproduces_meta_mender_uboot_scripts),
		cmocka_unit_test(test_mender_uses_configured_partitions_and_hex_names),
		cmocka_unit_test(test_mender_rollback_lists_variables_read_and_written),
	};
	return vh_run_tests(tests, NULL, NULL);
}
