/* Unit tests for planning a suite (harness/cli/suite.c): directories,
 * matrix, repeats, ids, seeds, shards by order and by recorded timings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "suite.h"
#include "test_skip.h"

static char dir[64];

static void touch(const char *rel)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vh-test-suite-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	char sub[128];
	snprintf(sub, sizeof(sub), "%s/ota", dir);
	mkdir(sub, 0755);
	snprintf(sub, sizeof(sub), "%s/empty", dir);
	mkdir(sub, 0755);
	touch("boot.lua");
	touch("ota/flaky.lua");
	touch("ota/sweep.lua");
	touch("notes.txt");
	touch(".hidden.lua");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static uint64_t counter;
static uint64_t next_seed(void)
{
	return 1000 + counter++;
}

static struct cli_opts opts_for(const char *const *scenarios, int n)
{
	struct cli_opts o;
	memset(&o, 0, sizeof(o));
	o.command = CLI_RUN;
	o.jobs = 1;
	o.repeat = 1;
	for (int i = 0; i < n; i++)
		o.scenarios[o.n_scenarios++] = scenarios[i];
	return o;
}

static void test_suite_directory_stands_for_its_scenarios_in_name_order(void **state)
{
	(void)state;
	const char *args[] = { dir };
	struct cli_opts o = opts_for(args, 1);
	struct suite s;
	char err[256];
	assert_int_equal(suite_plan(&o, next_seed, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 3);
	/* Relative to the directory; subdirectories join with '-'. */
	assert_string_equal(s.runs[0].id, "boot");
	assert_string_equal(s.runs[1].id, "ota-flaky");
	assert_string_equal(s.runs[2].id, "ota-sweep");
	char want[128];
	snprintf(want, sizeof(want), "%s/ota/flaky.lua", dir);
	assert_string_equal(s.runs[1].scenario, want);
	assert_int_equal(suite_count_in_shard(&s), 3);
	suite_free(&s);
}

static void test_suite_directory_without_scenarios_is_refused(void **state)
{
	(void)state;
	char empty[128];
	snprintf(empty, sizeof(empty), "%s/empty", dir);
	const char *args[] = { empty };
	struct cli_opts o = opts_for(args, 1);
	struct suite s;
	char err[256];
	assert_int_equal(suite_plan(&o, next_seed, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "holds no scenario"));
}

