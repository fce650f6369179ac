/* Unit tests for the firmware bundle's file shells (harness/ota/bundle.c) and
 * the shared SHA-256 (base/sha256.c) they hash with. The header codec itself
 * is tested in test_wire_bundle.c. */
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
#include "sha256.h"
#include "test_files.h"
#include "test_skip.h"

#define HEX_A "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static uint8_t *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	uint8_t *buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

/* deterministic non-trivial bytes */
static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

static void test_sha256_known_vectors(void **state)
{
	(void)state;
	char hex[SHA256_HEX_SIZE];
	sha256_hex("", 0, hex);
	assert_string_equal(hex,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_hex("abc", 3, hex);
	assert_string_equal(hex, HEX_A);
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	sha256_hex(two, strlen(two), hex);
	assert_string_equal(hex,
			    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_sha256_any_split_gives_same_digest(void **state)
{
	(void)state;
	/* one million 'a', fed in odd-sized pieces that straddle blocks */
	static uint8_t a[1000];
	memset(a, 'a', sizeof(a));
	struct sha256_ctx ctx;
	uint8_t d[SHA256_DIGEST_SIZE];
	char hex[SHA256_HEX_SIZE];
	sha256_init(&ctx);
	size_t left = 1000000, step = 1;
	while (left > 0) {
		size_t n = step < left ? step : left;
		if (n > sizeof(a))
			n = sizeof(a);
		sha256_update(&ctx, a, n);
		left -= n;
		step = step * 7 % 997 + 1;
	}
	sha256_final(&ctx, d);
	sha256_to_hex(d, hex);
	assert_string_equal(hex,
			    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	/* 55, 56 and 64 bytes: the padding boundaries */
	uint8_t buf[64];
	memset(buf, 'x', sizeof(buf));
	for (size_t n = 55; n <= 64; n++) {
		char one[SHA256_HEX_SIZE];
		sha256_hex(buf, n, one);
		sha256_init(&ctx);
		for (size_t i = 0; i < n; i++)
			sha256_update(&ctx, buf + i, 1);
		sha256_final(&ctx, d);
		sha256_to_hex(d, hex);
		assert_string_equal(one, hex);
	}
}

static void test_write_then_extract_gives_back_the_inputs(void **state)
{
	(void)state;
	char kpath[128], ipath[128], bpath[128], kout[128], iout[128];
	path_in(kpath, sizeof(kpath), "vmlinuz");
	path_in(ipath, sizeof(ipath), "initrd");
	path_in(bpath, sizeof(bpath), "fw.bundle");
	path_in(kout, sizeof(kout), "k.out");
	path_in(iout, sizeof(iout), "i.out");
	/* sizes that straddle the 64 KiB copy chunk */
	size_t klen = 200000, ilen = 65537;
	uint8_t *k = malloc(klen), *i = malloc(ilen);
	fill(k, klen, 1);
	fill(i, ilen, 2);
	write_file(kpath, k, klen);
	write_file(ipath, i, ilen);

	struct bundle_header h;
	char err[256] = "";
	int rc = bundle_write(bpath, "2.0.0", "no-backoff", kpath, ipath, &h, err, sizeof(err));
	assert_int_equal(rc, 0);
	assert_int_equal(h.kernel_size, klen);
	assert_int_equal(h.initrd_size, ilen);

	/* the header's sha is the sha of kernel||initrd */
	uint8_t *cat = malloc(klen + ilen);
	memcpy(cat, k, klen);
	memcpy(cat + klen, i, ilen);
	char want[SHA256_HEX_SIZE];
	sha256_hex(cat, klen + ilen, want);
	assert_string_equal(h.sha256, want);

	size_t blen;
	uint8_t *b = read_file(bpath, &blen);
	assert_int_equal(blen, bundle_total_size(&h));
	assert_memory_equal(b + h.header_size, cat, klen + ilen);
	struct bundle_header parsed;
	assert_int_equal(bundle_header_parse(b, blen, &parsed, err, sizeof(err)), 0);
	assert_string_equal(parsed.sha256, want);
	assert_string_equal(parsed.bugs, "no-backoff");

	struct bundle_header ex;
	assert_int_equal(bundle_extract(bpath, 0, blen, kout, iout, &ex, true, err, sizeof(err)),
			 0);
	size_t n;
	uint8_t *kk = read_file(kout, &n);
	assert_int_equal(n, klen);
	assert_memory_equal(kk, k, klen);
	uint8_t *ii = read_file(iout, &n);
	assert_int_equal(n, ilen);
	assert_memory_equal(ii, i, ilen);
	assert_string_equal(ex.version, "2.0.0");

	/* one byte short of the slot: rejected before anything is copied */
	unlink(kout);
	assert_int_equal(
		bundle_extract(bpath, 0, blen - 1, kout, iout, NULL, false, err, sizeof(err)),
		-EINVAL);
	assert_int_equal(access(kout, F_OK), -1);

	/* a flipped payload byte: -EBADMSG, and no half-trusted outputs left */
	b[h.header_size + klen + 5] ^= 1;
	write_file(bpath, b, blen);
	assert_int_equal(bundle_extract(bpath, 0, blen, kout, iout, NULL, true, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "sha256"));
	assert_int_equal(access(kout, F_OK), -1);
	assert_int_equal(access(iout, F_OK), -1);
	/* without verification it extracts (the chooser's fast path) */
	assert_int_equal(bundle_extract(bpath, 0, blen, kout, iout, NULL, false, err, sizeof(err)),
			 0);

	/* truncated payload: the file ends before the header's sizes */
	write_file(bpath, b, blen - 10);
	assert_int_equal(bundle_extract(bpath, 0, blen, NULL, iout, NULL, false, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "truncated"));

	free(k);
	free(i);
	free(cat);
	free(b);
	free(kk);
	free(ii);
}

static void test_extract_at_offset_and_bad_inputs(void **state)
{
	(void)state;
	char kpath[128], ipath[128], bpath[128], disk[128], kout[128];
	path_in(kpath, sizeof(kpath), "k2");
	path_in(ipath, sizeof(ipath), "i2");
	path_in(bpath, sizeof(bpath), "b2");
	path_in(disk, sizeof(disk), "disk2");
	path_in(kout, sizeof(kout), "k2.out");
	write_file(kpath, (const uint8_t *)"KERNEL", 6);
	write_file(ipath, (const uint8_t *)"", 0);
	char err[256];
	struct bundle_header h;
	assert_int_equal(bundle_write(bpath, "1.0.0", NULL, kpath, ipath, &h, err, sizeof(err)), 0);
	size_t blen;
	uint8_t *b = read_file(bpath, &blen);
	/* the bundle at offset 4096 of a zero-filled "disk" */
	uint8_t *d = calloc(1, 4096 + blen + 4096);
	memcpy(d + 4096, b, blen);
	write_file(disk, d, 4096 + blen + 4096);
	assert_int_equal(bundle_extract(disk, 4096, 8192, kout, NULL, &h, true, err, sizeof(err)),
			 0);
	size_t n;
	uint8_t *kk = read_file(kout, &n);
	assert_int_equal(n, 6);
	assert_memory_equal(kk, "KERNEL", 6);
	assert_string_equal(h.bugs, "");
	/* zeros are not a bundle: the slot is unbootable */
	assert_int_equal(bundle_read_header(disk, 0, 4096, &h, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "magic"));
	assert_int_equal(
		bundle_extract(disk, 8192 + blen, 4096, NULL, NULL, NULL, true, err, sizeof(err)),
		-EINVAL);
	/* missing inputs and bad names */
	assert_int_equal(bundle_extract("/nonexistent/disk", 0, 4096, NULL, NULL, NULL, false, err,
					sizeof(err)),
			 -ENOENT);
	assert_int_equal(
		bundle_write(bpath, "1.0.0", NULL, "/nonexistent/k", ipath, NULL, err, sizeof(err)),
		-ENOENT);
	assert_int_equal(
		bundle_write(bpath, "bad version", NULL, kpath, ipath, NULL, err, sizeof(err)),
		-EINVAL);
	assert_int_equal(bundle_write(bpath, "1", "Bad Bugs", kpath, ipath, NULL, err, sizeof(err)),
			 -EINVAL);
	/* the failed writes left the earlier bundle in place */
	assert_int_equal(bundle_read_header(bpath, 0, 1 << 20, &h, err, sizeof(err)), 0);
	assert_string_equal(h.version, "1.0.0");
	free(b);
	free(d);
	free(kk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_known_vectors),
		cmocka_unit_test(test_sha256_any_split_gives_same_digest),
		cmocka_unit_test(test_write_then_extract_gives_back_the_inputs),
		cmocka_unit_test(test_extract_at_offset_and_bad_inputs),
	};
	return vh_run_tests(tests, test_files_setup, test_files_teardown);
}
