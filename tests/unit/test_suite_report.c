/* Unit tests for a suite's own artifacts (harness/report/suite_report.c) and
 * the verdict file a run leaves for it (harness/run/verdict.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "suite_report.h"
#include "test_skip.h"
#include "verdict.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vh-test-suite-report-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *slurp(const char *name)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char buf[16384];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static const struct suite_result results[] = {
	{ .id = "boot",
	  .scenario = "s/boot.lua",
	  .params = "",
	  .seed = 1,
	  .outcome = 0,
	  .seconds = 4.5 },
	{ .id = "ota.bugs=x",
	  .scenario = "s/ota.lua",
	  .params = "bugs=x",
	  .seed = 2,
	  .outcome = 1,
	  .seconds = 50.25,
	  .message = "ota.lua:9: check failed: a | b\nsecond line",
	  .details = "  vh-agent: boot\n" },
	{ .id = "ota.bugs=y",
	  .scenario = "s/ota.lua",
	  .params = "bugs=y",
	  .seed = 3,
	  .outcome = 130,
	  .seconds = 2,
	  .message = "cancelled by SIGINT (Ctrl-C)" },
	{ .id = "sweep",
	  .scenario = "s/sweep.lua",
	  .params = "",
	  .seed = 4,
	  .outcome = -1,
	  .message = "not run: the suite was interrupted" },
};

static void test_suite_report_junit_has_one_testcase_per_run(void **state)
{
	(void)state;
	char err[256];
	assert_int_equal(suite_report_write(dir, results, 4, true, err, sizeof(err)), 0);
	const char *x = slurp("junit.xml");
	assert_non_null(strstr(x, "tests=\"4\" failures=\"1\" errors=\"1\" skipped=\"1\""));
	assert_non_null(strstr(x, "<testcase name=\"ota.bugs=x\" classname=\"s/ota.lua\""));
	assert_non_null(strstr(x, "<failure message=\"ota.lua:9: check failed: a | b"));
	assert_non_null(strstr(x, "  vh-agent: boot"));
	assert_non_null(strstr(x, "type=\"cancelled\""));
	assert_non_null(strstr(x, "<skipped message=\"not run: the suite was interrupted\"/>"));
}

static void test_suite_report_markdown_table_and_timings(void **state)
{
	(void)state;
	char err[256];
	assert_int_equal(suite_report_write(dir, results, 4, true, err, sizeof(err)), 0);
	const char *md = slurp("summary.md");
	assert_non_null(
		strstr(md, "### vharness: 1 passed, 1 failed, 0 errors, 1 cancelled, 1 not run"));
	assert_non_null(strstr(md, "| boot |  | PASS | 4.5 | 1 |  |"));
	/* A '|' in a message would end its cell; only the first line is shown. */
	assert_non_null(strstr(md, "| ota.bugs=x | bugs=x | **FAIL** | 50.2 | 2 | "
				   "ota.lua:9: check failed: a \\| b |"));
	assert_null(strstr(md, "second line"));
	const char *t = slurp("timings.txt");
	assert_non_null(strstr(t, "\nboot 4.5\nota.bugs=x 50.2\nota.bugs=y 2.0\n"));
	assert_null(strstr(t, "sweep")); /* not run: no time to go by */
}

