/* mender: U-Boot as meta-mender builds it. The scripts are the env of
 * meta-mender-core/recipes-bsp/u-boot/patches/0001-Generic-boot-code-for-Mender.patch
 * (include/env_mender.h; meta-mender at 17e59874, "patch:N" below is line N
 * of the patch file), the counting is U-Boot's CONFIG_BOOTCOUNT_LIMIT
 * with CONFIG_BOOTCOUNT_ENV, which that patch requires (config_mender.h):
 *
 *   bootcount_inc (include/bootcount.h:119-135): count = bootcount_load() + 1;
 *     bootcount_store(count) saves it only while upgrade_available (as a
 *     number) is non-zero (drivers/bootcount/bootcount_env.c:9-17); the
 *     count is set in RAM either way, so a later saveenv stores it too.
 *   bootcount_error (include/bootcount.h:102-117): bootlimit non-zero and
 *     bootcount_load() > bootlimit runs altbootcmd instead of bootcmd.
 *   altbootcmd (patch:157): run mender_altbootcmd; run bootcmd.
 *   mender_altbootcmd (patch:230-241): mender_boot_part (and _hex) to the
 *     other partition, upgrade_available=0, saveenv. bootcount stays.
 *   mender_setup (patch:199-203): mender_saveenv_canary != 1: set it, saveenv;
 *     then bootargs gets systemd.machine_id= if mender_systemd_machine_id is
 *     set (patch:208-211), and root= in front (patch:263-264).
 *   bootcmd (patch:272-277): root=<base>${mender_boot_part}, the kernel
 *     from partition ${mender_boot_part_hex}; if it does not boot,
 *     mender_try_to_recover (patch:243-246) resets while upgrade_available
 *     is 1, else U-Boot stops at its prompt.
 *   A blank env is U-Boot's default env (patch:168-197): bootlimit=1,
 *     bootcount=0, upgrade_available=0, mender_boot_part=<A>.
 *
 * Slots are the rootfs partitions A and B, named by their numbers. */
#include "boot_rules.h"
#include "uboot_shell.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "errf.h"

static const struct boot_option mender_options[] = {
	{ "part_a", BOOT_OPT_UINT, "2", "MENDER_ROOTFS_PART_A_NUMBER" },
	{ "part_b", BOOT_OPT_UINT, "3", "MENDER_ROOTFS_PART_B_NUMBER" },
	{ "root_base", BOOT_OPT_WORD, "/dev/mmcblk0p",
	  "MENDER_STORAGE_DEVICE_BASE: root= is this followed by mender_boot_part" },
	{ NULL, 0, NULL, NULL },
};

static int mender_check(const struct boot_profile_cfg *cfg, char *err, size_t errlen)
{
	unsigned long a = boot_cfg_uint(cfg, "part_a"), b = boot_cfg_uint(cfg, "part_b");
	if (a == b || a == 0 || b == 0) {
		errf(err, errlen, "mender: part_a %lu and part_b %lu must be two partitions", a, b);
		return -EINVAL;
	}
	return 0;
}

struct mender_parts {
	char dec[BOOT_SLOTS][16]; /* __stringify(MENDER_ROOTFS_PART_x_NUMBER) */
	char hex[BOOT_SLOTS][16]; /* MENDER_ROOTFS_PART_x_NUMBER_HEX (mender_number_to_hex) */
	unsigned long num[BOOT_SLOTS];
};

static void mender_parts(const struct boot_profile_cfg *cfg, struct mender_parts *p)
{
	p->num[0] = boot_cfg_uint(cfg, "part_a");
	p->num[1] = boot_cfg_uint(cfg, "part_b");
	for (int i = 0; i < BOOT_SLOTS; i++) {
		snprintf(p->dec[i], sizeof(p->dec[i]), "%lu", p->num[i]);
		snprintf(p->hex[i], sizeof(p->hex[i]), "%lx", p->num[i]);
	}
}

