/* Unit tests for child processes (base/child.c): real programs, real signals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "test_skip.h"

static uint64_t ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void test_child_exit_status_is_reported(void **state)
{
	(void)state;
	const char *argv[] = { "sh", "-c", "exit 3", NULL };
	struct child_spec spec = { .argv = argv, .stdout_fd = -1, .stderr_fd = -1 };
	struct child c;
	char err[256], text[64];
	assert_int_equal(child_spawn(&spec, &c, err, sizeof(err)), 0);
	assert_true(c.pid > 0);
	assert_true(c.pidfd >= 0);
	int status = child_wait(&c, 5000, NULL);
	assert_false(child_status_ok(status));
	assert_string_equal(child_status_text(status, text, sizeof(text)), "exited with status 3");
	assert_int_equal(c.pid, 0);
	assert_int_equal(c.pidfd, -1);
}

static void test_child_program_that_cannot_run_fails_spawn_with_the_reason(void **state)
{
	(void)state;
	const char *argv[] = { "vh-no-such-program", NULL };
	struct child_spec spec = { .argv = argv, .stdout_fd = -1, .stderr_fd = -1 };
	struct child c;
	char err[256];
	assert_int_equal(child_spawn(&spec, &c, err, sizeof(err)), -1);
	assert_string_equal(err, "cannot execute vh-no-such-program: No such file or directory");
	assert_int_equal(c.pid, 0);
	/* Reaped: no child of ours is left. */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static void test_child_run_collects_stdout_and_stderr(void **state)
{
	(void)state;
	const char *argv[] = { "sh", "-c", "echo out; echo err >&2", NULL };
	struct child_spec spec = { .argv = argv };
	char out[64], err[256];
	bool timed_out = true;
	int status = child_run(&spec, 5000, out, sizeof(out), &timed_out, err, sizeof(err));
	assert_true(child_status_ok(status));
	assert_false(timed_out);
	assert_string_equal(out, "out\nerr\n");
}

static void test_child_runs_at_the_niceness_it_was_given_above_the_parents(void **state)
{
	(void)state;
	const char *argv[] = { "nice", NULL }; /* coreutils: prints its niceness */
	struct child_spec spec = { .argv = argv, .nice = 3 };
	char out[16], err[256], want[16];
	errno = 0;
	int mine = getpriority(PRIO_PROCESS, 0);
	assert_int_equal(errno, 0);
	snprintf(want, sizeof(want), "%d\n", mine + 3 > 19 ? 19 : mine + 3);
	int status = child_run(&spec, 5000, out, sizeof(out), NULL, err, sizeof(err));
	assert_true(child_status_ok(status));
	assert_string_equal(out, want);
}

static void test_child_run_truncates_output_to_the_buffer(void **state)
{
	(void)state;
	const char *argv[] = { "sh", "-c", "echo 0123456789", NULL };
	struct child_spec spec = { .argv = argv };
	char out[5], err[256];
	int status = child_run(&spec, 5000, out, sizeof(out), NULL, err, sizeof(err));
	assert_true(child_status_ok(status));
	assert_string_equal(out, "0123");
}

static void test_child_run_kills_a_child_that_outlives_its_time(void **state)
{
	(void)state;
	/* exec: the shell's own sleep holds no copy of the output pipe. */
	const char *argv[] = { "sh", "-c", "exec sleep 30", NULL };
	struct child_spec spec = { .argv = argv };
	char out[16], err[256], text[64];
	bool timed_out = false;
	uint64_t t0 = ms_now();
	int status = child_run(&spec, 200, out, sizeof(out), &timed_out, err, sizeof(err));
	uint64_t took = ms_now() - t0;
	assert_true(timed_out);
	assert_string_equal(child_status_text(status, text, sizeof(text)),
			    "killed by signal 9 (Killed)");
	assert_true(took >= 200);
	assert_true(took < 5000);
}

static int helper_fn(void *arg)
{
	printf("%s", (const char *)arg);
	fflush(stdout);
	return 7;
}

static void test_child_fn_runs_in_the_child_and_its_result_is_the_exit_status(void **state)
{
	(void)state;
	struct child_spec spec = { .fn = helper_fn, .arg = "from the child" };
	char out[64], err[256], text[64];
	int status = child_run(&spec, 5000, out, sizeof(out), NULL, err, sizeof(err));
	assert_string_equal(child_status_text(status, text, sizeof(text)), "exited with status 7");
	assert_string_equal(out, "from the child");
}

static void test_child_does_not_inherit_blocked_signals(void **state)
{
	(void)state;
	sigset_t term, old;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, &old);
	const char *argv[] = { "sh", "-c", "kill -TERM $$; sleep 5", NULL };
	struct child_spec spec = { .argv = argv, .stdout_fd = -1, .stderr_fd = -1 };
	struct child c;
	char err[256], text[64];
	assert_int_equal(child_spawn(&spec, &c, err, sizeof(err)), 0);
	int status = child_wait(&c, 4000, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	assert_string_equal(child_status_text(status, text, sizeof(text)),
			    "killed by signal 15 (Terminated)");
}

