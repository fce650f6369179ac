/* Unit tests for the A/B boot chooser (harness/ota/boot_chooser.c): U-Boot's
 * bootcount rules as the v0 OTA contract states them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "boot_chooser.h"
#include "test_skip.h"

/* Builds an env from "k=v k=v ..." (a key given as "k" alone is left out). */
static void env_from(struct ubootenv *env, const char *spec)
{
	ubootenv_init(env);
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq)
			continue;
		*eq = '\0';
		assert_int_equal(ubootenv_set(env, tok, eq + 1), 0);
	}
}

static void assert_env(const struct ubootenv *env, const char *key, const char *want)
{
	const char *got = ubootenv_get(env, key);
	if (!got || strcmp(got, want) != 0)
		fail_msg("env %s: got '%s', want '%s'", key, got ? got : "(absent)", want);
}

struct transition {
	const char *before;
	/* expected choice */
	char slot;
	uint32_t bootcount;
	bool trial, rolled_back;
	char from;
	bool changed;
	/* expected env after */
	const char *after_slot, *after_upgrade, *after_count;
};

static const struct transition table[] = {
	/* committed slots: nothing counts, nothing changes */
	{ "boot_slot=a upgrade_available=0 bootcount=0 bootlimit=3", 'a', 0, false, false, 0, false,
	  "a", "0", "0" },
	{ "boot_slot=b upgrade_available=0 bootcount=0 bootlimit=3", 'b', 0, false, false, 0, false,
	  "b", "0", "0" },
	/* U-Boot ignores a stale bootcount while upgrade_available=0 */
	{ "boot_slot=b upgrade_available=0 bootcount=7 bootlimit=3", 'b', 0, false, false, 0, false,
	  "b", "0", "7" },
	/* trial boots count up to the limit... */
	{ "boot_slot=b upgrade_available=1 bootcount=0 bootlimit=3", 'b', 1, true, false, 0, true,
	  "b", "1", "1" },
	{ "boot_slot=b upgrade_available=1 bootcount=1 bootlimit=3", 'b', 2, true, false, 0, true,
	  "b", "1", "2" },
	/* bootcount == bootlimit after the increment still boots the trial */
	{ "boot_slot=b upgrade_available=1 bootcount=2 bootlimit=3", 'b', 3, true, false, 0, true,
	  "b", "1", "3" },
	/* ...and bootcount > bootlimit runs altbootcmd: back to the other slot */
	{ "boot_slot=b upgrade_available=1 bootcount=3 bootlimit=3", 'a', 0, false, true, 'b', true,
	  "a", "0", "0" },
	{ "boot_slot=a upgrade_available=1 bootcount=3 bootlimit=3", 'b', 0, false, true, 'a', true,
	  "b", "0", "0" },
	/* a count already far past the limit rolls back too */
	{ "boot_slot=b upgrade_available=1 bootcount=50 bootlimit=3", 'a', 0, false, true, 'b',
	  true, "a", "0", "0" },
	/* bootlimit=1: one trial boot, the second rolls back */
	{ "boot_slot=b upgrade_available=1 bootcount=0 bootlimit=1", 'b', 1, true, false, 0, true,
	  "b", "1", "1" },
	{ "boot_slot=b upgrade_available=1 bootcount=1 bootlimit=1", 'a', 0, false, true, 'b', true,
	  "a", "0", "0" },
	/* bootlimit=0 disables the limit, as in U-Boot */
	{ "boot_slot=b upgrade_available=1 bootcount=99 bootlimit=0", 'b', 100, true, false, 0,
	  true, "b", "1", "100" },
	/* garbled values: safe defaults */
	{ "", 'a', 0, false, false, 0, true, "a", "0", "0" },
	{ "boot_slot=c upgrade_available=0 bootcount=0 bootlimit=3", 'a', 0, false, false, 0, true,
	  "a", "0", "0" },
	{ "boot_slot=B upgrade_available=0 bootcount=0 bootlimit=3", 'a', 0, false, false, 0, true,
	  "a", "0", "0" },
	{ "boot_slot=ab upgrade_available=0 bootcount=0 bootlimit=3", 'a', 0, false, false, 0, true,
	  "a", "0", "0" },
	{ "boot_slot=b upgrade_available=yes bootcount=2 bootlimit=3", 'b', 0, false, false, 0,
	  true, "b", "0", "2" },
	{ "boot_slot=b upgrade_available=1 bootcount=x bootlimit=3", 'b', 1, true, false, 0, true,
	  "b", "1", "1" },
	{ "boot_slot=b upgrade_available=1 bootcount=-1 bootlimit=3", 'b', 1, true, false, 0, true,
	  "b", "1", "1" },
	{ "boot_slot=b upgrade_available=1 bootcount=3 bootlimit=x", 'a', 0, false, true, 'b', true,
	  "a", "0", "0" },
	{ "boot_slot=b upgrade_available=1 bootcount=2", 'b', 3, true, false, 0, true, "b", "1",
	  "3" },
	/* an out-of-range count is garbled too: counting restarts at 1 */
	{ "boot_slot=b upgrade_available=1 bootcount=99999999999 bootlimit=3", 'b', 1, true, false,
	  0, true, "b", "1", "1" },
};