static void test_suite_matrix_runs_every_combination_and_its_values_win(void **state)
{
	(void)state;
	const char *args[] = { "x/flaky.lua" };
	struct cli_opts o = opts_for(args, 1);
	o.defines[o.n_defines++] = "bugs=none";
	o.matrix[o.n_matrix++] = "bugs=a,b";
	o.matrix[o.n_matrix++] = "loss=1%,5%,10%";
	struct suite s;
	char err[256];
	assert_int_equal(suite_plan(&o, next_seed, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 6);
	assert_string_equal(s.runs[0].id, "flaky.bugs=a.loss=1_");
	assert_string_equal(s.runs[5].id, "flaky.bugs=b.loss=10_");
	assert_string_equal(s.runs[4].params, "bugs=b loss=5%");
	/* -D first, the matrix after: vh.param reads the last. */
	assert_int_equal(s.runs[4].n_defines, 3);
	assert_string_equal(s.runs[4].defines[0], "bugs=none");
	assert_string_equal(s.runs[4].defines[1], "bugs=b");
	assert_string_equal(s.runs[4].defines[2], "loss=5%");
	suite_free(&s);
}

static void test_suite_repeats_get_their_own_ids_and_seeds(void **state)
{
	(void)state;
	const char *args[] = { "a/boot.lua" };
	struct cli_opts o = opts_for(args, 1);
	o.repeat = 3;
	o.seed_set = true;
	o.seed = 42;
	struct suite s;
	char err[256];
	assert_int_equal(suite_plan(&o, next_seed, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 3);
	for (int i = 0; i < 3; i++) {
		char want[32];
		snprintf(want, sizeof(want), "boot.r%d", i + 1);
		assert_string_equal(s.runs[i].id, want);
		assert_int_equal(s.runs[i].repeat, i + 1);
		assert_int_equal(s.runs[i].seed, 42 + i);
	}
	suite_free(&s);
	/* Without --seed each run draws its own. */
	o.seed_set = false;
	counter = 0;
	assert_int_equal(suite_plan(&o, next_seed, &s, err, sizeof(err)), 0);
	assert_int_equal(s.runs[0].seed, 1000);
	assert_int_equal(s.runs[2].seed, 1002);
	suite_free(&s);
}

static void test_suite_runs_that_would_share_a_directory_are_refused(void **state)
{
	(void)state;
	const char *args[] = { "x/a.lua", "y/a.lua" };
	struct cli_opts o = opts_for(args, 2);
	struct suite s;
	char err[256];
	assert_int_equal(suite_plan(&o, next_seed, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "x/a.lua and y/a.lua would share an artifacts directory (a)"));
}

static void test_suite_shards_deal_runs_round_robin_without_timings(void **state)
{
	(void)state;
	const char *args[] = { "a.lua", "b.lua", "c.lua", "d.lua", "e.lua" };
	struct cli_opts o = opts_for(args, 5);
	o.shard_count = 2;
	int seen[5] = { 0 };
	for (int shard = 1; shard <= 2; shard++) {
		o.shard_index = shard;
		struct suite s;
		char err[256];
		assert_int_equal(suite_plan(&o, next_seed, &s, err, sizeof(err)), 0);
		for (int i = 0; i < s.n; i++)
			if (s.runs[i].in_shard) {
				seen[i]++;
				assert_int_equal(i % 2, shard - 1);
			}
		suite_free(&s);
	}
	for (int i = 0; i < 5; i++)
		assert_int_equal(seen[i], 1);
}

static void test_suite_timings_balance_shards_longest_first(void **state)
{
	(void)state;
	char timings[128];
	snprintf(timings, sizeof(timings), "%s/timings.txt", dir);
	FILE *f = fopen(timings, "w");
	assert_non_null(f);
	fputs("# run seconds\nlong 100.0\nmid 60\nshort1 30\nshort2 30\nunknown-run 5\n", f);
	fclose(f);
	const char *args[] = { "long.lua", "mid.lua", "short1.lua", "short2.lua", "new.lua" };
	struct cli_opts o = opts_for(args, 5);
	o.shard_count = 2;
	o.timings = timings;
	double load[2] = { 0 };
	int seen[5] = { 0 };
	for (int shard = 1; shard <= 2; shard++) {
		o.shard_index = shard;
		struct suite s;
		char err[256];
		assert_int_equal(suite_plan(&o, next_seed, &s, err, sizeof(err)), 0);
		for (int i = 0; i < s.n; i++) {
			if (!s.runs[i].in_shard)
				continue;
			seen[i]++;
			/* new.lua has no time: it counts as the median (60 s here). */
			load[shard - 1] += s.runs[i].expected_s >= 0 ? s.runs[i].expected_s : 60;
		}
		if (shard == 1)
			assert_true(s.runs[0].in_shard); /* the longest goes first, to shard 1 */
		suite_free(&s);
	}
	for (int i = 0; i < 5; i++)
		assert_int_equal(seen[i], 1);
	/* 100 | 60 60 ... : long + short1 + ... vs mid + new + ...: within one run. */
	assert_true(load[0] - load[1] <= 60 && load[1] - load[0] <= 60);
	assert_true(load[0] + load[1] == 280);
}

static void test_suite_timings_of_zero_seconds_are_times_not_unknown(void **state)
{
	(void)state;
	char timings[128];
	snprintf(timings, sizeof(timings), "%s/zero.txt", dir);
	FILE *f = fopen(timings, "w");
	assert_non_null(f);
	/* A scenario without guests finishes in 0.0 s; the median of the known
	 * times must not stand in for it, or it ties with the long run. */
	fputs("a 0.0\nb 0.1\nc 1.0\n", f);
	fclose(f);
	const char *args[] = { "a.lua", "b.lua", "c.lua" };
	struct cli_opts o = opts_for(args, 3);
	o.shard_count = 2;
	o.timings = timings;
	o.shard_index = 1;
	struct suite s;
	char err[256];
	assert_int_equal(suite_plan(&o, next_seed, &s, err, sizeof(err)), 0);
	assert_false(s.runs[0].in_shard);
	assert_false(s.runs[1].in_shard);
	assert_true(s.runs[2].in_shard); /* c alone: the two short ones share shard 2 */
	suite_free(&s);
}

static void test_suite_bad_timings_file_names_its_line(void **state)
{
	(void)state;
	char timings[128];
	snprintf(timings, sizeof(timings), "%s/bad.txt", dir);
	FILE *f = fopen(timings, "w");
	assert_non_null(f);
	fputs("boot 1.5\nboot soon\n", f);
	fclose(f);
	const char *args[] = { "boot.lua" };
	struct cli_opts o = opts_for(args, 1);
	o.timings = timings;
	struct suite s;
	char err[256];
	assert_int_equal(suite_plan(&o, next_seed, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bad.txt:2: expected \"RUN SECONDS\""));
	o.timings = "/nonexistent/timings.txt";
	assert_int_equal(suite_plan(&o, next_seed, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/timings.txt"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_suite_directory_stands_for_its_scenarios_in_name_order),
		cmocka_unit_test(test_suite_directory_without_scenarios_is_refused),
		cmocka_unit_test(test_suite_matrix_runs_every_combination_and_its_values_win),
		cmocka_unit_test(test_suite_repeats_get_their_own_ids_and_seeds),
		cmocka_unit_test(test_suite_runs_that_would_share_a_directory_are_refused),
		cmocka_unit_test(test_suite_shards_deal_runs_round_robin_without_timings),
		cmocka_unit_test(test_suite_timings_balance_shards_longest_first),
		cmocka_unit_test(test_suite_timings_of_zero_seconds_are_times_not_unknown),
		cmocka_unit_test(test_suite_bad_timings_file_names_its_line),
	};
	return vh_run_tests(tests, setup, teardown);
}
