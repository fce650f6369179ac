/* The rules that make every scenario end with an honest verdict
 * (harness/lua/script.c, harness/run/run.c), in real runs: each test writes
 * a scenario, runs it on a real loop in its own namespaces (no QEMU: the
 * scenarios make a device but never power it on), and checks the verdict
 * and its message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ev.h"
#include "run.h"
#include "script.h"

#include "child_check.h"
#include "sandboxed.h"

#define PRELUDE                                                                                    \
	"local vh = require \"vharness\"\n"                                                        \
	"local dut = vh.device { name = \"dut\", firmware = { kernel = \"/bin/sh\" } }\n"

static char dir[64];

struct outcome {
	enum vh_outcome outcome;
	char message[2048];
	bool has_details;
	double seconds;
};

/* Runs source as <dir>/<name> for real (not a dry run) with timeout_ms. */
static int run_source(const char *name, const char *source, uint64_t timeout_ms,
		      struct outcome *out)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	CHECK(f);
	CHECK(fputs(source, f) >= 0);
	CHECK(fclose(f) == 0);
	struct run_config cfg = {
		.scenario_path = path,
		.artifacts_dir = dir,
		.image_dir = "/nonexistent",
		.accel = "tcg",
		.backend = "user",
		.seed = 1,
		.timeout_ms = timeout_ms,
	};
	struct vh_run *run = run_new(&cfg);
	CHECK(run);
	struct script *s = script_new(run);
	CHECK(s);
	uint64_t t0 = ev_clock_ms();
	if (run_start(run) == 0)
		script_execute(s);
	out->seconds = (double)(ev_clock_ms() - t0) / 1000.0;
	out->outcome = run_outcome(run);
	snprintf(out->message, sizeof(out->message), "%s",
		 run_message(run) ? run_message(run) : "");
	out->has_details = run_details(run) != NULL;
	run_free(run);
	script_free(s);
	return 0;
}

#define RUN(name, src, timeout, out) CHECK(run_source(name, src, timeout, out) == 0)
#define HAS(text) (strstr(o.message, text) != NULL)

static int child_spawned_error_after_main_returns_fails_the_run(void)
{
	struct outcome o;
	RUN("spawn_err.lua",
	    PRELUDE "vh.spawn(function()\n"
		    "  error(\"from the spawned coroutine\")\n"
		    "end)\n",
	    10000, &o);
	CHECK(o.outcome == VH_CONFIG);
	CHECK(HAS("spawn_err.lua:4: from the spawned coroutine"));
	return 0;
}

static int child_spawned_coroutine_is_waited_for(void)
{
	struct outcome o;
	RUN("spawn_wait.lua",
	    PRELUDE "vh.spawn(function()\n"
		    "  vh.sleep(\"300ms\")\n"
		    "  vh.check(false, \"late check\")\n"
		    "end)\n",
	    10000, &o);
	/* The main chunk returned at once; the run waited for the check. */
	CHECK(o.outcome == VH_FAIL);
	CHECK(HAS("spawn_wait.lua:5: check failed: late check"));
	CHECK(o.seconds >= 0.3);
	return 0;
}

static int child_spawned_expect_not_window_closes_with_the_main_chunk(void)
{
	struct outcome o;
	RUN("window.lua",
	    PRELUDE "vh.spawn(function() dut:expect_not(\"Kernel panic\", \"1h\") end)\n"
		    "vh.sleep(\"50ms\")\n",
	    10000, &o);
	CHECK(o.outcome == VH_PASS);
	CHECK(o.seconds < 5);
	return 0;
}

static int child_busy_loop_is_stopped_at_the_deadline(void)
{
	struct outcome o;
	RUN("busy.lua", PRELUDE "local n = 0\nwhile true do n = n + 1 end\n", 500, &o);
	CHECK(o.outcome == VH_FAIL);
	CHECK(HAS("busy.lua:4: scenario did not finish within 500ms (--timeout)"));
	CHECK(o.seconds >= 0.5 && o.seconds < 5);
	return 0;
}