static void test_suite_index_links_each_run_to_its_report_and_escapes_messages(void **state)
{
	(void)state;
	char boot_dir[128], ota_dir[128], err[256];
	snprintf(boot_dir, sizeof(boot_dir), "%s/boot", dir);
	snprintf(ota_dir, sizeof(ota_dir), "%s/ota.bugs=<x>", dir);
	const struct suite_result runs[] = {
		{ .id = "boot",
		  .scenario = "s/boot.lua",
		  .params = "",
		  .dir = boot_dir,
		  .seed = 1,
		  .outcome = 0,
		  .seconds = 4.5 },
		{ .id = "ota.bugs=<x>",
		  .scenario = "s/ota.lua",
		  .params = "bugs=<x>",
		  .dir = ota_dir,
		  .seed = 2,
		  .outcome = 1,
		  .seconds = 50.25,
		  .message = "ota.lua:9: </script><img src=x onerror=alert(1)>\nsecond line" },
		{ .id = "elsewhere",
		  .scenario = "e.lua",
		  .params = "",
		  .dir = "/abs/run",
		  .seed = 3,
		  .outcome = 2,
		  .seconds = 0.1,
		  .message = "bad" },
		{ .id = "sweep",
		  .scenario = "s/sweep.lua",
		  .params = "",
		  .dir = "x",
		  .seed = 4,
		  .outcome = -1,
		  .message = "not run: the suite was interrupted" },
	};
	assert_int_equal(suite_report_write(dir, runs, 4, true, err, sizeof(err)), 0);
	const char *h = slurp("index.html");
	assert_non_null(strstr(h, "<title>vharness suite: 1 of 4 passed</title>"));
	assert_non_null(strstr(h,
			       "<a href=\"boot/report.html\">boot</a></td><td>s/boot.lua</td>"
			       "<td></td><td class=\"v PASS\">PASS</td><td class=\"num\">4.5</td>"
			       "<td class=\"num\">1</td>"));
	assert_non_null(
		strstr(h, "<a href=\"ota.bugs=&lt;x&gt;/report.html\">ota.bugs=&lt;x&gt;</a>"));
	assert_non_null(strstr(h, "<td class=\"v \">FAIL</td>"));
	assert_non_null(
		strstr(h, "ota.lua:9: &lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;</td>"));
	assert_null(strstr(h, "<img"));
	assert_null(strstr(h, "second line"));
	assert_non_null(strstr(h, "<a href=\"/abs/run/report.html\">elsewhere</a>"));
	/* Not run: no report to link to. */
	assert_non_null(strstr(h, "<tr><td>sweep</td>"));
	/* summary.md links the same reports; '<' and '>' would end a link */
	const char *md = slurp("summary.md");
	assert_non_null(strstr(md, "| [boot](boot/report.html) |  | PASS | 4.5 | 1 |  |"));
	assert_non_null(strstr(md, "| [ota.bugs=<x>](ota.bugs=%3Cx%3E/report.html) | bugs=<x> |"));
	assert_non_null(strstr(md, "| [elsewhere](/abs/run/report.html) |"));
	assert_non_null(strstr(md, "| sweep |  | **NOT RUN** |"));

	/* One run in the suite's own directory: its report is next to the index. */
	const struct suite_result own[] = {
		{ .id = "boot", .scenario = "b.lua", .params = "", .dir = dir, .outcome = 0 }
	};
	assert_int_equal(suite_report_write(dir, own, 1, false, err, sizeof(err)), 0);
	assert_non_null(strstr(slurp("index.html"), "<a href=\"report.html\">boot</a>"));
	assert_non_null(strstr(slurp("summary.md"), "| [boot](report.html) |"));
}

static void test_suite_report_pass_rate_per_scenario_and_parameters(void **state)
{
	(void)state;
	const struct suite_result reps[] = {
		{ .id = "b.r1", .scenario = "b.lua", .params = "", .outcome = 0 },
		{ .id = "b.r2", .scenario = "b.lua", .params = "", .outcome = 1 },
		{ .id = "b.r3", .scenario = "b.lua", .params = "", .outcome = 0 },
		{ .id = "c", .scenario = "c.lua", .params = "", .outcome = 0 },
	};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	suite_report_print(f, reps, 4);
	fclose(f);
	assert_non_null(strstr(text, "pass rate\n  b.lua: 2/3 (67%)\n"));
	assert_null(strstr(text, "c.lua: 1/1")); /* one run is no rate */
	free(text);
}

static void test_verdict_file_round_trips_messages_with_anything_in_them(void **state)
{
	(void)state;
	char err[256];
	const char *msg = "line one\nverdict PASS\nexit 0\n";
	assert_int_equal(verdict_write_file(dir, VH_FAIL, 12.5, 77, msg, "d\n\n", err, sizeof(err)),
			 0);
	struct verdict_file v;
	assert_int_equal(verdict_read_file(dir, &v), 0);
	assert_int_equal(v.outcome, 1);
	assert_true(v.seconds > 12.49 && v.seconds < 12.51);
	assert_int_equal(v.seed, 77);
	assert_string_equal(v.message, msg);
	assert_string_equal(v.details, "d\n\n");
	verdict_file_free(&v);
	assert_int_equal(verdict_write_file(dir, VH_PASS, 1, 2, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(verdict_read_file(dir, &v), 0);
	assert_int_equal(v.outcome, 0);
	assert_null(v.message);
	assert_null(v.details);
	char path[128];
	snprintf(path, sizeof(path), "%s/verdict.txt", dir);
	unlink(path);
	assert_int_equal(verdict_read_file(dir, &v), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_suite_report_junit_has_one_testcase_per_run),
		cmocka_unit_test(test_suite_report_markdown_table_and_timings),
		cmocka_unit_test(
			test_suite_index_links_each_run_to_its_report_and_escapes_messages),
		cmocka_unit_test(test_suite_report_pass_rate_per_scenario_and_parameters),
		cmocka_unit_test(test_verdict_file_round_trips_messages_with_anything_in_them),
	};
	return vh_run_tests(tests, setup, teardown);
}
