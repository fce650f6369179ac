/* Skips that ctest can see. CMocka 1.1.5's skip() marks the test skipped but the
 * program still exits 0, so ctest reported "Passed" for tests that never ran. Here
 * a program that skipped anything exits 77, which vh_unit_test declares as the
 * SKIP_RETURN_CODE: ctest then lists it as skipped, and CI (.ci/run) fails unless
 * the skip is allowed there. One skipped test marks the whole program, because
 * "Passed" must mean that every test in it ran; the others' results are in its
 * output. A failure wins over a skip; so does a failed group teardown, which
 * CMocka 1.1.5 prints ("[  FAILED  ] GROUP TEARDOWN") but leaves out of its count.
 *
 * In a test: vh_skip("no sfdisk in PATH"); in main:
 *	return vh_run_tests(tests, setup, teardown);
 * Include after <cmocka.h>. */
#ifndef VH_TEST_SKIP_H
#define VH_TEST_SKIP_H

#include <stdio.h>

/* What ctest takes as "skipped" (SKIP_RETURN_CODE in vh_unit_test). */
#define VH_SKIP_EXIT 77

static int test_skip_count;
static CMFixtureFunction test_skip_group_teardown;
static int test_skip_teardown_failed;

static inline void test_skip_note(const char *reason)
{
	test_skip_count++;
	/* stdout, as cmocka's own "[  SKIPPED ]" line that follows it. */
	printf("skipped: %s\n", reason);
	fflush(stdout);
}

/* Skips the calling test, saying why. Like skip(), it does not return. */
#define vh_skip(reason)                                                                            \
	do {                                                                                       \
		test_skip_note(reason);                                                            \
		skip();                                                                            \
	} while (0)

/* The caller's group teardown, remembering whether it failed. */
static inline int test_skip_teardown(void **state)
{
	int rc = test_skip_group_teardown(state);
	if (rc != 0)
		test_skip_teardown_failed = 1;
	return rc;
}

/* The exit status for a program whose tests had `failed` failures. */
static inline int test_skip_exit_status(int failed)
{
	if (failed || test_skip_teardown_failed)
		return 1; /* never 77 by accident: cmocka returns a count */
	if (test_skip_count) {
		printf("%d test(s) skipped: exiting %d so that ctest does not count them as "
		       "passed\n",
		       test_skip_count, VH_SKIP_EXIT);
		return VH_SKIP_EXIT;
	}
	return 0;
}

/* cmocka_run_group_tests(), then the exit status above. A macro, as cmocka's. */
#define vh_run_tests(tests, setup, teardown)                                                       \
	(test_skip_group_teardown = (teardown),                                                    \
	 test_skip_exit_status(cmocka_run_group_tests(                                             \
		 tests, setup, test_skip_group_teardown ? test_skip_teardown : NULL)))

#endif