static int child_busy_loop_inside_pcall_cannot_catch_the_stop(void)
{
	struct outcome o;
	RUN("pcall.lua",
	    PRELUDE "while true do\n"
		    "  pcall(function() while true do end end)\n"
		    "end\n",
	    500, &o);
	CHECK(o.outcome == VH_FAIL);
	CHECK(HAS("did not finish within 500ms"));
	CHECK(o.seconds < 5);
	return 0;
}

static int child_deadline_while_waiting_names_the_waiting_line(void)
{
	struct outcome o;
	RUN("waiting.lua", PRELUDE "\nvh.sleep(\"10s\")\n", 300, &o);
	CHECK(o.outcome == VH_FAIL);
	CHECK(HAS("waiting.lua:4: scenario did not finish within 300ms"));
	return 0;
}

/* Ctrl-C once the scenario runs its busy loop (it leaves <dir>/busy behind
 * first): sent on a timer, it could land before the run handles SIGINT (a
 * loaded host took longer than 200 ms to get there) and end the process
 * with the default action, which is not what this test is about. */
static void *interrupt_when_busy(void *arg)
{
	(void)arg;
	char marker[128];
	snprintf(marker, sizeof(marker), "%s/busy", dir);
	struct timespec nap = { 0, 10 * 1000 * 1000 };
	for (int i = 0; i < 3000 && access(marker, F_OK) != 0; i++)
		nanosleep(&nap, NULL);
	kill(getpid(), SIGINT);
	return NULL;
}

static int child_ctrl_c_stops_a_busy_scenario_as_cancelled(void)
{
	pthread_t t;
	CHECK(pthread_create(&t, NULL, interrupt_when_busy, NULL) == 0);
	struct outcome o;
	char src[512];
	snprintf(src, sizeof(src),
		 PRELUDE "io.open(\"%s/busy\", \"w\"):close()\nwhile true do end\n", dir);
	RUN("ctrlc.lua", src, 60000, &o);
	pthread_join(t, NULL);
	CHECK(o.outcome == VH_CANCELLED_INT);
	CHECK(HAS("cancelled by SIGINT"));
	CHECK(o.seconds < 5);
	return 0;
}

static int child_os_exit_raises_instead_of_leaving_without_a_verdict(void)
{
	struct outcome o;
	RUN("exit0.lua", PRELUDE "os.exit(0)\n", 10000, &o);
	CHECK(o.outcome == VH_CONFIG);
	CHECK(HAS("exit0.lua:3: os.exit() would end vharness without a verdict"));
	RUN("exit5.lua", PRELUDE "os.exit(5)\n", 10000, &o);
	CHECK(o.outcome == VH_CONFIG);
	/* Caught by pcall, it still cannot pass for a check that failed. */
	RUN("exitp.lua", PRELUDE "pcall(os.exit, 0)\nvh.check(false, \"after exit\")\n", 10000, &o);
	CHECK(o.outcome == VH_FAIL);
	return 0;
}

static int child_error_with_a_table_names_its_line(void)
{
	struct outcome o;
	RUN("errtab.lua", PRELUDE "\nerror({ code = 1 })\n", 10000, &o);
	CHECK(o.outcome == VH_CONFIG);
	CHECK(HAS("errtab.lua:4: error object is a table"));
	return 0;
}

static int child_scenario_without_a_device_has_nothing_to_run(void)
{
	struct outcome o;
	RUN("empty.lua", "", 10000, &o);
	CHECK(o.outcome == VH_CONFIG);
	CHECK(HAS("has nothing to run"));
	RUN("nodevice.lua", "local vh = require \"vharness\"\nvh.log(\"hello\")\n", 10000, &o);
	CHECK(o.outcome == VH_CONFIG);
	CHECK(HAS("nodevice.lua has nothing to run"));
	return 0;
}

static int child_failure_caught_by_pcall_leaves_no_serial_lines_behind(void)
{
	struct outcome o;
	RUN("pcall_expect.lua",
	    PRELUDE "local ok = pcall(function() dut:expect(\"never\", \"10ms\") end)\n"
		    "vh.check(not ok, \"the expect failed\")\n"
		    "vh.check(false, \"an unrelated failure\")\n",
	    10000, &o);
	CHECK(o.outcome == VH_FAIL);
	CHECK(HAS("an unrelated failure"));
	CHECK(!o.has_details);
	/* An uncaught expect failure carries its serial lines. */
	RUN("expect.lua", PRELUDE "dut:expect(\"never\", \"10ms\")\n", 10000, &o);
	CHECK(o.outcome == VH_FAIL);
	CHECK(o.has_details);
	return 0;
}

