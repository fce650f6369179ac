/* Unit tests for `vharness sweep`'s pure parts (harness/cli/sweep.c): its
 * options, the recorded cut points and which of them --max keeps, each
 * point's outcome from its events and the table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sweep.h"

static int parse(struct sweep_opts *o, char *err, size_t len, const char *const *words)
{
	char *argv[32];
	int argc = 0;
	while (words[argc]) {
		argv[argc] = (char *)words[argc];
		argc++;
	}
	return sweep_parse(argc, argv, o, err, len);
}

static void test_parse_ok(void **state)
{
	(void)state;
	struct sweep_opts o;
	char err[256];
	const char *w[] = { "sweep",   "s.lua",	  "--cut-at", "line:install progress=",
			    "--max=4", "--flash", "torn",     "--seed",
			    "7",       "-D",	  "bugs=x",   "--artifacts",
			    "out",     NULL };
	assert_int_equal(parse(&o, err, sizeof(err), w), 0);
	assert_string_equal(o.scenario, "s.lua");
	assert_string_equal(o.pattern, "install progress=");
	assert_int_equal(o.max, 4);
	assert_string_equal(o.flash, "torn");
	assert_true(o.seed_set);
	assert_int_equal(o.seed, 7);
	assert_int_equal(o.n_defines, 1);
	assert_string_equal(o.artifacts, "out");

	const char *d[] = { "sweep", "s.lua", "--cut-at=line:x", NULL };
	assert_int_equal(parse(&o, err, sizeof(err), d), 0);
	assert_int_equal(o.max, SWEEP_DEFAULT_MAX);
	assert_string_equal(o.flash, "volatile");
	assert_false(o.seed_set);
	assert_int_equal(o.kind, SWEEP_CUT_LINE);
	assert_null(o.from);
	assert_int_equal(o.jobs, 1);
	assert_false(o.jobs_auto);

	const char *fl[] = { "sweep",  "s.lua",		 "--cut-at", "flush",
			     "--from", "install slot=b", "--jobs=3", NULL };
	assert_int_equal(parse(&o, err, sizeof(err), fl), 0);
	assert_int_equal(o.kind, SWEEP_CUT_FLUSH);
	assert_null(o.pattern);
	assert_string_equal(o.from, "install slot=b");
	assert_int_equal(o.jobs, 3);
	assert_string_equal(sweep_cut_kind_name(o.kind), "flush");

	const char *wr[] = { "sweep", "s.lua", "--cut-at=write", "-j", "auto", NULL };
	assert_int_equal(parse(&o, err, sizeof(err), wr), 0);
	assert_int_equal(o.kind, SWEEP_CUT_WRITE);
	assert_true(o.jobs_auto);
	assert_string_equal(sweep_cut_kind_name(o.kind), "write");
}

static void expect_error(const char *const *w, const char *needle)
{
	struct sweep_opts o;
	char err[256] = "";
	assert_int_equal(parse(&o, err, sizeof(err), w), -1);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not say \"%s\"", err, needle);
}

static void test_parse_errors(void **state)
{
	(void)state;
	expect_error((const char *[]){ "sweep", "s.lua", "--cut-at", "byte:3", NULL },
		     "--cut-at takes flush, write or line:PATTERN, not 'byte:3'");
	expect_error((const char *[]){ "sweep", "s.lua", "--cut-at", "flushes", NULL },
		     "not 'flushes'");
	expect_error((const char *[]){ "sweep", "s.lua", "--cut-at", NULL }, "--cut-at needs");
	expect_error((const char *[]){ "sweep", "s.lua", "--cut-at", "line:", NULL },
		     "Lua pattern");
	expect_error((const char *[]){ "sweep", "s.lua", "--cut-at", "line:(", NULL }, "line:(");
	expect_error((const char *[]){ "sweep", "s.lua", NULL }, "--cut-at");
	expect_error((const char *[]){ "sweep", "--cut-at", "line:x", NULL }, "scenario");
	expect_error((const char *[]){ "sweep", "a.lua", "b.lua", "--cut-at", "line:x", NULL },
		     "one scenario");
	expect_error((const char *[]){ "sweep", "s.lua", "--cut-at", "line:x", "--max", "0", NULL },
		     "--max");
	expect_error(
		(const char *[]){ "sweep", "s.lua", "--cut-at", "line:x", "--flash", "nand", NULL },
		"--flash");
	expect_error((const char *[]){ "sweep", "s.lua", "--cut-at", "flush", "--jobs", "0", NULL },
		     "--jobs takes auto or a number from 1 to 64, not '0'");
	expect_error((const char *[]){ "sweep", "s.lua", "--cut-at", "flush", "-j", "x", NULL },
		     "not 'x'");
	expect_error((const char *[]){ "sweep", "s.lua", "--cut-at", "flush", "--from", NULL },
		     "--from needs a Lua pattern");
	expect_error(
		(const char *[]){ "sweep", "s.lua", "--cut-at", "flush", "--from", "a(", NULL },
		"--from a(");
	expect_error((const char *[]){ "sweep", "s.lua", "--from", "x", NULL },
		     "needs --cut-at flush, write or line:PATTERN");
	struct sweep_opts o;
	char err[64];
	assert_int_equal(parse(&o, err, sizeof(err), (const char *[]){ "sweep", "--help", NULL }),
			 0);
	assert_true(o.help);
}

static void test_points(void **state)
{
	(void)state;
	const char text[] = "dut\t1\tvh-agent: install slot=b progress=10\n"
			    "dut\t2\tvh-agent: install slot=b progress=20\n"
			    "gw\t1\tline with\ttab\n";
	FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");
	struct sweep_point *p;
	int n;
	char err[128];
	assert_int_equal(sweep_points_read(f, 50, &p, &n, err, sizeof(err)), 0);
	fclose(f);
	assert_int_equal(n, 3);
	assert_string_equal(p[1].device, "dut");
	assert_int_equal(p[1].ordinal, 2);
	assert_string_equal(p[1].line, "vh-agent: install slot=b progress=20");
	assert_string_equal(p[2].line, "line with\ttab");
	sweep_points_free(p, n);

	f = fmemopen((void *)text, sizeof(text) - 1, "r");
	assert_int_equal(sweep_points_read(f, 2, &p, &n, err, sizeof(err)), 0);
	fclose(f);
	assert_int_equal(n, 2); /* --max */
	sweep_points_free(p, n);

	const char bad[] = "dut\t1\tok\ndut\tx\tbad\n";
	f = fmemopen((void *)bad, sizeof(bad) - 1, "r");
	assert_int_equal(sweep_points_read(f, 50, &p, &n, err, sizeof(err)), -1);
	fclose(f);
	assert_non_null(strstr(err, "sweep-points.tsv:2"));
	assert_int_equal(n, 0);
}

