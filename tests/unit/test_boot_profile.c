/* Unit tests for the bootloader profile core (harness/boot/boot_profile.c):
 * the registry, options, the record of variables read and written, the
 * power-on driver (fallbacks, resets, reset loops), and U-Boot's own number
 * and `test` semantics (uboot_shell.c) that the U-Boot profiles use. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "boot_env_spec.h"
#include "boot_profile.h"
#include "boot_rules.h"
#include "test_skip.h"
#include "uboot_shell.h"

static void test_boot_profile_find_knows_each_profile_by_name(void **state)
{
	(void)state;
	for (size_t i = 0; boot_profiles[i]; i++)
		assert_ptr_equal(boot_profile_find(boot_profiles[i]->name), boot_profiles[i]);
	assert_ptr_equal(boot_profile_find("uboot-bootcount"), &boot_profile_uboot_bootcount);
	assert_null(boot_profile_find("grub"));
	assert_null(boot_profile_find(""));
}

static void test_boot_cfg_set_rejects_unknown_options_and_bad_values(void **state)
{
	(void)state;
	struct boot_profile_cfg cfg;
	char err[256];
	boot_cfg_init(&cfg, &boot_profile_uboot_bootcount);
	assert_int_equal(boot_cfg_set(&cfg, "bootlimit", "3", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no option 'bootlimit'"));
	assert_int_equal(boot_cfg_set(&cfg, "slot_var", "a=b", err, sizeof(err)), -EINVAL);
	assert_int_equal(boot_cfg_set(&cfg, "slot_var", "", err, sizeof(err)), -EINVAL);
	assert_int_equal(boot_cfg_set(&cfg, "slot_var", "two words", err, sizeof(err)), -EINVAL);
	assert_int_equal(boot_cfg_set(&cfg, "slot_a", "x\ty", err, sizeof(err)), -EINVAL);
	assert_int_equal(boot_cfg_set(&cfg, "default_bootlimit", "-1", err, sizeof(err)), -EINVAL);
	assert_int_equal(boot_cfg_set(&cfg, "default_bootlimit", "1234567890", err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "default_bootlimit='1234567890'"));
	assert_int_equal(cfg.n, 0);
	assert_string_equal(boot_cfg_get(&cfg, "slot_var"), "boot_slot");
	assert_int_equal(boot_cfg_uint(&cfg, "default_bootlimit"), 3);
}

static void test_boot_cfg_set_replaces_and_has_room_for_every_option(void **state)
{
	(void)state;
	struct boot_profile_cfg cfg;
	char err[256];
	boot_cfg_init(&cfg, &boot_profile_uboot_bootcount);
	assert_int_equal(boot_cfg_set(&cfg, "default_bootlimit", "5", err, sizeof(err)), 0);
	assert_int_equal(boot_cfg_set(&cfg, "default_bootlimit", "7", err, sizeof(err)), 0);
	assert_int_equal(cfg.n, 1);
	assert_int_equal(boot_cfg_uint(&cfg, "default_bootlimit"), 7);
	/* every option of every profile fits at once */
	for (size_t i = 0; boot_profiles[i]; i++) {
		size_t n = 0;
		for (const struct boot_option *o = boot_profiles[i]->options; o->name; o++)
			n++;
		assert_true(n <= BOOT_CFG_MAX);
	}
}

static void test_boot_cfg_check_refuses_one_name_for_two_things(void **state)
{
	(void)state;
	struct boot_profile_cfg cfg;
	char err[256];
	boot_cfg_init(&cfg, &boot_profile_uboot_bootcount);
	assert_int_equal(boot_cfg_check(&cfg, err, sizeof(err)), 0);
	assert_int_equal(boot_cfg_set(&cfg, "slot_b", "a", err, sizeof(err)), 0);
	assert_int_equal(boot_cfg_check(&cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "slot_a and slot_b are both 'a'"));
	boot_cfg_init(&cfg, &boot_profile_uboot_bootcount);
	assert_int_equal(boot_cfg_set(&cfg, "count_var", "bootlimit", err, sizeof(err)), 0);
	assert_int_equal(boot_cfg_check(&cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "count_var and limit_var"));
}

/* The record behind events: first value seen, last value, written only
 * when the value changed. */
