/* Bootloader profiles: the rules by which a device's own bootloader picks a
 * slot at power-on, reproduced from the real scripts so that vharness can
 * play that bootloader for a user's disk image (docs/bootloader-profiles.md
 * has each profile's rules and the source lines they come from).
 *
 * Pure: a profile reads and edits an in-memory U-Boot env (wire/ubootenv.h);
 * the caller loads it from the disk and stores it back when the outcome says
 * env_changed. Which slot holds a loadable kernel is the caller's to say,
 * through the bootable callback of boot_power_on.
 *
 * One power-on can take several runs of the bootloader ("passes"): a script
 * that ends in `reset` (RAUC with no attempts left, Mender's
 * mender_try_to_recover) starts the bootloader again before any kernel
 * runs. boot_power_on plays those resets in memory and stops at the first
 * kernel that boots or at a bootloader that gives up (HALT). */
#ifndef VH_BOOT_PROFILE_H
#define VH_BOOT_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ubootenv.h"

#define BOOT_SLOTS 2	      /* every profile here is A/B */
#define BOOT_VARS_MAX 16      /* variables one pass may touch */
#define BOOT_VAR_NAME_MAX 48  /* longer names are cut (events only) */
#define BOOT_VAR_VALUE_MAX 64 /* longer values are cut, ending in "..." */
#define BOOT_CFG_MAX 12	      /* options set on one cfg */
#define BOOT_MAX_PASSES 64    /* bootloader runs per power-on before "reset loop" */

enum boot_action {
	BOOT_ACTION_BOOT,  /* boot slot (if the caller finds it bootable) */
	BOOT_ACTION_RESET, /* the bootloader resets the board before any kernel: run it again */
	BOOT_ACTION_HALT,  /* nothing boots: the bootloader stops (prompt, fatal, rescue) */
};

/* One variable a pass read or wrote, for events: old -> new. */
struct boot_var {
	char name[BOOT_VAR_NAME_MAX];
	char old[BOOT_VAR_VALUE_MAX]; /* value when the pass first touched it */
	char new[BOOT_VAR_VALUE_MAX]; /* value at the end of the pass */
	bool had_old;		      /* it was set when first touched */
	bool has_new;		      /* it is set at the end (false: deleted) */
	bool written;		      /* the pass changed it (else only read) */
};

/* What a profile decided in one pass of the bootloader. */
struct boot_decision {
	const char *profile; /* the profile's name */
	enum boot_action action;
	int slot;	       /* 0 or 1 with BOOT_ACTION_BOOT, else -1 */
	char slot_name[16];    /* as the profile names it: "a", "B", "3", ... */
	char kernel_args[256]; /* the command line the rules produce ("" if none) */
	bool env_changed;      /* env was edited: store it before booting */
	bool trial;	       /* the slot boots unvalidated (an update under test) */
	bool rolled_back;      /* the rules left the slot the env named this pass */
	int rollback_from;     /* that slot (0, 1), or -1 */
	int64_t bootcount;     /* the profile's boot counter after the rules, -1 if none */
	int64_t bootlimit;     /* the limit it was compared with, -1 if none */
	int fallbacks;	       /* unbootable slots handed to fallback in this pass */
	char why[512];	       /* the rules that decided, "; "-separated, one line */
	struct boot_var vars[BOOT_VARS_MAX];
	size_t nvars;
	bool vars_overflow; /* more than BOOT_VARS_MAX variables were touched */
};

enum boot_option_kind {
	BOOT_OPT_VAR,  /* an env variable name: printable, no space, no '=' */
	BOOT_OPT_WORD, /* a non-empty value without spaces (slot names, paths) */
	BOOT_OPT_TEXT, /* printable text, may be empty */
	BOOT_OPT_UINT, /* decimal 0..999999999 */
};

/* A setting a profile accepts (variable names, slot names, limits). */
struct boot_option {
	const char *name;
	enum boot_option_kind kind;
	const char *def; /* NULL: required, boot_cfg_check fails until it is set */
	const char *doc;
};

struct boot_profile;

/* A profile and the options set for it; the rest take their defaults. */
struct boot_profile_cfg {
	const struct boot_profile *profile;
	size_t n;
	struct {
		char name[32];
		char value[BOOT_VAR_VALUE_MAX];
	} set[BOOT_CFG_MAX];
};

/* A bootloader's rules behind one interface. The functions are called
 * through boot_profile_choose / boot_profile_fallback (which prepare *d),
 * with a cfg that passed boot_cfg_check. They return 0 or -ENOMEM (an env
 * edit failed; env may be partly edited: do not store it). */
