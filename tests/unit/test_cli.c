/* Unit tests for command-line parsing (harness/cli/cli.c): cli_parse and
 * cli_in_shard. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_children.h"
#include "test_skip.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

static struct cli_opts opts;
static char err[256];

/* Parses a NULL-free argv array; clears err first so a stale message never
 * passes for a fresh one. */
static int parse(int argc, char **argv)
{
	memset(err, 0, sizeof(err));
	return cli_parse(argc, argv, &opts, err, sizeof(err));
}

static void assert_usage_error_mentions(int argc, char **argv, const char *needle)
{
	assert_int_equal(parse(argc, argv), -1);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
}

static void test_cli_run_with_one_scenario_selects_run_and_defaults(void **state)
{
	(void)state;
	char *argv[] = { "vharness", "run", "a.lua" };
	assert_int_equal(parse(ARGC(argv), argv), 0);
	assert_int_equal(opts.command, CLI_RUN);
	assert_int_equal(opts.n_scenarios, 1);
	assert_string_equal(opts.scenarios[0], "a.lua");
	assert_null(opts.artifacts_dir);
	assert_null(opts.image_dir);
	assert_null(opts.arch);
	assert_int_equal(opts.accel, CLI_ACCEL_AUTO);
	assert_int_equal(opts.backend, CLI_BACKEND_AUTO);
	assert_false(opts.seed_set);
	assert_int_equal(opts.jobs, 1);
	assert_int_equal(opts.shard_index, 0);
	assert_int_equal(opts.shard_count, 0);
	assert_int_equal(opts.verbose, 0);
	assert_false(opts.quiet);
	assert_int_equal(opts.timeout_ms, 30 * 60 * 1000);
}

static void test_cli_recognises_every_command_word(void **state)
{
	(void)state;
	static const struct {
		const char *word;
		enum cli_command command;
		bool needs_scenario;
	} cases[] = {
		{ "run", CLI_RUN, true },	   { "check", CLI_CHECK, true },
		{ "doctor", CLI_DOCTOR, false },   { "netem", CLI_NETEM, false },
		{ "image", CLI_IMAGE, false },	   { "help", CLI_HELP, false },
		{ "version", CLI_VERSION, false }, { "report", CLI_REPORT, false },
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		char *argv[] = { "vharness", (char *)cases[k].word, "s.lua" };
		int argc = cases[k].needs_scenario ? 3 : 2;
		if (parse(argc, argv) != 0)
			fail_msg("'%s' was rejected: %s", cases[k].word, err);
		assert_int_equal(opts.command, cases[k].command);
	}
}

static void test_cli_accepts_version_and_help_flags_as_command(void **state)
{
	(void)state;
	char *v[] = { "vharness", "--version" };
	assert_int_equal(parse(ARGC(v), v), 0);
	assert_int_equal(opts.command, CLI_VERSION);
	char *h[] = { "vharness", "-h" };
	assert_int_equal(parse(ARGC(h), h), 0);
	assert_int_equal(opts.command, CLI_HELP);
}

static void test_cli_help_anywhere_after_command_selects_help(void **state)
{
	(void)state;
	char *a[] = { "vharness", "run", "a.lua", "--seed", "3", "--help" };
	assert_int_equal(parse(ARGC(a), a), 0);
	assert_int_equal(opts.command, CLI_HELP);
	/* Help wins even where the command alone would be a usage error. */
	char *b[] = { "vharness", "check", "-h" };
	assert_int_equal(parse(ARGC(b), b), 0);
	assert_int_equal(opts.command, CLI_HELP);
	char *c[] = { "vharness", "doctor", "--help" };
	assert_int_equal(parse(ARGC(c), c), 0);
	assert_int_equal(opts.command, CLI_HELP);
}

static void test_cli_rejects_missing_command(void **state)
{
	(void)state;
	char *argv[] = { "vharness" };
	assert_usage_error_mentions(ARGC(argv), argv, "missing command");
}

