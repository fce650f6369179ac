/* U-Boot bootcount rules for the reference firmware; see boot_chooser.h. */
#include "boot_chooser.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

char boot_other_slot(char slot)
{
	return slot == 'a' ? 'b' : 'a';
}

/* Strict decimal: digits only, at most 9 of them, so every value fits and
 * "+1", " 1", "1x" and "" count as garbled. */
static bool boot_parse_uint(const char *s, uint32_t *out)
{
	if (!s || !*s || strlen(s) > 9)
		return false;
	uint32_t v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10u + (uint32_t)(*s - '0');
	}
	*out = v;
	return true;
}

/* Sets key to value unless it already holds exactly that. */
static int boot_set(struct ubootenv *env, const char *key, const char *value, bool *changed)
{
	const char *cur = ubootenv_get(env, key);
	if (cur && strcmp(cur, value) == 0)
		return 0;
	*changed = true;
	return ubootenv_set(env, key, value);
}

static int boot_set_uint(struct ubootenv *env, const char *key, uint32_t v, bool *changed)
{
	char buf[16];
	snprintf(buf, sizeof(buf), "%u", v);
	return boot_set(env, key, buf, changed);
}

/* altbootcmd: leave the failed slot for good. */
static int boot_roll_back(struct ubootenv *env, struct boot_choice *c)
{
	char from = c->slot;
	char to[2] = {boot_other_slot(from), '\0'};
	int rc = boot_set(env, "boot_slot", to, &c->env_changed);
	if (!rc)
		rc = boot_set(env, "upgrade_available", "0", &c->env_changed);
	if (!rc)
		rc = boot_set(env, "bootcount", "0", &c->env_changed);
	if (rc < 0)
		return rc;
	c->slot = to[0];
	c->bootcount = 0;
	c->trial = false;
	c->rolled_back = true;
	c->rollback_from = from;
	return 0;
}

int boot_choose(struct ubootenv *env, struct boot_choice *out)
{
	memset(out, 0, sizeof(*out));
	int rc;

	const char *slot = ubootenv_get(env, "boot_slot");
	if (slot && (strcmp(slot, "a") == 0 || strcmp(slot, "b") == 0)) {
		out->slot = slot[0];
	} else {
		out->slot = 'a';
		if ((rc = boot_set(env, "boot_slot", "a", &out->env_changed)) < 0)
			return rc;
	}

	uint32_t limit;
	if (!boot_parse_uint(ubootenv_get(env, "bootlimit"), &limit)) {
		limit = BOOT_CHOOSER_DEFAULT_BOOTLIMIT;
		if ((rc = boot_set_uint(env, "bootlimit", limit, &out->env_changed)) < 0)
			return rc;
	}
	out->bootlimit = limit;

	const char *ua = ubootenv_get(env, "upgrade_available");
	bool upgrade = ua && strcmp(ua, "1") == 0;
	if (!ua || (!upgrade && strcmp(ua, "0") != 0)) {
		/* garbled: not a trial, the safe reading (no count, no rollback) */
		if ((rc = boot_set(env, "upgrade_available", "0", &out->env_changed)) < 0)
			return rc;
	}

	if (!upgrade) {
		/* committed slot: U-Boot neither reads nor stores bootcount; keep
		 * the env as it is apart from a missing key */
		uint32_t count;
		if (!boot_parse_uint(ubootenv_get(env, "bootcount"), &count) &&
		    (rc = boot_set(env, "bootcount", "0", &out->env_changed)) < 0)
			return rc;
		out->bootcount = 0;
		return 0;
	}

	uint32_t count;
	if (!boot_parse_uint(ubootenv_get(env, "bootcount"), &count))
		count = 0;
	/* saturate rather than wrap: 999999999 is "far past any limit" */
	if (count < 999999999u)
		count++;
	if ((rc = boot_set_uint(env, "bootcount", count, &out->env_changed)) < 0)
		return rc;
	out->bootcount = count;
	out->trial = true;
	if (limit != 0 && count > limit)
		return boot_roll_back(env, out);
	return 0;
}

int boot_choose_fallback(struct ubootenv *env, struct boot_choice *choice)
{
	if (choice->slot != 'a' && choice->slot != 'b')
		choice->slot = 'a';
	return boot_roll_back(env, choice);
}
