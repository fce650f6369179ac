/* Tests for the staged-rollout buckets (harness/ota/rollout.c): stable,
 * spread evenly over a fleet's names, monotonic in the percent, and a
 * different first share for each release. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "rollout.h"
#include "test_skip.h"

#define FLEET 1000

static const char *name(int i)
{
	static char buf[32];
	snprintf(buf, sizeof(buf), "d%03d", i);
	return buf;
}

static void test_a_bucket_is_stable_and_below_100(void **state)
{
	(void)state;
	for (int i = 0; i < FLEET; i++) {
		unsigned b = rollout_bucket(name(i), "2.0.0");
		assert_true(b < 100);
		assert_int_equal(rollout_bucket(name(i), "2.0.0"), b);
	}
}

static void test_zero_holds_everyone_back_and_100_takes_everyone(void **state)
{
	(void)state;
	for (int i = 0; i < FLEET; i++) {
		assert_false(rollout_includes(name(i), "2.0.0", 0));
		assert_true(rollout_includes(name(i), "2.0.0", ROLLOUT_ALL));
	}
}

/* A fleet of d000..d999 (the names vh.fleet gives): each percent takes
 * about that share, and widening only adds devices. */
static void test_shares_are_even_and_widening_keeps_the_first_devices(void **state)
{
	(void)state;
	for (unsigned p = 1; p < 100; p++) {
		int in = 0;
		for (int i = 0; i < FLEET; i++) {
			bool now = rollout_includes(name(i), "2.0.0", p);
			in += now;
			if (rollout_includes(name(i), "2.0.0", p - 1))
				assert_true(now);
		}
		/* binomial(1000, p%): within 4.5 standard deviations (+1) */
		double want = FLEET * p / 100.0, var = want * (1 - p / 100.0);
		double off = in > want ? in - want - 1 : want - in - 1;
		if (off > 0 && off * off > 4.5 * 4.5 * var)
			fail_msg("%u%% took %d of %d devices", p, in, FLEET);
	}
}

static void test_each_release_picks_its_own_first_share(void **state)
{
	(void)state;
	int both = 0, first = 0;
	for (int i = 0; i < FLEET; i++) {
		bool a = rollout_includes(name(i), "2.0.0", 10);
		bool b = rollout_includes(name(i), "2.1.0", 10);
		first += a;
		both += a && b;
	}
	/* independent picks share about 10% of the first 10% */
	assert_true(first > 0);
	assert_true(both < first / 2);
	/* the name and version are not simply concatenated */
	assert_true(rollout_bucket("ab", "c") != rollout_bucket("a", "bc") ||
		    rollout_bucket("ab", "d") != rollout_bucket("a", "bd"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_bucket_is_stable_and_below_100),
		cmocka_unit_test(test_zero_holds_everyone_back_and_100_takes_everyone),
		cmocka_unit_test(test_shares_are_even_and_widening_keeps_the_first_devices),
		cmocka_unit_test(test_each_release_picks_its_own_first_share),
	};
	return vh_run_tests(tests, NULL, NULL);
}
