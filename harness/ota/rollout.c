/* rollout: the staged-rollout buckets (rules in the header). */
#include "rollout.h"

#include <stdint.h>

/* FNV-1a, 64 bits: spreads short, similar names ("d001", "d002") evenly. */
static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

unsigned rollout_bucket(const char *device, const char *version)
{
	uint64_t h = fnv1a(0xcbf29ce484222325ull, device);
	h = fnv1a(h ^ 0xff, version); /* 0xff: "ab"+"c" and "a"+"bc" differ */
	/* the high bits: FNV's low bits mix the last bytes least */
	return (unsigned)((h >> 32) % 100u);
}

bool rollout_includes(const char *device, const char *version, unsigned percent)
{
	return rollout_bucket(device, version) < percent;
}
