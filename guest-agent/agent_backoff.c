/* agent_backoff: exponential backoff with jitter. */
#include "agent_backoff.h"

unsigned agent_backoff_base_ms(unsigned failures)
{
	unsigned ms = AGENT_BACKOFF_BASE_MS;

	if (failures == 0)
		return 0;
	/* Stop doubling at the cap: a long outage must not overflow the shift. */
	for (unsigned i = 1; i < failures && ms < AGENT_BACKOFF_CAP_MS; i++)
		ms *= 2;
	return ms < AGENT_BACKOFF_CAP_MS ? ms : AGENT_BACKOFF_CAP_MS;
}

unsigned agent_backoff_delay_ms(unsigned failures, uint32_t rnd, bool no_backoff)
{
	unsigned base = agent_backoff_base_ms(failures);

	/* Planted bug "no-backoff": reconnect at once, in a tight loop. */
	if (no_backoff)
		return 0;
	/* rnd % (base + 1) spans 0..base, so the result spans base/2..base*3/2. */
	return base / 2 + (unsigned)(rnd % (base + 1u));
}

void agent_rng_seed(struct agent_rng *rng, uint64_t seed)
{
	rng->s = seed != 0 ? seed : 0x9e3779b97f4a7c15ull;
}

uint32_t agent_rng_next(struct agent_rng *rng)
{
	uint64_t x = rng->s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng->s = x;
	return (uint32_t)((x * 0x2545f4914f6cdd1dull) >> 32);
}