static int child_overlapping_networks_are_a_configuration_error(void)
{
	struct outcome o;
	RUN("overlap.lua",
	    PRELUDE "local a = vh.network { name = \"a\", subnet = \"10.77.0.0/24\" }\n"
		    "local b = vh.network { name = \"b\", subnet = \"10.77.0.128/25\" }\n",
	    10000, &o);
	CHECK(o.outcome == VH_CONFIG);
	CHECK(HAS("overlap.lua:4: vh.network{}: network 'b' (10.77.0.128/25) overlaps network 'a' "
		  "(10.77.0.0/24)"));
	/* A default subnet steps around the ones taken. */
	RUN("defaults.lua",
	    PRELUDE "local a = vh.network { name = \"a\", subnet = \"10.77.0.0/24\" }\n"
		    "local b = vh.network { name = \"b\" }\n"
		    "vh.check(b.subnet == \"10.77.1.0/24\", b.subnet)\n",
	    10000, &o);
	CHECK(o.outcome == VH_PASS);
	return 0;
}

static int child_a_pass_cannot_be_overturned_and_a_failure_cannot_become_a_pass(void)
{
	struct outcome o;
	/* The first verdict stays: a failure in one coroutine is not undone by
	 * the main chunk returning afterwards. */
	RUN("first.lua",
	    PRELUDE "vh.spawn(function() vh.check(false, \"first\") end)\n"
		    "vh.sleep(\"100ms\")\n",
	    10000, &o);
	CHECK(o.outcome == VH_FAIL);
	CHECK(HAS("check failed: first"));
	return 0;
}

#define SANDBOXED(name)                                                                            \
	static void test_##name(void **state)                                                      \
	{                                                                                          \
		(void)state;                                                                       \
		sandboxed_run(child_##name);                                                       \
	}

SANDBOXED(spawned_error_after_main_returns_fails_the_run)
SANDBOXED(spawned_coroutine_is_waited_for)
SANDBOXED(spawned_expect_not_window_closes_with_the_main_chunk)
SANDBOXED(busy_loop_is_stopped_at_the_deadline)
SANDBOXED(busy_loop_inside_pcall_cannot_catch_the_stop)
SANDBOXED(deadline_while_waiting_names_the_waiting_line)
SANDBOXED(ctrl_c_stops_a_busy_scenario_as_cancelled)
SANDBOXED(os_exit_raises_instead_of_leaving_without_a_verdict)
SANDBOXED(error_with_a_table_names_its_line)
SANDBOXED(scenario_without_a_device_has_nothing_to_run)
SANDBOXED(failure_caught_by_pcall_leaves_no_serial_lines_behind)
SANDBOXED(overlapping_networks_are_a_configuration_error)
SANDBOXED(a_pass_cannot_be_overturned_and_a_failure_cannot_become_a_pass)

static int setup_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vh-test-script-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

#define T(fn) cmocka_unit_test(test_##fn)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(spawned_error_after_main_returns_fails_the_run),
		T(spawned_coroutine_is_waited_for),
		T(spawned_expect_not_window_closes_with_the_main_chunk),
		T(busy_loop_is_stopped_at_the_deadline),
		T(busy_loop_inside_pcall_cannot_catch_the_stop),
		T(deadline_while_waiting_names_the_waiting_line),
		T(ctrl_c_stops_a_busy_scenario_as_cancelled),
		T(os_exit_raises_instead_of_leaving_without_a_verdict),
		T(error_with_a_table_names_its_line),
		T(scenario_without_a_device_has_nothing_to_run),
		T(failure_caught_by_pcall_leaves_no_serial_lines_behind),
		T(overlapping_networks_are_a_configuration_error),
		T(a_pass_cannot_be_overturned_and_a_failure_cannot_become_a_pass),
	};
	return vh_run_tests(tests, setup_dir, teardown_dir);
}
