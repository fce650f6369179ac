/* A user's firmware image (harness/disk/user_fw.c) made for real: an MBR by
 * sfdisk, two ext4 rootfs slots by mke2fs with a kernel in /boot and an
 * /etc/fw_env.config, and a redundant U-Boot env as Mender keeps it, at
 * 4 MiB and 8 MiB. The description is checked against it, and power-ons
 * play the mender profile on the image's env. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_skip.h"
#include "ubootenv.h"
#include "user_fw.h"

static char dir[64], img[128];

static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static const struct ubootenv_layout mender_env = { .offset = { 0x400000, 0x800000 },
						   .size = 0x4000,
						   .copies = 2 };

/* p1 boot (fat, unused here), p2 rootfs A, p3 rootfs B, p5 data. Each
 * rootfs has /boot/vmlinuz saying which slot it is. */
static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vh-test-user-fw-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(img, sizeof(img), "%s/flash.img", dir);
	if (sh("command -v sfdisk mke2fs >/dev/null") != 0)
		return 0; /* the tests skip */
	int r = sh(
		"cd %s && truncate -s 96M flash.img && printf '%s' | sfdisk -q flash.img && "
		"for s in a b; do mkdir -p root$s/boot root$s/etc && "
		"echo \"kernel of slot $s\" > root$s/boot/vmlinuz-6.1 && "
		"ln -sf vmlinuz-6.1 root$s/boot/vmlinuz && echo initrd > root$s/boot/initrd.img && "
		"printf '/dev/mmcblk0 0x400000 0x4000\\n/dev/mmcblk0 0x800000 0x4000\\n' "
		"> root$s/etc/fw_env.config; done && "
		"mke2fs -q -F -t ext4 -E offset=$((24576*512)) -d roota flash.img 16M && "
		"mke2fs -q -F -t ext4 -E offset=$((57344*512)) -d rootb flash.img 16M",
		dir,
		"label: dos\n"
		"start=16384, size=8192, type=c\n"
		"start=24576, size=32768, type=83\n"
		"start=57344, size=32768, type=83\n"
		"type=5\n"
		"size=8192, type=83\n");
	if (r != 0)
		return -1;
	/* What mender-convert leaves: partition 2 in use, nothing on trial. */
	struct ubootenv env;
	ubootenv_init(&env);
	ubootenv_set(&env, "mender_boot_part", "2");
	ubootenv_set(&env, "mender_boot_part_hex", "2");
	ubootenv_set(&env, "upgrade_available", "0");
	ubootenv_set(&env, "bootcount", "0");
	ubootenv_set(&env, "bootlimit", "1");
	char err[256];
	for (int i = 0; i < 2; i++)
		if (ubootenv_file_store_layout(img, &mender_env, &env, err, sizeof(err)) < 0)
			return -1;
	ubootenv_free(&env);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static bool have_image(void)
{
	return access(img, R_OK) == 0;
}

static struct user_fw_spec mender_spec(void)
{
	return (struct user_fw_spec){ .disk = img,
				      .profile = "mender",
				      .kernel = "/boot/vmlinuz",
				      .initrd = "/boot/initrd.img" };
}

