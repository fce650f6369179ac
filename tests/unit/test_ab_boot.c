/* Tests for harness/ota/ab_boot.c: each reference firmware build
 * (ab_boot_bundle_for) carries its own /etc/vh-release, and devices that boot
 * the same payload share its extracted files (ab_boot_prepare). With no arguments the unit
 * cases run on a fake image; with "--image DIR" (the interop test) the built
 * reference image in DIR is checked with GNU cpio. */
#include <errno.h>
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

#include "ab_boot.h"
#include "bundle.h"
#include "cpio.h"
#include "disk_image.h"
#include "release.h"
#include "test_files.h"
#include "test_skip.h"

static const char *image_dir; /* --image */

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

/* A fake image: a kernel and an initramfs of 38 bytes (not a multiple of
 * 4, so the release archive needs padding before it). */
static void fake_image(char *dir, size_t len)
{
	char path[300];
	uint8_t base[38];

	memset(base, 'b', sizeof(base));
	path_in(dir, len, "image");
	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/vmlinuz", dir);
	write_file(path, "KERNEL", 6);
	snprintf(path, sizeof(path), "%s/initramfs.cpio", dir);
	write_file(path, base, sizeof(base));
}

/* The initrd of the bundle at path, extracted into a file next to it. */
static uint8_t *bundle_initrd(const char *bundle, struct bundle_header *h, size_t *len)
{
	char out[300], err[256];

	snprintf(out, sizeof(out), "%s.x-initrd", bundle);
	if (bundle_extract(bundle, 0, UINT64_MAX, NULL, out, h, true, err, sizeof(err)) != 0)
		fail_msg("extract: %s", err);
	return slurp(out, len);
}

static void test_each_build_appends_its_release_to_the_image_initramfs(void **state)
{
	(void)state;
	char dir[256], path[512], err[256], other[600];
	struct bundle_header h;
	size_t len, base_len;
	uint8_t *initrd, *base;
	uint8_t want[1024];
	const char text[] = "VERSION=2.0.0\nBUGS=no-backoff,never-healthy\n";
	const struct cpio_entry entries[] = {
		{ .name = "etc", .mode = 040755 },
		{ .name = "etc/vh-release",
		  .mode = 0100644,
		  .data = text,
		  .size = sizeof(text) - 1 },
	};
	ssize_t want_len = cpio_newc_write(entries, 2, want, sizeof(want));

	fake_image(dir, sizeof(dir));
	assert_int_equal(ab_boot_bundle_for(dir, NULL, tmpdir, "2.0.0", "no-backoff,never-healthy",
					    path, sizeof(path), err, sizeof(err)),
			 0);
	assert_non_null(strstr(path, "/firmware-2.0.0-no-backoff+never-healthy.bundle"));
	initrd = bundle_initrd(path, &h, &len);
	snprintf(other, sizeof(other), "%s/initramfs.cpio", dir);
	base = slurp(other, &base_len);
	/* the image's bytes, zeros to a 4-byte boundary, then the release */
	assert_int_equal(len, 40 + (size_t)want_len);
	assert_memory_equal(initrd, base, base_len);
	assert_memory_equal(initrd + 38, "\0\0", 2);
	assert_memory_equal(initrd + 40, want, (size_t)want_len);
	assert_string_equal(h.version, "2.0.0");
	assert_string_equal(h.bugs, "no-backoff,never-healthy");
	/* no scratch initrd left next to the bundle */
	snprintf(other, sizeof(other), "%s.initrd", path);
	assert_int_equal(access(other, F_OK), -1);
	free(initrd);
	free(base);
}

