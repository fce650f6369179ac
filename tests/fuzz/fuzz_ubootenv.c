/* Fuzz target: the U-Boot environment block codec (wire/ubootenv.h).
 *
 * Input: one mode byte, then two copies of equal size (the rest split in
 * half; an odd last byte is ignored). The corpus holds real redundant env
 * files as fw_setenv writes them, with mode 0. Mode bits:
 *   1: recompute copy 0's CRC, 2: recompute copy 1's CRC (random data almost
 *      never has a valid CRC, and the interesting code is behind it);
 *   4: decode copy 0 alone (copy1 == NULL).
 * Properties:
 *   - decode returns the copy the header's rule picks (re-derived here from
 *     the CRCs and flags), and an env whose keys are non-empty without '=';
 *   - encode -> decode is the identity on the pairs, in order, and the new
 *     copy carries flags + 1;
 *   - a store is torn-write safe: the new copy next to the old one wins, and
 *     the old one alone still decodes to the old pairs. */
#include "fuzz.h"
#include "ubootenv.h"

#include "crc32.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Bigger copies add nothing but time: the codec has no size-dependent path
 * beyond the header. */
#define FUZZ_ENV_COPY_MAX 8192

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void fix_crc(uint8_t *copy, size_t size)
{
	uint32_t crc = crc32_update(0, copy + UBOOTENV_HEADER_SIZE, size - UBOOTENV_HEADER_SIZE);

	copy[0] = (uint8_t)crc;
	copy[1] = (uint8_t)(crc >> 8);
	copy[2] = (uint8_t)(crc >> 16);
	copy[3] = (uint8_t)(crc >> 24);
}

static bool copy_valid(const uint8_t *copy, size_t size)
{
	return copy && crc32_update(0, copy + UBOOTENV_HEADER_SIZE, size - UBOOTENV_HEADER_SIZE) ==
			       get_le32(copy);
}

/* The rule as ubootenv.h states it, written out independently. */
static int expected_pick(const uint8_t *c0, const uint8_t *c1, size_t size)
{
	bool v0 = copy_valid(c0, size), v1 = copy_valid(c1, size);

	if (!v0 && !v1)
		return -1;
	if (v0 != v1)
		return v0 ? 0 : 1;
	if (c0[4] == 255 && c1[4] == 0)
		return 1;
	if (c1[4] == 255 && c0[4] == 0)
		return 0;
	return c1[4] > c0[4] ? 1 : 0;
}

