/* Interop: each bootloader profile (harness/boot/) against its update
 * client's edits, made with Debian's fw_setenv on a real env image the way
 * the client makes them, and read back with fw_printenv after the profile
 * stored its env:
 *   uboot-bootcount  the reference agent: flip (boot_slot, upgrade_available=1,
 *                    bootcount=0), commit (upgrade_available=0 bootcount=0);
 *   mender           `mender install` (mender_boot_part, _hex,
 *                    upgrade_available=1, bootcount=0 in one write),
 *                    `mender commit` (upgrade_available=0);
 *   rauc             install (BOOT_x_LEFT=3 then BOOT_ORDER "x y", one
 *                    fw_setenv each, as src/bootloaders/uboot.c), mark-good
 *                    (BOOT_x_LEFT=3), mark-bad (out of BOOT_ORDER, LEFT 0);
 *   nerves           the factory env, fwup's upgrade (nerves_fw_active,
 *                    upgrade_available=1, bootcount=0), validation
 *                    (upgrade_available=0);
 *   swupdate         the factory env, an install (the copy, ustate=1,
 *                    bootcount=0), user space's acknowledgement (ustate=0,
 *                    bootcount=0).
 * A factory env comes from `fw_setenv -f`, since fw_setenv cannot start on
 * a blank image otherwise. The image uses the v0 layout (two redundant
 * copies); the profiles do not depend on where the env lives.
 *
 * Exit 0 pass, 1 fail, 77 skip (fw_printenv / fw_setenv not installed). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "boot_profile.h"
#include "fw_env_fixture.h"
#include "ubootenv.h"

static const char *script;

/* One fw_setenv write of "k=v|k=v" (libubootenv's script: key=value
 * lines); with factory, the env to start from when the image has none. */
static int fw_set_many(const char *pairs, bool factory)
{
	FILE *f = fopen(script, "w");
	if (!f)
		return -1;
	for (const char *p = pairs; *p;) {
		size_t n = strcspn(p, "|");
		fprintf(f, "%.*s\n", (int)n, p);
		p += n + (p[n] == '|');
	}
	fclose(f);
	if (factory) {
		/* the factory env is the default; fw_setenv needs something to set */
		char *argv[] = {
			"fw_setenv", "-c", (char *)fwenv_config, "-f", (char *)script, "vh_factory",
			"1",	     NULL
		};
		return fwenv_run(argv, NULL, 0);
	}
	char *argv[] = { "fw_setenv", "-c", (char *)fwenv_config, "-s", (char *)script, NULL };
	return fwenv_run(argv, NULL, 0);
}

struct bootable {
	bool unbootable[BOOT_SLOTS];
};

static bool is_bootable(int slot, const char *name, void *arg)
{
	(void)name;
	return !((struct bootable *)arg)->unbootable[slot];
}

/* One power-on of the image as the harness will do it: load, the
 * profile's rules, store when they changed the env. Then fw_printenv must
 * read back what was stored. 0, or -1 after printing why. */
static int power_on_ex(const struct boot_profile_cfg *cfg, bool bad_a, bool bad_b,
		       struct boot_outcome *out)
{
	struct ubootenv env;
	struct bootable b = { { bad_a, bad_b } };
	char err[256], line[2048];
	ubootenv_init(&env);
	int rc = ubootenv_file_load(fwenv_image, &env, err, sizeof(err));
	if (rc < 0 && rc != -ENODATA) {
		fprintf(stderr, "load: %s\n", err);
		return -1;
	}
	rc = boot_power_on(cfg, &env, is_bootable, NULL, &b, out);
	if (rc == 0 && out->env_changed &&
	    ubootenv_file_store(fwenv_image, &env, err, sizeof(err)) < 0) {
		fprintf(stderr, "store: %s\n", err);
		rc = -1;
	}
	boot_decision_describe(&out->decision, line, sizeof(line));
	printf("  %s\n", line);
	if (rc == 0 && !fwenv_printenv_agrees(&env))
		rc = -1;
	ubootenv_free(&env);
	return rc;
}

