/* `vharness netem`: normalised output, exit codes, usage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmd_netem.h"
#include "test_skip.h"

struct captured {
	int rc;
	char out[2048];
	char err[2048];
};

static void slurp(FILE *f, char *buf, size_t len)
{
	fflush(f);
	rewind(f);
	size_t n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
}

/* Runs cmd_netem with stdout and stderr redirected into temporary files. */
static struct captured run(int argc, char **argv)
{
	static struct captured c;
	FILE *out = tmpfile(), *err = tmpfile();
	assert_non_null(out);
	assert_non_null(err);
	fflush(stdout);
	fflush(stderr);
	int saved_out = dup(1), saved_err = dup(2);
	dup2(fileno(out), 1);
	dup2(fileno(err), 2);
	c.rc = cmd_netem(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	slurp(out, c.out, sizeof c.out);
	slurp(err, c.err, sizeof c.err);
	fclose(out);
	fclose(err);
	return c;
}

static void test_cmd_prints_normalised_spec(void **state)
{
	(void)state;
	char *argv[] = { "netem", "loss 2% lat 0.2s 50ms" };
	struct captured c = run(2, argv);
	assert_int_equal(c.rc, 0);
	assert_string_equal(c.out, "delay 200ms 50ms loss 2%\n");
	assert_string_equal(c.err, "");
}

static void test_cmd_joins_several_words(void **state)
{
	(void)state;
	char *argv[] = { "netem", "delay", "10ms", "reorder 25%", "gap", "5" };
	struct captured c = run(6, argv);
	assert_int_equal(c.rc, 0);
	assert_string_equal(c.out, "delay 10ms reorder 25% gap 5\n");
}

static void test_cmd_empty_spec_is_refused_and_none_is_no_impairment(void **state)
{
	(void)state;
	char *argv[] = { "netem" };
	struct captured c = run(1, argv);
	assert_int_equal(c.rc, 2);
	assert_string_equal(c.out, "");
	assert_non_null(strstr(c.err, "empty spec: say \"none\" for no impairment"));
	char *blank[] = { "netem", " ", "\t" };
	c = run(3, blank);
	assert_int_equal(c.rc, 2);
	char *none[] = { "netem", "none" };
	c = run(2, none);
	assert_int_equal(c.rc, 0);
	assert_string_equal(c.out, "none\n");
}

static void test_cmd_bad_spec_exits_2_with_error_on_stderr(void **state)
{
	(void)state;
	char *argv[] = { "netem", "delay 200ms", "lossy 2%" };
	struct captured c = run(3, argv);
	assert_int_equal(c.rc, 2);
	assert_string_equal(c.out, "");
	assert_string_equal(c.err, "netem: \"lossy\" (at 12): unknown keyword\n");
}

static void test_cmd_help_prints_usage(void **state)
{
	(void)state;
	char *argv[] = { "netem", "delay", "--help" };
	struct captured c = run(3, argv);
	assert_int_equal(c.rc, 0);
	assert_non_null(strstr(c.out, "usage: vharness netem SPEC"));
	assert_non_null(strstr(c.out, "loss gemodel"));
	char *argv2[] = { "netem", "-h" };
	assert_int_equal(run(2, argv2).rc, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmd_prints_normalised_spec),
		cmocka_unit_test(test_cmd_joins_several_words),
		cmocka_unit_test(test_cmd_empty_spec_is_refused_and_none_is_no_impairment),
		cmocka_unit_test(test_cmd_bad_spec_exits_2_with_error_on_stderr),
		cmocka_unit_test(test_cmd_help_prints_usage),
	};
	return vh_run_tests(tests, NULL, NULL);
}
