#include "cli.h"

#include "cli_args.h"

#include "duration.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static int parse_shard(const char *s, int *index, int *count)
{
	char *end;
	long i = strtol(s, &end, 10);
	if (end == s || *end != '/')
		return -1;
	const char *c = end + 1;
	long n = strtol(c, &end, 10);
	if (end == c || *end || n < 1 || n > 1000 || i < 1 || i > n)
		return -1;
	*index = (int)i;
	*count = (int)n;
	return 0;
}

static const struct {
	const char *word;
	enum cli_command command;
} commands[] = {
	{ "run", CLI_RUN },	    { "check", CLI_CHECK },   { "doctor", CLI_DOCTOR },
	{ "netem", CLI_NETEM },	    { "image", CLI_IMAGE },   { "help", CLI_HELP },
	{ "version", CLI_VERSION }, { "report", CLI_REPORT }, { "sweep", CLI_SWEEP },
};

int cli_parse(int argc, char **argv, struct cli_opts *o, char *err, size_t errlen)
{
	memset(o, 0, sizeof(*o));
	o->jobs = 1;
	o->repeat = 1;
	o->timeout_ms = 30 * 60 * 1000;
	if (argc < 2)
		return cli_usage_error(err, errlen, "missing command (try `vharness --help`)");

	const char *word = argv[1];
	if (!strcmp(word, "--help") || !strcmp(word, "-h")) {
		o->command = CLI_HELP;
		return 0;
	}
	if (!strcmp(word, "--version")) {
		o->command = CLI_VERSION;
		return 0;
	}
	bool found = false;
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++) {
		if (!strcmp(word, commands[k].word)) {
			o->command = commands[k].command;
			found = true;
		}
	}
	if (!found)
		return cli_usage_error(err, errlen, "unknown command '%s' (try `vharness --help`)",
				       word);

	/* netem, image and report take their own words; they parse them
	 * themselves. */
	if (o->command == CLI_NETEM || o->command == CLI_IMAGE || o->command == CLI_REPORT ||
	    o->command == CLI_SWEEP) {
		o->rest_argc = argc - 1;
		o->rest_argv = argv + 1;
		return 0;
	}
	if (o->command == CLI_HELP || o->command == CLI_VERSION)
		return 0;

	for (int i = 2; i < argc; i++) {
		const char *arg = argv[i];
		const char *v;
		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			o->command = CLI_HELP;
			return 0;
		} else if (!strcmp(arg, "-v") || !strcmp(arg, "--verbose")) {
			o->verbose++;
		} else if (!strcmp(arg, "-q") || !strcmp(arg, "--quiet")) {
			o->quiet = true;
		} else if (!strcmp(arg, "--sweep-point")) {
			/* vharness sweep's own runs (cmd_sweep.c); not for people */
			o->sweep_point = true;
		} else if (cli_is_option(arg, "--artifacts")) {
			if (!(v = cli_option_value(argc, argv, &i, "--artifacts")) || !*v)
				return cli_usage_error(err, errlen,
						       "--artifacts needs a directory");
			o->artifacts_dir = v;
		} else if (cli_is_option(arg, "--image-dir")) {
			if (!(v = cli_option_value(argc, argv, &i, "--image-dir")) || !*v)
				return cli_usage_error(err, errlen,
						       "--image-dir needs a directory");
			o->image_dir = v;
		} else if (cli_is_option(arg, "--arch")) {
			v = cli_option_value(argc, argv, &i, "--arch");
			if (!v || (strcmp(v, "x86_64") && strcmp(v, "aarch64")))
				return cli_usage_error(err, errlen,
						       "--arch takes x86_64 or aarch64, not '%s'",
						       v ? v : "");
			o->arch = v;
		} else if (cli_is_option(arg, "--accel")) {
			v = cli_option_value(argc, argv, &i, "--accel");
			if (v && !strcmp(v, "auto"))
				o->accel = CLI_ACCEL_AUTO;
			else if (v && !strcmp(v, "tcg"))
				o->accel = CLI_ACCEL_TCG;
			else if (v && !strcmp(v, "kvm"))
				o->accel = CLI_ACCEL_KVM;
			else
				return cli_usage_error(err, errlen,
						       "--accel takes auto, tcg or kvm, not '%s'",
						       v ? v : "");
		} else if (cli_is_option(arg, "--backend")) {
			v = cli_option_value(argc, argv, &i, "--backend");
			if (v && !strcmp(v, "auto"))
				o->backend = CLI_BACKEND_AUTO;
			else if (v && !strcmp(v, "kernel"))
				o->backend = CLI_BACKEND_KERNEL;
			else if (v && !strcmp(v, "user"))
				o->backend = CLI_BACKEND_USER;
			else
				return cli_usage_error(
					err, errlen,
					"--backend takes auto, kernel or user, not '%s'",
					v ? v : "");
		} else if (cli_is_option(arg, "--seed")) {
			if (cli_parse_seed(cli_option_value(argc, argv, &i, "--seed"), &o->seed,
					   err, errlen) < 0)
				return -1;
			o->seed_set = true;
		} else if (cli_is_option(arg, "--jobs") || !strcmp(arg, "-j")) {
			v = cli_option_value(argc, argv, &i, arg[1] == 'j' ? "-j" : "--jobs");
			uint64_t jobs;
			if (v && !strcmp(v, "auto")) {
				o->jobs_auto = true;
				continue;
			}
			if (cli_parse_u64(v, &jobs) < 0 || jobs < 1 || jobs > 64)
				return cli_usage_error(
					err, errlen,
					"--jobs takes auto or a number from 1 to 64, not '%s'",
					v ? v : "");
			o->jobs = (int)jobs;
			o->jobs_auto = false;
		} else if (cli_is_option(arg, "--boot-slots")) {
			v = cli_option_value(argc, argv, &i, "--boot-slots");
			uint64_t n;
			if (v && !strcmp(v, "auto")) {
				o->boot_slots = 0;
				continue;
			}
			if (cli_parse_u64(v, &n) < 0 || n < 1 || n > 1024)
				return cli_usage_error(err, errlen,
						       "--boot-slots takes auto or a number from 1 "
						       "to 1024, not '%s'",
						       v ? v : "");
			o->boot_slots = (unsigned)n;
		} else if (!strcmp(arg, "--snapshot-boot")) {
			o->snapshot_boot = true;
		} else if (cli_is_option(arg, "--repeat")) {
			v = cli_option_value(argc, argv, &i, "--repeat");
			uint64_t n;
			if (cli_parse_u64(v, &n) < 0 || n < 1 || n > 1000)
				return cli_usage_error(
					err, errlen,
					"--repeat takes a number from 1 to 1000, not '%s'",
					v ? v : "");
			o->repeat = (int)n;
		} else if (cli_is_option(arg, "--matrix")) {
			v = cli_option_value(argc, argv, &i, "--matrix");
			const char *eq = v ? strchr(v, '=') : NULL;
			if (!eq || eq == v || !eq[1] || strstr(eq, ",,") ||
			    eq[strlen(eq) - 1] == ',')
				return cli_usage_error(err, errlen,
						       "--matrix takes KEY=v1,v2,..., not '%s'",
						       v ? v : "");
			if (o->n_matrix == 8)
				return cli_usage_error(err, errlen,
						       "too many --matrix keys (at most 8)");
			for (int k = 0; k < o->n_matrix; k++)
				if (!strncmp(o->matrix[k], v, (size_t)(eq - v) + 1))
					return cli_usage_error(err, errlen,
							       "--matrix %.*s given twice",
							       (int)(eq - v), v);
			o->matrix[o->n_matrix++] = v;
		} else if (cli_is_option(arg, "--timings")) {
			if (!(v = cli_option_value(argc, argv, &i, "--timings")) || !*v)
				return cli_usage_error(err, errlen, "--timings needs a file");
			o->timings = v;
		} else if (cli_is_option(arg, "--shard")) {
			v = cli_option_value(argc, argv, &i, "--shard");
			if (!v || parse_shard(v, &o->shard_index, &o->shard_count) < 0)
				return cli_usage_error(
					err, errlen, "--shard takes I/N with 1 <= I <= N, not '%s'",
					v ? v : "");
		} else if (cli_is_option(arg, "--timeout")) {
			v = cli_option_value(argc, argv, &i, "--timeout");
			if (duration_parse_ms(v, &o->timeout_ms) < 0 || o->timeout_ms == 0)
				return cli_usage_error(
					err, errlen,
					"--timeout takes a duration such as 90s or 10m, not '%s'",
					v ? v : "");
		} else if (cli_is_option(arg, "--define") || !strcmp(arg, "-D")) {
			v = cli_option_value(argc, argv, &i, arg[1] == 'D' ? "-D" : "--define");
			const char *eq = v ? strchr(v, '=') : NULL;
			if (!eq || eq == v)
				return cli_usage_error(err, errlen, "-D takes key=value, not '%s'",
						       v ? v : "");
			if (o->n_defines == 64)
				return cli_usage_error(err, errlen,
						       "too many -D parameters (at most 64)");
			o->defines[o->n_defines++] = v;
		} else if (arg[0] == '-' && arg[1] != '\0') {
			return cli_usage_error(err, errlen, "unknown option '%s' for %s", arg,
					       word);
		} else {
			if (o->command == CLI_DOCTOR)
				return cli_usage_error(err, errlen,
						       "doctor takes no scenario ('%s')", arg);
			if (o->n_scenarios == CLI_MAX_SCENARIOS)
				return cli_usage_error(err, errlen,
						       "too many scenarios (at most %d)",
						       CLI_MAX_SCENARIOS);
			o->scenarios[o->n_scenarios++] = arg;
		}
	}
	if ((o->command == CLI_RUN || o->command == CLI_CHECK) && o->n_scenarios == 0)
		return cli_usage_error(err, errlen,
				       "%s needs at least one scenario file or directory", word);
	return 0;
}

