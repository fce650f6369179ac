/* uboot-bootcount: U-Boot's bootcount limit with the env backend, as the
 * reference firmware's contract states it (docs/ota-protocol.md "Boot"),
 * with the variable and slot names configurable.
 *
 *   - upgrade_available=1: bootcount += 1 and is stored; bootcount >
 *     bootlimit runs altbootcmd: the other slot, upgrade_available=0,
 *     bootcount=0 (include/bootcount.h bootcount_inc / bootcount_error,
 *     drivers/bootcount/bootcount_env.c);
 *   - upgrade_available=0: bootcount is neither read nor stored, so no
 *     rollback can happen (bootcount_load returns 0 then);
 *   - bootlimit=0 disables the limit, as in U-Boot.
 * Unlike U-Boot it parses strictly and writes missing or garbled values back
 * normalised (slot a, upgrade_available 0, bootcount 0, bootlimit 3): the
 * reference firmware has always booted this way, and its tests rely on it.
 * An unbootable slot rolls back as an exceeded bootlimit does; a second one
 * in the same power-on means neither slot boots. */
#include "boot_rules.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "errf.h"

static const struct boot_option uboot_options[] = {
	{ "slot_var", BOOT_OPT_VAR, "boot_slot", "the variable naming the slot to boot" },
	{ "upgrade_var", BOOT_OPT_VAR, "upgrade_available", "1 while an update is on trial" },
	{ "count_var", BOOT_OPT_VAR, "bootcount", "trial boots so far" },
	{ "limit_var", BOOT_OPT_VAR, "bootlimit", "trial boots allowed (0: no limit)" },
	{ "slot_a", BOOT_OPT_WORD, "a", "the first slot's value of slot_var" },
	{ "slot_b", BOOT_OPT_WORD, "b", "the second slot's value of slot_var" },
	{ "default_bootlimit", BOOT_OPT_UINT, "3", "bootlimit written when missing or garbled" },
	{ NULL, 0, NULL, NULL },
};

/* Strict decimal: digits only, at most 9 of them, so every value fits and
 * "+1", " 1", "1x" and "" count as garbled. */
static bool uboot_parse_uint(const char *s, uint32_t *out)
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

static int uboot_check(const struct boot_profile_cfg *cfg, char *err, size_t errlen)
{
	if (strcmp(boot_cfg_get(cfg, "slot_a"), boot_cfg_get(cfg, "slot_b")) == 0) {
		errf(err, errlen, "uboot-bootcount: slot_a and slot_b are both '%s'",
		     boot_cfg_get(cfg, "slot_a"));
		return -EINVAL;
	}
	const char *vars[] = { "slot_var", "upgrade_var", "count_var", "limit_var" };
	for (size_t i = 0; i < 4; i++)
		for (size_t j = i + 1; j < 4; j++)
			if (strcmp(boot_cfg_get(cfg, vars[i]), boot_cfg_get(cfg, vars[j])) == 0) {
				errf(err, errlen, "uboot-bootcount: %s and %s are both '%s'",
				     vars[i], vars[j], boot_cfg_get(cfg, vars[i]));
				return -EINVAL;
			}
	return 0;
}

static const char *uboot_slot_name(const struct boot_profile_cfg *cfg, int slot)
{
	return boot_cfg_get(cfg, slot == 1 ? "slot_b" : "slot_a");
}

/* altbootcmd: leave the slot for good. */
static int uboot_roll_back(const struct boot_profile_cfg *cfg, struct ubootenv *env,
			   struct boot_decision *d)
{
	int from = d->slot == 1 ? 1 : 0, to = 1 - from;
	int rc = boot_put(d, env, boot_cfg_get(cfg, "slot_var"), uboot_slot_name(cfg, to));
	if (!rc)
		rc = boot_put(d, env, boot_cfg_get(cfg, "upgrade_var"), "0");
	if (!rc)
		rc = boot_put(d, env, boot_cfg_get(cfg, "count_var"), "0");
	if (rc < 0)
		return rc;
	boot_pick(d, to, uboot_slot_name(cfg, to));
	d->bootcount = 0;
	d->trial = false;
	d->rolled_back = true;
	d->rollback_from = from;
	return 0;
}

