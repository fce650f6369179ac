/* Unit tests for the reference firmware disk image (harness/ota/disk_image.c):
 * MBR bytes, both env copies, the bundle in slot a, and the guest's view
 * of the partition table through sfdisk. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "bundle.h"
#include "disk_image.h"
#include "test_files.h"
#include "test_skip.h"
#include "ubootenv.h"

static void read_at(const char *path, uint64_t off, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* kernel "K..." (3000 bytes) and initrd "I..." (5000 bytes) as a bundle */
static void make_bundle(const char *bpath, const char *version)
{
	char kpath[128], ipath[128], err[256];
	static uint8_t k[3000], i[5000];
	memset(k, 'K', sizeof(k));
	memset(i, 'I', sizeof(i));
	path_in(kpath, sizeof(kpath), "kernel.in");
	path_in(ipath, sizeof(ipath), "initrd.in");
	write_file(kpath, k, sizeof(k));
	write_file(ipath, i, sizeof(i));
	assert_int_equal(bundle_write(bpath, version, "", kpath, ipath, NULL, err, sizeof(err)), 0);
}

static void test_slot_offsets(void **state)
{
	(void)state;
	assert_int_equal(disk_image_slot_offset('a'), 1 << 20);
	assert_int_equal(disk_image_slot_offset('b'), 41 << 20);
	assert_int_equal(disk_image_slot_offset('c'), -1);
	assert_int_equal(disk_image_slot_offset('A'), -1);
}

static void test_mbr_bytes(void **state)
{
	(void)state;
	uint8_t mbr[512];
	disk_image_mbr(mbr);
	assert_int_equal(mbr[510], 0x55);
	assert_int_equal(mbr[511], 0xaa);
	assert_int_equal(le32(mbr + 440), DISK_IMAGE_DISK_ID);
	const uint32_t starts[3] = { 2048, 41 * 2048, 81 * 2048 };
	const uint32_t counts[3] = { 40 * 2048, 40 * 2048, 8 * 2048 };
	for (int p = 0; p < 3; p++) {
		const uint8_t *e = mbr + 446 + 16 * p;
		assert_int_equal(e[0], 0x00);
		assert_int_equal(e[4], 0x83);
		assert_int_equal(le32(e + 8), starts[p]);
		assert_int_equal(le32(e + 12), counts[p]);
	}
	/* p1 starts at LBA 2048 = C0 H32 S33 on 255/63 geometry, as fdisk has it */
	assert_int_equal(mbr[446 + 1], 32);
	assert_int_equal(mbr[446 + 2], 33);
	assert_int_equal(mbr[446 + 3], 0);
	/* the fourth entry and the boot code area are empty */
	for (int i = 446 + 48; i < 510; i++)
		assert_int_equal(mbr[i], 0);
	for (int i = 0; i < 440; i++)
		assert_int_equal(mbr[i], 0);
}

static void test_create_writes_mbr_env_and_slot_a(void **state)
{
	(void)state;
	char disk[128], bpath[128], kout[128], iout[128], err[256] = "";
	path_in(disk, sizeof(disk), "disk.img");
	path_in(bpath, sizeof(bpath), "fw1.bundle");
	path_in(kout, sizeof(kout), "k.out");
	path_in(iout, sizeof(iout), "i.out");
	make_bundle(bpath, "1.0.0");
	int rc = disk_image_create(disk, bpath, "1.0.0", err, sizeof(err));
	if (rc)
		fail_msg("create: %s", err);

	struct stat st;
	assert_int_equal(stat(disk, &st), 0);
	assert_int_equal(st.st_size, DISK_IMAGE_SIZE);
	/* sparse: far fewer blocks than 89 MiB */
	assert_true((uint64_t)st.st_blocks * 512u < 4u * DISK_IMAGE_MIB);

	uint8_t mbr[512], want[512];
	read_at(disk, 0, mbr, sizeof(mbr));
	disk_image_mbr(want);
	assert_memory_equal(mbr, want, 512);

	/* both copies hold the defaults, each valid on its own */
	uint8_t *copies = malloc(2 * UBOOTENV_COPY_SIZE);
	read_at(disk, UBOOTENV_COPY0_OFFSET, copies, UBOOTENV_COPY_SIZE);
	read_at(disk, UBOOTENV_COPY1_OFFSET, copies + UBOOTENV_COPY_SIZE, UBOOTENV_COPY_SIZE);
	for (int c = 0; c < 2; c++) {
		struct ubootenv env;
		ubootenv_init(&env);
		assert_int_equal(ubootenv_decode(copies + (size_t)c * UBOOTENV_COPY_SIZE, NULL,
						 UBOOTENV_COPY_SIZE, &env),
				 0);
		assert_string_equal(ubootenv_get(&env, "boot_slot"), "a");
		assert_string_equal(ubootenv_get(&env, "upgrade_available"), "0");
		assert_string_equal(ubootenv_get(&env, "bootcount"), "0");
		assert_string_equal(ubootenv_get(&env, "bootlimit"), "3");
		assert_string_equal(ubootenv_get(&env, "version_a"), "1.0.0");
		ubootenv_free(&env);
	}
	free(copies);
	struct ubootenv env;
	ubootenv_init(&env);
	assert_true(ubootenv_file_load(disk, &env, err, sizeof(err)) >= 0);
	assert_string_equal(ubootenv_get(&env, "boot_slot"), "a");
	ubootenv_free(&env);

	/* slot a gives back the inputs; slot b is empty */
	struct bundle_header h;
	rc = bundle_extract(disk, (uint64_t)disk_image_slot_offset('a'), DISK_IMAGE_SLOT_SIZE, kout,
			    iout, &h, true, err, sizeof(err));
	if (rc)
		fail_msg("extract: %s", err);
	assert_string_equal(h.version, "1.0.0");
	uint8_t buf[5000], exp[5000];
	read_at(kout, 0, buf, 3000);
	memset(exp, 'K', 3000);
	assert_memory_equal(buf, exp, 3000);
	read_at(iout, 0, buf, 5000);
	memset(exp, 'I', 5000);
	assert_memory_equal(buf, exp, 5000);
	struct stat kst;
	assert_int_equal(stat(kout, &kst), 0);
	assert_int_equal(kst.st_size, 3000);
	assert_int_equal(bundle_extract(disk, (uint64_t)disk_image_slot_offset('b'),
					DISK_IMAGE_SLOT_SIZE, NULL, NULL, NULL, true, err,
					sizeof(err)),
			 -EINVAL);

	/* write_slot puts a second version into b */
	char b2[128];
	path_in(b2, sizeof(b2), "fw2.bundle");
	make_bundle(b2, "2.0.0");
	assert_int_equal(disk_image_write_slot(disk, 'b', b2, err, sizeof(err)), 0);
	assert_int_equal(bundle_extract(disk, (uint64_t)disk_image_slot_offset('b'),
					DISK_IMAGE_SLOT_SIZE, NULL, NULL, &h, true, err,
					sizeof(err)),
			 0);
	assert_string_equal(h.version, "2.0.0");
	assert_int_equal(disk_image_write_slot(disk, 'c', b2, err, sizeof(err)), -EINVAL);
}

