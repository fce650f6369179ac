/* netem distribution tables: iproute2's file format and the kernel's tabledist(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "netem_dist.h"
#include "test_skip.h"

static struct netem_dist_table table; /* 32 KiB: not on the stack */

static void test_parse_skips_comments_and_reads_c_integers(void **state)
{
	(void)state;
	const char text[] = "# a comment\n\n 1 -2\t0x10\n#  9 9 9\n-32768 32767";
	char err[128];
	assert_int_equal(netem_dist_parse(text, strlen(text), &table, err, sizeof err), 0);
	assert_int_equal(table.size, 5);
	assert_int_equal(table.values[0], 1);
	assert_int_equal(table.values[1], -2);
	assert_int_equal(table.values[2], 16);
	assert_int_equal(table.values[3], -32768);
	assert_int_equal(table.values[4], 32767);
}

static void test_parse_rejects_bad_tables(void **state)
{
	(void)state;
	char err[128];
	assert_int_equal(netem_dist_parse("# only\n", 7, &table, err, sizeof err), -1);
	assert_string_equal(err, "no data");
	assert_int_equal(netem_dist_parse("1 32768\n", 8, &table, err, sizeof err), -1);
	assert_non_null(strstr(err, "line 1: value out of range"));
	assert_int_equal(netem_dist_parse("1\n2 x\n", 6, &table, err, sizeof err), -1);
	assert_non_null(strstr(err, "line 2: not a number"));
	size_t big = (NETEM_DIST_MAX_VALUES + 1) * 2;
	char *many = malloc(big + 1);
	assert_non_null(many);
	for (size_t i = 0; i < big; i += 2)
		memcpy(many + i, i % 64 == 62 ? "1\n" : "1 ", 2);
	assert_int_equal(netem_dist_parse(many, big, &table, err, sizeof err), -1);
	assert_non_null(strstr(err, "too much data"));
	memset(many, '1', big);
	assert_int_equal(netem_dist_parse(many, 5000, &table, err, sizeof err), -1);
	assert_non_null(strstr(err, "too long"));
	free(many);
}

static void test_load_reads_iproute2_tables(void **state)
{
	(void)state;
	char err[256];
	if (access(NETEM_DIST_DIR_DEFAULT "/normal.dist", R_OK) != 0)
		vh_skip("no " NETEM_DIST_DIR_DEFAULT "/normal.dist (iproute2)");
	const char *names[] = { "normal", "pareto", "paretonormal" };
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(netem_dist_load(NULL, names[i], &table, err, sizeof err), 0);
		assert_int_equal(table.size, 4096);
	}
	/* normal.dist is a sorted inverse CDF starting at the clamp value. */
	assert_int_equal(netem_dist_load(NULL, "normal", &table, err, sizeof err), 0);
	assert_int_equal(table.values[0], -32768);
	for (size_t i = 1; i < table.size; i++)
		assert_true(table.values[i] >= table.values[i - 1]);
}

static void test_load_from_an_overridden_directory(void **state)
{
	(void)state;
	char dir[] = "/tmp/vh-dist-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof path, "%s/mine.dist", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("# custom\n-8192 0 8192\n", f);
	fclose(f);
	char err[256];
	assert_int_equal(netem_dist_load(dir, "mine", &table, err, sizeof err), 0);
	assert_int_equal(table.size, 3);
	assert_int_equal(netem_dist_load(dir, "absent", &table, err, sizeof err), -1);
	assert_non_null(strstr(err, "absent.dist"));
	f = fopen(path, "w");
	fputs("zzz\n", f);
	fclose(f);
	assert_int_equal(netem_dist_load(dir, "mine", &table, err, sizeof err), -1);
	assert_non_null(strstr(err, "mine.dist: line 1"));
	unlink(path);
	rmdir(dir);
}

static void test_load_rejects_names_that_are_paths(void **state)
{
	(void)state;
	char err[256];
	assert_int_equal(netem_dist_load(NULL, "../etc/passwd", &table, err, sizeof err), -1);
	assert_non_null(strstr(err, "bad distribution name"));
	assert_int_equal(netem_dist_load(NULL, "", &table, err, sizeof err), -1);
	assert_int_equal(netem_dist_load(NULL, NULL, &table, err, sizeof err), -1);
}

static void test_sample_without_table_is_kernel_uniform(void **state)
{
	(void)state;
	assert_int_equal(netem_dist_sample(NULL, 1000, 0, 12345), 1000);
	assert_int_equal(netem_dist_sample(NULL, 1000, 100, 0), 900);
	assert_int_equal(netem_dist_sample(NULL, 1000, 100, 199), 1099);
	assert_int_equal(netem_dist_sample(NULL, 1000, 100, 200), 900);
	assert_int_equal(netem_dist_sample(NULL, 10, 100, 0), -90);
}

static void test_sample_with_table_is_kernel_tabledist(void **state)
{
	(void)state;
	table.size = 4;
	table.values[0] = 8192;	 /* +1 sigma */
	table.values[1] = -4096; /* -0.5 sigma */
	table.values[2] = 1;	 /* rounds to nearest */
	table.values[3] = -1;
	int64_t sigma = 1000000 + 5000; /* not a multiple of 8192: both terms matter */
	assert_int_equal(netem_dist_sample(&table, 10000000, sigma, 0), 10000000 + sigma);
	assert_int_equal(netem_dist_sample(&table, 10000000, sigma, 5), 10000000 - sigma / 2);
	assert_int_equal(netem_dist_sample(&table, 0, 8192 * 3 + 4096, 2), 3 + 1);
	assert_int_equal(netem_dist_sample(&table, 0, 8192 * 3 + 4096, 3), -3 - 1);
	assert_int_equal(netem_dist_sample(&table, 7, 0, 3), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_skips_comments_and_reads_c_integers),
		cmocka_unit_test(test_parse_rejects_bad_tables),
		cmocka_unit_test(test_load_reads_iproute2_tables),
		cmocka_unit_test(test_load_from_an_overridden_directory),
		cmocka_unit_test(test_load_rejects_names_that_are_paths),
		cmocka_unit_test(test_sample_without_table_is_kernel_uniform),
		cmocka_unit_test(test_sample_with_table_is_kernel_tabledist),
	};
	return vh_run_tests(tests, NULL, NULL);
}