static void test_boot_put_records_old_and_new_values(void **state)
{
	(void)state;
	struct ubootenv env;
	struct boot_decision d;
	assert_int_equal(boot_env_from(&env, "a=1|b=2|c=3"), 0);
	boot_decision_init(&d, &boot_profile_uboot_bootcount);

	assert_string_equal(boot_get(&d, &env, "a"), "1");
	assert_int_equal(boot_put(&d, &env, "b", "2"), 0); /* same value: a read */
	assert_int_equal(boot_put(&d, &env, "c", "4"), 0);
	assert_int_equal(boot_put(&d, &env, "c", "5"), 0);
	assert_int_equal(boot_put(&d, &env, "new", "x"), 0);
	assert_int_equal(boot_put(&d, &env, "a", NULL), 0);
	assert_null(boot_get(&d, &env, "never"));
	assert_true(d.env_changed);
	assert_int_equal(d.nvars, 5);

	const struct boot_var *v = boot_decision_var(&d, "a");
	assert_true(v->written && v->had_old && !v->has_new);
	assert_string_equal(v->old, "1");
	v = boot_decision_var(&d, "b");
	assert_false(v->written);
	v = boot_decision_var(&d, "c");
	assert_true(v->written);
	assert_string_equal(v->old, "3");
	assert_string_equal(v->new, "5");
	v = boot_decision_var(&d, "new");
	assert_true(v->written && !v->had_old && v->has_new);
	v = boot_decision_var(&d, "never");
	assert_true(!v->written && !v->had_old);

	/* a write and its undo leave the variable as read, not written */
	assert_int_equal(boot_put(&d, &env, "c", "3"), 0);
	assert_false(boot_decision_var(&d, "c")->written);

	char line[1024];
	boot_decision_describe(&d, line, sizeof(line));
	assert_non_null(strstr(line, " a=1->(unset)"));
	assert_non_null(strstr(line, " new=(unset)->x"));
	assert_non_null(strstr(line, " b=2"));
	ubootenv_free(&env);
}

static void test_boot_put_cuts_long_values_and_flags_overflow(void **state)
{
	(void)state;
	struct ubootenv env;
	struct boot_decision d;
	char long_value[200], name[16];
	memset(long_value, 'v', sizeof(long_value) - 1);
	long_value[sizeof(long_value) - 1] = '\0';
	ubootenv_init(&env);
	boot_decision_init(&d, &boot_profile_uboot_bootcount);
	assert_int_equal(boot_put(&d, &env, "long", long_value), 0);
	const struct boot_var *v = boot_decision_var(&d, "long");
	assert_int_equal(strlen(v->new), BOOT_VAR_VALUE_MAX - 1);
	assert_string_equal(v->new + BOOT_VAR_VALUE_MAX - 4, "...");
	/* the env itself keeps the whole value */
	assert_string_equal(ubootenv_get(&env, "long"), long_value);
	for (int i = 0; i < BOOT_VARS_MAX; i++) {
		snprintf(name, sizeof(name), "v%d", i);
		assert_int_equal(boot_put(&d, &env, name, "1"), 0);
	}
	assert_true(d.vars_overflow);
	assert_int_equal(d.nvars, BOOT_VARS_MAX);
	assert_string_equal(ubootenv_get(&env, "v15"), "1");
	ubootenv_free(&env);
}

/* A stand-in profile for the driver: each pass does what its script says. */
static enum boot_action fake_choose_action, fake_fallback_action;
static int fake_fallback_slot;

static int fake_choose(const struct boot_profile_cfg *cfg, struct ubootenv *env,
		       struct boot_decision *d)
{
	(void)cfg;
	int rc = boot_put_u64(d, env, "passes",
			      uboot_env_ulong(ubootenv_get(env, "passes"), 10, 0) + 1);
	if (fake_choose_action == BOOT_ACTION_BOOT)
		boot_pick(d, 0, "a");
	else if (fake_choose_action == BOOT_ACTION_RESET)
		boot_reset(d, "reset");
	else
		boot_halt(d, "halt");
	return rc;
}

static int fake_fallback(const struct boot_profile_cfg *cfg, struct ubootenv *env,
			 struct boot_decision *d)
{
	(void)cfg;
	(void)env;
	if (fake_fallback_action == BOOT_ACTION_BOOT)
		boot_pick(d, fake_fallback_slot, fake_fallback_slot ? "b" : "a");
	else if (fake_fallback_action == BOOT_ACTION_RESET)
		boot_reset(d, "fallback reset");
	else
		boot_halt(d, "fallback halt");
	return 0;
}

static const struct boot_option fake_options[] = { { NULL, 0, NULL, NULL } };
static const struct boot_profile fake_profile = {
	.name = "fake",
	.options = fake_options,
	.choose = fake_choose,
	.fallback = fake_fallback,
};

struct driver_ctx {
	bool bootable[BOOT_SLOTS];
	int asked[BOOT_SLOTS];
	int passes_seen;
};

static bool driver_bootable(int slot, const char *name, void *arg)
{
	struct driver_ctx *c = arg;
	assert_true(slot == 0 || slot == 1);
	assert_string_equal(name, slot ? "b" : "a");
	c->asked[slot]++;
	return c->bootable[slot];
}

static void driver_pass(const struct boot_decision *d, void *arg)
{
	(void)d;
	((struct driver_ctx *)arg)->passes_seen++;
}

