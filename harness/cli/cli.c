#include "cli.h"

#include "duration.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static int usage_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int parse_u64(const char *s, uint64_t *out)
{
	/* Decimal only: a zero-padded seed must replay as the same number. */
	if (!s || !isdigit((unsigned char)*s))
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

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

/* Returns the option's value, from "--opt=value" or the next word. */
static const char *option_value(int argc, char **argv, int *i, const char *name)
{
	const char *arg = argv[*i];
	size_t n = strlen(name);
	if (strncmp(arg, name, n) == 0 && arg[n] == '=')
		return arg + n + 1;
	if (*i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

static bool is_option(const char *arg, const char *name)
{
	size_t n = strlen(name);
	return strncmp(arg, name, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

static const struct {
	const char *word;
	enum cli_command command;
} commands[] = {
	{ "run", CLI_RUN },       { "check", CLI_CHECK }, { "doctor", CLI_DOCTOR },
	{ "netem", CLI_NETEM },   { "image", CLI_IMAGE }, { "help", CLI_HELP },
	{ "version", CLI_VERSION },
};

/* The file names without directory and ".lua" are equal. */
static bool same_stem(const char *a, const char *b)
{
	const char *ba = strrchr(a, '/'), *bb = strrchr(b, '/');
	ba = ba ? ba + 1 : a;
	bb = bb ? bb + 1 : b;
	size_t la = strlen(ba), lb = strlen(bb);
	if (la > 4 && !strcmp(ba + la - 4, ".lua"))
		la -= 4;
	if (lb > 4 && !strcmp(bb + lb - 4, ".lua"))
		lb -= 4;
	return la == lb && !memcmp(ba, bb, la);
}

int cli_parse(int argc, char **argv, struct cli_opts *o, char *err, size_t errlen)
{
	memset(o, 0, sizeof(*o));
	o->jobs = 1;
	o->timeout_ms = 30 * 60 * 1000;
	if (argc < 2)
		return usage_error(err, errlen, "missing command (try `vharness --help`)");

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
		return usage_error(err, errlen, "unknown command '%s' (try `vharness --help`)", word);

	/* netem and image take their own words; they parse them themselves. */
	if (o->command == CLI_NETEM || o->command == CLI_IMAGE) {
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
		} else if (is_option(arg, "--artifacts")) {
			if (!(v = option_value(argc, argv, &i, "--artifacts")) || !*v)
				return usage_error(err, errlen, "--artifacts needs a directory");
			o->artifacts_dir = v;
		} else if (is_option(arg, "--image-dir")) {
			if (!(v = option_value(argc, argv, &i, "--image-dir")) || !*v)
				return usage_error(err, errlen, "--image-dir needs a directory");
			o->image_dir = v;
		} else if (is_option(arg, "--accel")) {
			v = option_value(argc, argv, &i, "--accel");
			if (v && !strcmp(v, "auto"))
				o->accel = CLI_ACCEL_AUTO;
			else if (v && !strcmp(v, "tcg"))
				o->accel = CLI_ACCEL_TCG;
			else if (v && !strcmp(v, "kvm"))
				o->accel = CLI_ACCEL_KVM;
			else
				return usage_error(err, errlen, "--accel takes auto, tcg or kvm, not '%s'",
						   v ? v : "");
		} else if (is_option(arg, "--backend")) {
			v = option_value(argc, argv, &i, "--backend");
			if (v && !strcmp(v, "auto"))
				o->backend = CLI_BACKEND_AUTO;
			else if (v && !strcmp(v, "kernel"))
				o->backend = CLI_BACKEND_KERNEL;
			else if (v && !strcmp(v, "user"))
				o->backend = CLI_BACKEND_USER;
			else
				return usage_error(err, errlen, "--backend takes auto, kernel or user, not '%s'",
						   v ? v : "");
		} else if (is_option(arg, "--seed")) {
			v = option_value(argc, argv, &i, "--seed");
			if (parse_u64(v, &o->seed) < 0)
				return usage_error(err, errlen, "--seed takes a non-negative integer, not '%s'",
						   v ? v : "");
			o->seed_set = true;
		} else if (is_option(arg, "--jobs") || !strcmp(arg, "-j")) {
			v = option_value(argc, argv, &i, arg[1] == 'j' ? "-j" : "--jobs");
			uint64_t jobs;
			if (parse_u64(v, &jobs) < 0 || jobs < 1 || jobs > 64)
				return usage_error(err, errlen, "--jobs takes a number from 1 to 64, not '%s'",
						   v ? v : "");
			o->jobs = (int)jobs;
		} else if (is_option(arg, "--shard")) {
			v = option_value(argc, argv, &i, "--shard");
			if (!v || parse_shard(v, &o->shard_index, &o->shard_count) < 0)
				return usage_error(err, errlen, "--shard takes I/N with 1 <= I <= N, not '%s'",
						   v ? v : "");
		} else if (is_option(arg, "--timeout")) {
			v = option_value(argc, argv, &i, "--timeout");
			if (duration_parse_ms(v, &o->timeout_ms) < 0 || o->timeout_ms == 0)
				return usage_error(err, errlen, "--timeout takes a duration such as 90s or 10m, not '%s'",
						   v ? v : "");
		} else if (is_option(arg, "--define") || !strcmp(arg, "-D")) {
			v = option_value(argc, argv, &i, arg[1] == 'D' ? "-D" : "--define");
			const char *eq = v ? strchr(v, '=') : NULL;
			if (!eq || eq == v)
				return usage_error(err, errlen, "-D takes key=value, not '%s'", v ? v : "");
			if (o->n_defines == 64)
				return usage_error(err, errlen, "too many -D parameters (at most 64)");
			o->defines[o->n_defines++] = v;
		} else if (arg[0] == '-' && arg[1] != '\0') {
			return usage_error(err, errlen, "unknown option '%s' for %s", arg, word);
		} else {
			if (o->command == CLI_DOCTOR)
				return usage_error(err, errlen, "doctor takes no scenario ('%s')", arg);
			if (o->n_scenarios == CLI_MAX_SCENARIOS)
				return usage_error(err, errlen, "too many scenarios (at most %d)", CLI_MAX_SCENARIOS);
			o->scenarios[o->n_scenarios++] = arg;
		}
	}
	if ((o->command == CLI_RUN || o->command == CLI_CHECK) && o->n_scenarios == 0)
		return usage_error(err, errlen, "%s needs at least one scenario file", word);
	/* Several scenarios each write into DIR/<scenario>/: two of the same
	 * name would write over each other. */
	for (int i = 0; o->artifacts_dir && i < o->n_scenarios; i++)
		for (int j = i + 1; j < o->n_scenarios; j++)
			if (same_stem(o->scenarios[i], o->scenarios[j]))
				return usage_error(err, errlen,
						   "%s and %s would share an artifacts directory: "
						   "rename one, or run them one at a time",
						   o->scenarios[i], o->scenarios[j]);
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
	      "  run SCENARIO.lua...   boot the scenario's guests and run it; exit 0 pass,\n"
	      "                        1 scenario failed, 2 usage/configuration error, 3 harness fault\n"
	      "  check SCENARIO.lua... load scenarios without booting: syntax and API errors only\n"
	      "  doctor                print QEMU versions, KVM, sch_netem, namespaces, tun\n"
	      "  netem \"SPEC\"          validate a tc-netem spec and print it normalised\n"
	      "  image build           build the reference firmware image\n"
	      "\n"
	      "options for run and check:\n"
	      "  --artifacts DIR       where serial logs, events.jsonl and junit.xml go\n"
	      "                        (DIR/<scenario>/ when several scenarios run)\n"
	      "                        (default vharness-out/<scenario>/)\n"
	      "  --accel auto|tcg|kvm  accelerator (auto: probe KVM, fall back to TCG)\n"
	      "  --backend auto|kernel|user\n"
	      "                        impairments in tc-netem (kernel) or in the harness's own\n"
	      "                        datapath (user); auto: kernel where sch_netem loads\n"
	      "  --seed N              the run's seed (replays impairment decisions)\n"
	      "  --jobs N, -j N        scenarios to run at once (default 1)\n"
	      "  --shard I/N           run only shard I of N of the scenarios given\n"
	      "  --timeout DURATION    limit for one scenario (default 30m)\n"
	      "  -D KEY=VALUE          a scenario parameter, read with vh.param(\"KEY\")\n"
	      "  --image-dir DIR       where the reference firmware image is\n"
	      "  -v, --verbose         echo guest serial output to stderr\n"
	      "  -h, --help            this text\n"
	      "\n"
	      "environment:\n"
	      "  VH_IMAGE_DIR          default for --image-dir\n"
	      "  VH_KERNEL_BACKEND_NO_PROBE=1\n"
	      "                        --backend kernel without first checking that a netem\n"
	      "                        qdisc can be created (to test the kernel plumbing on a\n"
	      "                        kernel without sch_netem: impair() then fails)\n"
	      "  VH_TC                 the tc binary the kernel backend runs\n",
	      out);
}
