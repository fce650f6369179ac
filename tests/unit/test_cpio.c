/* Unit tests for harness/ota/cpio.c, the newc writer that gives each
 * reference firmware build its /etc/vh-release. Byte layout first, then GNU
 * cpio (an independent reader, in install-deps) lists and extracts what it
 * writes, alone and appended to an initramfs as ab_boot does. */
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

#include "cpio.h"
#include "test_files.h"
#include "test_skip.h"

static const char release[] = "VERSION=2.0.0\nBUGS=no-backoff\n";
static const struct cpio_entry release_entries[] = {
	{ .name = "etc", .mode = 040755 },
	{ .name = "etc/vh-release", .mode = 0100644, .data = release, .size = sizeof(release) - 1 },
};

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

static void run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

static void skip_without_cpio(void)
{
	if (system("command -v cpio >/dev/null 2>&1") != 0)
		vh_skip("no cpio in PATH");
}

static void test_archive_layout_is_newc(void **state)
{
	(void)state;
	uint8_t buf[1024];
	ssize_t n = cpio_newc_write(release_entries, 2, buf, sizeof(buf));
	/* 110-byte headers; name + NUL and data each padded to 4 */
	size_t dir = 116, file = 128 + 32, trailer = 124;

	assert_int_equal(n, dir + file + trailer);
	assert_int_equal(cpio_newc_size(release_entries, 2), (size_t)n);
	assert_memory_equal(buf,
			    "070701"
			    "00000001" /* ino */
			    "000041ED" /* mode 040755 */
			    "00000000"
			    "00000000" /* uid gid */
			    "00000002" /* nlink */
			    "00000000" /* mtime */
			    "00000000" /* filesize */
			    "00000000"
			    "00000000"
			    "00000000"
			    "00000000"
			    "00000004" /* namesize: "etc" + NUL */
			    "00000000" /* check */
			    "etc\0\0\0",
			    116);
	assert_memory_equal(buf + 116,
			    "070701"
			    "00000002"
			    "000081A4" /* 0100644 */
			    "00000000"
			    "00000000"
			    "00000001"
			    "00000000"
			    "0000001E" /* 30 bytes */
			    "00000000"
			    "00000000"
			    "00000000"
			    "00000000"
			    "0000000F" /* "etc/vh-release" + NUL */
			    "00000000"
			    "etc/vh-release\0" /* 110 + 15 = 125, padded to 128 */
			    "\0\0\0",
			    128);
	assert_memory_equal(buf + 116 + 128, release, 30);
	assert_memory_equal(buf + 116 + 128 + 30, "\0\0", 2);
	assert_memory_equal(buf + dir + file, "070701", 6);
	assert_memory_equal(buf + dir + file + 94, "0000000B", 8); /* namesize */
	assert_memory_equal(buf + dir + file + 110, "TRAILER!!!\0\0", 12);
	assert_int_equal(n % 4, 0);
}