static void expect_selection(int total, int max, enum sweep_cut_kind kind, const int *want,
			     int n_want)
{
	int idx[16];
	assert_int_equal(sweep_select(total, max, kind, idx), n_want);
	for (int i = 0; i < n_want; i++)
		assert_int_equal(idx[i], want[i]);
}

static void test_select(void **state)
{
	(void)state;
	/* Fewer points than --max: all of them, whatever the kind. */
	expect_selection(3, 5, SWEEP_CUT_FLUSH, (const int[]){ 0, 1, 2 }, 3);
	expect_selection(3, 3, SWEEP_CUT_WRITE, (const int[]){ 0, 1, 2 }, 3);
	/* Lines: the first ones (progress=10..40 in it_sweep). */
	expect_selection(9, 4, SWEEP_CUT_LINE, (const int[]){ 0, 1, 2, 3 }, 4);
	/* Flushes and writes: spread evenly, the first and the last included. */
	expect_selection(10, 4, SWEEP_CUT_FLUSH, (const int[]){ 0, 3, 6, 9 }, 4);
	expect_selection(100, 3, SWEEP_CUT_WRITE, (const int[]){ 0, 49, 99 }, 3);
	expect_selection(5, 4, SWEEP_CUT_WRITE, (const int[]){ 0, 1, 2, 4 }, 4);
	expect_selection(7, 1, SWEEP_CUT_FLUSH, (const int[]){ 6 }, 1);
	expect_selection(7, 1, SWEEP_CUT_LINE, (const int[]){ 0 }, 1);
}

