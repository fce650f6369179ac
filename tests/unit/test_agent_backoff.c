/* Unit tests for agent_backoff: the reconnect schedule and its jitter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "agent_backoff.h"
#include "test_skip.h"

static void test_backoff_base_doubles_from_half_a_second_to_the_cap(void **state)
{
	static const unsigned want[] = { 0, 500, 1000, 2000, 4000, 8000, 8000, 8000 };

	(void)state;
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(agent_backoff_base_ms(i), want[i]);
	assert_int_equal(agent_backoff_base_ms(1000000), 8000);
	assert_int_equal(agent_backoff_base_ms(~0u), 8000);
}

static void test_backoff_jitter_spans_plus_minus_half(void **state)
{
	(void)state;
	assert_int_equal(agent_backoff_delay_ms(1, 0, false), 250);
	assert_int_equal(agent_backoff_delay_ms(1, 500, false), 750);
	assert_int_equal(agent_backoff_delay_ms(5, 8000, false), 12000);
	assert_int_equal(agent_backoff_delay_ms(5, 0, false), 4000);
	assert_int_equal(agent_backoff_delay_ms(0, 12345, false), 0);
}

static void test_backoff_delays_from_the_rng_stay_in_range_and_vary(void **state)
{
	struct agent_rng rng;
	unsigned lo = ~0u, hi = 0;

	(void)state;
	agent_rng_seed(&rng, 42);
	for (int i = 0; i < 10000; i++) {
		unsigned d = agent_backoff_delay_ms(3, agent_rng_next(&rng), false);

		assert_in_range(d, 1000, 3000);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	/* Uniform over the span: 10000 draws come near both ends. */
	assert_true(lo < 1050);
	assert_true(hi > 2950);
}

static void test_no_backoff_bug_reconnects_at_once(void **state)
{
	(void)state;
	for (unsigned f = 0; f < 10; f++)
		assert_int_equal(agent_backoff_delay_ms(f, 777, true), 0);
}

static void test_rng_is_reproducible_and_zero_seed_still_moves(void **state)
{
	struct agent_rng a, b, z;

	(void)state;
	agent_rng_seed(&a, 7);
	agent_rng_seed(&b, 7);
	for (int i = 0; i < 100; i++)
		assert_int_equal(agent_rng_next(&a), agent_rng_next(&b));
	agent_rng_seed(&z, 0);
	assert_true(z.s != 0);
	assert_true(agent_rng_next(&z) != agent_rng_next(&z));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_base_doubles_from_half_a_second_to_the_cap),
		cmocka_unit_test(test_backoff_jitter_spans_plus_minus_half),
		cmocka_unit_test(test_backoff_delays_from_the_rng_stay_in_range_and_vary),
		cmocka_unit_test(test_no_backoff_bug_reconnects_at_once),
		cmocka_unit_test(test_rng_is_reproducible_and_zero_seed_still_moves),
	};
	return vh_run_tests(tests, NULL, NULL);
}
