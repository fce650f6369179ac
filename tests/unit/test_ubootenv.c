/* Unit tests for the U-Boot env codec (wire/ubootenv.c). The
 * copy-selection cases mirror what Debian's libubootenv 0.3.2 was observed to
 * do; tests/integration/test_ubootenv_interop.c checks against it directly. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "crc32.h"
#include "test_skip.h"
#include "ubootenv.h"

#define SMALL 256 /* copy size for the pure tests: small enough to fill */

/* Builds one copy of size bytes holding who=<who> with the given flags byte. */
static void make_copy(uint8_t *out, size_t size, uint8_t flags, const char *who)
{
	struct ubootenv env;
	uint8_t got;

	ubootenv_init(&env);
	assert_int_equal(ubootenv_set(&env, "who", who), 0);
	env.flags = (uint8_t)(flags - 1u);
	assert_int_equal(ubootenv_encode(&env, out, size, &got), 0);
	assert_int_equal(got, flags);
	ubootenv_free(&env);
}

/* Decodes two copies with the given flags and returns which one was chosen,
 * checking that the pairs really come from that copy. */
static int pick(uint8_t flags0, uint8_t flags1)
{
	uint8_t c0[SMALL], c1[SMALL];
	struct ubootenv env;

	make_copy(c0, SMALL, flags0, "c0");
	make_copy(c1, SMALL, flags1, "c1");
	ubootenv_init(&env);
	int rc = ubootenv_decode(c0, c1, SMALL, &env);
	assert_true(rc == 0 || rc == 1);
	assert_string_equal(ubootenv_get(&env, "who"), rc ? "c1" : "c0");
	assert_int_equal(env.active, rc);
	assert_int_equal(env.flags, rc ? flags1 : flags0);
	ubootenv_free(&env);
	return rc;
}

static void test_crc32_matches_the_standard_check_value(void **state)
{
	(void)state;
	assert_int_equal(crc32_update(0, (const uint8_t *)"123456789", 9), 0xcbf43926u);
	assert_int_equal(crc32_update(0, NULL, 0), 0);
	/* chaining equals one pass, as zlib's crc32 */
	uint32_t c = crc32_update(0, (const uint8_t *)"1234", 4);
	assert_int_equal(crc32_update(c, (const uint8_t *)"56789", 5), 0xcbf43926u);
}

static void test_ubootenv_round_trip_keeps_pairs_and_order(void **state)
{
	(void)state;
	uint8_t buf[SMALL], flags;
	struct ubootenv a, b;

	ubootenv_init(&a);
	assert_int_equal(ubootenv_set(&a, "zeta", "1"), 0);
	assert_int_equal(ubootenv_set(&a, "alpha", "two words"), 0);
	assert_int_equal(ubootenv_set(&a, "empty", ""), 0);
	assert_int_equal(ubootenv_encode(&a, buf, SMALL, &flags), 0);
	assert_int_equal(flags, 1);

	/* layout: crc LE over the data area, flags, then key=value\0 ... \0 */
	uint32_t crc = crc32_update(0, buf + 5, SMALL - 5);
	assert_int_equal(buf[0] | buf[1] << 8 | buf[2] << 16 | (uint32_t)buf[3] << 24, crc);
	assert_int_equal(buf[4], 1);
	static const char want[] = "zeta=1\0alpha=two words\0empty=\0";
	assert_memory_equal(buf + 5, want, sizeof(want));

	ubootenv_init(&b);
	assert_int_equal(ubootenv_decode(buf, NULL, SMALL, &b), 0);
	assert_int_equal(b.count, 3);
	assert_string_equal(b.pairs[0].key, "zeta");
	assert_string_equal(b.pairs[1].key, "alpha");
	assert_string_equal(b.pairs[1].value, "two words");
	assert_string_equal(ubootenv_get(&b, "empty"), "");
	assert_null(ubootenv_get(&b, "missing"));
	ubootenv_free(&a);
	ubootenv_free(&b);
}

