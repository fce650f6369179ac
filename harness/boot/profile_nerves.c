/* nerves: little_loader, the Nerves project's minimal arm64 bootloader for
 * QEMU, process_uboot_env() in src/main.c (fhunleth/little_loader at
 * 000f049b; "main.c:N" is its line N):
 *
 *   60     the env's CRC fails: cleanup, boot DEFAULT_KERNEL_LBA (512, which
 *          on purpose holds no kernel: main.c:18) with no arguments.
 *   61     nerves_fw_active missing: the same.
 *   62     upgrade_available missing: the same (the message says "Skipping
 *          automatic failback check", but OK_OR_CLEANUP_MSG jumps to cleanup).
 *   64-85  upgrade_available is exactly "1":
 *   65       bootcount missing: the same cleanup;
 *   66-76    bootcount is exactly "1": the trial boot already happened and
 *            was not validated: the first letter of nerves_fw_active flips
 *            ('a' -> 'b', anything else -> 'a'), upgrade_available=0,
 *            bootcount=0;
 *   77-81    else: bootcount=1 (the one trial);
 *   83       the env is written back either way.
 *   87-89  the kernel comes from "<c>.kernel_lba" (c = first letter of
 *          nerves_fw_active); missing: the default LBA.
 *   91-92  "<c>.kernel_args" is the whole kernel command line, if set.
 *   118-137 a kernel that does not load is fatal(): no fallback; the next
 *          power-on sees bootcount=1 and reverts.
 * Its env is one copy without the redundant flags byte, at LBA 16 (16-18). */
#include "boot_rules.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct boot_option nerves_options[] = {
	{ NULL, 0, NULL, NULL },
};

static const char *const nerves_slots[BOOT_SLOTS] = { "a", "b" };

static void nerves_default_lba(struct boot_decision *d, const char *what)
{
	boot_halt(d,
		  "%s: little_loader falls back to the default kernel LBA 512, which holds no "
		  "slot's kernel",
		  what);
}

static int nerves_choose(const struct boot_profile_cfg *cfg, struct ubootenv *env,
			 struct boot_decision *d)
{
	(void)cfg;
	int rc;

	if (env->count == 0) {
		nerves_default_lba(d, "blank or corrupt env");
		return 0;
	}
	const char *active = boot_get(d, env, "nerves_fw_active");
	if (!active) {
		nerves_default_lba(d, "nerves_fw_active missing");
		return 0;
	}
	const char *ua = boot_get(d, env, "upgrade_available");
	if (!ua) {
		nerves_default_lba(d, "upgrade_available missing");
		return 0;
	}

	char slot[BOOT_VAR_VALUE_MAX];
	snprintf(slot, sizeof(slot), "%s", active);
	if (strcmp(ua, "1") == 0) {
		const char *bc = boot_get(d, env, "bootcount");
		if (!bc) {
			nerves_default_lba(d, "upgrade_available=1 and bootcount missing");
			return 0;
		}
		if (strcmp(bc, "1") == 0) {
			if (!slot[0]) {
				/* main.c:69-72 writes over the string's terminator */
				boot_halt(d, "nerves_fw_active is empty: little_loader's revert "
					     "overruns it: not modelled");
				return 0;
			}
			int from = strcmp(slot, "a") == 0 ? 0 : strcmp(slot, "b") == 0 ? 1 : -1;
			char was = slot[0];
			slot[0] = slot[0] == 'a' ? 'b' : 'a';
			boot_why(d,
				 "upgrade_available=1 bootcount=1: slot %c did not validate, "
				 "revert to %c",
				 was, slot[0]);
			/* the copy may hold a value cut at BOOT_VAR_VALUE_MAX: write the
			 * env's own string with its first letter changed */
			char *full = strdup(active);
			if (!full)
				return -ENOMEM;
			full[0] = slot[0];
			rc = boot_put(d, env, "nerves_fw_active", full);
			free(full);
			if (rc < 0 || (rc = boot_put(d, env, "upgrade_available", "0")) < 0 ||
			    (rc = boot_put(d, env, "bootcount", "0")) < 0)
				return rc;
			d->rolled_back = true;
			d->rollback_from = from;
		} else {
			boot_why(d, "upgrade_available=1 bootcount=%s: first try of slot %c", bc,
				 slot[0] ? slot[0] : '?');
			if ((rc = boot_put(d, env, "bootcount", "1")) < 0)
				return rc;
			d->trial = true;
			d->bootcount = 1;
		}
	} else {
		boot_why(d, "upgrade_available=%s: slot %s", ua, active);
	}

	char key[BOOT_VAR_NAME_MAX];
	snprintf(key, sizeof(key), "%c.kernel_lba", slot[0]);
	const char *lba = slot[0] ? boot_get(d, env, key) : NULL;
	if (!lba) {
		nerves_default_lba(d, slot[0] ? "the slot's kernel_lba missing"
					      : "nerves_fw_active is empty");
		return 0;
	}
	snprintf(key, sizeof(key), "%c.kernel_args", slot[0]);
	const char *args = boot_get(d, env, key);
	if (args)
		boot_arg(d, "%s", args);

	int i = slot[0] == 'a' ? 0 : slot[0] == 'b' ? 1 : -1;
	if (i < 0) {
		boot_halt(d,
			  "slot '%c' (nerves_fw_active=%s): little_loader boots %c.kernel_lba=%s, "
			  "which is neither slot a nor b",
			  slot[0], slot, slot[0], lba);
		return 0;
	}
	boot_pick(d, i, nerves_slots[i]);
	return 0;
}

static int nerves_fallback(const struct boot_profile_cfg *cfg, struct ubootenv *env,
			   struct boot_decision *d)
{
	(void)cfg;
	(void)env;
	boot_halt(d, "slot %s: load_kernel is fatal() in little_loader, no fallback", d->slot_name);
	return 0;
}

const struct boot_profile boot_profile_nerves = {
	.name = "nerves",
	.source = "little_loader src/main.c process_uboot_env()",
	.options = nerves_options,
	.check = NULL,
	.choose = nerves_choose,
	.fallback = nerves_fallback,
};