static int power_on(const struct boot_profile_cfg *cfg, struct boot_outcome *out)
{
	return power_on_ex(cfg, false, false, out);
}

#define FW_IS(key, want)                                                                           \
	do {                                                                                       \
		const char *got_ = fwenv_get(key);                                                 \
		CHECK(got_ &&strcmp(got_, want) == 0, "fw_printenv %s=%s, want %s", key,           \
		      got_ ? got_ : "(unset)", want);                                              \
	} while (0)

#define BOOTS(o, want_slot)                                                                        \
	CHECK((o).decision.action == BOOT_ACTION_BOOT && (o).decision.slot == (want_slot),         \
	      "want slot %d: %s", want_slot, (o).decision.why)

static void test_uboot_bootcount_with_the_reference_agents_edits(void)
{
	struct boot_profile_cfg cfg;
	struct boot_outcome o;
	boot_cfg_init(&cfg, &boot_profile_uboot_bootcount);
	printf("uboot-bootcount\n");
	fwenv_fresh_image();
	CHECK(power_on(&cfg, &o) == 0, "blank");
	BOOTS(o, 0);
	FW_IS("bootlimit", "3");
	/* the agent's flip after a verified download */
	CHECK(fw_set_many("boot_slot=b|upgrade_available=1|bootcount=0", false) == 0, "flip");
	CHECK(power_on(&cfg, &o) == 0, "trial");
	BOOTS(o, 1);
	CHECK(o.decision.trial, "trial");
	FW_IS("bootcount", "1");
	/* healthy: commit */
	CHECK(fw_set_many("upgrade_available=0|bootcount=0", false) == 0, "commit");
	CHECK(power_on(&cfg, &o) == 0, "committed");
	BOOTS(o, 1);
	CHECK(!o.env_changed, "a committed boot stores nothing");
	/* an update that never commits: three trials, then back */
	CHECK(fw_set_many("boot_slot=a|upgrade_available=1|bootcount=0", false) == 0, "flip");
	for (int i = 1; i <= 3; i++) {
		CHECK(power_on(&cfg, &o) == 0, "trial %d", i);
		BOOTS(o, 0);
	}
	CHECK(power_on(&cfg, &o) == 0, "rollback");
	BOOTS(o, 1);
	CHECK(o.decision.rolled_back, "rolled back");
	FW_IS("boot_slot", "b");
	FW_IS("upgrade_available", "0");
	FW_IS("bootcount", "0");
}

static void test_mender_with_mender_install_and_commit(void)
{
	struct boot_profile_cfg cfg;
	struct boot_outcome o;
	boot_cfg_init(&cfg, &boot_profile_mender);
	printf("mender\n");
	fwenv_fresh_image();
	/* U-Boot's default env, saved by the canary on the first boot */
	CHECK(power_on(&cfg, &o) == 0, "blank");
	BOOTS(o, 0);
	FW_IS("mender_boot_part", "2");
	FW_IS("mender_saveenv_canary", "1");
	FW_IS("bootcount", "1");
	/* mender install */
	CHECK(fw_set_many("mender_boot_part=3|mender_boot_part_hex=3|upgrade_available=1|"
			  "bootcount=0",
			  false) == 0,
	      "install");
	CHECK(power_on(&cfg, &o) == 0, "trial");
	BOOTS(o, 1);
	CHECK(o.decision.trial && strcmp(o.decision.kernel_args, "root=/dev/mmcblk0p3") == 0,
	      "trial with root=/dev/mmcblk0p3: %s", o.decision.kernel_args);
	FW_IS("bootcount", "1");
	/* mender commit */
	CHECK(fwenv_set("upgrade_available", "0") == 0, "commit");
	CHECK(power_on(&cfg, &o) == 0, "committed");
	BOOTS(o, 1);
	CHECK(!o.env_changed, "a committed boot stores nothing");
	/* an update to 2 that is never committed: bootlimit 1, the second
	 * boot runs altbootcmd */
	CHECK(fw_set_many("mender_boot_part=2|mender_boot_part_hex=2|upgrade_available=1|"
			  "bootcount=0",
			  false) == 0,
	      "install");
	CHECK(power_on(&cfg, &o) == 0, "trial");
	BOOTS(o, 0);
	CHECK(power_on(&cfg, &o) == 0, "altbootcmd");
	BOOTS(o, 1);
	CHECK(o.decision.rolled_back, "rolled back");
	FW_IS("mender_boot_part", "3");
	FW_IS("mender_boot_part_hex", "3");
	FW_IS("upgrade_available", "0");
	FW_IS("bootcount", "2");
	/* an update whose partition holds no kernel: reset, then altbootcmd */
	CHECK(fw_set_many("mender_boot_part=2|mender_boot_part_hex=2|upgrade_available=1|"
			  "bootcount=0",
			  false) == 0,
	      "install");
	CHECK(power_on_ex(&cfg, true, false, &o) == 0, "unbootable");
	BOOTS(o, 1);
	CHECK(o.passes == 2, "passes %d", o.passes);
	FW_IS("mender_boot_part", "3");
}

