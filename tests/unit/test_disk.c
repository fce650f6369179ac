/* Unit tests for reading a firmware's disk (harness/disk/): partition tables
 * made by the real sfdisk (MBR with an extended partition, GPT) and broken
 * ones made by hand, files read out of real ext4 filesystems that mke2fs
 * put at an offset in an image, and fw_env.config lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "extfs.h"
#include "fw_env.h"
#include "partition.h"
#include "test_skip.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vh-test-disk-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static bool have(const char *tool)
{
	return sh("command -v %s >/dev/null 2>&1", tool) == 0;
}

/* A Mender-like MBR: boot, rootfs A, rootfs B, then data as a logical
 * partition in an extended one (/dev/mmcblk0p5). */
static void test_mbr_with_logical_partitions_is_numbered_as_linux_does(void **state)
{
	(void)state;
	if (!have("sfdisk"))
		vh_skip("no sfdisk in PATH (fdisk)");
	char img[128];
	snprintf(img, sizeof(img), "%s/mbr.img", dir);
	assert_int_equal(sh("truncate -s 64M %s && printf '%s' | sfdisk -q %s", img,
			    "label: dos\n"
			    "start=2048, size=8192, type=c\n"
			    "size=16384, type=83\n"
			    "size=16384, type=83\n"
			    "type=5\n"
			    "size=8192, type=83\n",
			    img),
			 0);
	struct partition_table t;
	char err[256];
	assert_int_equal(partition_table_read(img, &t, err, sizeof(err)), 0);
	assert_int_equal(t.scheme, PARTITION_MBR);
	const struct partition *p2 = partition_find(&t, 2), *p5 = partition_find(&t, 5);
	assert_non_null(p2);
	assert_int_equal(p2->start, (2048 + 8192) * 512ull);
	assert_int_equal(p2->size, 16384 * 512ull);
	assert_true(partition_find(&t, 4)->extended);
	assert_non_null(p5);
	assert_false(p5->extended);
	assert_int_equal(p5->size, 8192 * 512ull);
	assert_true(p5->start > partition_find(&t, 4)->start);
	assert_null(partition_find(&t, 6));
}

static void test_gpt_partitions_are_numbered_by_entry(void **state)
{
	(void)state;
	if (!have("sfdisk"))
		vh_skip("no sfdisk in PATH (fdisk)");
	char img[128];
	snprintf(img, sizeof(img), "%s/gpt.img", dir);
	assert_int_equal(sh("truncate -s 64M %s && printf '%s' | sfdisk -q %s", img,
			    "label: gpt\n"
			    "start=2048, size=20480\n"
			    "size=20480\n",
			    img),
			 0);
	struct partition_table t;
	char err[256];
	assert_int_equal(partition_table_read(img, &t, err, sizeof(err)), 0);
	assert_int_equal(t.scheme, PARTITION_GPT);
	assert_int_equal(t.n, 2);
	assert_int_equal(partition_find(&t, 1)->start, 2048 * 512ull);
	assert_int_equal(partition_find(&t, 2)->start, (2048 + 20480) * 512ull);
	assert_int_equal(partition_find(&t, 2)->size, 20480 * 512ull);
}

/* --- hand-made tables, through the parser's read function --- */

static uint8_t disk[64 * 1024];

static int read_mem(void *ctx, uint64_t offset, void *buf, size_t len)
{
	(void)ctx;
	if (offset > sizeof(disk) || len > sizeof(disk) - offset)
		return -1;
	memcpy(buf, disk + offset, len);
	return 0;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16),
	p[3] = (uint8_t)(v >> 24);
}

static void mbr_entry(uint64_t sector_at, int i, uint8_t type, uint32_t lba, uint32_t n)
{
	uint8_t *e = disk + sector_at * 512 + 446 + i * 16;
	e[4] = type;
	put32(e + 8, lba);
	put32(e + 12, n);
	disk[sector_at * 512 + 510] = 0x55;
	disk[sector_at * 512 + 511] = 0xaa;
}