static const char events[] =
	"{\"t\":0.1,\"event\":\"boot_choice\",\"device\":\"dut\",\"slot\":\"a\",\"version\":\"1.0."
	"0\"}\n"
	"{\"t\":5.0,\"event\":\"sweep_cut\",\"device\":\"dut\",\"point\":3,\"line\":\"x\"}\n"
	"{\"t\":5.1,\"event\":\"boot_choice\",\"device\":\"other\",\"slot\":\"b\",\"version\":"
	"\"9\"}\n"
	"{\"t\":5.2,\"event\":\"boot_choice\",\"device\":\"dut\",\"slot\":\"b\",\"version\":\"2.0."
	"0\"}\n"
	"{\"t\":5.3,\"event\":\"sweep_after_cut\",\"device\":\"dut\",\"stage\":\"booted\"}\n";

static void outcome_of(const char *text, int code, struct sweep_outcome *o)
{
	FILE *f = text ? fmemopen((void *)text, strlen(text), "r") : NULL;
	sweep_outcome_read(f, "dut", code, o);
	if (f)
		fclose(f);
}

static void test_outcomes(void **state)
{
	(void)state;
	struct sweep_outcome o;
	char text[96];
	outcome_of(events, 0, &o);
	assert_int_equal(o.kind, SWEEP_PASS);
	assert_int_equal(o.cut_event, 2);
	sweep_outcome_text(&o, text, sizeof(text));
	assert_string_equal(text, "pass (slot b 2.0.0)");

	outcome_of(events, 1, &o);
	assert_int_equal(o.kind, SWEEP_CHECK_FAILED);

	char bricked[1024];
	snprintf(bricked, sizeof(bricked), "%s%s",
		 "{\"event\":\"sweep_cut\",\"device\":\"dut\",\"point\":1,\"line\":\"x\"}\n",
		 "{\"event\":\"sweep_after_cut\",\"device\":\"dut\",\"stage\":\"bricked\"}\n");
	outcome_of(bricked, 1, &o);
	assert_int_equal(o.kind, SWEEP_BRICKED);
	sweep_outcome_text(&o, text, sizeof(text));
	assert_string_equal(text, "bricked");

	outcome_of(NULL, 0, &o);
	assert_int_equal(o.kind, SWEEP_NOT_REACHED);
	outcome_of(events, 3, &o);
	assert_int_equal(o.kind, SWEEP_ERROR);
}

static void test_table(void **state)
{
	(void)state;
	struct sweep_point p[2] = { { "dut", 1, "install progress=10" },
				    { "dut", 2, "install progress=20" } };
	struct sweep_outcome o[2] = {
		{ .kind = SWEEP_PASS, .slot = 'a', .version = "1.0.0" },
		{ .kind = SWEEP_CHECK_FAILED, .slot = 'a', .version = "1.0.0" }
	};
	const char *messages[2] = { NULL, "s.lua:9: expected 2.0.0\nserial tail" };
	char buf[2048] = "";
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	sweep_table_print(f, SWEEP_CUT_LINE, p, o, messages, 2);
	fclose(f);
	assert_non_null(strstr(buf, "point  device      cut          line "));
	assert_non_null(strstr(buf, "1      dut         line 1       install progress=10"));
	assert_non_null(strstr(buf, "pass (slot a 1.0.0)\n"));
	assert_non_null(strstr(buf, "check failed (slot a 1.0.0): s.lua:9: expected 2.0.0\n"));
	assert_null(strstr(buf, "serial tail"));

	memset(buf, 0, sizeof(buf));
	f = fmemopen(buf, sizeof(buf), "w");
	p[1].ordinal = 17;
	sweep_table_print(f, SWEEP_CUT_FLUSH, p, o, messages, 2);
	fclose(f);
	assert_non_null(strstr(buf, "cut          last line "));
	assert_non_null(strstr(buf, "2      dut         flush 17     install progress=20"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok), cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_points),	 cmocka_unit_test(test_select),
		cmocka_unit_test(test_outcomes), cmocka_unit_test(test_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