static void test_ubootenv_decode_picks_the_copy_with_larger_flags(void **state)
{
	(void)state;
	assert_int_equal(pick(1, 2), 1);
	assert_int_equal(pick(2, 1), 0);
	assert_int_equal(pick(3, 200), 1);
	assert_int_equal(pick(200, 3), 0);
	assert_int_equal(pick(254, 255), 1);
	assert_int_equal(pick(0, 254), 1);
}

static void test_ubootenv_decode_gives_ties_to_copy0(void **state)
{
	(void)state;
	assert_int_equal(pick(0, 0), 0);
	assert_int_equal(pick(5, 5), 0);
	assert_int_equal(pick(255, 255), 0);
}

static void test_ubootenv_decode_treats_255_then_0_as_a_wrap(void **state)
{
	(void)state;
	assert_int_equal(pick(255, 0), 1);
	assert_int_equal(pick(0, 255), 0);
	/* libubootenv only special-cases the exact pair: 255 still beats 1 */
	assert_int_equal(pick(255, 1), 0);
	assert_int_equal(pick(1, 255), 1);
}

static void test_ubootenv_encode_increments_flags_and_wraps_255_to_0(void **state)
{
	(void)state;
	uint8_t buf[SMALL], flags = 0;
	struct ubootenv env;

	ubootenv_init(&env);
	env.flags = 41;
	assert_int_equal(ubootenv_encode(&env, buf, SMALL, &flags), 0);
	assert_int_equal(flags, 42);
	assert_int_equal(buf[4], 42);
	env.flags = 255;
	assert_int_equal(ubootenv_encode(&env, buf, SMALL, &flags), 0);
	assert_int_equal(flags, 0);
	assert_int_equal(buf[4], 0);
	ubootenv_free(&env);
}

/* A long run of stores alternating copies, through the wrap, always reads back
 * the newest one. */
static void test_ubootenv_successive_stores_always_read_back_newest(void **state)
{
	(void)state;
	uint8_t copies[2][SMALL];
	struct ubootenv env;
	char val[16];

	make_copy(copies[0], SMALL, 0, "init");
	memset(copies[1], 0, SMALL);
	ubootenv_init(&env);
	for (int i = 0; i < 600; i++) {
		assert_int_equal(ubootenv_decode(copies[0], copies[1], SMALL, &env), i % 2);
		if (i > 0) {
			snprintf(val, sizeof(val), "%d", i - 1);
			assert_string_equal(ubootenv_get(&env, "who"), val);
		}
		snprintf(val, sizeof(val), "%d", i);
		assert_int_equal(ubootenv_set(&env, "who", val), 0);
		int target = ubootenv_target_copy(&env);
		uint8_t flags;
		assert_int_equal(ubootenv_encode(&env, copies[target], SMALL, &flags), 0);
		assert_int_equal(flags, (uint8_t)(i + 1));
	}
	ubootenv_free(&env);
}

static void test_ubootenv_decode_falls_back_when_newer_copy_crc_is_bad(void **state)
{
	(void)state;
	uint8_t c0[SMALL], c1[SMALL];
	struct ubootenv env;

	make_copy(c0, SMALL, 7, "old");
	make_copy(c1, SMALL, 8, "new");
	c1[SMALL - 1] ^= 0x01; /* one flipped bit in the padding still counts */
	ubootenv_init(&env);
	assert_int_equal(ubootenv_decode(c0, c1, SMALL, &env), 0);
	assert_string_equal(ubootenv_get(&env, "who"), "old");
	assert_int_equal(ubootenv_target_copy(&env), 1);

	/* and the other way round */
	make_copy(c0, SMALL, 9, "new");
	make_copy(c1, SMALL, 8, "old");
	c0[0] ^= 0x80;
	assert_int_equal(ubootenv_decode(c0, c1, SMALL, &env), 1);
	assert_string_equal(ubootenv_get(&env, "who"), "old");
	assert_int_equal(ubootenv_target_copy(&env), 0);
	ubootenv_free(&env);
}