static void test_create_takes_version_from_bundle_and_rejects_bad_bundles(void **state)
{
	(void)state;
	char disk[128], bpath[128], err[256] = "";
	path_in(disk, sizeof(disk), "disk2.img");
	path_in(bpath, sizeof(bpath), "fw3.bundle");
	make_bundle(bpath, "3.0.0");
	assert_int_equal(disk_image_create(disk, bpath, NULL, err, sizeof(err)), 0);
	struct ubootenv env;
	ubootenv_init(&env);
	assert_true(ubootenv_file_load(disk, &env, err, sizeof(err)) >= 0);
	assert_string_equal(ubootenv_get(&env, "version_a"), "3.0.0");
	ubootenv_free(&env);

	/* no bundle: a valid image with an empty (unbootable) slot a */
	assert_int_equal(disk_image_create(disk, NULL, NULL, err, sizeof(err)), 0);
	ubootenv_init(&env);
	assert_true(ubootenv_file_load(disk, &env, err, sizeof(err)) >= 0);
	assert_null(ubootenv_get(&env, "version_a"));
	assert_string_equal(ubootenv_get(&env, "bootlimit"), "3");
	ubootenv_free(&env);

	/* a header claiming more than a slot holds; and a non-bundle */
	char big[128];
	path_in(big, sizeof(big), "big.bundle");
	const char *hdr =
		"VHFW1\nversion=9\nbugs=\nkernel_size=50000000\ninitrd_size=0\n"
		"sha256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\n";
	write_file(big, hdr, strlen(hdr));
	assert_int_equal(disk_image_create(disk, big, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "slot"));
	assert_int_equal(access(disk, F_OK), -1); /* the partial image is gone */
	write_file(big, "hello\n", 6);
	assert_int_equal(disk_image_create(disk, big, NULL, err, sizeof(err)), -EINVAL);
	assert_int_equal(disk_image_create(disk, bpath, "bad version", err, sizeof(err)), -EINVAL);
	assert_int_equal(disk_image_create("/nonexistent/dir/disk", bpath, NULL, err, sizeof(err)),
			 -ENOENT);
}

/* What the guest's kernel will see: sfdisk reads the same table. */
static void test_sfdisk_lists_three_partitions_at_contract_offsets(void **state)
{
	(void)state;
	if (system("command -v sfdisk >/dev/null 2>&1") != 0)
		vh_skip("no sfdisk in PATH (util-linux)");
	char disk[128], cmd[300], err[256];
	path_in(disk, sizeof(disk), "disk3.img");
	assert_int_equal(disk_image_create(disk, NULL, "1.0.0", err, sizeof(err)), 0);
	snprintf(cmd, sizeof(cmd), "sfdisk -d '%s' 2>&1", disk);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char out[4096];
	size_t n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
	assert_non_null(strstr(out, "label: dos"));
	assert_non_null(strstr(out, "label-id: 0x57464856"));
	/* "<dev>N : start= S, size= Z, type=83" (padding varies by version) */
	const unsigned starts[3] = { 2048, 83968, 165888 }, sizes[3] = { 81920, 81920, 16384 };
	int found = 0;
	for (char *save = NULL, *line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *dev = strstr(line, "disk3.img");
		unsigned part, start, size, type;
		if (!dev || sscanf(dev, "disk3.img%u : start= %u, size= %u, type=%x", &part, &start,
				   &size, &type) != 4)
			continue;
		assert_true(part >= 1 && part <= 3);
		assert_int_equal(start, starts[part - 1]);
		assert_int_equal(size, sizes[part - 1]);
		assert_int_equal(type, 0x83);
		found++;
	}
	assert_int_equal(found, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slot_offsets),
		cmocka_unit_test(test_mbr_bytes),
		cmocka_unit_test(test_create_writes_mbr_env_and_slot_a),
		cmocka_unit_test(test_create_takes_version_from_bundle_and_rejects_bad_bundles),
		cmocka_unit_test(test_sfdisk_lists_three_partitions_at_contract_offsets),
	};
	return vh_run_tests(tests, test_files_setup, test_files_teardown);
}
