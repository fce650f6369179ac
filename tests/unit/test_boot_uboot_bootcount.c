/* Unit tests for the uboot-bootcount profile (harness/boot/
 * profile_uboot_bootcount.c): the reference firmware's bootloader
 * (docs/ota-protocol.md "Boot", "ota:N" below is its line N) on U-Boot's
 * bootcount with the env backend (u-boot 6073c36b: include/bootcount.h,
 * drivers/bootcount/bootcount_env.c), with the variable names configurable.
 * tests/unit/test_boot_chooser.c pins the same rules through the
 * boot_chooser shape, which is this profile with its defaults. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "boot_chooser.h"
#include "boot_env_spec.h"
#include "boot_profile.h"
#include "test_skip.h"

struct uboot_case {
	const char *before; /* env at power-on ("" = blank) */
	bool bootable[BOOT_SLOTS];
	enum boot_action action;
	int slot;
	bool trial, rolled_back;
	int64_t bootcount;
	const char *after; /* env after the power-on */
	bool changed;
};

#define COMMITTED_A "boot_slot=a|upgrade_available=0|bootcount=0|bootlimit=3"
#define OK                                                                                         \
	{                                                                                          \
		true, true                                                                         \
	}

static const struct uboot_case cases[] = {
	/* blank env: the reference defaults, written back (boot_chooser.h) */
	{ "", OK, BOOT_ACTION_BOOT, 0, false, false, 0,
	  "boot_slot=a|upgrade_available=0|bootcount=0|bootlimit=3", true },
	/* bootcount_env.c:19-28 bootcount_load: 0 while upgrade_available=0, and
	 * :9-17 bootcount_store saves nothing then: a committed slot boots as is */
	{ COMMITTED_A, OK, BOOT_ACTION_BOOT, 0, false, false, 0, COMMITTED_A, false },
	{ "boot_slot=b|upgrade_available=0|bootcount=7|bootlimit=3", OK, BOOT_ACTION_BOOT, 1, false,
	  false, 0, "boot_slot=b|bootcount=7", false },
	/* bootcount.h:119-135 bootcount_inc: a trial boot counts and is stored
	 * (ota:57 "if upgrade_available=1: bootcount += 1") */
	{ "boot_slot=b|upgrade_available=1|bootcount=0|bootlimit=3", OK, BOOT_ACTION_BOOT, 1, true,
	  false, 1, "boot_slot=b|upgrade_available=1|bootcount=1", true },
	/* bootcount.h:107 "bootlimit && bootcount > bootlimit": equal still boots */
	{ "boot_slot=b|upgrade_available=1|bootcount=2|bootlimit=3", OK, BOOT_ACTION_BOOT, 1, true,
	  false, 3, "boot_slot=b|bootcount=3", true },
	/* bootcount.h:107 exceeded: altbootcmd; ota:57-58 "roll back (boot_slot =
	 * other slot, upgrade_available=0, bootcount=0)" */
	{ "boot_slot=b|upgrade_available=1|bootcount=3|bootlimit=3", OK, BOOT_ACTION_BOOT, 0, false,
	  true, 0, "boot_slot=a|upgrade_available=0|bootcount=0", true },
	{ "boot_slot=a|upgrade_available=1|bootcount=1|bootlimit=1", OK, BOOT_ACTION_BOOT, 1, false,
	  true, 0, "boot_slot=b|upgrade_available=0|bootcount=0", true },
	/* bootcount.h:107 "bootlimit &&": 0 disables the limit */
	{ "boot_slot=b|upgrade_available=1|bootcount=99|bootlimit=0", OK, BOOT_ACTION_BOOT, 1, true,
	  false, 100, "bootcount=100", true },
	/* ota:66 "A bundle that fails to parse = that slot is unbootable: roll
	 * back the same way" */
	{ "boot_slot=b|upgrade_available=1|bootcount=0|bootlimit=3",
	  { true, false },
	  BOOT_ACTION_BOOT,
	  0,
	  false,
	  true,
	  0,
	  "boot_slot=a|upgrade_available=0|bootcount=0",
	  true },
	{ COMMITTED_A,
	  { false, true },
	  BOOT_ACTION_BOOT,
	  1,
	  false,
	  true,
	  0,
	  "boot_slot=b|upgrade_available=0|bootcount=0",
	  true },
	/* ...once per power-on: the other slot unbootable too means nothing
	 * boots (the env keeps the rollback, as U-Boot would have saved it) */
	{ "boot_slot=b|upgrade_available=1|bootcount=0|bootlimit=3",
	  { false, false },
	  BOOT_ACTION_HALT,
	  -1,
	  false,
	  true,
	  0,
	  "boot_slot=a|upgrade_available=0|bootcount=0",
	  true },
	/* a rollback by the limit whose target is unbootable goes back once */
	{ "boot_slot=b|upgrade_available=1|bootcount=3|bootlimit=3",
	  { false, true },
	  BOOT_ACTION_BOOT,
	  1,
	  false,
	  true,
	  0,
	  "boot_slot=b|upgrade_available=0|bootcount=0",
	  true },
	/* garbled values: the safe defaults, normalised (boot_chooser.h) */
	{ "boot_slot=c|upgrade_available=0|bootcount=0|bootlimit=3", OK, BOOT_ACTION_BOOT, 0, false,
	  false, 0, "boot_slot=a", true },
	{ "boot_slot=b|upgrade_available=yes|bootcount=2|bootlimit=3", OK, BOOT_ACTION_BOOT, 1,
	  false, false, 0, "upgrade_available=0|bootcount=2", true },
	{ "boot_slot=b|upgrade_available=1|bootcount=x|bootlimit=3", OK, BOOT_ACTION_BOOT, 1, true,
	  false, 1, "bootcount=1", true },
	{ "boot_slot=b|upgrade_available=1|bootcount=3|bootlimit=x", OK, BOOT_ACTION_BOOT, 0, false,
	  true, 0, "boot_slot=a|bootlimit=3", true },
};