static void test_ubootenv_decode_reports_neither_copy_valid(void **state)
{
	(void)state;
	uint8_t c0[SMALL], c1[SMALL];
	struct ubootenv env;

	make_copy(c0, SMALL, 3, "a");
	make_copy(c1, SMALL, 4, "b");
	c0[5] ^= 1;
	c1[5] ^= 1;
	ubootenv_init(&env);
	assert_int_equal(ubootenv_set(&env, "stale", "x"), 0);
	assert_int_equal(ubootenv_decode(c0, c1, SMALL, &env), -1);
	assert_int_equal(env.count, 0);
	assert_null(ubootenv_get(&env, "stale"));
	assert_int_equal(env.active, -1);
	/* as libubootenv: next store goes to copy 1 with copy 0's flags + 1 */
	assert_int_equal(env.flags, 3);
	assert_int_equal(ubootenv_target_copy(&env), 1);

	/* all-zero (blank) image: the CRC of zeros is not 0, so invalid too */
	memset(c0, 0, SMALL);
	memset(c1, 0, SMALL);
	assert_int_equal(ubootenv_decode(c0, c1, SMALL, &env), -1);
	ubootenv_free(&env);
}

static void test_ubootenv_set_overwrites_in_place_and_deletes(void **state)
{
	(void)state;
	struct ubootenv env;

	ubootenv_init(&env);
	assert_int_equal(ubootenv_set(&env, "a", "1"), 0);
	assert_int_equal(ubootenv_set(&env, "b", "2"), 0);
	assert_int_equal(ubootenv_set(&env, "c", "3"), 0);
	assert_int_equal(ubootenv_set(&env, "a", "10"), 0);
	assert_int_equal(env.count, 3);
	assert_string_equal(env.pairs[0].key, "a");
	assert_string_equal(env.pairs[0].value, "10");

	assert_int_equal(ubootenv_set(&env, "b", NULL), 0);
	assert_int_equal(env.count, 2);
	assert_null(ubootenv_get(&env, "b"));
	assert_string_equal(env.pairs[1].key, "c"); /* order kept */
	assert_int_equal(ubootenv_set(&env, "nope", NULL), 0);
	assert_int_equal(env.count, 2);

	/* a key that is a prefix of another is a different key */
	assert_int_equal(ubootenv_set(&env, "cc", "4"), 0);
	assert_string_equal(ubootenv_get(&env, "c"), "3");
	assert_string_equal(ubootenv_get(&env, "cc"), "4");
	ubootenv_free(&env);
	assert_int_equal(env.count, 0);
	ubootenv_free(&env); /* twice is fine */
}

static void test_ubootenv_set_rejects_keys_with_equals_or_empty(void **state)
{
	(void)state;
	struct ubootenv env;

	ubootenv_init(&env);
	assert_int_equal(ubootenv_set(&env, "a=b", "1"), -EINVAL);
	assert_int_equal(ubootenv_set(&env, "=", "1"), -EINVAL);
	assert_int_equal(ubootenv_set(&env, "", "1"), -EINVAL);
	assert_int_equal(env.count, 0);
	/* '=' in a value is fine: only the first '=' splits */
	assert_int_equal(ubootenv_set(&env, "bootargs", "console=ttyS0 root=/dev/vda1"), 0);
	uint8_t buf[SMALL];
	assert_int_equal(ubootenv_encode(&env, buf, SMALL, NULL), 0);
	assert_int_equal(ubootenv_decode(buf, NULL, SMALL, &env), 0);
	assert_string_equal(ubootenv_get(&env, "bootargs"), "console=ttyS0 root=/dev/vda1");
	ubootenv_free(&env);
}

static void test_ubootenv_encode_fails_when_env_does_not_fit(void **state)
{
	(void)state;
	uint8_t buf[32], before[32];
	struct ubootenv env;

	/* data area = 32 - 5 = 27 bytes: "k=" + v + "\0" + final "\0" */
	char v[32];
	memset(v, 'x', sizeof(v));
	v[23] = '\0'; /* 2 + 23 + 1 + 1 = 27: fits exactly */
	ubootenv_init(&env);
	assert_int_equal(ubootenv_set(&env, "k", v), 0);
	assert_int_equal(ubootenv_data_size(&env), 27);
	assert_int_equal(ubootenv_encode(&env, buf, sizeof(buf), NULL), 0);

	v[23] = 'x';
	v[24] = '\0'; /* one byte too many */
	assert_int_equal(ubootenv_set(&env, "k", v), 0);
	memset(buf, 0xa5, sizeof(buf));
	memcpy(before, buf, sizeof(buf));
	assert_int_equal(ubootenv_encode(&env, buf, sizeof(buf), NULL), -ENOSPC);
	assert_memory_equal(buf, before, sizeof(buf));
	assert_int_equal(ubootenv_encode(&env, buf, 5, NULL), -EINVAL);
	ubootenv_free(&env);
}

