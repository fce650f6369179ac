/* What the profile files share: env access that records every variable a
 * pass reads or writes in its decision (for events), and the decision's
 * verbs. For harness/boot/profile_*.c only; callers use boot_profile.h. */
#ifndef VH_BOOT_RULES_H
#define VH_BOOT_RULES_H

#include "boot_profile.h"

#include <stdint.h>

/* The value of name (NULL if unset), recorded as read in d. */
const char *boot_get(struct boot_decision *d, const struct ubootenv *env, const char *name);

/* Sets name to value (NULL deletes it). A change is recorded in d as
 * written and sets d->env_changed; writing the value already there records
 * a read. 0 or -ENOMEM. */
int boot_put(struct boot_decision *d, struct ubootenv *env, const char *name, const char *value);

/* boot_put of v in decimal. */
int boot_put_u64(struct boot_decision *d, struct ubootenv *env, const char *name, uint64_t v);

/* Appends one rule to d->why ("; " between rules); cut at its size. */
void boot_why(struct boot_decision *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends words to d->kernel_args (a space between), skipping empty ones. */
void boot_arg(struct boot_decision *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Ends the pass booting slot (0, 1), named name. */
void boot_pick(struct boot_decision *d, int slot, const char *name);

/* Ends the pass with RESET or HALT (no slot); why is appended. */
void boot_reset(struct boot_decision *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void boot_halt(struct boot_decision *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* s, or "(unset)" for NULL, for messages. */
const char *boot_show(const char *s);

#endif
