/* Env specs for the bootloader profile tests: "k=v|k=v|..." builds or checks
 * an in-memory env in one table cell ('|' separates, since values such as
 * BOOT_ORDER="A B" hold spaces). In a check, "k" alone means k is unset and
 * "k=" means k is set and empty. A NULL or "" spec builds a blank env. */
#ifndef VH_TEST_BOOT_ENV_SPEC_H
#define VH_TEST_BOOT_ENV_SPEC_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "boot_profile.h"
#include "ubootenv.h"

/* Calls fn(key, value or NULL, arg) for each item of spec; stops at the
 * first nonzero return and returns it. */
static inline int boot_spec_each(const char *spec, int (*fn)(const char *, const char *, void *),
				 void *arg)
{
	char buf[1024];
	snprintf(buf, sizeof(buf), "%s", spec ? spec : "");
	for (char *save = NULL, *tok = strtok_r(buf, "|", &save); tok;
	     tok = strtok_r(NULL, "|", &save)) {
		char *eq = strchr(tok, '=');
		if (eq)
			*eq = '\0';
		int rc = fn(tok, eq ? eq + 1 : NULL, arg);
		if (rc)
			return rc;
	}
	return 0;
}

static inline int boot_spec_set(const char *key, const char *value, void *env)
{
	return value ? ubootenv_set(env, key, value) : 0;
}

/* Makes *env (fresh memory) hold spec. 0 or a negative errno. */
static inline int boot_env_from(struct ubootenv *env, const char *spec)
{
	ubootenv_init(env);
	return boot_spec_each(spec, boot_spec_set, env);
}

struct boot_spec_check {
	const struct ubootenv *env;
	char *msg;
	size_t len;
};

static inline int boot_spec_cmp(const char *key, const char *want, void *arg)
{
	struct boot_spec_check *c = arg;
	const char *got = ubootenv_get(c->env, key);
	if ((!got && !want) || (got && want && strcmp(got, want) == 0))
		return 0;
	snprintf(c->msg, c->len, "%s: got %s%s%s, want %s%s%s", key, got ? "'" : "",
		 got ? got : "(unset)", got ? "'" : "", want ? "'" : "", want ? want : "(unset)",
		 want ? "'" : "");
	return 1;
}

/* Whether env matches every item of spec; if not, msg says the first that
 * differs. */
static inline bool boot_env_matches(const struct ubootenv *env, const char *spec, char *msg,
				    size_t len)
{
	struct boot_spec_check c = { env, msg, len };
	msg[0] = '\0';
	return boot_spec_each(spec, boot_spec_cmp, &c) == 0;
}

static inline const char *boot_action_name(enum boot_action a)
{
	return a == BOOT_ACTION_BOOT ? "boot" : a == BOOT_ACTION_RESET ? "reset" : "halt";
}

#endif