/* Blocks written by other tools: lines without '=' are skipped, a repeated
 * key keeps its last value, an unterminated tail is dropped. */
static void test_ubootenv_decode_tolerates_foreign_blocks(void **state)
{
	(void)state;
	static const char data[] = "a=1\0junk\0=novalue\0b=2\0a=3\0";
	uint8_t buf[SMALL];
	struct ubootenv env;

	memset(buf, 0, sizeof(buf));
	memcpy(buf + 5, data, sizeof(data));
	uint32_t crc = crc32_update(0, buf + 5, SMALL - 5);
	buf[0] = (uint8_t)crc, buf[1] = (uint8_t)(crc >> 8);
	buf[2] = (uint8_t)(crc >> 16), buf[3] = (uint8_t)(crc >> 24);
	ubootenv_init(&env);
	assert_int_equal(ubootenv_decode(buf, NULL, SMALL, &env), 0);
	assert_int_equal(env.count, 2);
	assert_string_equal(ubootenv_get(&env, "a"), "3");
	assert_string_equal(ubootenv_get(&env, "b"), "2");

	/* no terminator anywhere in the data area */
	memset(buf + 5, 'x', SMALL - 5);
	memcpy(buf + 5, "a=1", 4);
	crc = crc32_update(0, buf + 5, SMALL - 5);
	buf[0] = (uint8_t)crc, buf[1] = (uint8_t)(crc >> 8);
	buf[2] = (uint8_t)(crc >> 16), buf[3] = (uint8_t)(crc >> 24);
	assert_int_equal(ubootenv_decode(buf, NULL, SMALL, &env), 0);
	assert_int_equal(env.count, 1);
	assert_string_equal(ubootenv_get(&env, "a"), "1");
	ubootenv_free(&env);
}

static void test_ubootenv_target_copy_is_the_inactive_one(void **state)
{
	(void)state;
	struct ubootenv env;

	ubootenv_init(&env);
	assert_int_equal(ubootenv_target_copy(&env), 1); /* nothing valid yet */
	ubootenv_committed(&env, 1, 1);
	assert_int_equal(ubootenv_target_copy(&env), 0);
	ubootenv_committed(&env, 0, 2);
	assert_int_equal(ubootenv_target_copy(&env), 1);
	env.single_copy = true;
	assert_int_equal(ubootenv_target_copy(&env), 0);
	ubootenv_free(&env);
	assert_true(env.single_copy); /* free keeps the mode */
}

/* ---- fd shell, on a temporary image ---- */

#define IMAGE_SIZE (512 * 1024) /* past the end of copy 1 (0x42000) */

static char *make_image(void)
{
	char *path = strdup("/tmp/test_ubootenv_XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, IMAGE_SIZE), 0);
	close(fd);
	return path;
}

static void read_image(const char *path, uint8_t *img)
{
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, img, IMAGE_SIZE, 0), IMAGE_SIZE);
	close(fd);
}

