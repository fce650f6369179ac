/* What the fuzz targets share: libFuzzer's entry point, a check that aborts
 * with a message, and a small seeded generator for choices that are not worth
 * spending input bytes on one by one (chunk sizes).
 *
 * Each target is one LLVMFuzzerTestOneInput. Built with clang and
 * -DVH_FUZZ=ON it links libFuzzer; in the normal build it links fuzz_main.c,
 * which replays the checked-in corpus and regression inputs under ctest. A
 * violated property aborts in both, so libFuzzer keeps the input as a crash
 * and the replay fails. */
#ifndef VH_FUZZ_H
#define VH_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* libFuzzer's contract: called once per input, must not keep data, returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Prints file:line, the failed condition and a printf-style explanation to
 * stderr, then aborts. */
#if defined(__GNUC__)
__attribute__((noreturn, format(printf, 4, 5)))
#endif
void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...);

/* A property that must hold for every input; the message says what broke. */
#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond))                                                                       \
			fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                         \
	} while (0)

/* splitmix64: deterministic per seed, so a crash replays exactly. */
struct fuzz_rng {
	uint64_t state;
};

static inline uint64_t fuzz_rng_next(struct fuzz_rng *r)
{
	uint64_t z = (r->state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* A chunk length in 1..max (max >= 1), biased towards short chunks: QEMU
 * writes the console a byte at a time and TCP hands over whatever arrived. */
static inline size_t fuzz_rng_chunk(struct fuzz_rng *r, size_t max)
{
	uint64_t v = fuzz_rng_next(r);
	size_t cap = (v & 3) == 0 ? max : (max < 8 ? max : 8);

	return 1 + (size_t)((v >> 2) % cap);
}

#endif