static void test_cli_rejects_unknown_command_naming_it(void **state)
{
	(void)state;
	char *argv[] = { "vharness", "frobnicate", "a.lua" };
	assert_usage_error_mentions(ARGC(argv), argv, "unknown command 'frobnicate'");
}

static void test_cli_rejects_unknown_option_naming_option_and_command(void **state)
{
	(void)state;
	char *argv[] = { "vharness", "run", "a.lua", "--bogus" };
	assert_usage_error_mentions(ARGC(argv), argv, "unknown option '--bogus'");
	assert_non_null(strstr(err, "run"));
	char *pre[] = { "vharness", "check", "--artifactz=x", "a.lua" };
	assert_usage_error_mentions(ARGC(pre), pre, "'--artifactz=x'");
}

static void test_cli_artifacts_takes_next_word_or_equals_value(void **state)
{
	(void)state;
	char *sep[] = { "vharness", "run", "--artifacts", "out/dir", "a.lua" };
	assert_int_equal(parse(ARGC(sep), sep), 0);
	assert_string_equal(opts.artifacts_dir, "out/dir");
	assert_int_equal(opts.n_scenarios, 1);
	assert_string_equal(opts.scenarios[0], "a.lua");
	char *eq[] = { "vharness", "run", "a.lua", "--artifacts=out2" };
	assert_int_equal(parse(ARGC(eq), eq), 0);
	assert_string_equal(opts.artifacts_dir, "out2");
}

static void test_cli_suite_options_are_parsed_and_checked(void **state)
{
	(void)state;
	char *ok[] = { "vharness",  "run",  "scenarios/", "--jobs",   "auto",
		       "--repeat",  "3",    "--matrix",	  "bugs=a,b", "--matrix=backend=user",
		       "--timings", "t.txt" };
	assert_int_equal(parse(ARGC(ok), ok), 0);
	assert_true(opts.jobs_auto);
	assert_int_equal(opts.repeat, 3);
	assert_int_equal(opts.n_matrix, 2);
	assert_string_equal(opts.matrix[0], "bugs=a,b");
	assert_string_equal(opts.matrix[1], "backend=user");
	assert_string_equal(opts.timings, "t.txt");
	char *repeat0[] = { "vharness", "run", "a.lua", "--repeat", "0" };
	assert_usage_error_mentions(ARGC(repeat0), repeat0, "--repeat takes a number from 1");
	char *jobs[] = { "vharness", "run", "a.lua", "--jobs", "many" };
	assert_usage_error_mentions(ARGC(jobs), jobs, "--jobs takes auto or a number");
	char *empty_value[] = { "vharness", "run", "a.lua", "--matrix", "bugs=a,,b" };
	assert_usage_error_mentions(ARGC(empty_value), empty_value, "--matrix takes KEY=v1,v2");
	char *no_key[] = { "vharness", "run", "a.lua", "--matrix", "=a" };
	assert_usage_error_mentions(ARGC(no_key), no_key, "--matrix takes KEY=v1,v2");
	char *twice[] = { "vharness", "run", "a.lua", "--matrix", "k=a", "--matrix", "k=b" };
	assert_usage_error_mentions(ARGC(twice), twice, "--matrix k given twice");
}

static void test_cli_rejects_artifacts_without_directory(void **state)
{
	(void)state;
	char *last[] = { "vharness", "run", "a.lua", "--artifacts" };
	assert_usage_error_mentions(ARGC(last), last, "--artifacts needs a directory");
	char *empty[] = { "vharness", "run", "a.lua", "--artifacts=" };
	assert_usage_error_mentions(ARGC(empty), empty, "--artifacts needs a directory");
}

static void test_cli_image_dir_and_verbose_are_recorded(void **state)
{
	(void)state;
	char *argv[] = { "vharness", "check", "-v", "--image-dir=/img", "--verbose", "a.lua" };
	assert_int_equal(parse(ARGC(argv), argv), 0);
	assert_string_equal(opts.image_dir, "/img");
	assert_int_equal(opts.verbose, 2);
}