static void test_partition_past_the_end_of_the_disk_is_an_error(void **state)
{
	(void)state;
	memset(disk, 0, sizeof(disk));
	mbr_entry(0, 0, 0x83, 1, 1000); /* 1000 sectors on a 128-sector disk */
	struct partition_table t;
	char err[256];
	assert_int_equal(partition_table_parse(read_mem, NULL, sizeof(disk), &t, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "partition 1"));
	assert_non_null(strstr(err, "past the end of the disk"));
}

static void test_logical_chain_that_loops_is_an_error(void **state)
{
	(void)state;
	memset(disk, 0, sizeof(disk));
	mbr_entry(0, 0, 0x05, 10, 100); /* extended: sectors 10..109 */
	mbr_entry(10, 0, 0x83, 2, 4);	/* logical 5 */
	mbr_entry(10, 1, 0x05, 0, 20);	/* next EBR: itself */
	struct partition_table t;
	char err[256];
	assert_int_equal(partition_table_parse(read_mem, NULL, sizeof(disk), &t, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "loops"));
}

static void test_disk_without_a_table_has_no_partitions(void **state)
{
	(void)state;
	memset(disk, 0, sizeof(disk));
	struct partition_table t;
	char err[256];
	assert_int_equal(partition_table_parse(read_mem, NULL, sizeof(disk), &t, err, sizeof(err)),
			 0);
	assert_int_equal(t.scheme, PARTITION_NONE);
	assert_int_equal(t.n, 0);
	/* A protective MBR without a GPT behind it is broken, not empty. */
	mbr_entry(0, 0, 0xee, 1, 100);
	assert_int_equal(partition_table_parse(read_mem, NULL, sizeof(disk), &t, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "no GPT header"));
}

/* --- files in ext4 slots --- */

static void make_ext4_at(const char *img, uint64_t offset)
{
	char root[128];
	snprintf(root, sizeof(root), "%s/root", dir);
	assert_int_equal(
		sh("rm -rf %s && mkdir -p %s/boot %s/etc && "
		   "head -c 300000 /dev/urandom > %s/boot/vmlinuz-6.1 && "
		   "ln -s vmlinuz-6.1 %s/boot/vmlinuz && "
		   "printf '/dev/mmcblk0 0x400000 0x4000\\n/dev/mmcblk0 0x800000 0x4000\\n' "
		   "> %s/etc/fw_env.config && truncate -s 64M %s && "
		   "mke2fs -q -F -t ext4 -E offset=%llu -d %s %s 16M",
		   root, root, root, root, root, root, img, (unsigned long long)offset, root, img),
		0);
}

static void test_kernel_is_copied_out_of_an_ext4_slot_following_symlinks(void **state)
{
	(void)state;
	if (!have("mke2fs"))
		vh_skip("no mke2fs in PATH (e2fsprogs)");
	char img[128], out[128];
	snprintf(img, sizeof(img), "%s/slots.img", dir);
	snprintf(out, sizeof(out), "%s/kernel", dir);
	make_ext4_at(img, 8 << 20);
	char err[256];
	assert_int_equal(extfs_copy_file(img, 8 << 20, "/boot/vmlinuz", out, err, sizeof(err)), 0);
	assert_int_equal(sh("cmp -s %s %s/root/boot/vmlinuz-6.1", out, dir), 0);
	char text[256];
	int n = extfs_read_small(img, 8 << 20, "/etc/fw_env.config", text, sizeof(text), err,
				 sizeof(err));
	assert_true(n > 0);
	assert_non_null(strstr(text, "/dev/mmcblk0 0x800000 0x4000"));
}