static void write_image(const char *path, const uint8_t *img, size_t off, size_t len)
{
	int fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, img + off, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static void store(const char *path, struct ubootenv *env, const char *key, const char *value)
{
	char err[256] = "";
	assert_int_equal(ubootenv_set(env, key, value), 0);
	int rc = ubootenv_file_store(path, env, err, sizeof(err));
	if (rc)
		fail_msg("store: %s", err);
}

static void test_ubootenv_file_store_overwrites_only_the_inactive_copy(void **state)
{
	(void)state;
	char *path = make_image();
	uint8_t *before = malloc(IMAGE_SIZE), *after = malloc(IMAGE_SIZE);
	struct ubootenv env;
	char err[256];

	ubootenv_init(&env);
	assert_int_equal(ubootenv_file_load(path, &env, err, sizeof(err)), -ENODATA);
	assert_non_null(strstr(err, "valid"));
	store(path, &env, "boot_slot", "a"); /* -> copy 1, flags 1 */
	store(path, &env, "boot_slot", "b"); /* -> copy 0, flags 2 */
	assert_int_equal(ubootenv_file_load(path, &env, err, sizeof(err)), 0);
	assert_int_equal(env.flags, 2);
	assert_string_equal(ubootenv_get(&env, "boot_slot"), "b");

	read_image(path, before);
	store(path, &env, "boot_slot", "c"); /* -> copy 1 only */
	read_image(path, after);
	assert_memory_equal(before, after, UBOOTENV_COPY1_OFFSET);
	assert_memory_not_equal(before + UBOOTENV_COPY1_OFFSET, after + UBOOTENV_COPY1_OFFSET,
				UBOOTENV_COPY_SIZE);
	size_t tail = UBOOTENV_COPY1_OFFSET + UBOOTENV_COPY_SIZE;
	assert_memory_equal(before + tail, after + tail, IMAGE_SIZE - tail);

	assert_int_equal(ubootenv_file_load(path, &env, err, sizeof(err)), 1);
	assert_string_equal(ubootenv_get(&env, "boot_slot"), "c");
	assert_int_equal(env.flags, 3);

	ubootenv_free(&env);
	unlink(path);
	free(path);
	free(before);
	free(after);
}

/* Power cut mid-write: only the first half of the new copy reached the disk.
 * The reader must still see the previous env, intact. */
static void test_ubootenv_torn_store_leaves_the_old_env_readable(void **state)
{
	(void)state;
	char *path = make_image();
	uint8_t *old = malloc(IMAGE_SIZE), *torn = malloc(IMAGE_SIZE);
	struct ubootenv env;
	char err[256];

	ubootenv_init(&env);
	store(path, &env, "boot_slot", "a");
	store(path, &env, "upgrade_available", "0"); /* both copies valid now */
	read_image(path, old);
	/* a value long enough that the new data runs past the tear point */
	char *blob = malloc(100000);
	memset(blob, 'x', 99999);
	blob[99999] = '\0';
	assert_int_equal(ubootenv_set(&env, "blob", blob), 0);
	store(path, &env, "boot_slot", "b"); /* the write that gets torn */
	free(blob);
	read_image(path, torn);
	size_t off = UBOOTENV_COPY1_OFFSET; /* copy 0 was active after two stores */
	size_t half = UBOOTENV_COPY_SIZE / 2;
	/* new header and first half, the old copy's bytes after it */
	assert_memory_not_equal(torn + off + half, old + off + half, half);
	memcpy(torn + off + half, old + off + half, half);
	write_image(path, torn, off, UBOOTENV_COPY_SIZE);

	struct ubootenv back;
	ubootenv_init(&back);
	assert_int_equal(ubootenv_file_load(path, &back, err, sizeof(err)), 0);
	assert_string_equal(ubootenv_get(&back, "boot_slot"), "a");
	assert_string_equal(ubootenv_get(&back, "upgrade_available"), "0");

	ubootenv_free(&back);
	ubootenv_free(&env);
	unlink(path);
	free(path);
	free(old);
	free(torn);
}

static void test_ubootenv_single_copy_mode_writes_copy0_in_place(void **state)
{
	(void)state;
	char *path = make_image();
	uint8_t *before = malloc(IMAGE_SIZE), *after = malloc(IMAGE_SIZE);
	struct ubootenv env;
	char err[256];

	ubootenv_init(&env);
	store(path, &env, "k", "1"); /* redundant: copy 1 */
	store(path, &env, "k", "2"); /* redundant: copy 0, now active */
	read_image(path, before);

	env.single_copy = true;
	assert_int_equal(ubootenv_file_load(path, &env, err, sizeof(err)), 0);
	store(path, &env, "k", "3");
	read_image(path, after);
	assert_memory_not_equal(before + UBOOTENV_COPY0_OFFSET, after + UBOOTENV_COPY0_OFFSET,
				UBOOTENV_COPY_SIZE);
	assert_memory_equal(before + UBOOTENV_COPY1_OFFSET, after + UBOOTENV_COPY1_OFFSET,
			    UBOOTENV_COPY_SIZE);
	store(path, &env, "k", "4"); /* again copy 0: the only copy it keeps */
	assert_int_equal(env.active, 0);

	/* which is the bug: corrupt copy 0 and single-copy mode has nothing */
	after[UBOOTENV_COPY0_OFFSET + 100] ^= 0xff;
	write_image(path, after, UBOOTENV_COPY0_OFFSET, UBOOTENV_COPY_SIZE);
	assert_int_equal(ubootenv_file_load(path, &env, err, sizeof(err)), -ENODATA);

	ubootenv_free(&env);
	unlink(path);
	free(path);
	free(before);
	free(after);
}

static void test_ubootenv_file_load_reports_short_or_missing_image(void **state)
{
	(void)state;
	char *path = make_image();
	struct ubootenv env;
	char err[256] = "";

	assert_int_equal(truncate(path, UBOOTENV_COPY1_OFFSET + 10), 0);
	ubootenv_init(&env);
	assert_int_equal(ubootenv_file_load(path, &env, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "too short"));
	unlink(path);
	assert_int_equal(ubootenv_file_load(path, &env, err, sizeof(err)), -ENOENT);
	assert_int_equal(ubootenv_file_store(path, &env, err, sizeof(err)), -ENOENT);
	ubootenv_free(&env);
	free(path);
}

static void test_ubootenv_file_store_refuses_env_too_large(void **state)
{
	(void)state;
	char *path = make_image();
	struct ubootenv env;
	char err[256] = "";
	size_t n = UBOOTENV_COPY_SIZE;
	char *big = malloc(n);

	memset(big, 'x', n - 1);
	big[n - 1] = '\0';
	ubootenv_init(&env);
	assert_int_equal(ubootenv_set(&env, "big", big), 0);
	assert_int_equal(ubootenv_file_store(path, &env, err, sizeof(err)), -ENOSPC);
	assert_non_null(strstr(err, "bytes"));
	assert_int_equal(env.active, -1); /* nothing recorded as written */
	ubootenv_free(&env);
	assert_int_equal(ubootenv_file_load(path, &env, err, sizeof(err)), -ENODATA);
	ubootenv_free(&env);
	unlink(path);
	free(path);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32_matches_the_standard_check_value),
		cmocka_unit_test(test_ubootenv_round_trip_keeps_pairs_and_order),
		cmocka_unit_test(test_ubootenv_decode_picks_the_copy_with_larger_flags),
		cmocka_unit_test(test_ubootenv_decode_gives_ties_to_copy0),
		cmocka_unit_test(test_ubootenv_decode_treats_255_then_0_as_a_wrap),
		cmocka_unit_test(test_ubootenv_encode_increments_flags_and_wraps_255_to_0),
		cmocka_unit_test(test_ubootenv_successive_stores_always_read_back_newest),
		cmocka_unit_test(test_ubootenv_decode_falls_back_when_newer_copy_crc_is_bad),
		cmocka_unit_test(test_ubootenv_decode_reports_neither_copy_valid),
		cmocka_unit_test(test_ubootenv_set_overwrites_in_place_and_deletes),
		cmocka_unit_test(test_ubootenv_set_rejects_keys_with_equals_or_empty),
		cmocka_unit_test(test_ubootenv_encode_fails_when_env_does_not_fit),
		cmocka_unit_test(test_ubootenv_decode_tolerates_foreign_blocks),
		cmocka_unit_test(test_ubootenv_target_copy_is_the_inactive_one),
		cmocka_unit_test(test_ubootenv_file_store_overwrites_only_the_inactive_copy),
		cmocka_unit_test(test_ubootenv_torn_store_leaves_the_old_env_readable),
		cmocka_unit_test(test_ubootenv_single_copy_mode_writes_copy0_in_place),
		cmocka_unit_test(test_ubootenv_file_load_reports_short_or_missing_image),
		cmocka_unit_test(test_ubootenv_file_store_refuses_env_too_large),
	};
	return vh_run_tests(tests, NULL, NULL);
}