struct bootable_ctx {
	const bool *ok;
};

static bool case_bootable(int slot, const char *name, void *arg)
{
	(void)name;
	return ((struct bootable_ctx *)arg)->ok[slot];
}

static void run_cases(const struct boot_profile_cfg *cfg, const char *(*rename)(const char *))
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct uboot_case *t = &cases[i];
		char before[512], after[512], msg[256], line[2048];
		snprintf(before, sizeof(before), "%s", rename(t->before));
		snprintf(after, sizeof(after), "%s", rename(t->after));
		struct ubootenv env;
		struct boot_outcome out;
		struct bootable_ctx ctx = { t->bootable };
		assert_int_equal(boot_env_from(&env, before), 0);
		assert_int_equal(boot_power_on(cfg, &env, case_bootable, NULL, &ctx, &out), 0);
		const struct boot_decision *d = &out.decision;
		boot_decision_describe(d, line, sizeof(line));
		if (d->action != t->action || d->slot != t->slot || d->trial != t->trial ||
		    d->rolled_back != t->rolled_back || out.env_changed != t->changed ||
		    (t->action == BOOT_ACTION_BOOT && d->bootcount != t->bootcount))
			fail_msg("case %zu '%s': %s", i, before, line);
		if (!boot_env_matches(&env, after, msg, sizeof(msg)))
			fail_msg("case %zu '%s': env %s (%s)", i, before, msg, line);
		ubootenv_free(&env);
	}
}

static const char *same(const char *s)
{
	return s;
}

static void test_uboot_bootcount_applies_the_bootcount_rules(void **state)
{
	(void)state;
	struct boot_profile_cfg cfg;
	boot_cfg_init(&cfg, &boot_profile_uboot_bootcount);
	run_cases(&cfg, same);
}

/* The same rules under a firmware's own names. */
static const char *renamed(const char *s)
{
	static char buf[512];
	static const char *const from[] = { "boot_slot", "upgrade_available",
					    "bootcount", "bootlimit",
					    "=a",	 "=b" };
	static const char *const to[] = { "active", "trying", "tries", "max_tries", "=A", "=B" };
	char tmp[512];
	snprintf(buf, sizeof(buf), "%s", s);
	for (size_t k = 0; k < 6; k++) {
		char *p;
		size_t at = 0;
		while ((p = strstr(buf + at, from[k]))) {
			/* "=a" only as a whole value */
			if (k >= 4 && p[2] != '\0' && p[2] != '|') {
				at = (size_t)(p - buf) + 1;
				continue;
			}
			snprintf(tmp, sizeof(tmp), "%.*s%s%s", (int)(p - buf), buf, to[k],
				 p + strlen(from[k]));
			at = (size_t)(p - buf) + strlen(to[k]);
			snprintf(buf, sizeof(buf), "%s", tmp);
		}
	}
	return buf;
}

static void test_uboot_bootcount_follows_configured_names(void **state)
{
	(void)state;
	struct boot_profile_cfg cfg;
	char err[256];
	boot_cfg_init(&cfg, &boot_profile_uboot_bootcount);
	assert_int_equal(boot_cfg_set(&cfg, "slot_var", "active", err, sizeof(err)), 0);
	assert_int_equal(boot_cfg_set(&cfg, "upgrade_var", "trying", err, sizeof(err)), 0);
	assert_int_equal(boot_cfg_set(&cfg, "count_var", "tries", err, sizeof(err)), 0);
	assert_int_equal(boot_cfg_set(&cfg, "limit_var", "max_tries", err, sizeof(err)), 0);
	assert_int_equal(boot_cfg_set(&cfg, "slot_a", "A", err, sizeof(err)), 0);
	assert_int_equal(boot_cfg_set(&cfg, "slot_b", "B", err, sizeof(err)), 0);
	assert_int_equal(boot_cfg_check(&cfg, err, sizeof(err)), 0);
	assert_string_equal(renamed("boot_slot=a|bootlimit=3|x=ab"), "active=A|max_tries=3|x=ab");
	run_cases(&cfg, renamed);

	/* and the reference names are plain variables then */
	struct ubootenv env;
	struct boot_decision d;
	assert_int_equal(boot_env_from(&env, "boot_slot=b|active=B|trying=0|tries=0|max_tries=3"),
			 0);
	assert_int_equal(boot_profile_choose(&cfg, &env, &d), 0);
	assert_string_equal(d.slot_name, "B");
	assert_false(d.env_changed);
	assert_null(boot_decision_var(&d, "boot_slot"));
	ubootenv_free(&env);
}