static void test_mender_image_resolves_with_its_own_fw_env_config(void **state)
{
	(void)state;
	if (!have_image())
		vh_skip("no test image: sfdisk or mke2fs missing");
	struct user_fw_spec spec = mender_spec();
	struct user_fw fw;
	char err[600];
	if (user_fw_resolve(&spec, &fw, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(fw.slot_part[0], 2);
	assert_int_equal(fw.slot_part[1], 3);
	assert_int_equal(fw.env.copies, 2);
	assert_int_equal(fw.env.offset[0], 0x400000);
	assert_int_equal(fw.env.offset[1], 0x800000);
	assert_int_equal(fw.env.size, 0x4000);
	assert_string_equal(fw.boot.profile->name, "mender");
}

static void expect_error(struct user_fw_spec spec, const char *needle)
{
	struct user_fw fw;
	char err[800];
	if (user_fw_resolve(&spec, &fw, err, sizeof(err)) != -1)
		fail_msg("resolved, but expected an error with \"%s\"", needle);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" lacks \"%s\"", err, needle);
}

static void test_bad_descriptions_name_the_field_and_the_fix(void **state)
{
	(void)state;
	if (!have_image())
		vh_skip("no test image: sfdisk or mke2fs missing");
	struct user_fw_spec s = mender_spec();
	s.profile = "grub";
	expect_error(s,
		     "profile: 'grub' is not a bootloader profile vharness plays (uboot-bootcount");
	s = mender_spec();
	s.disk = "/nonexistent/flash.img";
	expect_error(s, "disk: /nonexistent/flash.img: No such file or directory");
	s = mender_spec();
	s.slots_given = true;
	s.slots[0] = 2;
	s.slots[1] = 4; /* the extended container */
	expect_error(s, "slots: partition 4 is not a partition of");
	s = mender_spec();
	s.kernel = "/boot/zImage";
	expect_error(s, "kernel: /boot/zImage is in neither slot (partition 2:");
	s = mender_spec();
	s.env_config = "/etc/nope.config";
	expect_error(s, "env: no /etc/nope.config in either slot");
	/* Blank there: mender starts from its default env, little_loader does not. */
	s = mender_spec();
	s.env_given = true;
	s.env_offset = 0x600000;
	s.env_size = 0x4000;
	struct user_fw fw;
	char err[600];
	assert_int_equal(user_fw_resolve(&s, &fw, err, sizeof(err)), 0);
	s.profile = "nerves";
	s.slots_given = true;
	s.slots[0] = 2;
	s.slots[1] = 3;
	expect_error(s, "env: no copy at 0x600000 has a valid CRC and nerves cannot start");
	const char *opts[] = { "bootlimit=2" };
	s = mender_spec();
	s.options = opts;
	s.n_options = 1;
	expect_error(s, "boot: ");
}

static void test_power_on_boots_the_slot_the_env_names_with_its_kernel(void **state)
{
	(void)state;
	if (!have_image())
		vh_skip("no test image: sfdisk or mke2fs missing");
	struct user_fw_spec spec = mender_spec();
	struct user_fw fw;
	char err[600];
	assert_int_equal(user_fw_resolve(&spec, &fw, err, sizeof(err)), 0);
	char copy[128];
	snprintf(copy, sizeof(copy), "%s/disk-dut.img", dir);
	assert_int_equal(user_fw_copy_disk(img, copy, err, sizeof(err)), 0);
	assert_int_equal(sh("cmp -s %s %s", img, copy), 0);
	struct user_fw_boot b;
	enum vh_outcome st;
	if (user_fw_boot(&fw, copy, dir, "dut", &b, &st, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(b.partition, 2);
	assert_non_null(strstr(b.args, "root=/dev/vda2"));
	assert_int_equal(sh("grep -q 'kernel of slot a' %s", b.kernel_path), 0);
	assert_int_equal(sh("grep -q initrd %s", b.initrd_path), 0);

	/* mender install (what it writes with fw_setenv): partition 3 on
	 * trial, the counter reset. The first boot tries it... */
	struct ubootenv env;
	ubootenv_init(&env);
	assert_int_equal(ubootenv_file_load_layout(copy, &mender_env, &env, err, sizeof(err)) >= 0,
			 1);
	ubootenv_set(&env, "mender_boot_part", "3");
	ubootenv_set(&env, "mender_boot_part_hex", "3");
	ubootenv_set(&env, "upgrade_available", "1");
	ubootenv_set(&env, "bootcount", "0");
	assert_int_equal(ubootenv_file_store_layout(copy, &mender_env, &env, err, sizeof(err)), 0);
	assert_int_equal(user_fw_boot(&fw, copy, dir, "dut", &b, &st, err, sizeof(err)), 0);
	char d[1200];
	boot_decision_describe(&b.outcome.decision, d, sizeof(d));
	if (b.partition != 3)
		fail_msg("booted partition %d: %s", b.partition, d);
	assert_true(b.outcome.decision.trial);
	assert_int_equal(sh("grep -q 'kernel of slot b' %s", b.kernel_path), 0);
	/* ... and without a commit the next one rolls back (bootlimit 1). */
	assert_int_equal(user_fw_boot(&fw, copy, dir, "dut", &b, &st, err, sizeof(err)), 0);
	assert_int_equal(b.partition, 2);
	assert_true(b.outcome.decision.rolled_back);
	assert_int_equal(ubootenv_file_load_layout(copy, &mender_env, &env, err, sizeof(err)) >= 0,
			 1);
	assert_string_equal(ubootenv_get(&env, "mender_boot_part"), "2");
	assert_string_equal(ubootenv_get(&env, "upgrade_available"), "0");
	ubootenv_free(&env);
	/* The image itself was never written. */
	assert_int_equal(sh("cmp -s %s %s", img, copy) != 0, 1);
	unlink(copy);
}

static void test_a_slot_without_its_kernel_falls_back_and_none_is_a_firmware_failure(void **state)
{
	(void)state;
	if (!have_image())
		vh_skip("no test image: sfdisk or mke2fs missing");
	struct user_fw_spec spec = mender_spec();
	struct user_fw fw;
	char err[800];
	assert_int_equal(user_fw_resolve(&spec, &fw, err, sizeof(err)), 0);
	char copy[128];
	snprintf(copy, sizeof(copy), "%s/disk-broken.img", dir);
	assert_int_equal(user_fw_copy_disk(img, copy, err, sizeof(err)), 0);
	/* Slot A's filesystem overwritten: U-Boot cannot load its kernel. */
	assert_int_equal(sh("dd if=/dev/zero of=%s bs=512 seek=24576 count=8 conv=notrunc "
			    "status=none",
			    copy),
			 0);
	struct user_fw_boot b;
	enum vh_outcome st;
	int r = user_fw_boot(&fw, copy, dir, "broken", &b, &st, err, sizeof(err));
	/* Mender's recovery with upgrade_available unset resets, then prompts:
	 * either way slot A never boots and the reason is kept. */
	if (r == 0)
		assert_int_not_equal(b.partition, 2);
	else
		assert_int_equal(st, VH_FAIL);
	assert_non_null(strstr(b.slot_why[0], "no ext2/3/4 filesystem"));
	/* Both slots broken: the device does not boot, and says why for each. */
	assert_int_equal(sh("dd if=/dev/zero of=%s bs=512 seek=57344 count=8 conv=notrunc "
			    "status=none",
			    copy),
			 0);
	assert_int_equal(user_fw_boot(&fw, copy, dir, "broken", &b, &st, err, sizeof(err)), -1);
	assert_int_equal(st, VH_FAIL);
	assert_non_null(strstr(err, "broken does not boot"));
	assert_non_null(strstr(err, "partition 2:"));
	unlink(copy);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mender_image_resolves_with_its_own_fw_env_config),
		cmocka_unit_test(test_bad_descriptions_name_the_field_and_the_fix),
		cmocka_unit_test(test_power_on_boots_the_slot_the_env_names_with_its_kernel),
		cmocka_unit_test(
			test_a_slot_without_its_kernel_falls_back_and_none_is_a_firmware_failure),
	};
	return vh_run_tests(tests, setup, teardown);
}