bool cli_in_shard(const struct cli_opts *o, int i)
{
	if (o->shard_count == 0)
		return true;
	return i % o->shard_count == o->shard_index - 1;
}

void cli_usage(FILE *out)
{
	fputs("usage: vharness <command> [options]\n"
	      "\n"
	      "commands:\n"
	      "  run SCENARIO.lua|DIR...\n"
	      "                        boot the scenarios' guests and run them (a directory: "
	      "every\n"
	      "                        *.lua under it); exit 0 pass, 1 a scenario failed,\n"
	      "                        2 usage/configuration error, 3 harness fault,\n"
	      "                        130/143 cancelled by Ctrl-C/SIGTERM\n"
	      "  check SCENARIO.lua... load scenarios without booting: syntax and API errors only\n"
	      "  doctor                print QEMU versions, KVM, sch_netem, namespaces, tun\n"
	      "  netem \"SPEC\"          validate a tc-netem spec and print it normalised\n"
	      "  image build [--arch x86_64|aarch64] [--profile reference|mender]\n"
	      "                        build the reference firmware image (default: this host's\n"
	      "                        architecture) or the Mender image\n"
	      "  sweep SCENARIO.lua --cut-at line:PATTERN\n"
	      "                        cut power at every matching console line, one run each,\n"
	      "                        and run the scenario's vh.after_power_loss check\n"
	      "                        (`vharness sweep --help`)\n"
	      "  report DIR            (re)write report.html and trace.json of a run's artifacts\n"
	      "                        directory from its events.jsonl and serial logs\n"
	      "\n"
	      "options for run and check:\n"
	      "  --artifacts DIR       where serial logs, events.jsonl, junit.xml, report.html "
	      "and\n"
	      "                        trace.json go (default vharness-out/<scenario>/); several\n"
	      "                        runs: DIR/<run>/ each, and DIR/junit.xml, DIR/summary.md,\n"
	      "                        DIR/index.html and DIR/timings.txt for the suite\n"
	      "  --arch x86_64|aarch64 the reference firmware's architecture where a scenario\n"
	      "                        names none (default: this host's)\n"
	      "  --accel auto|tcg|kvm  accelerator (auto: probe KVM, fall back to TCG)\n"
	      "  --backend auto|kernel|user\n"
	      "                        impairments in tc-netem (kernel) or in the harness's own\n"
	      "                        datapath (user); auto: kernel where sch_netem loads\n"
	      "  --seed N              the run's seed (replays impairment decisions)\n"
	      "  --jobs N|auto, -j     runs at once (default 1; auto: idle cores, free memory)\n"
	      "  --boot-slots N|auto   guests of a run that boot at once; the others wait until\n"
	      "                        one prints its firmware's ready line (default auto: two\n"
	      "                        per online core)\n"
	      "  --snapshot-boot       reference devices start from a machine saved once per\n"
	      "                        firmware build instead of booting (docs/fleet.md)\n"
	      "  --repeat N            every run N times with fresh seeds: a pass rate per "
	      "scenario\n"
	      "  --matrix KEY=v1,v2    every combination of these values, as -D KEY=...\n"
	      "                        (repeatable)\n"
	      "  --shard I/N           run only shard I of N of the runs\n"
	      "  --timings FILE        durations (DIR/timings.txt of an earlier run) that balance\n"
	      "                        --shard\n"
	      "  --timeout DURATION    limit for one scenario (default 30m)\n"
	      "  -D KEY=VALUE          a scenario parameter, read with vh.param(\"KEY\")\n"
	      "  --image-dir DIR       where the reference firmware image is\n"
	      "  -v, --verbose         echo guest serial output to stderr\n"
	      "  -q, --quiet           print the verdict only: no progress, no notices\n"
	      "  -h, --help            this text\n"
	      "\n"
	      "progress (run): on a terminal, a block on stderr redrawn in place: per device\n"
	      "its power, boot, slot, version, download/install progress and last agent line,\n"
	      "and the scenario's file:line and elapsed time; a failed expect is printed at\n"
	      "once with the device's last lines. Without a terminal (CI), with TERM=dumb or\n"
	      "with -v: one plain line per boot, power cut, fault, expect, check and verdict.\n"
	      "\n"
	      "environment:\n"
	      "  NO_COLOR              any non-empty value: no colours in the progress block\n"
	      "  VH_IMAGE_DIR          default for --image-dir\n"
	      "  VH_KERNEL_BACKEND_NO_PROBE=1\n"
	      "                        --backend kernel without first checking that a netem\n"
	      "                        qdisc can be created (to test the kernel plumbing on a\n"
	      "                        kernel without sch_netem: impair() then fails)\n"
	      "  VH_TC                 the tc binary the kernel backend runs\n",
	      out);
}
