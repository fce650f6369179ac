/* swupdate: the bootloader side of SWUpdate's update transaction as its
 * best-practice guide describes it (sbabic/swupdate at 8164b9b2:
 * doc/source/swupdate-best-practise.rst, "rst:N", and the flowchart it
 * shows, doc/source/statemachine.dot, "dot:N"):
 *
 *   dot:83-84   every start: bootcounter++ (stored).
 *   dot:85-86   bootcounter < bootlimit: normal boot of the configured copy
 *               (an update under test while ustate is 1, rst:64-65).
 *   dot:87-89   else, ustate == 1 (INSTALLED): ustate = 3 (FAILED), toggle
 *               the copies, normal boot (rst:51-54, 64-65).
 *   dot:97      else: the rescue system (rst:62-63): nothing of the copies
 *               boots; vharness has no rescue system to offer.
 *   dot:90-93   a kernel that does not come up: system reset, start again.
 *   dot:103-105 user space, once healthy: ustate = 0, bootcounter = 0. The
 *               bootloader never resets the counter itself.
 * ustate's values are SWUpdate's include/state.h ('0' OK, '1' INSTALLED,
 * '3' FAILED) and its name is CONFIG_UPDATE_STATE_BOOTLOADER (default
 * "ustate", bootloader/Kconfig); the counter and limit are U-Boot's bootcount
 * and bootlimit, read as U-Boot reads numbers. The guide names no variable
 * for the selected copy, so slot_var has no default, and it gives no
 * defaults for a blank env: the profile cannot start from one. */
#include "boot_rules.h"
#include "uboot_shell.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "errf.h"

static const struct boot_option swupdate_options[] = {
	{ "slot_var", BOOT_OPT_VAR, NULL,
	  "the variable naming the copy to boot (the guide names none)" },
	{ "slot_a", BOOT_OPT_WORD, "a", "the first copy's value of slot_var" },
	{ "slot_b", BOOT_OPT_WORD, "b", "the second copy's value of slot_var" },
	{ "ustate_var", BOOT_OPT_VAR, "ustate", "CONFIG_UPDATE_STATE_BOOTLOADER" },
	{ "count_var", BOOT_OPT_VAR, "bootcount", "the boot counter" },
	{ "limit_var", BOOT_OPT_VAR, "bootlimit", "the counter's limit" },
	{ NULL, 0, NULL, NULL },
};

static int swupdate_check(const struct boot_profile_cfg *cfg, char *err, size_t errlen)
{
	if (strcmp(boot_cfg_get(cfg, "slot_a"), boot_cfg_get(cfg, "slot_b")) == 0) {
		errf(err, errlen, "swupdate: slot_a and slot_b are both '%s'",
		     boot_cfg_get(cfg, "slot_a"));
		return -EINVAL;
	}
	const char *vars[] = { "slot_var", "ustate_var", "count_var", "limit_var" };
	for (size_t i = 0; i < 4; i++)
		for (size_t j = i + 1; j < 4; j++)
			if (strcmp(boot_cfg_get(cfg, vars[i]), boot_cfg_get(cfg, vars[j])) == 0) {
				errf(err, errlen, "swupdate: %s and %s are both '%s'", vars[i],
				     vars[j], boot_cfg_get(cfg, vars[i]));
				return -EINVAL;
			}
	return 0;
}

static int swupdate_choose(const struct boot_profile_cfg *cfg, struct ubootenv *env,
			   struct boot_decision *d)
{
	const char *slot_var = boot_cfg_get(cfg, "slot_var");
	const char *ustate_var = boot_cfg_get(cfg, "ustate_var");
	const char *count_var = boot_cfg_get(cfg, "count_var");
	const char *limit_var = boot_cfg_get(cfg, "limit_var");
	const char *names[BOOT_SLOTS] = { boot_cfg_get(cfg, "slot_a"),
					  boot_cfg_get(cfg, "slot_b") };
	int rc;

	if (env->count == 0) {
		boot_halt(d,
			  "blank env: the guide gives no defaults (a real board would use its "
			  "built-in env): write %s, %s and %s into the image",
			  slot_var, count_var, limit_var);
		return 0;
	}

	uint64_t count = uboot_env_ulong(boot_get(d, env, count_var), 10, 0) + 1;
	if ((rc = boot_put_u64(d, env, count_var, count)) < 0)
		return rc;
	uint64_t limit = uboot_env_ulong(boot_get(d, env, limit_var), 10, 0);
	d->bootcount = (int64_t)count;
	d->bootlimit = (int64_t)limit;
	const char *ustate = boot_get(d, env, ustate_var);
	const char *slot = boot_get(d, env, slot_var);
	int i = -1;
	for (int j = 0; j < BOOT_SLOTS; j++)
		if (slot && strcmp(slot, names[j]) == 0)
			i = j;

	if (count < limit) {
		d->trial = ustate && strcmp(ustate, "1") == 0;
		boot_why(d, "%s %" PRIu64 " < %s %" PRIu64 ": normal boot%s", count_var, count,
			 limit_var, limit, d->trial ? " (ustate=1: new software on test)" : "");
	} else if (ustate && strcmp(ustate, "1") == 0) {
		int to = i == 0 ? 1 : 0; /* toggle; from a value naming neither: the first */
		boot_why(d,
			 "%s %" PRIu64 " >= %s %" PRIu64
			 ", %s=1: %s=3 (FAILED), toggle %s %s -> %s",
			 count_var, count, limit_var, limit, ustate_var, ustate_var, slot_var,
			 boot_show(slot), names[to]);
		if ((rc = boot_put(d, env, ustate_var, "3")) < 0 ||
		    (rc = boot_put(d, env, slot_var, names[to])) < 0)
			return rc;
		d->rolled_back = true;
		d->rollback_from = i;
		i = to;
	} else {
		boot_halt(d, "%s %" PRIu64 " >= %s %" PRIu64 " and %s=%s (not 1): rescue system",
			  count_var, count, limit_var, limit, ustate_var, boot_show(ustate));
		return 0;
	}
	if (i < 0) {
		boot_halt(d, "%s=%s names neither copy (%s, %s)", slot_var, boot_show(slot),
			  names[0], names[1]);
		return 0;
	}
	boot_pick(d, i, names[i]);
	return 0;
}

static int swupdate_fallback(const struct boot_profile_cfg *cfg, struct ubootenv *env,
			     struct boot_decision *d)
{
	(void)cfg;
	(void)env;
	boot_reset(d, "copy %s does not start: system reset", d->slot_name);
	return 0;
}

const struct boot_profile boot_profile_swupdate = {
	.name = "swupdate",
	.source = "SWUpdate doc/source/swupdate-best-practise.rst and statemachine.dot",
	.options = swupdate_options,
	.check = swupdate_check,
	.choose = swupdate_choose,
	.fallback = swupdate_fallback,
};