static void test_uboot_bootcount_default_bootlimit_is_configurable(void **state)
{
	(void)state;
	struct boot_profile_cfg cfg;
	struct ubootenv env;
	struct boot_decision d;
	char err[256];
	boot_cfg_init(&cfg, &boot_profile_uboot_bootcount);
	assert_int_equal(boot_cfg_set(&cfg, "default_bootlimit", "1", err, sizeof(err)), 0);
	ubootenv_init(&env);
	assert_int_equal(boot_profile_choose(&cfg, &env, &d), 0);
	assert_int_equal(d.bootlimit, 1);
	assert_string_equal(ubootenv_get(&env, "bootlimit"), "1");
	ubootenv_free(&env);
}

/* Each pass names the variables it read and wrote, old -> new. */
static void test_uboot_bootcount_decision_lists_variables(void **state)
{
	(void)state;
	struct boot_profile_cfg cfg;
	struct ubootenv env;
	struct boot_decision d;
	boot_cfg_init(&cfg, &boot_profile_uboot_bootcount);
	assert_int_equal(boot_env_from(&env, "boot_slot=b|upgrade_available=1|bootcount=1|"
					     "bootlimit=1|version_b=2.0.0"),
			 0);
	assert_int_equal(boot_profile_choose(&cfg, &env, &d), 0);
	assert_string_equal(d.profile, "uboot-bootcount");
	assert_int_equal(d.nvars, 4);
	const struct boot_var *v = boot_decision_var(&d, "bootcount");
	assert_true(v->written);
	assert_string_equal(v->old, "1");
	assert_string_equal(v->new, "0");
	v = boot_decision_var(&d, "boot_slot");
	assert_string_equal(v->old, "b");
	assert_string_equal(v->new, "a");
	assert_false(boot_decision_var(&d, "bootlimit")->written);
	assert_null(boot_decision_var(&d, "version_b"));
	assert_non_null(strstr(d.why, "bootcount 2 > bootlimit 1: altbootcmd"));
	ubootenv_free(&env);
}

/* boot_chooser (the device room's shape) gives what the profile gives. */
static void test_boot_chooser_is_the_profile_with_its_defaults(void **state)
{
	(void)state;
	struct boot_profile_cfg cfg;
	boot_cfg_init(&cfg, &boot_profile_uboot_bootcount);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ubootenv a, b;
		struct boot_choice c;
		struct boot_decision d;
		assert_int_equal(boot_env_from(&a, cases[i].before), 0);
		assert_int_equal(boot_env_from(&b, cases[i].before), 0);
		assert_int_equal(boot_choose(&a, &c), 0);
		assert_int_equal(boot_profile_choose(&cfg, &b, &d), 0);
		assert_int_equal(c.slot, d.slot == 1 ? 'b' : 'a');
		assert_int_equal(c.bootcount, d.bootcount);
		assert_int_equal(c.bootlimit, d.bootlimit);
		assert_int_equal(c.trial, d.trial);
		assert_int_equal(c.rolled_back, d.rolled_back);
		assert_int_equal(c.env_changed, d.env_changed);
		if (!cases[i].bootable[c.slot == 'b']) {
			assert_int_equal(boot_choose_fallback(&a, &c), 0);
			assert_int_equal(boot_profile_fallback(&cfg, &b, &d), 0);
			assert_int_equal(c.slot, d.slot == 1 ? 'b' : 'a');
			assert_int_equal(c.rollback_from, d.rollback_from == 1 ? 'b' : 'a');
		}
		assert_int_equal(a.count, b.count);
		for (size_t k = 0; k < a.count; k++) {
			assert_string_equal(a.pairs[k].key, b.pairs[k].key);
			assert_string_equal(a.pairs[k].value, b.pairs[k].value);
		}
		ubootenv_free(&a);
		ubootenv_free(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uboot_bootcount_applies_the_bootcount_rules),
		cmocka_unit_test(test_uboot_bootcount_follows_configured_names),
		cmocka_unit_test(test_uboot_bootcount_default_bootlimit_is_configurable),
		cmocka_unit_test(test_uboot_bootcount_decision_lists_variables),
		cmocka_unit_test(test_boot_chooser_is_the_profile_with_its_defaults),
	};
	return vh_run_tests(tests, NULL, NULL);
}
