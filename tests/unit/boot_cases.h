/* Table-driven power-on cases for the bootloader profile tests: an env
 * before, which slots have no loadable kernel, and what the power-on must
 * decide and leave in the env. A failing case is reported with its line in
 * the test file, where the comment citing the real script's line sits. */
#ifndef VH_TEST_BOOT_CASES_H
#define VH_TEST_BOOT_CASES_H

#include "boot_env_spec.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

struct boot_case {
	int line;		     /* CASE sets it */
	const char *before;	     /* env at power-on, "" = blank */
	bool unbootable[BOOT_SLOTS]; /* slots without a loadable kernel */
	enum boot_action action;     /* BOOT or HALT (the outcome's) */
	int slot;		     /* with BOOT */
	bool trial, rolled_back;     /* of the last pass */
	const char *args;	     /* kernel arguments, NULL: not checked */
	const char *after;	     /* env after, checked item by item */
	bool changed;		     /* the outcome says store the env */
	int passes;		     /* bootloader runs, 0: not checked (1 expected) */
	bool reset_loop;
	const char *why; /* a piece of the last pass's why, NULL: any */
};

#define CASE .line = __LINE__

static inline bool boot_case_bootable(int slot, const char *name, void *arg)
{
	(void)name;
	return !((const struct boot_case *)arg)->unbootable[slot];
}

/* Runs each case on a fresh env from its before spec. */
static inline void boot_cases_run(const struct boot_profile_cfg *cfg, const struct boot_case *cases,
				  size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct boot_case *t = &cases[i];
		struct ubootenv env;
		struct boot_outcome out;
		char msg[256], line[2048];
		assert_int_equal(boot_env_from(&env, t->before), 0);
		assert_int_equal(
			boot_power_on(cfg, &env, boot_case_bootable, NULL, (void *)t, &out), 0);
		const struct boot_decision *d = &out.decision;
		boot_decision_describe(d, line, sizeof(line));
		int passes = t->passes ? t->passes : 1;
		if (d->action != t->action ||
		    (t->action == BOOT_ACTION_BOOT && d->slot != t->slot) || d->trial != t->trial ||
		    d->rolled_back != t->rolled_back || out.env_changed != t->changed ||
		    (!t->reset_loop && out.passes != passes) || out.reset_loop != t->reset_loop)
			fail_msg("case at line %d: %s (passes %d%s)", t->line, line, out.passes,
				 out.reset_loop ? ", reset loop" : "");
		if (t->args && strcmp(d->kernel_args, t->args) != 0)
			fail_msg("case at line %d: kernel args '%s', want '%s'", t->line,
				 d->kernel_args, t->args);
		if (t->why && !strstr(d->why, t->why))
			fail_msg("case at line %d: why '%s' lacks '%s'", t->line, d->why, t->why);
		if (!boot_env_matches(&env, t->after, msg, sizeof(msg)))
			fail_msg("case at line %d: env %s (%s)", t->line, msg, line);
		ubootenv_free(&env);
	}
}

#endif