static void test_boot_choose_transition_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const struct transition *t = &table[i];
		struct ubootenv env;
		struct boot_choice c;
		env_from(&env, t->before);
		assert_int_equal(boot_choose(&env, &c), 0);
		if (c.slot != t->slot || c.bootcount != t->bootcount || c.trial != t->trial ||
		    c.rolled_back != t->rolled_back || c.rollback_from != t->from ||
		    c.env_changed != t->changed)
			fail_msg(
				"case %zu '%s': slot %c count %u trial %d rb %d from %c changed %d",
				i, t->before, c.slot, c.bootcount, c.trial, c.rolled_back,
				c.rollback_from ? c.rollback_from : '-', c.env_changed);
		assert_env(&env, "boot_slot", t->after_slot);
		assert_env(&env, "upgrade_available", t->after_upgrade);
		assert_env(&env, "bootcount", t->after_count);
		ubootenv_free(&env);
	}
}

static void test_boot_choose_fills_defaults_in_an_empty_env(void **state)
{
	(void)state;
	struct ubootenv env;
	struct boot_choice c;
	ubootenv_init(&env);
	assert_int_equal(boot_choose(&env, &c), 0);
	assert_int_equal(c.slot, 'a');
	assert_int_equal(c.bootlimit, 3);
	assert_true(c.env_changed);
	assert_env(&env, "boot_slot", "a");
	assert_env(&env, "upgrade_available", "0");
	assert_env(&env, "bootcount", "0");
	assert_env(&env, "bootlimit", "3");
	/* a second power-on of the normalised env changes nothing */
	assert_int_equal(boot_choose(&env, &c), 0);
	assert_false(c.env_changed);
	ubootenv_free(&env);
}

static void test_boot_choose_keeps_other_keys(void **state)
{
	(void)state;
	struct ubootenv env;
	struct boot_choice c;
	env_from(&env, "version_a=1.0.0 boot_slot=b upgrade_available=1 bootcount=3 bootlimit=3 "
		       "version_b=2.0.0");
	assert_int_equal(boot_choose(&env, &c), 0);
	assert_true(c.rolled_back);
	assert_env(&env, "version_a", "1.0.0");
	assert_env(&env, "version_b", "2.0.0");
	ubootenv_free(&env);
}

/* An update that never becomes healthy: trial boots 1..bootlimit, then the
 * rollback, then plain boots of the old slot. */