static void test_cli_quiet_is_recorded(void **state)
{
	(void)state;
	char *argv[] = { "vharness", "run", "-q", "a.lua" };
	assert_int_equal(parse(ARGC(argv), argv), 0);
	assert_true(opts.quiet);
	char *long_form[] = { "vharness", "run", "a.lua", "--quiet" };
	assert_int_equal(parse(ARGC(long_form), long_form), 0);
	assert_true(opts.quiet);
}

static void test_cli_accel_accepts_auto_tcg_kvm(void **state)
{
	(void)state;
	static const struct {
		const char *word;
		enum cli_accel accel;
	} cases[] = { { "tcg", CLI_ACCEL_TCG },
		      { "kvm", CLI_ACCEL_KVM },
		      { "auto", CLI_ACCEL_AUTO } };
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		char *argv[] = { "vharness", "run", "a.lua", "--accel", (char *)cases[k].word };
		assert_int_equal(parse(ARGC(argv), argv), 0);
		assert_int_equal(opts.accel, cases[k].accel);
	}
	char *eq[] = { "vharness", "run", "--accel=kvm", "a.lua" };
	assert_int_equal(parse(ARGC(eq), eq), 0);
	assert_int_equal(opts.accel, CLI_ACCEL_KVM);
}

static void test_cli_rejects_unknown_accel_naming_value(void **state)
{
	(void)state;
	char *argv[] = { "vharness", "run", "a.lua", "--accel", "hvf" };
	assert_usage_error_mentions(ARGC(argv), argv, "'hvf'");
	assert_non_null(strstr(err, "auto, tcg or kvm"));
	char *missing[] = { "vharness", "run", "a.lua", "--accel" };
	assert_usage_error_mentions(ARGC(missing), missing, "--accel");
}

static void test_cli_arch_accepts_x86_64_and_aarch64_for_run_and_check(void **state)
{
	(void)state;
	char *run[] = { "vharness", "run", "a.lua", "--arch", "aarch64" };
	assert_int_equal(parse(ARGC(run), run), 0);
	assert_string_equal(opts.arch, "aarch64");
	char *check[] = { "vharness", "check", "--arch=x86_64", "a.lua" };
	assert_int_equal(parse(ARGC(check), check), 0);
	assert_int_equal(opts.command, CLI_CHECK);
	assert_string_equal(opts.arch, "x86_64");
}

static void test_cli_rejects_unknown_arch_naming_value(void **state)
{
	(void)state;
	/* Debian's names are not QEMU's: arm64 is refused, not guessed. */
	char *argv[] = { "vharness", "run", "a.lua", "--arch", "arm64" };
	assert_usage_error_mentions(ARGC(argv), argv, "'arm64'");
	assert_non_null(strstr(err, "x86_64 or aarch64"));
	char *missing[] = { "vharness", "run", "a.lua", "--arch" };
	assert_usage_error_mentions(ARGC(missing), missing, "--arch");
}

static void test_cli_backend_accepts_auto_kernel_user(void **state)
{
	(void)state;
	static const struct {
		const char *word;
		enum cli_backend backend;
	} cases[] = { { "kernel", CLI_BACKEND_KERNEL },
		      { "user", CLI_BACKEND_USER },
		      { "auto", CLI_BACKEND_AUTO } };
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		char *argv[] = { "vharness", "run", "a.lua", "--backend", (char *)cases[k].word };
		assert_int_equal(parse(ARGC(argv), argv), 0);
		assert_int_equal(opts.backend, cases[k].backend);
	}
	char *eq[] = { "vharness", "check", "--backend=user", "a.lua" };
	assert_int_equal(parse(ARGC(eq), eq), 0);
	assert_int_equal(opts.backend, CLI_BACKEND_USER);
}

static void test_cli_rejects_unknown_backend_naming_value(void **state)
{
	(void)state;
	char *argv[] = { "vharness", "run", "a.lua", "--backend", "bogus" };
	assert_usage_error_mentions(ARGC(argv), argv, "'bogus'");
	assert_non_null(strstr(err, "auto, kernel or user"));
	char *missing[] = { "vharness", "run", "a.lua", "--backend" };
	assert_usage_error_mentions(ARGC(missing), missing, "--backend");
}