static void test_invalid_entries_and_small_buffers_are_refused(void **state)
{
	(void)state;
	uint8_t buf[512];
	const struct cpio_entry absolute = { .name = "/etc", .mode = 040755 };
	const struct cpio_entry empty = { .name = "", .mode = 0100644 };
	const struct cpio_entry dir_data = { .name = "d", .mode = 040755, .data = "x", .size = 1 };
	const struct cpio_entry symlink = { .name = "l", .mode = 0120777, .data = "x", .size = 1 };
	const struct cpio_entry no_data = { .name = "f", .mode = 0100644, .size = 3 };

	assert_int_equal(cpio_newc_write(&absolute, 1, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(cpio_newc_write(&empty, 1, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(cpio_newc_write(&dir_data, 1, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(cpio_newc_write(&symlink, 1, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(cpio_newc_write(&no_data, 1, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(cpio_newc_size(&absolute, 1), 0);
	assert_int_equal(cpio_newc_write(release_entries, 2, buf, 100), -ENOSPC);
	/* no entries: just the trailer, still an archive */
	assert_int_equal(cpio_newc_write(NULL, 0, buf, sizeof(buf)), 124);
}

static void test_gnu_cpio_lists_and_extracts_the_archive(void **state)
{
	(void)state;
	uint8_t buf[1024];
	char path[256], out[256], file[300];
	size_t len;
	ssize_t n = cpio_newc_write(release_entries, 2, buf, sizeof(buf));
	uint8_t *got;
	struct stat st;

	skip_without_cpio();
	path_in(path, sizeof(path), "extra.cpio");
	write_file(path, buf, (size_t)n);
	path_in(out, sizeof(out), "list.txt");
	run("cpio -t --quiet <'%s' >'%s'", path, out);
	got = slurp(out, &len);
	assert_string_equal((char *)got, "etc\netc/vh-release\n");
	free(got);
	path_in(out, sizeof(out), "x1");
	run("mkdir '%s' && cd '%s' && cpio -idm --quiet <'%s'", out, out, path);
	snprintf(file, sizeof(file), "%s/etc/vh-release", out);
	got = slurp(file, &len);
	assert_int_equal(len, sizeof(release) - 1);
	assert_memory_equal(got, release, len);
	free(got);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
}

static void test_appended_archive_adds_its_file_to_the_base(void **state)
{
	(void)state;
	uint8_t extra[1024];
	char dir[256], base[256], odd[256], initrd[256], root[300], file[400], err[256];
	ssize_t n = cpio_newc_write(release_entries, 2, extra, sizeof(extra));
	size_t base_len, len;
	uint8_t *b, *all;

	skip_without_cpio();
	/* a base initramfs as build-image.sh makes one (GNU cpio, newc) */
	path_in(dir, sizeof(dir), "rootfs");
	path_in(base, sizeof(base), "base.cpio");
	run("mkdir -p '%s/etc' && echo '::sysinit:/init' >'%s/etc/inittab' && cd '%s' && "
	    "printf 'etc\\netc/inittab\\n' | cpio -o -H newc --quiet --reproducible -R 0:0 >'%s'",
	    dir, dir, dir, base);
	path_in(initrd, sizeof(initrd), "initrd");
	assert_int_equal(cpio_concat_file(initrd, base, extra, (size_t)n, err, sizeof(err)), 0);
	b = slurp(base, &base_len);
	all = slurp(initrd, &len);
	assert_int_equal(base_len % 4, 0);
	assert_int_equal(len, base_len + (size_t)n);
	assert_memory_equal(all, b, base_len);
	assert_memory_equal(all + base_len, extra, (size_t)n);
	/* What the kernel unpacks: the first archive, then the next. GNU cpio
	 * stops at the first trailer, so it reads each from its offset; -u
	 * replaces as the kernel does. */
	path_in(root, sizeof(root), "root");
	run("mkdir '%s' && cd '%s' && head -c %zu '%s' | cpio -idmu --quiet && "
	    "tail -c +%zu '%s' | cpio -idmu --quiet",
	    root, root, base_len, initrd, base_len + 1, initrd);
	snprintf(file, sizeof(file), "%s/etc/inittab", root);
	assert_int_equal(access(file, R_OK), 0);
	snprintf(file, sizeof(file), "%s/etc/vh-release", root);
	free(all);
	all = slurp(file, &len);
	assert_memory_equal(all, release, sizeof(release) - 1);
	free(all);
	free(b);

	/* a base whose length is not a multiple of 4 is padded with zeros */
	path_in(odd, sizeof(odd), "odd");
	write_file(odd, "12345", 5);
	assert_int_equal(cpio_concat_file(initrd, odd, extra, (size_t)n, err, sizeof(err)), 0);
	all = slurp(initrd, &len);
	assert_int_equal(len, 8 + (size_t)n);
	assert_memory_equal(all, "12345\0\0\0", 8);
	assert_memory_equal(all + 8, extra, (size_t)n);
	free(all);
	/* no base: an error, and no output left behind */
	unlink(initrd);
	assert_int_equal(
		cpio_concat_file(initrd, "/nonexistent/base", extra, (size_t)n, err, sizeof(err)),
		-ENOENT);
	assert_non_null(strstr(err, "/nonexistent/base"));
	assert_int_equal(access(initrd, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_archive_layout_is_newc),
		cmocka_unit_test(test_invalid_entries_and_small_buffers_are_refused),
		cmocka_unit_test(test_gnu_cpio_lists_and_extracts_the_archive),
		cmocka_unit_test(test_appended_archive_adds_its_file_to_the_base),
	};
	return vh_run_tests(tests, test_files_setup, test_files_teardown);
}