static void check_same_pairs(const struct ubootenv *a, const struct ubootenv *b, const char *what)
{
	FUZZ_CHECK(a->count == b->count, "%s: %zu pairs became %zu", what, a->count, b->count);
	for (size_t i = 0; i < a->count; i++) {
		FUZZ_CHECK(strcmp(a->pairs[i].key, b->pairs[i].key) == 0,
			   "%s: key %zu \"%s\" became \"%s\"", what, i, a->pairs[i].key,
			   b->pairs[i].key);
		FUZZ_CHECK(strcmp(a->pairs[i].value, b->pairs[i].value) == 0,
			   "%s: value of \"%s\" changed", what, a->pairs[i].key);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ubootenv env, back;
	uint8_t *c0, *c1, *fresh;
	size_t copy_size;
	uint8_t mode, flags;
	int pick, rc;

	if (size < 1)
		return 0;
	mode = data[0];
	copy_size = (size - 1) / 2;
	if (copy_size > FUZZ_ENV_COPY_MAX)
		copy_size = FUZZ_ENV_COPY_MAX;
	c0 = malloc(copy_size + 1);
	c1 = malloc(copy_size + 1);
	fresh = malloc(copy_size + 1);
	FUZZ_CHECK(c0 && c1 && fresh, "out of memory");
	memcpy(c0, data + 1, copy_size);
	memcpy(c1, data + 1 + copy_size, copy_size);
	if (copy_size > UBOOTENV_HEADER_SIZE) {
		if (mode & 1)
			fix_crc(c0, copy_size);
		if (mode & 2)
			fix_crc(c1, copy_size);
	}
	const uint8_t *second = (mode & 4) ? NULL : c1;

	ubootenv_init(&env);
	ubootenv_init(&back);
	pick = ubootenv_decode(c0, second, copy_size, &env);
	FUZZ_CHECK(pick != -ENOMEM, "decode ran out of memory");
	if (copy_size <= UBOOTENV_HEADER_SIZE) {
		FUZZ_CHECK(pick == -1 && env.count == 0, "a %zu-byte copy decoded", copy_size);
		goto out;
	}
	FUZZ_CHECK(pick == expected_pick(c0, second, copy_size), "decode picked %d, the rule %d",
		   pick, expected_pick(c0, second, copy_size));
	FUZZ_CHECK(env.active == pick, "active %d after picking %d", env.active, pick);
	FUZZ_CHECK(env.flags == (pick == 1 ? c1[4] : c0[4]), "flags %u are not the copy's",
		   env.flags);
	if (pick < 0) {
		FUZZ_CHECK(env.count == 0, "%zu pairs from no valid copy", env.count);
		goto out;
	}
	for (size_t i = 0; i < env.count; i++) {
		const char *k = env.pairs[i].key;

		FUZZ_CHECK(k[0] != '\0' && strchr(k, '=') == NULL, "bad key \"%s\"", k);
		FUZZ_CHECK(ubootenv_get(&env, k) == env.pairs[i].value, "key \"%s\" repeated", k);
	}

	/* Encode exactly what was decoded. It fits, since decode only drops
	 * bytes (lines without '=', repeated keys, the unterminated tail),
	 * except in one case: pairs that fill the data area to its last byte
	 * without the empty string that ends the list. Decode takes them (as
	 * libubootenv does); encode then needs that one byte more. */
	rc = ubootenv_encode(&env, fresh, copy_size, &flags);
	if (rc == -ENOSPC && ubootenv_data_size(&env) == copy_size - UBOOTENV_HEADER_SIZE + 1)
		goto out;
	FUZZ_CHECK(rc == 0, "re-encoding a decoded env failed: %d", rc);
	FUZZ_CHECK(flags == (uint8_t)(env.flags + 1), "encode wrote flags %u after %u", flags,
		   env.flags);
	FUZZ_CHECK(ubootenv_data_size(&env) <= copy_size - UBOOTENV_HEADER_SIZE,
		   "data size %zu exceeds the copy", ubootenv_data_size(&env));

	/* The new copy alone. */
	rc = ubootenv_decode(fresh, NULL, copy_size, &back);
	FUZZ_CHECK(rc == 0, "an encoded copy does not decode: %d", rc);
	FUZZ_CHECK(back.flags == flags, "flags %u read back as %u", flags, back.flags);
	check_same_pairs(&env, &back, "encode -> decode");

	/* Where a store puts it: next to the old copy, the new one wins. */
	if (second) {
		int target = ubootenv_target_copy(&env);
		const uint8_t *old = pick == 0 ? c0 : c1;

		FUZZ_CHECK(target == 1 - pick, "store would overwrite the active copy %d", pick);
		rc = ubootenv_decode(target == 0 ? fresh : old, target == 0 ? old : fresh,
				     copy_size, &back);
		FUZZ_CHECK(rc == target, "after a store copy %d is used, not the new %d", rc,
			   target);
		check_same_pairs(&env, &back, "store -> decode");
		/* A torn store (the new copy garbage): the old copy still rules. */
		fresh[UBOOTENV_HEADER_SIZE] ^= 0xff;
		rc = ubootenv_decode(target == 0 ? fresh : old, target == 0 ? old : fresh,
				     copy_size, &back);
		FUZZ_CHECK(rc == pick, "after a torn store copy %d is used, not the old %d", rc,
			   pick);
		check_same_pairs(&env, &back, "torn store -> decode");
	}
out:
	ubootenv_free(&env);
	ubootenv_free(&back);
	free(c0);
	free(c1);
	free(fresh);
	return 0;
}
