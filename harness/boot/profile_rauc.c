/* rauc: RAUC's example U-Boot boot script, contrib/uboot.sh (rauc/rauc at
 * 3991031a; "uboot.sh:N" is its line N), run on every power-on:
 *
 *   5-7    BOOT_ORDER empty: "A B"; BOOT_A_LEFT / BOOT_B_LEFT empty: 3.
 *   9-28   for each word of BOOT_ORDER: the first that is A or B with
 *          `test 0x${BOOT_x_LEFT} -gt 0` is taken, and
 *          `setexpr BOOT_x_LEFT ${BOOT_x_LEFT} - 1` (hex) counts the try;
 *          bootargs get "${default_bootargs} root=... rauc.slot=x".
 *   30-31  a slot was found: saveenv.
 *   32-37  none: BOOT_A_LEFT=3, BOOT_B_LEFT=3, saveenv, reset.
 *   40-43  run load_kernel; bootm: if that fails the script ends and U-Boot
 *          stops at its prompt (the try stays counted).
 * RAUC itself (src/bootloaders/uboot.c) marks a slot good with
 * BOOT_x_LEFT=3 and makes it primary by putting it first in BOOT_ORDER.
 *
 * The script is an example ("adjust it for your use-case"): the slot names,
 * the number of tries and the root= of each slot are options. Its saveenv
 * also stores bootargs and load_kernel, which are this boot's scratch; the
 * profile does not store them. */
#include "boot_rules.h"
#include "uboot_shell.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "errf.h"

static const struct boot_option rauc_options[] = {
	{ "slot_a", BOOT_OPT_WORD, "A",
	  "the first slot's bootname (BOOT_<name>_LEFT, rauc.slot=)" },
	{ "slot_b", BOOT_OPT_WORD, "B", "the second slot's bootname" },
	{ "attempts", BOOT_OPT_WORD, "3", "what the script sets BOOT_x_LEFT to (read as hex)" },
	{ "root_a", BOOT_OPT_TEXT, "", "root= for slot A (uboot.sh: /dev/mmcblk0p1), empty: none" },
	{ "root_b", BOOT_OPT_TEXT, "", "root= for slot B (uboot.sh: /dev/mmcblk0p2), empty: none" },
	{ NULL, 0, NULL, NULL },
};

static int rauc_check(const struct boot_profile_cfg *cfg, char *err, size_t errlen)
{
	const char *a = boot_cfg_get(cfg, "slot_a"), *b = boot_cfg_get(cfg, "slot_b");
	if (strcmp(a, b) == 0) {
		errf(err, errlen, "rauc: slot_a and slot_b are both '%s'", a);
		return -EINVAL;
	}
	if (strlen(a) > 15 || strlen(b) > 15 || !uboot_hush_plain(a) || !uboot_hush_plain(b)) {
		errf(err, errlen, "rauc: slot names '%s', '%s': at most 15 plain characters", a, b);
		return -EINVAL;
	}
	if (!uboot_hush_plain(boot_cfg_get(cfg, "attempts"))) {
		errf(err, errlen, "rauc: attempts '%s' is not one word",
		     boot_cfg_get(cfg, "attempts"));
		return -EINVAL;
	}
	return 0;
}

static void rauc_left_var(char *buf, size_t len, const char *slot)
{
	snprintf(buf, len, "BOOT_%s_LEFT", slot);
}

static int rauc_choose(const struct boot_profile_cfg *cfg, struct ubootenv *env,
		       struct boot_decision *d)
{
	const char *names[BOOT_SLOTS] = { boot_cfg_get(cfg, "slot_a"),
					  boot_cfg_get(cfg, "slot_b") };
	const char *attempts = boot_cfg_get(cfg, "attempts");
	char left_var[BOOT_SLOTS][BOOT_VAR_NAME_MAX];
	int rc;