static void test_rauc_with_rauc_install_and_marks(void)
{
	struct boot_profile_cfg cfg;
	struct boot_outcome o;
	boot_cfg_init(&cfg, &boot_profile_rauc);
	printf("rauc\n");
	fwenv_fresh_image();
	CHECK(power_on(&cfg, &o) == 0, "blank");
	BOOTS(o, 0);
	FW_IS("BOOT_ORDER", "A B");
	FW_IS("BOOT_A_LEFT", "2");
	FW_IS("BOOT_B_LEFT", "3");
	CHECK(strcmp(o.decision.kernel_args, "rauc.slot=A") == 0, "%s", o.decision.kernel_args);
	/* rauc status mark-good */
	CHECK(fwenv_set("BOOT_A_LEFT", "3") == 0, "mark-good");
	CHECK(power_on(&cfg, &o) == 0, "boot");
	BOOTS(o, 0);
	FW_IS("BOOT_A_LEFT", "2");
	/* rauc install to B: r_uboot_set_primary */
	CHECK(fwenv_set("BOOT_B_LEFT", "3") == 0 && fwenv_set("BOOT_ORDER", "B A") == 0, "install");
	CHECK(power_on(&cfg, &o) == 0, "B");
	BOOTS(o, 1);
	FW_IS("BOOT_B_LEFT", "2");
	/* never marked good: B's tries run out, A boots */
	CHECK(power_on(&cfg, &o) == 0, "B");
	CHECK(power_on(&cfg, &o) == 0, "B");
	BOOTS(o, 1);
	FW_IS("BOOT_B_LEFT", "0");
	CHECK(power_on(&cfg, &o) == 0, "A");
	BOOTS(o, 0);
	CHECK(o.decision.rolled_back, "rolled back");
	FW_IS("BOOT_A_LEFT", "1");
	/* rauc status mark-bad B, then A has one try left, then none: the
	 * script refills both and resets */
	CHECK(fwenv_set("BOOT_ORDER", "A") == 0 && fwenv_set("BOOT_B_LEFT", "0") == 0, "mark-bad");
	CHECK(power_on(&cfg, &o) == 0, "A");
	BOOTS(o, 0);
	FW_IS("BOOT_A_LEFT", "0");
	CHECK(power_on(&cfg, &o) == 0, "refill");
	BOOTS(o, 0);
	CHECK(o.passes == 2, "passes %d", o.passes);
	FW_IS("BOOT_A_LEFT", "2");
	FW_IS("BOOT_B_LEFT", "3");
}

#define NERVES_FACTORY                                                                             \
	"nerves_fw_active=a|upgrade_available=0|bootcount=0|a.kernel_lba=2048|"                    \
	"b.kernel_lba=65536|a.kernel_args=console=ttyAMA0 root=/dev/vda2|"                         \
	"b.kernel_args=console=ttyAMA0 root=/dev/vda3"