static void test_child_can_lead_its_own_process_group(void **state)
{
	(void)state;
	const char *argv[] = { "sleep", "5", NULL };
	struct child_spec spec = {
		.argv = argv, .stdout_fd = -1, .stderr_fd = -1, .own_process_group = true
	};
	struct child c;
	char err[256];
	assert_int_equal(child_spawn(&spec, &c, err, sizeof(err)), 0);
	/* setpgid runs in the child before exec, which child_spawn waits for. */
	assert_int_equal(getpgid(c.pid), c.pid);
	child_kill(&c);
	int status = child_wait(&c, 2000, NULL);
	assert_true(WIFSIGNALED(status));
}

static bool process_gone(pid_t pid)
{
	char path[64], stat[256];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return true;
	bool zombie = fgets(stat, sizeof(stat), f) && strstr(stat, ") Z ");
	fclose(f);
	return zombie;
}

static void test_child_dies_with_the_process_that_started_it(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t middle = fork();
	if (middle == 0) {
		const char *argv[] = { "sleep", "30", NULL };
		struct child_spec spec = { .argv = argv, .stdout_fd = -1, .stderr_fd = -1 };
		struct child c;
		char err[256];
		if (child_spawn(&spec, &c, err, sizeof(err)) < 0)
			_exit(1);
		ssize_t w = write(p[1], &c.pid, sizeof(c.pid));
		_exit(w == (ssize_t)sizeof(c.pid) ? 0 : 1);
	}
	close(p[1]);
	pid_t grandchild = 0;
	assert_int_equal(read(p[0], &grandchild, sizeof(grandchild)), (ssize_t)sizeof(grandchild));
	close(p[0]);
	int status;
	assert_int_equal(waitpid(middle, &status, 0), middle);
	assert_true(child_status_ok(status));
	uint64_t deadline = ms_now() + 3000;
	while (!process_gone(grandchild) && ms_now() < deadline) {
		struct timespec nap = { 0, 10 * 1000 * 1000 };
		nanosleep(&nap, NULL);
	}
	assert_true(process_gone(grandchild));
}

static void test_child_stderr_goes_to_its_file_and_the_tail_reads_back(void **state)
{
	(void)state;
	char path[] = "/tmp/vh-test-child-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	const char *argv[] = { "sh", "-c", "for i in 1 2 3 4 5 6; do echo line$i >&2; done", NULL };
	struct child_spec spec = {
		.argv = argv, .stdout_fd = -1, .stderr_fd = -1, .stderr_path = path
	};
	struct child c;
	char err[256], tail[256];
	assert_int_equal(child_spawn(&spec, &c, err, sizeof(err)), 0);
	assert_true(child_status_ok(child_wait(&c, 5000, NULL)));
	child_file_tail(path, tail, sizeof(tail), 3);
	assert_string_equal(tail, "line4\nline5\nline6");
	child_file_tail(path, tail, sizeof(tail), 100);
	assert_string_equal(tail, "line1\nline2\nline3\nline4\nline5\nline6");
	unlink(path);
	child_file_tail(path, tail, sizeof(tail), 3);
	assert_string_equal(tail, "");
}

static void test_child_reap_says_whether_the_child_has_ended(void **state)
{
	(void)state;
	const char *argv[] = { "sleep", "5", NULL };
	struct child_spec spec = { .argv = argv, .stdout_fd = -1, .stderr_fd = -1 };
	struct child c;
	char err[256];
	int status;
	assert_int_equal(child_spawn(&spec, &c, err, sizeof(err)), 0);
	assert_false(child_reap(&c, &status));
	child_kill(&c);
	uint64_t deadline = ms_now() + 3000;
	bool done = false;
	while (!(done = child_reap(&c, &status)) && ms_now() < deadline) {
		struct timespec nap = { 0, 2 * 1000 * 1000 };
		nanosleep(&nap, NULL);
	}
	assert_true(done);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	child_kill(&c); /* after the reap: harmless */
	assert_true(child_reap(&c, &status));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_child_exit_status_is_reported),
		cmocka_unit_test(test_child_program_that_cannot_run_fails_spawn_with_the_reason),
		cmocka_unit_test(test_child_run_collects_stdout_and_stderr),
		cmocka_unit_test(test_child_runs_at_the_niceness_it_was_given_above_the_parents),
		cmocka_unit_test(test_child_run_truncates_output_to_the_buffer),
		cmocka_unit_test(test_child_run_kills_a_child_that_outlives_its_time),
		cmocka_unit_test(test_child_fn_runs_in_the_child_and_its_result_is_the_exit_status),
		cmocka_unit_test(test_child_does_not_inherit_blocked_signals),
		cmocka_unit_test(test_child_can_lead_its_own_process_group),
		cmocka_unit_test(test_child_dies_with_the_process_that_started_it),
		cmocka_unit_test(test_child_stderr_goes_to_its_file_and_the_tail_reads_back),
		cmocka_unit_test(test_child_reap_says_whether_the_child_has_ended),
	};
	return vh_run_tests(tests, NULL, NULL);
}