static void test_cli_seed_sets_value_and_flag(void **state)
{
	(void)state;
	char *argv[] = { "vharness", "run", "a.lua", "--seed", "18446744073709551615" };
	assert_int_equal(parse(ARGC(argv), argv), 0);
	assert_true(opts.seed_set);
	assert_true(opts.seed == UINT64_MAX);
	char *eq[] = { "vharness", "run", "a.lua", "--seed=42" };
	assert_int_equal(parse(ARGC(eq), eq), 0);
	assert_int_equal(opts.seed, 42);
	char *zero[] = { "vharness", "run", "a.lua", "--seed", "0" };
	assert_int_equal(parse(ARGC(zero), zero), 0);
	assert_true(opts.seed_set);
	assert_int_equal(opts.seed, 0);
}

static void test_cli_rejects_negative_garbage_and_missing_seed(void **state)
{
	(void)state;
	/* " -1": strtoull skips the space and wraps -1 to 2^64-1. */
	const char *bad[] = { "-1", " -1", "12abc", "abc", "", "18446744073709551616" };
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		char *argv[] = { "vharness", "run", "a.lua", "--seed", (char *)bad[k] };
		if (parse(ARGC(argv), argv) != -1)
			fail_msg("--seed '%s' was accepted as %llu", bad[k],
				 (unsigned long long)opts.seed);
		assert_non_null(strstr(err, "--seed takes a non-negative integer"));
	}
	char *missing[] = { "vharness", "run", "a.lua", "--seed" };
	assert_usage_error_mentions(ARGC(missing), missing, "--seed");
}

static void test_cli_seed_is_decimal_so_zero_padded_seeds_replay(void **state)
{
	(void)state;
	/* Seeds are printed in decimal; "010" must replay seed 10, not 8. */
	char *pad[] = { "vharness", "run", "a.lua", "--seed", "010" };
	assert_int_equal(parse(ARGC(pad), pad), 0);
	assert_int_equal(opts.seed, 10);
	char *hex[] = { "vharness", "run", "a.lua", "--seed", "0x10" };
	assert_usage_error_mentions(ARGC(hex), hex, "--seed");
}

static void test_cli_jobs_long_and_short_forms_within_range(void **state)
{
	(void)state;
	char *j[] = { "vharness", "run", "a.lua", "-j", "4" };
	assert_int_equal(parse(ARGC(j), j), 0);
	assert_int_equal(opts.jobs, 4);
	char *lo[] = { "vharness", "run", "a.lua", "--jobs", "1" };
	assert_int_equal(parse(ARGC(lo), lo), 0);
	assert_int_equal(opts.jobs, 1);
	char *hi[] = { "vharness", "run", "a.lua", "--jobs=64" };
	assert_int_equal(parse(ARGC(hi), hi), 0);
	assert_int_equal(opts.jobs, 64);
}

static void test_cli_boot_slots_takes_auto_or_one_to_1024(void **state)
{
	(void)state;
	char *n[] = { "vharness", "run", "a.lua", "--boot-slots", "12" };
	assert_int_equal(parse(ARGC(n), n), 0);
	assert_int_equal(opts.boot_slots, 12);
	char *a[] = { "vharness", "run", "a.lua", "--boot-slots=12", "--boot-slots", "auto" };
	assert_int_equal(parse(ARGC(a), a), 0);
	assert_int_equal(opts.boot_slots, 0);
	const char *bad[] = { "0", "1025", "-1", "two", "" };
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		char *argv[] = { "vharness", "run", "a.lua", "--boot-slots", (char *)bad[k] };
		if (parse(ARGC(argv), argv) != -1)
			fail_msg("--boot-slots '%s' was accepted as %u", bad[k], opts.boot_slots);
		assert_non_null(strstr(err, "--boot-slots takes auto or a number from 1 to 1024"));
	}
}