struct boot_profile {
	const char *name;   /* "uboot-bootcount", "mender", "rauc", "nerves", "swupdate" */
	const char *source; /* where the rules come from, for docs and errors */
	const struct boot_option *options; /* ends with an entry whose name is NULL */
	/* Rules across options (two slots with one name, ...), or NULL. 0 or
	 * -EINVAL with a message in err. */
	int (*check)(const struct boot_profile_cfg *cfg, char *err, size_t errlen);
	/* One pass of the bootloader from reset: reads env, edits it as the
	 * real bootloader saves it, and says BOOT (slot), RESET or HALT. A
	 * blank env (no pairs: both copies missing or corrupt) gets the real
	 * bootloader's defaults, or HALT saying why it cannot start. */
	int (*choose)(const struct boot_profile_cfg *cfg, struct ubootenv *env,
		      struct boot_decision *d);
	/* d->slot (from choose or an earlier fallback in this pass) has no
	 * loadable kernel: do what the real bootloader does next, updating env
	 * and *d: BOOT another slot, RESET, or HALT. */
	int (*fallback)(const struct boot_profile_cfg *cfg, struct ubootenv *env,
			struct boot_decision *d);
};

extern const struct boot_profile boot_profile_uboot_bootcount;
extern const struct boot_profile boot_profile_mender;
extern const struct boot_profile boot_profile_rauc;
extern const struct boot_profile boot_profile_nerves;
extern const struct boot_profile boot_profile_swupdate;

/* Every profile, ending with NULL. */
extern const struct boot_profile *const boot_profiles[];

/* The profile called name, or NULL. */
const struct boot_profile *boot_profile_find(const char *name);

/* Makes *cfg the profile's defaults (no option set). */
void boot_cfg_init(struct boot_profile_cfg *cfg, const struct boot_profile *profile);

/* Sets option name to value (setting it again replaces it). Returns 0;
 * -EINVAL for an option the profile does not have or a value of the wrong
 * kind; -ENOSPC when BOOT_CFG_MAX options are set. Message in err. */
int boot_cfg_set(struct boot_profile_cfg *cfg, const char *name, const char *value, char *err,
		 size_t errlen);

/* Whether cfg can be used: every required option set and the profile's own
 * rules hold. 0 or -EINVAL with a message in err naming the option. */
int boot_cfg_check(const struct boot_profile_cfg *cfg, char *err, size_t errlen);

/* The option's value: as set, else its default, else "" (required and
 * unset). name must be one of the profile's options. */
const char *boot_cfg_get(const struct boot_profile_cfg *cfg, const char *name);

/* The option's value as a number (BOOT_OPT_UINT options only). */
unsigned long boot_cfg_uint(const struct boot_profile_cfg *cfg, const char *name);

/* Empties *d for a pass of profile: no slot, no counter, nothing touched. */
void boot_decision_init(struct boot_decision *d, const struct boot_profile *profile);

/* One pass: boot_decision_init, then the profile's choose. 0 or -ENOMEM. */
int boot_profile_choose(const struct boot_profile_cfg *cfg, struct ubootenv *env,
			struct boot_decision *d);

/* The profile's fallback for d->slot, counted in d->fallbacks. Only for a
 * decision whose action is BOOT. 0 or -ENOMEM. */
int boot_profile_fallback(const struct boot_profile_cfg *cfg, struct ubootenv *env,
			  struct boot_decision *d);

/* Whether slot's kernel can be loaded (the caller looks at the disk). */
typedef bool (*boot_bootable_fn)(int slot, const char *slot_name, void *ctx);
/* Called once per pass with its final decision (for events). */
typedef void (*boot_pass_fn)(const struct boot_decision *d, void *ctx);

struct boot_outcome {
	struct boot_decision decision; /* the last pass: BOOT (a bootable slot) or HALT */
	int passes;		       /* bootloader runs: 1 + resets */
	bool env_changed;	       /* some pass edited env: store it */
	bool reset_loop;	       /* still resetting after BOOT_MAX_PASSES runs */
	bool unbootable[BOOT_SLOTS];   /* slots found without a loadable kernel */
};

/* Plays one power-on: passes of choose, with fallback for each chosen slot
 * that bootable() rejects, and another pass after each RESET, until a slot
 * boots or the bootloader halts. A bootloader still resetting after
 * BOOT_MAX_PASSES runs ends as HALT with reset_loop set. on_pass may be
 * NULL. Store env when out->env_changed, also when nothing boots: the real
 * bootloader would have saved it. Returns 0 or -ENOMEM (do not store). */
int boot_power_on(const struct boot_profile_cfg *cfg, struct ubootenv *env,
		  boot_bootable_fn bootable, boot_pass_fn on_pass, void *ctx,
		  struct boot_outcome *out);

/* One line for logs and test messages: "mender: boot slot 1 (3) trial;
 * bootcount=0->1 upgrade_available=1; why: ...". Returns what snprintf
 * returns. */
int boot_decision_describe(const struct boot_decision *d, char *buf, size_t len);

/* The variable name as d recorded it, or NULL if the pass did not touch it. */
const struct boot_var *boot_decision_var(const struct boot_decision *d, const char *name);

#endif