static void test_boot_power_on_boots_a_bootable_slot_in_one_pass(void **state)
{
	(void)state;
	struct boot_profile_cfg cfg;
	struct ubootenv env;
	struct boot_outcome out;
	struct driver_ctx ctx = { { true, true }, { 0 }, 0 };
	boot_cfg_init(&cfg, &fake_profile);
	ubootenv_init(&env);
	fake_choose_action = BOOT_ACTION_BOOT;
	assert_int_equal(boot_power_on(&cfg, &env, driver_bootable, driver_pass, &ctx, &out), 0);
	assert_int_equal(out.decision.action, BOOT_ACTION_BOOT);
	assert_int_equal(out.decision.slot, 0);
	assert_int_equal(out.passes, 1);
	assert_int_equal(ctx.passes_seen, 1);
	assert_true(out.env_changed);
	assert_false(out.reset_loop);
	ubootenv_free(&env);
}

static void test_boot_power_on_reports_both_slots_unbootable(void **state)
{
	(void)state;
	struct boot_profile_cfg cfg;
	struct ubootenv env;
	struct boot_outcome out;
	struct driver_ctx ctx = { { false, false }, { 0 }, 0 };
	boot_cfg_init(&cfg, &fake_profile);
	ubootenv_init(&env);
	fake_choose_action = BOOT_ACTION_BOOT;
	fake_fallback_action = BOOT_ACTION_BOOT;
	fake_fallback_slot = 1;
	/* a fallback that keeps handing back slot b gives up, as a safety net */
	assert_int_equal(boot_power_on(&cfg, &env, driver_bootable, NULL, &ctx, &out), 0);
	assert_int_equal(out.decision.action, BOOT_ACTION_HALT);
	assert_int_equal(out.decision.slot, -1);
	assert_true(out.unbootable[0] && out.unbootable[1]);
	assert_non_null(strstr(out.decision.why, "gave up after 8 unbootable slots"));
	ubootenv_free(&env);
}

static void test_boot_power_on_runs_the_bootloader_again_after_a_reset(void **state)
{
	(void)state;
	struct boot_profile_cfg cfg;
	struct ubootenv env;
	struct boot_outcome out;
	struct driver_ctx ctx = { { false, true }, { 0 }, 0 };
	boot_cfg_init(&cfg, &fake_profile);
	ubootenv_init(&env);
	/* slot a fails and the fallback resets: every pass fails the same way */
	fake_choose_action = BOOT_ACTION_BOOT;
	fake_fallback_action = BOOT_ACTION_RESET;
	assert_int_equal(boot_power_on(&cfg, &env, driver_bootable, driver_pass, &ctx, &out), 0);
	assert_true(out.reset_loop);
	assert_int_equal(out.passes, BOOT_MAX_PASSES);
	assert_int_equal(ctx.passes_seen, BOOT_MAX_PASSES);
	assert_int_equal(ctx.asked[0], BOOT_MAX_PASSES);
	assert_int_equal(out.decision.action, BOOT_ACTION_HALT);
	assert_non_null(strstr(out.decision.why, "reset loop"));
	assert_string_equal(ubootenv_get(&env, "passes"), "64");
	ubootenv_free(&env);

	/* a choose that resets by itself loops the same way */
	ubootenv_init(&env);
	fake_choose_action = BOOT_ACTION_RESET;
	assert_int_equal(boot_power_on(&cfg, &env, driver_bootable, NULL, &ctx, &out), 0);
	assert_true(out.reset_loop);
	assert_int_equal(out.passes, BOOT_MAX_PASSES);
	ubootenv_free(&env);
}

static void test_boot_power_on_halt_is_final(void **state)
{
	(void)state;
	struct boot_profile_cfg cfg;
	struct ubootenv env;
	struct boot_outcome out;
	struct driver_ctx ctx = { { true, true }, { 0 }, 0 };
	boot_cfg_init(&cfg, &fake_profile);
	ubootenv_init(&env);
	fake_choose_action = BOOT_ACTION_HALT;
	assert_int_equal(boot_power_on(&cfg, &env, driver_bootable, NULL, &ctx, &out), 0);
	assert_int_equal(out.decision.action, BOOT_ACTION_HALT);
	assert_int_equal(out.passes, 1);
	assert_int_equal(ctx.asked[0] + ctx.asked[1], 0);
	ubootenv_free(&env);
}