static void test_cli_rejects_jobs_outside_one_to_sixty_four(void **state)
{
	(void)state;
	const char *bad[] = { "0", "65", "-2", "x", "" };
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		char *argv[] = { "vharness", "run", "a.lua", "--jobs", (char *)bad[k] };
		if (parse(ARGC(argv), argv) != -1)
			fail_msg("--jobs '%s' was accepted as %d", bad[k], opts.jobs);
		assert_non_null(strstr(err, "1 to 64"));
	}
	char *missing[] = { "vharness", "run", "a.lua", "-j" };
	assert_usage_error_mentions(ARGC(missing), missing, "--jobs");
}

static void test_cli_shard_parses_index_and_count(void **state)
{
	(void)state;
	char *argv[] = { "vharness", "run", "a.lua", "--shard", "2/3" };
	assert_int_equal(parse(ARGC(argv), argv), 0);
	assert_int_equal(opts.shard_index, 2);
	assert_int_equal(opts.shard_count, 3);
	char *eq[] = { "vharness", "run", "a.lua", "--shard=1/1" };
	assert_int_equal(parse(ARGC(eq), eq), 0);
	assert_int_equal(opts.shard_index, 1);
	assert_int_equal(opts.shard_count, 1);
}

static void test_cli_rejects_shard_index_zero(void **state)
{
	(void)state;
	char *argv[] = { "vharness", "run", "a.lua", "--shard", "0/2" };
	assert_usage_error_mentions(ARGC(argv), argv, "'0/2'");
}

static void test_cli_rejects_shard_index_above_count(void **state)
{
	(void)state;
	char *argv[] = { "vharness", "run", "a.lua", "--shard", "3/2" };
	assert_usage_error_mentions(ARGC(argv), argv, "1 <= I <= N");
}

static void test_cli_rejects_malformed_shard(void **state)
{
	(void)state;
	const char *bad[] = { "2", "1/", "/2", "1-2", "1/2x", "a/b", "1/0", "" };
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		char *argv[] = { "vharness", "run", "a.lua", "--shard", (char *)bad[k] };
		if (parse(ARGC(argv), argv) != -1)
			fail_msg("--shard '%s' was accepted as %d/%d", bad[k], opts.shard_index,
				 opts.shard_count);
		assert_non_null(strstr(err, "--shard takes I/N"));
	}
}

static void test_cli_timeout_takes_a_duration(void **state)
{
	(void)state;
	char *m[] = { "vharness", "run", "a.lua", "--timeout", "10m" };
	assert_int_equal(parse(ARGC(m), m), 0);
	assert_int_equal(opts.timeout_ms, 600000);
	char *s[] = { "vharness", "run", "a.lua", "--timeout=90" };
	assert_int_equal(parse(ARGC(s), s), 0);
	assert_int_equal(opts.timeout_ms, 90000);
	char *ms[] = { "vharness", "run", "a.lua", "--timeout", "1.5s" };
	assert_int_equal(parse(ARGC(ms), ms), 0);
	assert_int_equal(opts.timeout_ms, 1500);
}

static void test_cli_rejects_zero_or_malformed_timeout(void **state)
{
	(void)state;
	const char *bad[] = { "0", "0s", "ten", "5x", "-1s" };
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		char *argv[] = { "vharness", "run", "a.lua", "--timeout", (char *)bad[k] };
		if (parse(ARGC(argv), argv) != -1)
			fail_msg("--timeout '%s' was accepted", bad[k]);
		assert_non_null(strstr(err, "--timeout takes a duration"));
	}
}

static void test_cli_rejects_run_without_scenario(void **state)
{
	(void)state;
	char *argv[] = { "vharness", "run", "--seed", "1" };
	assert_usage_error_mentions(ARGC(argv), argv, "run needs at least one scenario");
}

static void test_cli_rejects_check_without_scenario(void **state)
{
	(void)state;
	char *argv[] = { "vharness", "check" };
	assert_usage_error_mentions(ARGC(argv), argv, "check needs at least one scenario");
}

static void test_cli_rejects_doctor_with_scenario(void **state)
{
	(void)state;
	char *argv[] = { "vharness", "doctor", "a.lua" };
	assert_usage_error_mentions(ARGC(argv), argv, "doctor takes no scenario ('a.lua')");
}