static int uboot_choose(const struct boot_profile_cfg *cfg, struct ubootenv *env,
			struct boot_decision *d)
{
	const char *slot_var = boot_cfg_get(cfg, "slot_var");
	const char *upgrade_var = boot_cfg_get(cfg, "upgrade_var");
	const char *count_var = boot_cfg_get(cfg, "count_var");
	const char *limit_var = boot_cfg_get(cfg, "limit_var");
	int rc;

	if (env->count == 0)
		boot_why(d, "blank env: the defaults");
	const char *slot = boot_get(d, env, slot_var);
	if (slot && strcmp(slot, uboot_slot_name(cfg, 0)) == 0) {
		boot_pick(d, 0, uboot_slot_name(cfg, 0));
	} else if (slot && strcmp(slot, uboot_slot_name(cfg, 1)) == 0) {
		boot_pick(d, 1, uboot_slot_name(cfg, 1));
	} else {
		boot_why(d, "%s=%s names no slot: %s", slot_var, boot_show(slot),
			 uboot_slot_name(cfg, 0));
		if ((rc = boot_put(d, env, slot_var, uboot_slot_name(cfg, 0))) < 0)
			return rc;
		boot_pick(d, 0, uboot_slot_name(cfg, 0));
	}

	uint32_t limit;
	if (!uboot_parse_uint(boot_get(d, env, limit_var), &limit)) {
		limit = (uint32_t)boot_cfg_uint(cfg, "default_bootlimit");
		boot_why(d, "%s missing or garbled: %u", limit_var, limit);
		if ((rc = boot_put_u64(d, env, limit_var, limit)) < 0)
			return rc;
	}
	d->bootlimit = limit;

	const char *ua = boot_get(d, env, upgrade_var);
	bool upgrade = ua && strcmp(ua, "1") == 0;
	if (!ua || (!upgrade && strcmp(ua, "0") != 0)) {
		/* garbled: not a trial, the safe reading (no count, no rollback) */
		boot_why(d, "%s=%s is neither 0 nor 1: 0", upgrade_var, boot_show(ua));
		if ((rc = boot_put(d, env, upgrade_var, "0")) < 0)
			return rc;
	}

	uint32_t count;
	bool count_ok = uboot_parse_uint(boot_get(d, env, count_var), &count);
	if (!upgrade) {
		/* committed slot: U-Boot neither reads nor stores bootcount; keep
		 * the env as it is apart from a missing key */
		if (!count_ok && (rc = boot_put(d, env, count_var, "0")) < 0)
			return rc;
		d->bootcount = 0;
		boot_why(d, "%s=0: slot %s committed, %s not counted", upgrade_var, d->slot_name,
			 count_var);
		return 0;
	}

	if (!count_ok)
		count = 0;
	/* saturate rather than wrap: 999999999 is "far past any limit" */
	if (count < 999999999u)
		count++;
	if ((rc = boot_put_u64(d, env, count_var, count)) < 0)
		return rc;
	d->bootcount = count;
	d->trial = true;
	if (limit != 0 && count > limit) {
		boot_why(d, "%s %u > %s %u: altbootcmd: back to slot %s", count_var, count,
			 limit_var, limit, uboot_slot_name(cfg, 1 - d->slot));
		return uboot_roll_back(cfg, env, d);
	}
	boot_why(d, "%s=1: trial boot %u of slot %s (%s %u)", upgrade_var, count, d->slot_name,
		 limit_var, limit);
	return 0;
}

static int uboot_fallback(const struct boot_profile_cfg *cfg, struct ubootenv *env,
			  struct boot_decision *d)
{
	if (d->fallbacks > 0) {
		boot_halt(d, "slot %s unbootable too: neither slot boots", d->slot_name);
		return 0;
	}
	boot_why(d, "slot %s unbootable: back to slot %s as altbootcmd", d->slot_name,
		 uboot_slot_name(cfg, d->slot == 1 ? 0 : 1));
	return uboot_roll_back(cfg, env, d);
}

const struct boot_profile boot_profile_uboot_bootcount = {
	.name = "uboot-bootcount",
	.source = "docs/ota-protocol.md \"Boot\" (U-Boot bootcount, env backend)",
	.options = uboot_options,
	.check = uboot_check,
	.choose = uboot_choose,
	.fallback = uboot_fallback,
};