static void test_missing_kernel_and_missing_filesystem_say_which(void **state)
{
	(void)state;
	if (!have("mke2fs"))
		vh_skip("no mke2fs in PATH (e2fsprogs)");
	char img[128], out[128];
	snprintf(img, sizeof(img), "%s/slots.img", dir);
	snprintf(out, sizeof(out), "%s/no-kernel", dir);
	make_ext4_at(img, 8 << 20);
	char err[256];
	assert_int_equal(extfs_copy_file(img, 8 << 20, "/boot/zImage", out, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/boot/zImage"));
	assert_int_equal(access(out, F_OK), -1); /* nothing half-written left */
	assert_int_equal(extfs_copy_file(img, 1 << 20, "/boot/vmlinuz", out, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "no ext2/3/4 filesystem"));
	char small[16];
	assert_int_equal(extfs_read_small(img, 8 << 20, "/boot/vmlinuz", small, sizeof(small), err,
					  sizeof(err)),
			 -EFBIG);
}

/* --- fw_env.config --- */

static void test_fw_env_config_in_hex_and_decimal_with_comments(void **state)
{
	(void)state;
	struct fw_env_location loc;
	char err[256];
	assert_int_equal(fw_env_parse_config("# Mender\n"
					     "/dev/mmcblk0 0x400000 0x4000\n"
					     "\n"
					     "/dev/mmcblk0 8388608 16384 512 32 # second copy\n",
					     NULL, &loc, err, sizeof(err)),
			 0);
	assert_int_equal(loc.n, 2);
	assert_int_equal(loc.copy[0].offset, 0x400000);
	assert_int_equal(loc.copy[1].offset, 0x800000);
	assert_int_equal(loc.copy[1].size, 0x4000);
}

static void test_fw_env_config_offsets_in_a_partition_become_disk_offsets(void **state)
{
	(void)state;
	struct partition_table t = { .scheme = PARTITION_MBR, .n = 1 };
	t.parts[0] = (struct partition){ .number = 1, .start = 1 << 20, .size = 8 << 20 };
	struct fw_env_location loc;
	char err[256];
	assert_int_equal(
		fw_env_parse_config("/dev/mmcblk0p1 0x2000 0x2000\n", &t, &loc, err, sizeof(err)),
		0);
	assert_int_equal(loc.copy[0].offset, (1 << 20) + 0x2000);
	assert_int_equal(fw_env_parse_config("/dev/vda3 0 0x2000\n", &t, &loc, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "names partition 3, which the disk does not have"));
	assert_int_equal(
		fw_env_parse_config("/dev/vda1 0x7ff000 0x2000\n", &t, &loc, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "runs past the end of /dev/vda1"));
}

static void test_fw_env_config_errors_name_the_line(void **state)
{
	(void)state;
	struct fw_env_location loc;
	char err[256];
	assert_int_equal(fw_env_parse_config("/dev/vda 0x2000 0x20000\n/dev/vda size\n", NULL, &loc,
					     err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "line 2"));
	assert_int_equal(fw_env_parse_config("# nothing\n", NULL, &loc, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "names no env"));
	assert_int_equal(fw_env_parse_config("/dev/vda 0 8192\n/dev/vda 8192 4096\n", NULL, &loc,
					     err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "differ in size"));
}

static void test_device_names_give_their_partition(void **state)
{
	(void)state;
	assert_int_equal(fw_env_partition_of("/dev/mmcblk0"), 0);
	assert_int_equal(fw_env_partition_of("/dev/mmcblk0p2"), 2);
	assert_int_equal(fw_env_partition_of("/dev/mmcblk1boot0"), 0);
	assert_int_equal(fw_env_partition_of("/dev/vda"), 0);
	assert_int_equal(fw_env_partition_of("/dev/vda3"), 3);
	assert_int_equal(fw_env_partition_of("/dev/sda12"), 12);
	assert_int_equal(fw_env_partition_of("/dev/nvme0n1"), 0);
	assert_int_equal(fw_env_partition_of("/dev/nvme0n1p4"), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mbr_with_logical_partitions_is_numbered_as_linux_does),
		cmocka_unit_test(test_gpt_partitions_are_numbered_by_entry),
		cmocka_unit_test(test_partition_past_the_end_of_the_disk_is_an_error),
		cmocka_unit_test(test_logical_chain_that_loops_is_an_error),
		cmocka_unit_test(test_disk_without_a_table_has_no_partitions),
		cmocka_unit_test(test_kernel_is_copied_out_of_an_ext4_slot_following_symlinks),
		cmocka_unit_test(test_missing_kernel_and_missing_filesystem_say_which),
		cmocka_unit_test(test_fw_env_config_in_hex_and_decimal_with_comments),
		cmocka_unit_test(test_fw_env_config_offsets_in_a_partition_become_disk_offsets),
		cmocka_unit_test(test_fw_env_config_errors_name_the_line),
		cmocka_unit_test(test_device_names_give_their_partition),
	};
	return vh_run_tests(tests, setup, teardown);
}