static void test_cli_collects_scenarios_in_order_around_options(void **state)
{
	(void)state;
	char *argv[] = { "vharness", "run", "a.lua", "-j", "2", "b.lua", "--seed=7", "c.lua" };
	assert_int_equal(parse(ARGC(argv), argv), 0);
	assert_int_equal(opts.n_scenarios, 3);
	assert_string_equal(opts.scenarios[0], "a.lua");
	assert_string_equal(opts.scenarios[1], "b.lua");
	assert_string_equal(opts.scenarios[2], "c.lua");
	assert_int_equal(opts.jobs, 2);
	assert_int_equal(opts.seed, 7);
}

static void test_cli_netem_passes_remaining_words_through(void **state)
{
	(void)state;
	/* Options after netem are netem's, even ones cli_parse knows. */
	char *argv[] = { "vharness", "netem", "delay 10ms loss 1%", "--seed", "x" };
	assert_int_equal(parse(ARGC(argv), argv), 0);
	assert_int_equal(opts.command, CLI_NETEM);
	assert_int_equal(opts.rest_argc, 4);
	assert_ptr_equal(opts.rest_argv, &argv[1]);
	assert_string_equal(opts.rest_argv[0], "netem");
	assert_string_equal(opts.rest_argv[1], "delay 10ms loss 1%");
	assert_string_equal(opts.rest_argv[3], "x");
}

static void test_cli_image_passes_remaining_words_through(void **state)
{
	(void)state;
	char *argv[] = { "vharness", "image", "build", "--bogus" };
	assert_int_equal(parse(ARGC(argv), argv), 0);
	assert_int_equal(opts.command, CLI_IMAGE);
	assert_int_equal(opts.rest_argc, 3);
	assert_string_equal(opts.rest_argv[0], "image");
	assert_string_equal(opts.rest_argv[1], "build");
	assert_string_equal(opts.rest_argv[2], "--bogus");
}

static void test_cli_without_shard_every_scenario_is_in(void **state)
{
	(void)state;
	char *argv[] = { "vharness", "run", "a.lua" };
	assert_int_equal(parse(ARGC(argv), argv), 0);
	for (int i = 0; i < 10; i++)
		assert_true(cli_in_shard(&opts, i));
}

static void test_cli_shards_deal_every_scenario_exactly_once_round_robin(void **state)
{
	(void)state;
	for (int n = 1; n <= 5; n++) {
		for (int scenarios = 0; scenarios <= 11; scenarios++) {
			int owners[16] = { 0 };
			int per_shard[6] = { 0 };
			for (int shard = 1; shard <= n; shard++) {
				char spec[16];
				snprintf(spec, sizeof(spec), "%d/%d", shard, n);
				char *argv[] = { "vharness", "run", "a.lua", "--shard", spec };
				assert_int_equal(parse(ARGC(argv), argv), 0);
				for (int i = 0; i < scenarios; i++) {
					if (cli_in_shard(&opts, i)) {
						owners[i]++;
						per_shard[shard]++;
					}
				}
			}
			for (int i = 0; i < scenarios; i++)
				if (owners[i] != 1)
					fail_msg("%d/%d scenarios: #%d is in %d shards", scenarios,
						 n, i, owners[i]);
			/* Round-robin: shard sizes differ by at most one. */
			for (int a = 1; a <= n; a++)
				for (int b = 1; b <= n; b++)
					assert_true(per_shard[a] - per_shard[b] <= 1);
		}
	}
	/* Round-robin, not blocks: shard 1/2 takes scenarios 0, 2, 4. */
	char *argv[] = { "vharness", "run", "a.lua", "--shard", "1/2" };
	assert_int_equal(parse(ARGC(argv), argv), 0);
	assert_true(cli_in_shard(&opts, 0));
	assert_false(cli_in_shard(&opts, 1));
	assert_true(cli_in_shard(&opts, 2));
}