/* U-Boot's numbers (u-boot 6073c36b). */
static void test_uboot_strtoul_reads_numbers_as_uboot_does(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		unsigned base;
		uint64_t want;
	} cases[] = {
		/* lib/strto.c:65-68: digits until the first one not below the base */
		{ "12", 10, 12 },
		{ "12abc", 10, 12 },
		{ "abc", 10, 0 },
		{ "", 10, 0 },
		/* no sign and no leading space in simple_strtoul */
		{ "-1", 10, 0 },
		{ " 1", 10, 0 },
		{ "+1", 10, 0 },
		/* lib/strto.c:21-26: "0x" switches to hex whatever the base */
		{ "0x10", 10, 16 },
		{ "0X1f", 10, 31 },
		{ "0x", 16, 0 },
		/* lib/strto.c:27-29: a leading 0 is octal only for base 0 */
		{ "010", 0, 8 },
		{ "010", 10, 10 },
		{ "019", 0, 1 },
		/* lib/strto.c:50-55: hex digits either case */
		{ "fF", 16, 255 },
		{ "ffffffffffffffff", 16, UINT64_MAX },
		/* ulong arithmetic wraps */
		{ "18446744073709551616", 10, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (uboot_strtoul(cases[i].s, cases[i].base) != cases[i].want)
			fail_msg("uboot_strtoul(\"%s\", %u) = %llu, want %llu", cases[i].s,
				 cases[i].base,
				 (unsigned long long)uboot_strtoul(cases[i].s, cases[i].base),
				 (unsigned long long)cases[i].want);
	/* lib/strto.c:115-120: simple_strtol negates after a '-' */
	assert_int_equal(uboot_strtol("-5", 10), -5);
	assert_int_equal(uboot_strtol("0xffffffffffffffff", 0), -1);
	assert_int_equal(uboot_strtol("0x3", 0), 3);
	assert_int_equal(uboot_strtol("0x-1", 0), 0);
	assert_true(uboot_strtol("-9223372036854775808", 10) == INT64_MIN);
	/* lib/strto.c:65-68 alone, without the prefix rules */
	assert_int_equal(uboot_digits("0x3", 16), 0);
	assert_int_equal(uboot_digits("1f", 16), 31);
	assert_int_equal(uboot_digits("19", 8), 1);
	/* env/common.c:323-332: the default only when the variable is unset */
	assert_int_equal(uboot_env_ulong(NULL, 10, 7), 7);
	assert_int_equal(uboot_env_ulong("", 10, 7), 0);
}

static void test_uboot_test_eq_is_true_for_an_empty_operand(void **state)
{
	(void)state;
	/* common/cli_hush.c:2453: an empty unquoted word is dropped, so
	 * `test ${v} = 2` runs as `test = 2`; cmd/test.c:123-126 finds no
	 * operator and sets expr = 1, which returns success */
	assert_true(uboot_test_unquoted_eq(NULL, "2"));
	assert_true(uboot_test_unquoted_eq("", "2"));
	/* cmd/test.c:139-141: otherwise a string comparison */
	assert_true(uboot_test_unquoted_eq("2", "2"));
	assert_false(uboot_test_unquoted_eq("02", "2"));
	assert_false(uboot_test_unquoted_eq("=", "2"));
	assert_false(uboot_test_unquoted_eq("!", "2"));
}

static void test_uboot_hush_plain_refuses_what_hush_would_reparse(void **state)
{
	(void)state;
	assert_true(uboot_hush_plain(NULL));
	assert_true(uboot_hush_plain(""));
	assert_true(uboot_hush_plain("0x1f"));
	assert_true(uboot_hush_plain("/dev/mmcblk0p2"));
	/* common/cli_hush.c:3615 make_string re-parses the substituted text */
	const char *bad[] = { "2 3", "2\t", "2;reset", "'2'", "\"2\"", "$x", "a\\b", "a|b", "a#b" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (uboot_hush_plain(bad[i]))
			fail_msg("'%s' counted as plain", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boot_profile_find_knows_each_profile_by_name),
		cmocka_unit_test(test_boot_cfg_set_rejects_unknown_options_and_bad_values),
		cmocka_unit_test(test_boot_cfg_set_replaces_and_has_room_for_every_option),
		cmocka_unit_test(test_boot_cfg_check_refuses_one_name_for_two_things),
		cmocka_unit_test(test_boot_put_records_old_and_new_values),
		cmocka_unit_test(test_boot_put_cuts_long_values_and_flags_overflow),
		cmocka_unit_test(test_boot_power_on_boots_a_bootable_slot_in_one_pass),
		cmocka_unit_test(test_boot_power_on_reports_both_slots_unbootable),
		cmocka_unit_test(test_boot_power_on_runs_the_bootloader_again_after_a_reset),
		cmocka_unit_test(test_boot_power_on_halt_is_final),
		cmocka_unit_test(test_uboot_strtoul_reads_numbers_as_uboot_does),
		cmocka_unit_test(test_uboot_test_eq_is_true_for_an_empty_operand),
		cmocka_unit_test(test_uboot_hush_plain_refuses_what_hush_would_reparse),
	};
	return vh_run_tests(tests, NULL, NULL);
}