	/* uboot.sh:5-7: `test -n "${X}" || setenv X ...` (quoted: empty is unset) */
	const char *order = boot_get(d, env, "BOOT_ORDER");
	if (!order || !*order) {
		char def[40];
		snprintf(def, sizeof(def), "%s %s", names[0], names[1]);
		boot_why(d, "BOOT_ORDER empty: \"%s\"", def);
		if ((rc = boot_put(d, env, "BOOT_ORDER", def)) < 0)
			return rc;
	}
	for (int i = 0; i < BOOT_SLOTS; i++) {
		rauc_left_var(left_var[i], sizeof(left_var[i]), names[i]);
		const char *left = boot_get(d, env, left_var[i]);
		if (!left || !*left) {
			boot_why(d, "%s empty: %s", left_var[i], attempts);
			if ((rc = boot_put(d, env, left_var[i], attempts)) < 0)
				return rc;
		}
	}

	/* uboot.sh:10-28; hush splits the for list on spaces only (make_list_in) */
	const char *w = ubootenv_get(env, "BOOT_ORDER");
	int first_named = -1, found = -1;
	for (size_t n; found < 0 && *(w += strspn(w, " ")); w += n) {
		n = strcspn(w, " ");
		int i = -1;
		for (int j = 0; j < BOOT_SLOTS; j++)
			if (strlen(names[j]) == n && strncmp(w, names[j], n) == 0)
				i = j;
		if (i < 0)
			continue;
		if (first_named < 0)
			first_named = i;
		const char *left = boot_get(d, env, left_var[i]);
		if (!uboot_hush_plain(left)) {
			boot_halt(d,
				  "%s=%s holds spaces or shell syntax, which U-Boot's hush "
				  "re-parses: not modelled",
				  left_var[i], left);
			return 0;
		}
		/* `test 0x${BOOT_x_LEFT} -gt 0`: simple_strtol(.., 0) sees the
		 * literal "0x" and reads the value's hex digits, as a signed long */
		if ((int64_t)uboot_digits(left, 16) <= 0) {
			boot_why(d, "%s=%s: no attempts left for %s", left_var[i], left, names[i]);
			continue;
		}
		/* `setexpr BOOT_x_LEFT ${BOOT_x_LEFT} - 1`: hextoul, "%lx" */
		char next[24];
		snprintf(next, sizeof(next), "%" PRIx64, uboot_strtoul(left, 16) - 1);
		boot_why(d, "slot %s: %s=%s attempts left, now %s", names[i], left_var[i], left,
			 next);
		if ((rc = boot_put(d, env, left_var[i], next)) < 0)
			return rc;
		found = i;
	}

	if (found < 0) {
		/* uboot.sh:32-37 */
		for (int i = 0; i < BOOT_SLOTS; i++)
			if ((rc = boot_put(d, env, left_var[i], attempts)) < 0)
				return rc;
		boot_reset(d,
			   "no slot in BOOT_ORDER \"%s\" has attempts left: %s=%s %s=%s, "
			   "saveenv, reset",
			   ubootenv_get(env, "BOOT_ORDER"), left_var[0], attempts, left_var[1],
			   attempts);
		return 0;
	}

	const char *defaults = boot_get(d, env, "default_bootargs");
	if (defaults)
		boot_arg(d, "%s", defaults);
	const char *root = boot_cfg_get(cfg, found ? "root_b" : "root_a");
	if (*root)
		boot_arg(d, "root=%s", root);
	boot_arg(d, "rauc.slot=%s", names[found]);
	if (found != first_named) {
		d->rolled_back = true;
		d->rollback_from = first_named;
	}
	boot_pick(d, found, names[found]);
	return 0;
}

static int rauc_fallback(const struct boot_profile_cfg *cfg, struct ubootenv *env,
			 struct boot_decision *d)
{
	(void)cfg;
	(void)env;
	boot_halt(d,
		  "slot %s: load_kernel/bootm fail, the script ends at U-Boot's prompt; the "
		  "attempt stays counted",
		  d->slot_name);
	return 0;
}

const struct boot_profile boot_profile_rauc = {
	.name = "rauc",
	.source = "RAUC contrib/uboot.sh",
	.options = rauc_options,
	.check = rauc_check,
	.choose = rauc_choose,
	.fallback = rauc_fallback,
};