/* The slot whose partition U-Boot loads the kernel from: "mmc 0:${hex}",
 * which disk/part.c:536-553 reads with hextoul ("0x" allowed) and refuses
 * unless it takes the whole value; empty or "auto" pick a partition by
 * other rules, none of them a rootfs slot here. */
static int mender_slot_of_hex(const struct mender_parts *p, const char *hex)
{
	if (!hex || !*hex || strcmp(hex, "auto") == 0)
		return -1;
	const char *digits = hex + (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X') ? 2 : 0);
	if (digits[strspn(digits, "0123456789abcdefABCDEF")])
		return -1;
	uint32_t n = (uint32_t)uboot_strtoul(hex, 16); /* part = (int)hextoul(...) */
	for (int i = 0; i < BOOT_SLOTS; i++)
		if (n == p->num[i])
			return i;
	return -1;
}

static int mender_slot_of_dec(const struct mender_parts *p, const char *dec)
{
	for (int i = 0; i < BOOT_SLOTS; i++)
		if (dec && strcmp(dec, p->dec[i]) == 0)
			return i;
	return -1;
}

/* mender_try_to_recover (patch:243-246), when the kernel did not start. */
static void mender_try_to_recover(struct boot_decision *d, const struct ubootenv *env)
{
	const char *ua = boot_get(d, env, "upgrade_available");
	if (uboot_test_unquoted_eq(ua, "1"))
		boot_reset(d, "mender_try_to_recover: test ${upgrade_available} = 1 (%s): reset",
			   boot_show(ua));
	else
		boot_halt(d,
			  "mender_try_to_recover: upgrade_available=%s is not 1: no reset, "
			  "U-Boot stops at its prompt",
			  boot_show(ua));
}

static int mender_choose(const struct boot_profile_cfg *cfg, struct ubootenv *env,
			 struct boot_decision *d)
{
	struct mender_parts p;
	mender_parts(cfg, &p);
	int rc;

	if (env->count == 0) {
		/* no valid copy: U-Boot runs on its default env, MENDER_ENV_SETTINGS */
		boot_why(d, "blank env: U-Boot's default env (bootlimit=1, mender_boot_part=%s)",
			 p.dec[0]);
		if ((rc = boot_put(d, env, "bootlimit", "1")) < 0 ||
		    (rc = boot_put(d, env, "bootcount", "0")) < 0 ||
		    (rc = boot_put(d, env, "upgrade_available", "0")) < 0 ||
		    (rc = boot_put(d, env, "mender_boot_part", p.dec[0])) < 0 ||
		    (rc = boot_put(d, env, "mender_boot_part_hex", p.hex[0])) < 0 ||
		    (rc = boot_put(d, env, "mender_check_saveenv_canary", "1")) < 0)
			return rc;
	}

	const char *ua_s = boot_get(d, env, "upgrade_available");
	const char *part = boot_get(d, env, "mender_boot_part");
	if (!uboot_hush_plain(ua_s) || !uboot_hush_plain(part)) {
		boot_halt(d,
			  "upgrade_available=%s or mender_boot_part=%s holds spaces or shell "
			  "syntax, which U-Boot's hush re-parses: not modelled",
			  boot_show(ua_s), boot_show(part));
		return 0;
	}

	/* bootcount_inc: `int upgrade_available = env_get_ulong(...)` keeps the
	 * low 32 bits */
	bool upgrade = (uint32_t)uboot_env_ulong(ua_s, 10, 0) != 0;
	uint64_t count = upgrade ? uboot_env_ulong(boot_get(d, env, "bootcount"), 10, 0) : 0;
	count++;
	/* set in RAM always, saved now only while upgrade_available */
	bool ram_count = !upgrade;
	if (upgrade && (rc = boot_put_u64(d, env, "bootcount", count)) < 0)
		return rc;
	uint64_t limit = uboot_env_ulong(boot_get(d, env, "bootlimit"), 10, 0);
	d->bootcount = (int64_t)count;
	d->bootlimit = (int64_t)limit;

	/* bootcount_error: bootcount_load() is 0 while upgrade_available is 0 */
	if (limit && upgrade && count > limit) {
		int from = mender_slot_of_dec(&p, part);
		int to = uboot_test_unquoted_eq(part, p.dec[0]) ? 1 : 0;
		boot_why(d,
			 "bootcount %" PRIu64 " > bootlimit %" PRIu64
			 ": altbootcmd: mender_boot_part %s -> %s, upgrade_available=0, saveenv",
			 count, limit, boot_show(part), p.dec[to]);
		if ((rc = boot_put(d, env, "mender_boot_part", p.dec[to])) < 0 ||
		    (rc = boot_put(d, env, "mender_boot_part_hex", p.hex[to])) < 0 ||
		    (rc = boot_put(d, env, "upgrade_available", "0")) < 0)
			return rc;
		d->rolled_back = true;
		d->rollback_from = from;
		upgrade = false;
		/* the old strings are gone with the edits */
		ua_s = ubootenv_get(env, "upgrade_available");
	} else if (upgrade) {
		d->trial = true;
		boot_why(d,
			 "upgrade_available=%s: trial boot, bootcount %" PRIu64
			 " (bootlimit %" PRIu64 ")",
			 ua_s, count, limit);
	}

	/* mender_setup: the canary proves to the client that U-Boot can save */
	const char *canary = boot_get(d, env, "mender_saveenv_canary");
	if (!canary || strcmp(canary, "1") != 0) {
		boot_why(d, "mender_saveenv_canary != 1: set, saveenv");
		if (ram_count && (rc = boot_put_u64(d, env, "bootcount", count)) < 0)
			return rc;
		if ((rc = boot_put(d, env, "mender_saveenv_canary", "1")) < 0)
			return rc;
	}

	part = boot_get(d, env, "mender_boot_part");
	const char *hex = boot_get(d, env, "mender_boot_part_hex");
	boot_arg(d, "root=%s%s", boot_cfg_get(cfg, "root_base"), part ? part : "");
	const char *machine_id = boot_get(d, env, "mender_systemd_machine_id");
	if (machine_id && *machine_id)
		boot_arg(d, "systemd.machine_id=%s", machine_id);
	const char *bootargs = boot_get(d, env, "bootargs");
	if (bootargs)
		boot_arg(d, "%s", bootargs);

	int slot = mender_slot_of_hex(&p, hex);
	if (slot < 0) {
		boot_why(d, "kernel from partition mender_boot_part_hex=%s, not %s or %s",
			 boot_show(hex), p.hex[0], p.hex[1]);
		d->trial = false;
		mender_try_to_recover(d, env);
		return 0;
	}
	if (mender_slot_of_dec(&p, part) != slot)
		boot_why(d,
			 "kernel from partition %s but root=%s%s: mender_boot_part and _hex "
			 "disagree",
			 hex, boot_cfg_get(cfg, "root_base"), boot_show(part));
	if (!d->trial && !d->rolled_back)
		boot_why(d, "upgrade_available=%s: partition %s, not counted", boot_show(ua_s),
			 p.dec[slot]);
	boot_pick(d, slot, p.dec[slot]);
	return 0;
}

static int mender_fallback(const struct boot_profile_cfg *cfg, struct ubootenv *env,
			   struct boot_decision *d)
{
	(void)cfg;
	boot_why(d, "partition %s does not boot", d->slot_name);
	mender_try_to_recover(d, env);
	return 0;
}

const struct boot_profile boot_profile_mender = {
	.name = "mender",
	.source = "meta-mender 0001-Generic-boot-code-for-Mender.patch (env_mender.h) and "
		  "U-Boot's bootcount (include/bootcount.h, bootcount_env.c)",
	.options = mender_options,
	.check = mender_check,
	.choose = mender_choose,
	.fallback = mender_fallback,
};