static void test_builds_differ_by_version_so_their_payloads_do(void **state)
{
	(void)state;
	char dir[256], p1[512], p2[512], err[256];
	struct bundle_header h1, h2;
	size_t len;

	fake_image(dir, sizeof(dir));
	assert_int_equal(ab_boot_bundle_for(dir, NULL, tmpdir, "1.0.0", NULL, p1, sizeof(p1), err,
					    sizeof(err)),
			 0);
	assert_int_equal(ab_boot_bundle_for(dir, NULL, tmpdir, "1.0.1", "", p2, sizeof(p2), err,
					    sizeof(err)),
			 0);
	free(bundle_initrd(p1, &h1, &len));
	free(bundle_initrd(p2, &h2, &len));
	assert_string_not_equal(h1.sha256, h2.sha256);
	assert_int_equal(ab_boot_bundle_for(dir, NULL, tmpdir, "bad version", NULL, p1, sizeof(p1),
					    err, sizeof(err)),
			 -EINVAL);
}

static void test_cached_bundle_is_reused_until_the_image_changes(void **state)
{
	(void)state;
	char dir[256], path[512], again[512], err[256], base[300];
	struct stat a, b;

	fake_image(dir, sizeof(dir));
	assert_int_equal(ab_boot_bundle_for(dir, NULL, tmpdir, "3.0.0", NULL, path, sizeof(path),
					    err, sizeof(err)),
			 0);
	assert_int_equal(stat(path, &a), 0);
	assert_int_equal(ab_boot_bundle_for(dir, NULL, tmpdir, "3.0.0", NULL, again, sizeof(again),
					    err, sizeof(err)),
			 0);
	assert_string_equal(path, again);
	assert_int_equal(stat(path, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	/* a rebuilt image (newer, other size) makes a new bundle */
	usleep(20000);
	snprintf(base, sizeof(base), "%s/initramfs.cpio", dir);
	write_file(base, "0707", 4);
	assert_int_equal(ab_boot_bundle_for(dir, NULL, tmpdir, "3.0.0", NULL, again, sizeof(again),
					    err, sizeof(err)),
			 0);
	assert_int_equal(stat(path, &b), 0);
	assert_true(a.st_ino != b.st_ino);
	/* as does a bundle of another layout under the same name */
	char kernel[300];
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", dir);
	assert_int_equal(bundle_write(path, "3.0.0", NULL, kernel, base, NULL, err, sizeof(err)),
			 0);
	assert_int_equal(stat(path, &a), 0);
	assert_int_equal(ab_boot_bundle_for(dir, NULL, tmpdir, "3.0.0", NULL, again, sizeof(again),
					    err, sizeof(err)),
			 0);
	assert_int_equal(stat(path, &b), 0);
	assert_true(a.st_ino != b.st_ino);
}

static void test_aarch64_build_comes_from_its_own_image_under_its_own_name(void **state)
{
	(void)state;
	char root[256], dir[300], kernel[400], p86[512], parm[512], err[256];
	struct bundle_header h86, harm;
	size_t len;

	fake_image(root, sizeof(root));
	ab_boot_image_dir(root, "aarch64", dir, sizeof(dir));
	snprintf(kernel, sizeof(kernel), "%s/aarch64", root);
	assert_string_equal(dir, kernel);
	ab_boot_image_dir(root, "x86_64", dir, sizeof(dir));
	assert_string_equal(dir, root);
	ab_boot_image_dir(root, NULL, dir, sizeof(dir));
	assert_string_equal(dir, root);
	/* an aarch64 image with a kernel of another size */
	snprintf(dir, sizeof(dir), "%s/aarch64", root);
	mkdir(dir, 0755);
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", dir);
	write_file(kernel, "ARM64 KERNEL", 12);
	snprintf(kernel, sizeof(kernel), "%s/initramfs.cpio", dir);
	write_file(kernel, "0707", 4);

	assert_int_equal(ab_boot_bundle_for(root, "x86_64", tmpdir, "4.0.0", NULL, p86, sizeof(p86),
					    err, sizeof(err)),
			 0);
	assert_int_equal(ab_boot_bundle_for(root, "aarch64", tmpdir, "4.0.0", NULL, parm,
					    sizeof(parm), err, sizeof(err)),
			 0);
	assert_string_not_equal(p86, parm);
	assert_non_null(strstr(parm, "/aarch64_firmware-4.0.0.bundle"));
	free(bundle_initrd(p86, &h86, &len));
	free(bundle_initrd(parm, &harm, &len));
	assert_int_equal(h86.kernel_size, 6);
	assert_int_equal(harm.kernel_size, 12);
	/* both stay cached side by side: neither rebuild replaced the other */
	assert_int_equal(ab_boot_bundle_for(root, NULL, tmpdir, "4.0.0", NULL, p86, sizeof(p86),
					    err, sizeof(err)),
			 0);
	free(bundle_initrd(p86, &h86, &len));
	assert_int_equal(h86.kernel_size, 6);
}

static void test_missing_image_is_an_error(void **state)
{
	(void)state;
	char path[512], err[256];

	assert_true(ab_boot_bundle_for("/nonexistent", NULL, tmpdir, "1.0.0", NULL, path,
				       sizeof(path), err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "/nonexistent/"));
}

static void run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

/* The built reference image: its initramfs has /etc and no vh-release, and
 * a build's initrd unpacked archive by archive, as the kernel does, holds
 * the agent and the build's /etc/vh-release. */
static void test_reference_image_build_unpacks_with_its_release(void **state)
{
	(void)state;
	char path[512], err[256], list[300], root[300], file[400], base[1024];
	struct bundle_header h;
	struct stat st;
	size_t len;
	uint8_t *text;
	struct release r;

	if (system("command -v cpio >/dev/null 2>&1") != 0)
		vh_skip("no cpio in PATH");
	snprintf(base, sizeof(base), "%s/initramfs.cpio", image_dir);
	if (access(base, R_OK) != 0)
		fail_msg("no reference image in %s (build the `image` target)", image_dir);
	path_in(list, sizeof(list), "base.list");
	run("cpio -t --quiet <'%s' >'%s'", base, list);
	text = slurp(list, &len);
	assert_non_null(strstr((char *)text, "\netc\n"));
	assert_null(strstr((char *)text, "vh-release"));
	free(text);

	assert_int_equal(ab_boot_bundle_for(image_dir, NULL, tmpdir, "2.0.0", "no-backoff", path,
					    sizeof(path), err, sizeof(err)),
			 0);
	free(bundle_initrd(path, &h, &len));
	assert_int_equal(stat(base, &st), 0);
	path_in(root, sizeof(root), "root");
	/* GNU cpio stops at the first trailer: one run per archive, -u
	 * replacing files as the kernel does */
	run("mkdir '%s' && cd '%s' && head -c %lld '%s.x-initrd' | cpio -idmu --quiet && "
	    "tail -c +%lld '%s.x-initrd' | cpio -idmu --quiet",
	    root, root, (long long)st.st_size, path, (long long)((st.st_size + 3) & ~3) + 1, path);
	snprintf(file, sizeof(file), "%s/sbin/vh-agent", root);
	assert_int_equal(access(file, X_OK), 0);
	snprintf(file, sizeof(file), "%s/etc/vh-release", root);
	text = slurp(file, &len);
	assert_int_equal(release_parse((char *)text, len, &r, err, sizeof(err)), 0);
	assert_string_equal(r.version, "2.0.0");
	assert_string_equal(r.bugs, "no-backoff");
	free(text);
}

/* A disk whose slot a holds a bundle of version with the given initrd. */
static void make_disk(const char *name, const char *version, const char *initrd_text)
{
	char kpath[300], ipath[300], bpath[300], disk[300], err[256];
	path_in(kpath, sizeof(kpath), "share.kernel");
	path_in(ipath, sizeof(ipath), "share.initrd");
	path_in(bpath, sizeof(bpath), "share.bundle");
	path_in(disk, sizeof(disk), name);
	write_file(kpath, "KERNEL", 6);
	write_file(ipath, initrd_text, strlen(initrd_text));
	if (bundle_write(bpath, version, "", kpath, ipath, NULL, err, sizeof(err)) != 0 ||
	    disk_image_create(disk, bpath, NULL, err, sizeof(err)) != 0)
		fail_msg("%s: %s", name, err);
}

static void prepare(const char *disk_name, const char *work, const char *device, struct ab_boot *ab)
{
	char disk[300], err[512];
	path_in(disk, sizeof(disk), disk_name);
	if (ab_boot_prepare(disk, work, device, ab, err, sizeof(err)) != 0)
		fail_msg("prepare %s for %s: %s", disk_name, device, err);
}

static ino_t inode_of(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

static void assert_file_is(const char *path, const char *text)
{
	size_t len;
	uint8_t *got = slurp(path, &len);
	assert_int_equal(len, strlen(text));
	assert_memory_equal(got, text, len);
	free(got);
}

/* Two devices booting the same payload get one inode (QEMU maps the initrd
 * for the guest's life: one copy in the page cache serves both); another
 * payload gets its own. A device that boots something else later gets a new
 * file, and the other's file keeps its bytes. At the run's end the shared
 * copies go and the devices' names still read. */
static void test_devices_booting_one_payload_share_its_extracted_files(void **state)
{
	(void)state;
	char work[300], shared[400];
	struct ab_boot a1, a2, b;
	path_in(work, sizeof(work), "work");
	mkdir(work, 0755);
	make_disk("d1.img", "1.0.0", "initrd one");
	make_disk("d2.img", "1.0.0", "initrd one");
	make_disk("d3.img", "2.0.0", "initrd two");
	prepare("d1.img", work, "d1", &a1);
	prepare("d2.img", work, "d2", &a2);
	prepare("d3.img", work, "d3", &b);
	assert_int_equal(inode_of(a1.initrd_path), inode_of(a2.initrd_path));
	assert_int_equal(inode_of(a1.kernel_path), inode_of(a2.kernel_path));
	assert_int_not_equal(inode_of(a1.initrd_path), inode_of(b.initrd_path));
	assert_file_is(a2.initrd_path, "initrd one");
	assert_file_is(b.initrd_path, "initrd two");
	snprintf(shared, sizeof(shared), "%s/" AB_BOOT_SHARED_DIR "/%s.initrd", work,
		 a1.bundle.sha256);
	assert_int_equal(inode_of(shared), inode_of(a1.initrd_path));

	/* d1 now boots 2.0.0: its name moves, d2's file is untouched. */
	prepare("d3.img", work, "d1", &a1);
	assert_file_is(a1.initrd_path, "initrd two");
	assert_int_equal(inode_of(a1.initrd_path), inode_of(b.initrd_path));
	assert_file_is(a2.initrd_path, "initrd one");

	ab_boot_forget_shared(work);
	snprintf(shared, sizeof(shared), "%s/" AB_BOOT_SHARED_DIR, work);
	assert_int_equal(access(shared, F_OK), -1);
	assert_file_is(a2.initrd_path, "initrd one");
	assert_file_is(a1.initrd_path, "initrd two");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest unit[] = {
		cmocka_unit_test(test_each_build_appends_its_release_to_the_image_initramfs),
		cmocka_unit_test(test_builds_differ_by_version_so_their_payloads_do),
		cmocka_unit_test(test_cached_bundle_is_reused_until_the_image_changes),
		cmocka_unit_test(test_aarch64_build_comes_from_its_own_image_under_its_own_name),
		cmocka_unit_test(test_missing_image_is_an_error),
		cmocka_unit_test(test_devices_booting_one_payload_share_its_extracted_files),
	};
	const struct CMUnitTest image[] = {
		cmocka_unit_test(test_reference_image_build_unpacks_with_its_release),
	};

	if (argc == 3 && strcmp(argv[1], "--image") == 0) {
		image_dir = argv[2];
		return vh_run_tests(image, test_files_setup, test_files_teardown);
	}
	return vh_run_tests(unit, test_files_setup, test_files_teardown);
}
