/* The reference firmware's boot chooser: the uboot-bootcount bootloader
 * profile (harness/boot/profile_uboot_bootcount.c) with its default names,
 * in the boot_choice shape the device room reads. See boot_chooser.h. */
#include "boot_chooser.h"

#include "boot_profile.h"

#include <stdio.h>
#include <string.h>

char boot_other_slot(char slot)
{
	return slot == 'a' ? 'b' : 'a';
}

static void boot_choice_from(const struct boot_decision *d, struct boot_choice *c)
{
	c->slot = d->slot == 1 ? 'b' : 'a';
	c->bootcount = d->bootcount < 0 ? 0 : (uint32_t)d->bootcount;
	if (d->bootlimit >= 0)
		c->bootlimit = (uint32_t)d->bootlimit;
	c->trial = d->trial;
	c->rolled_back = d->rolled_back;
	c->rollback_from = d->rolled_back ? (d->rollback_from == 1 ? 'b' : 'a') : 0;
	c->env_changed |= d->env_changed;
}

int boot_choose(struct ubootenv *env, struct boot_choice *out)
{
	struct boot_profile_cfg cfg;
	struct boot_decision d;
	boot_cfg_init(&cfg, &boot_profile_uboot_bootcount);
	memset(out, 0, sizeof(*out));
	int rc = boot_profile_choose(&cfg, env, &d);
	if (rc < 0)
		return rc;
	boot_choice_from(&d, out);
	return 0;
}

int boot_choose_fallback(struct ubootenv *env, struct boot_choice *choice)
{
	struct boot_profile_cfg cfg;
	struct boot_decision d;
	boot_cfg_init(&cfg, &boot_profile_uboot_bootcount);
	/* a fresh decision for the slot that failed: the profile's first
	 * fallback of the power-on, which rolls back */
	boot_decision_init(&d, cfg.profile);
	d.action = BOOT_ACTION_BOOT;
	d.slot = choice->slot == 'b' ? 1 : 0;
	snprintf(d.slot_name, sizeof(d.slot_name), "%c", d.slot ? 'b' : 'a');
	int rc = boot_profile_fallback(&cfg, env, &d);
	if (rc < 0)
		return rc;
	boot_choice_from(&d, choice);
	return 0;
}
