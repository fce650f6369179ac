/* Unit tests for work off the loop (base/work.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "ev.h"
#include "test_skip.h"
#include "work.h"

struct job {
	atomic_int ran;
	int done;
	pthread_t fn_thread;
	int ms; /* how long fn takes */
};

static void job_fn(void *arg)
{
	struct job *j = arg;
	j->fn_thread = pthread_self();
	struct timespec nap = { 0, (long)j->ms * 1000 * 1000 };
	nanosleep(&nap, NULL);
	atomic_store(&j->ran, 1);
}

static void job_done(void *arg)
{
	struct job *j = arg;
	j->done++;
}

static void test_work_runs_off_the_loop_and_completes_on_it(void **state)
{
	(void)state;
	struct ev_loop *loop = ev_loop_new();
	struct job j = { .ms = 200 };
	uint64_t t0 = ev_clock_ms();
	assert_non_null(work_start(loop, job_fn, job_done, &j));
	/* The loop stays free while fn sleeps: a turn returns at once. */
	ev_run_once(loop, 0);
	assert_true(ev_clock_ms() - t0 < 100);
	assert_int_equal(j.done, 0);
	while (!j.done && ev_clock_ms() - t0 < 5000)
		ev_run_once(loop, 50);
	assert_int_equal(j.done, 1);
	assert_int_equal(atomic_load(&j.ran), 1);
	assert_false(pthread_equal(j.fn_thread, pthread_self()));
	ev_loop_free(loop);
}

static void test_work_cancel_waits_for_fn_and_skips_done(void **state)
{
	(void)state;
	struct ev_loop *loop = ev_loop_new();
	struct job j = { .ms = 100 };
	struct work *w = work_start(loop, job_fn, job_done, &j);
	assert_non_null(w);
	work_cancel(w);
	assert_int_equal(atomic_load(&j.ran), 1);
	for (int i = 0; i < 3; i++)
		ev_run_once(loop, 10);
	assert_int_equal(j.done, 0);
	ev_loop_free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_work_runs_off_the_loop_and_completes_on_it),
		cmocka_unit_test(test_work_cancel_waits_for_fn_and_skips_done),
	};
	return vh_run_tests(tests, NULL, NULL);
}