/* --jobs auto: idle cores, not all cores; memory caps it; never 0. */
static void test_auto_jobs_counts_idle_cores_and_free_memory(void **state)
{
	(void)state;
	assert_int_equal(cli_auto_jobs(2, 0.2, 20000, 512, 64), 2);
	assert_int_equal(cli_auto_jobs(2, 0.6, 20000, 512, 64), 1);
	assert_int_equal(cli_auto_jobs(2, 17.5, 20000, 512, 64), 1);
	assert_int_equal(cli_auto_jobs(8, 2.4, 20000, 512, 64), 6);
	assert_int_equal(cli_auto_jobs(8, 0.0, 1100, 512, 64), 2);
	assert_int_equal(cli_auto_jobs(8, 0.0, 0, 512, 64), 8); /* memory unknown */
	assert_int_equal(cli_auto_jobs(128, 0.0, 1 << 20, 512, 64), 64);
	assert_int_equal(cli_auto_jobs(0, 0.0, 0, 512, 64), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli_run_with_one_scenario_selects_run_and_defaults),
		cmocka_unit_test(test_cli_recognises_every_command_word),
		cmocka_unit_test(test_cli_accepts_version_and_help_flags_as_command),
		cmocka_unit_test(test_cli_help_anywhere_after_command_selects_help),
		cmocka_unit_test(test_cli_rejects_missing_command),
		cmocka_unit_test(test_cli_rejects_unknown_command_naming_it),
		cmocka_unit_test(test_cli_rejects_unknown_option_naming_option_and_command),
		cmocka_unit_test(test_cli_artifacts_takes_next_word_or_equals_value),
		cmocka_unit_test(test_cli_rejects_artifacts_without_directory),
		cmocka_unit_test(test_cli_suite_options_are_parsed_and_checked),
		cmocka_unit_test(test_cli_image_dir_and_verbose_are_recorded),
		cmocka_unit_test(test_cli_quiet_is_recorded),
		cmocka_unit_test(test_cli_accel_accepts_auto_tcg_kvm),
		cmocka_unit_test(test_cli_rejects_unknown_accel_naming_value),
		cmocka_unit_test(test_cli_arch_accepts_x86_64_and_aarch64_for_run_and_check),
		cmocka_unit_test(test_cli_rejects_unknown_arch_naming_value),
		cmocka_unit_test(test_cli_backend_accepts_auto_kernel_user),
		cmocka_unit_test(test_cli_rejects_unknown_backend_naming_value),
		cmocka_unit_test(test_cli_seed_sets_value_and_flag),
		cmocka_unit_test(test_cli_rejects_negative_garbage_and_missing_seed),
		cmocka_unit_test(test_cli_seed_is_decimal_so_zero_padded_seeds_replay),
		cmocka_unit_test(test_cli_jobs_long_and_short_forms_within_range),
		cmocka_unit_test(test_cli_boot_slots_takes_auto_or_one_to_1024),
		cmocka_unit_test(test_cli_rejects_jobs_outside_one_to_sixty_four),
		cmocka_unit_test(test_cli_shard_parses_index_and_count),
		cmocka_unit_test(test_cli_rejects_shard_index_zero),
		cmocka_unit_test(test_cli_rejects_shard_index_above_count),
		cmocka_unit_test(test_cli_rejects_malformed_shard),
		cmocka_unit_test(test_cli_timeout_takes_a_duration),
		cmocka_unit_test(test_cli_rejects_zero_or_malformed_timeout),
		cmocka_unit_test(test_cli_rejects_run_without_scenario),
		cmocka_unit_test(test_cli_rejects_check_without_scenario),
		cmocka_unit_test(test_cli_rejects_doctor_with_scenario),
		cmocka_unit_test(test_cli_collects_scenarios_in_order_around_options),
		cmocka_unit_test(test_cli_netem_passes_remaining_words_through),
		cmocka_unit_test(test_cli_image_passes_remaining_words_through),
		cmocka_unit_test(test_cli_without_shard_every_scenario_is_in),
		cmocka_unit_test(test_cli_shards_deal_every_scenario_exactly_once_round_robin),
		cmocka_unit_test(test_auto_jobs_counts_idle_cores_and_free_memory),
	};
	return vh_run_tests(tests, NULL, NULL);
}
