/* The A/B boot chooser: the harness plays U-Boot's bootcount logic for the
 * reference firmware (docs/ota-protocol.md "Boot"). It is the uboot-bootcount
 * bootloader profile (harness/boot/) with its default variable names, kept
 * in this shape for the device room. Pure: it reads and edits an in-memory
 * env; the caller loads it from the disk image and stores it back
 * (ubootenv_file_load / ubootenv_file_store) when env_changed.
 *
 * The rules, as U-Boot with the env bootcount backend applies them:
 *   - upgrade_available=1: bootcount += 1 (and is stored); then
 *     bootcount > bootlimit runs altbootcmd, here: boot_slot = other slot,
 *     upgrade_available=0, bootcount=0.
 *   - upgrade_available=0: bootcount is neither read nor stored (U-Boot's
 *     bootcount_load returns 0 then), so no rollback can happen.
 *   - bootlimit=0 disables the limit, as in U-Boot.
 * Missing or garbled values get safe defaults, written back normalised:
 * boot_slot a, upgrade_available 0, bootcount 0, bootlimit 3. */
#ifndef VH_BOOT_CHOOSER_H
#define VH_BOOT_CHOOSER_H

#include <stdbool.h>
#include <stdint.h>

#include "ubootenv.h"

#define BOOT_CHOOSER_DEFAULT_BOOTLIMIT 3u

struct boot_choice {
	char slot;	    /* 'a' or 'b': the slot to boot */
	uint32_t bootcount; /* vh.bootcount=: env bootcount after the rules */
	uint32_t bootlimit; /* the limit applied (0 = none) */
	bool trial;	    /* vh.upgrade=1: upgrade_available is still 1 */
	bool rolled_back;   /* this boot rolled back (vh.rollback_from=) */
	char rollback_from; /* slot rolled back from when rolled_back, else 0 */
	bool env_changed;   /* env was edited: store it before booting */
};

/* Applies the bootcount rules to env for one power-on and fills *out. env
 * must be initialised (an empty env from a blank or corrupt disk is fine:
 * it gets the defaults). Returns 0, or -ENOMEM if an env edit failed (env
 * may then be partly edited; do not store it). */
int boot_choose(struct ubootenv *env, struct boot_choice *out);

/* The slot *choice picked (from boot_choose) has no bootable bundle: roll
 * back to the other slot exactly as an exceeded bootlimit does, updating env
 * and *choice (rolled_back, rollback_from = the unbootable slot, trial off,
 * bootcount 0, env_changed). Call it at most once per power-on: if the other
 * slot is unbootable too, the device cannot boot. Returns 0 or -ENOMEM. */
int boot_choose_fallback(struct ubootenv *env, struct boot_choice *choice);

/* The other slot: 'b' for 'a' and 'a' for anything else. */
char boot_other_slot(char slot);

#endif