static void test_boot_choose_unhealthy_update_rolls_back_after_bootlimit(void **state)
{
	(void)state;
	struct ubootenv env;
	struct boot_choice c;
	env_from(&env, "boot_slot=b upgrade_available=1 bootcount=0 bootlimit=3");
	for (uint32_t n = 1; n <= 3; n++) {
		assert_int_equal(boot_choose(&env, &c), 0);
		assert_int_equal(c.slot, 'b');
		assert_true(c.trial);
		assert_int_equal(c.bootcount, n);
	}
	assert_int_equal(boot_choose(&env, &c), 0);
	assert_int_equal(c.slot, 'a');
	assert_true(c.rolled_back);
	assert_int_equal(c.rollback_from, 'b');
	assert_false(c.trial);
	for (int n = 0; n < 3; n++) {
		assert_int_equal(boot_choose(&env, &c), 0);
		assert_int_equal(c.slot, 'a');
		assert_false(c.rolled_back);
		assert_false(c.trial);
		assert_false(c.env_changed);
	}
	ubootenv_free(&env);
}

/* The agent commits after the first trial boot: later boots stay on b. */
static void test_boot_choose_committed_update_stays(void **state)
{
	(void)state;
	struct ubootenv env;
	struct boot_choice c;
	env_from(&env, "boot_slot=b upgrade_available=1 bootcount=0 bootlimit=3");
	assert_int_equal(boot_choose(&env, &c), 0);
	assert_true(c.trial);
	assert_int_equal(ubootenv_set(&env, "upgrade_available", "0"), 0);
	assert_int_equal(ubootenv_set(&env, "bootcount", "0"), 0);
	for (int n = 0; n < 5; n++) {
		assert_int_equal(boot_choose(&env, &c), 0);
		assert_int_equal(c.slot, 'b');
		assert_false(c.trial);
	}
	ubootenv_free(&env);
}

static void test_boot_choose_fallback_rolls_back_from_the_unbootable_slot(void **state)
{
	(void)state;
	struct ubootenv env;
	struct boot_choice c;
	/* trial slot b has a garbage bundle */
	env_from(&env, "boot_slot=b upgrade_available=1 bootcount=0 bootlimit=3");
	assert_int_equal(boot_choose(&env, &c), 0);
	assert_true(c.trial);
	assert_int_equal(boot_choose_fallback(&env, &c), 0);
	assert_int_equal(c.slot, 'a');
	assert_true(c.rolled_back);
	assert_int_equal(c.rollback_from, 'b');
	assert_false(c.trial);
	assert_int_equal(c.bootcount, 0);
	assert_true(c.env_changed);
	assert_env(&env, "boot_slot", "a");
	assert_env(&env, "upgrade_available", "0");
	assert_env(&env, "bootcount", "0");
	ubootenv_free(&env);

	/* a committed slot a that turns out empty falls to b */
	env_from(&env, "boot_slot=a upgrade_available=0 bootcount=0 bootlimit=3");
	assert_int_equal(boot_choose(&env, &c), 0);
	assert_false(c.env_changed);
	assert_int_equal(boot_choose_fallback(&env, &c), 0);
	assert_int_equal(c.slot, 'b');
	assert_int_equal(c.rollback_from, 'a');
	assert_true(c.env_changed);
	assert_env(&env, "boot_slot", "b");
	ubootenv_free(&env);
}

static void test_boot_other_slot(void **state)
{
	(void)state;
	assert_int_equal(boot_other_slot('a'), 'b');
	assert_int_equal(boot_other_slot('b'), 'a');
	assert_int_equal(boot_other_slot('?'), 'a');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boot_choose_transition_table),
		cmocka_unit_test(test_boot_choose_fills_defaults_in_an_empty_env),
		cmocka_unit_test(test_boot_choose_keeps_other_keys),
		cmocka_unit_test(test_boot_choose_unhealthy_update_rolls_back_after_bootlimit),
		cmocka_unit_test(test_boot_choose_committed_update_stays),
		cmocka_unit_test(test_boot_choose_fallback_rolls_back_from_the_unbootable_slot),
		cmocka_unit_test(test_boot_other_slot),
	};
	return vh_run_tests(tests, NULL, NULL);
}
