/* agent_backoff: the reconnect schedule (docs/ota-protocol.md, "Agent update
 * path" 1): 0.5 s doubling to an 8 s cap, each delay jittered by +-50% so a
 * fleet that lost its server together does not come back in lockstep. Pure:
 * the random numbers come from the caller (seeded from /dev/urandom). */
#ifndef VH_AGENT_BACKOFF_H
#define VH_AGENT_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

#define AGENT_BACKOFF_BASE_MS 500u
#define AGENT_BACKOFF_CAP_MS 8000u

/* The un-jittered delay after `failures` consecutive failures: 0 for none,
 * then 500, 1000, 2000, 4000, 8000, 8000... ms. */
unsigned agent_backoff_base_ms(unsigned failures);

/* The delay to sleep before the next attempt after `failures` consecutive
 * failures: base +-50%, uniform over [base/2, base*3/2] as rnd (any 32-bit
 * value) runs over its range. no_backoff (planted bug) makes it 0. */
unsigned agent_backoff_delay_ms(unsigned failures, uint32_t rnd, bool no_backoff);

/* A small PRNG (xorshift64*): enough for jitter, and reproducible in tests.
 * A zero seed is replaced by a fixed non-zero one (xorshift never leaves 0). */
struct agent_rng {
	uint64_t s;
};

/* Seeds *rng with seed. */
void agent_rng_seed(struct agent_rng *rng, uint64_t seed);

/* Returns the next 32-bit value of *rng. */
uint32_t agent_rng_next(struct agent_rng *rng);

#endif
