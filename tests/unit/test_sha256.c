/* Unit tests for the shared sha256 (harness and agent), checked against FIPS vectors and sha256sum.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sha256.h"
#include "test_skip.h"

static void hash_hex(const void *data, size_t len, size_t step, char hex[SHA256_HEX_SIZE])
{
	struct sha256_ctx ctx;
	uint8_t d[SHA256_DIGEST_SIZE];
	const uint8_t *p = data;

	sha256_init(&ctx);
	for (size_t off = 0; off < len; off += step)
		sha256_update(&ctx, p + off, len - off < step ? len - off : step);
	sha256_final(&ctx, d);
	sha256_to_hex(d, hex);
}

static void test_sha256_matches_fips_vectors(void **state)
{
	char hex[SHA256_HEX_SIZE];
	const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

	(void)state;
	hash_hex("", 0, 1, hex);
	assert_string_equal(hex,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	hash_hex("abc", 3, 3, hex);
	assert_string_equal(hex,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	hash_hex(two_blocks, strlen(two_blocks), 7, hex);
	assert_string_equal(hex,
			    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

/* Every split of the input gives the same digest: exercises the partial
 * block paths in update() and both padding cases in final(). */
static void test_sha256_is_independent_of_update_sizes(void **state)
{
	uint8_t data[300];
	char ref[SHA256_HEX_SIZE], hex[SHA256_HEX_SIZE];

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	for (size_t len = 0; len <= sizeof(data); len += 1) {
		hash_hex(data, len, len ? len : 1, ref);
		for (size_t step = 1; step < 130; step += 13) {
			hash_hex(data, len, step, hex);
			assert_string_equal(hex, ref);
		}
	}
}

static void test_sha256_agrees_with_sha256sum(void **state)
{
	char path[] = "/tmp/test_sha256.XXXXXX";
	char cmd[128], out[128] = "", hex[SHA256_HEX_SIZE];
	size_t len = 1000003;
	uint8_t *data = malloc(len);
	int fd = mkstemp(path);
	FILE *p;

	(void)state;
	assert_non_null(data);
	assert_true(fd >= 0);
	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)((i * 2654435761u) >> 13);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	snprintf(cmd, sizeof(cmd), "%s %s", VH_SHA256SUM, path);
	p = popen(cmd, "r");
	if (p == NULL || fgets(out, sizeof(out), p) == NULL) {
		if (p)
			pclose(p);
		unlink(path);
		free(data);
		vh_skip("cannot run " VH_SHA256SUM " to compare with");
	}
	pclose(p);
	unlink(path);
	hash_hex(data, len, 65536, hex);
	free(data);
	assert_memory_equal(hex, out, 64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_matches_fips_vectors),
		cmocka_unit_test(test_sha256_is_independent_of_update_sizes),
		cmocka_unit_test(test_sha256_agrees_with_sha256sum),
	};
	return vh_run_tests(tests, NULL, NULL);
}