static void test_nerves_with_fwup_upgrade_and_validation(void)
{
	struct boot_profile_cfg cfg;
	struct boot_outcome o;
	boot_cfg_init(&cfg, &boot_profile_nerves);
	printf("nerves\n");
	fwenv_fresh_image();
	CHECK(fw_set_many(NERVES_FACTORY, true) == 0, "factory env");
	CHECK(power_on(&cfg, &o) == 0, "a");
	BOOTS(o, 0);
	CHECK(!o.env_changed, "nothing to store");
	/* fwup's upgrade to b */
	CHECK(fw_set_many("nerves_fw_active=b|upgrade_available=1|bootcount=0", false) == 0,
	      "upgrade");
	CHECK(power_on(&cfg, &o) == 0, "trial");
	BOOTS(o, 1);
	CHECK(strcmp(o.decision.kernel_args, "console=ttyAMA0 root=/dev/vda3") == 0, "%s",
	      o.decision.kernel_args);
	FW_IS("bootcount", "1");
	/* validated */
	CHECK(fwenv_set("upgrade_available", "0") == 0, "validate");
	CHECK(power_on(&cfg, &o) == 0, "b");
	BOOTS(o, 1);
	/* an upgrade to a that is never validated: one trial, then revert */
	CHECK(fw_set_many("nerves_fw_active=a|upgrade_available=1|bootcount=0", false) == 0,
	      "upgrade");
	CHECK(power_on(&cfg, &o) == 0, "trial");
	BOOTS(o, 0);
	CHECK(power_on(&cfg, &o) == 0, "revert");
	BOOTS(o, 1);
	CHECK(o.decision.rolled_back, "rolled back");
	FW_IS("nerves_fw_active", "b");
	FW_IS("upgrade_available", "0");
	FW_IS("bootcount", "0");
}

static void test_swupdate_with_an_install_that_fails(void)
{
	struct boot_profile_cfg cfg;
	struct boot_outcome o;
	char err[256];
	boot_cfg_init(&cfg, &boot_profile_swupdate);
	CHECK(boot_cfg_set(&cfg, "slot_var", "boot_slot", err, sizeof(err)) == 0, "%s", err);
	printf("swupdate\n");
	fwenv_fresh_image();
	CHECK(fw_set_many("boot_slot=a|ustate=0|bootcount=0|bootlimit=3", true) == 0, "factory");
	CHECK(power_on(&cfg, &o) == 0, "a");
	BOOTS(o, 0);
	FW_IS("bootcount", "1");
	/* user space, healthy, acknowledges */
	CHECK(fw_set_many("ustate=0|bootcount=0", false) == 0, "healthy");
	/* an install to b: the copy, ustate=1 (SWUpdate), counter 0 */
	CHECK(fw_set_many("boot_slot=b|ustate=1|bootcount=0", false) == 0, "install");
	for (int i = 1; i <= 2; i++) {
		CHECK(power_on(&cfg, &o) == 0, "test boot %d", i);
		BOOTS(o, 1);
		CHECK(o.decision.trial, "trial");
	}
	CHECK(power_on(&cfg, &o) == 0, "fallback");
	BOOTS(o, 0);
	FW_IS("ustate", "3");
	FW_IS("boot_slot", "a");
	FW_IS("bootcount", "3");
	/* SWUpdate reports FAILED, user space acknowledges */
	CHECK(fw_set_many("ustate=0|bootcount=0", false) == 0, "ack");
	CHECK(power_on(&cfg, &o) == 0, "a");
	BOOTS(o, 0);
	CHECK(!o.decision.trial, "not a trial");
}

int main(void)
{
	fwenv_setup("vh_boot_interop", 1024 * 1024);
	script = fwenv_file("script");

	test_uboot_bootcount_with_the_reference_agents_edits();
	test_mender_with_mender_install_and_commit();
	test_rauc_with_rauc_install_and_marks();
	test_nerves_with_fwup_upgrade_and_validation();
	test_swupdate_with_an_install_that_fails();

	return fwenv_finish("bootloader profiles with fw_printenv/fw_setenv");
}
