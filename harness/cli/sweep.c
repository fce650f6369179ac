#include "sweep.h"

#include "cli_args.h"

#include "json_flat.h"
#include "lua_util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char *sweep_cut_kind_name(enum sweep_cut_kind k)
{
	return k == SWEEP_CUT_FLUSH ? "flush" : k == SWEEP_CUT_WRITE ? "write" : "line";
}

static int parse_cut_at(const char *v, struct sweep_opts *o, char *err, size_t errlen)
{
	if (!v)
		return cli_usage_error(err, errlen, "--cut-at needs flush, write or line:PATTERN");
	if (!strcmp(v, "flush") || !strcmp(v, "write")) {
		o->kind = v[0] == 'f' ? SWEEP_CUT_FLUSH : SWEEP_CUT_WRITE;
		o->pattern = NULL;
		return 0;
	}
	if (strncmp(v, "line:", 5))
		return cli_usage_error(err, errlen,
				       "--cut-at takes flush, write or line:PATTERN, not '%s'", v);
	if (!v[5])
		return cli_usage_error(err, errlen,
				       "--cut-at line: needs a Lua pattern after 'line:'");
	const char *why = lua_util_pattern_error(v + 5);
	if (why)
		return cli_usage_error(err, errlen, "--cut-at %s: %s", v, why);
	o->kind = SWEEP_CUT_LINE;
	o->pattern = v + 5;
	return 0;
}

int sweep_parse(int argc, char **argv, struct sweep_opts *o, char *err, size_t errlen)
{
	memset(o, 0, sizeof(*o));
	o->flash = "volatile";
	o->max = SWEEP_DEFAULT_MAX;
	o->jobs = 1;
	bool cut_at = false;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const char *v;
		uint64_t n;
		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			o->help = true;
			return 0;
		} else if (cli_is_option(arg, "--cut-at")) {
			if (parse_cut_at(cli_option_value(argc, argv, &i, "--cut-at"), o, err,
					 errlen))
				return -1;
			cut_at = true;
		} else if (cli_is_option(arg, "--from")) {
			v = cli_option_value(argc, argv, &i, "--from");
			if (!v || !*v)
				return cli_usage_error(
					err, errlen, "--from needs a Lua pattern (a console line)");
			const char *why = lua_util_pattern_error(v);
			if (why)
				return cli_usage_error(err, errlen, "--from %s: %s", v, why);
			o->from = v;
		} else if (cli_is_option(arg, "--jobs") || !strcmp(arg, "-j")) {
			v = cli_option_value(argc, argv, &i, arg[1] == 'j' ? "-j" : "--jobs");
			if (v && !strcmp(v, "auto")) {
				o->jobs_auto = true;
				continue;
			}
			if (cli_parse_u64(v, &n) < 0 || n < 1 || n > SWEEP_MAX_JOBS)
				return cli_usage_error(
					err, errlen,
					"--jobs takes auto or a number from 1 to %d, not '%s'",
					SWEEP_MAX_JOBS, v ? v : "");
			o->jobs = (int)n;
			o->jobs_auto = false;
		} else if (cli_is_option(arg, "--flash")) {
			v = cli_option_value(argc, argv, &i, "--flash");
			if (!v || (strcmp(v, "volatile") && strcmp(v, "torn") &&
				   strcmp(v, "ordered") && strcmp(v, "durable")))
				return cli_usage_error(err, errlen,
						       "--flash takes volatile, torn, ordered or "
						       "durable, not '%s'",
						       v ? v : "");
			o->flash = v;
		} else if (cli_is_option(arg, "--max")) {
			v = cli_option_value(argc, argv, &i, "--max");
			if (cli_parse_u64(v, &n) < 0 || n < 1 || n > 10000)
				return cli_usage_error(
					err, errlen,
					"--max takes a number from 1 to 10000, not '%s'",
					v ? v : "");
			o->max = (int)n;
		} else if (cli_is_option(arg, "--seed")) {
			if (cli_parse_seed(cli_option_value(argc, argv, &i, "--seed"), &o->seed,
					   err, errlen) < 0)
				return -1;
			o->seed_set = true;
		} else if (cli_is_option(arg, "--artifacts")) {
			if (!(v = cli_option_value(argc, argv, &i, "--artifacts")) || !*v)
				return cli_usage_error(err, errlen,
						       "--artifacts needs a directory");
			o->artifacts = v;
		} else if (cli_is_option(arg, "--define") || !strcmp(arg, "-D")) {
			v = cli_option_value(argc, argv, &i, arg[1] == 'D' ? "-D" : "--define");
			const char *eq = v ? strchr(v, '=') : NULL;
			if (!eq || eq == v)
				return cli_usage_error(err, errlen, "-D takes key=value, not '%s'",
						       v ? v : "");
			if (o->n_defines == SWEEP_MAX_DEFINES)
				return cli_usage_error(err, errlen,
						       "too many -D parameters (at most %d)",
						       SWEEP_MAX_DEFINES);
			o->defines[o->n_defines++] = v;
		} else if (arg[0] == '-' && arg[1]) {
			return cli_usage_error(err, errlen, "unknown option '%s' for sweep", arg);
		} else if (o->scenario) {
			return cli_usage_error(err, errlen,
					       "sweep takes one scenario ('%s' and '%s')",
					       o->scenario, arg);
		} else {
			o->scenario = arg;
		}
	}
	if (!o->scenario)
		return cli_usage_error(err, errlen, "sweep needs a scenario file");
	if (!cut_at)
		return cli_usage_error(err, errlen,
				       "sweep needs --cut-at flush, write or line:PATTERN");
	return 0;
}

void sweep_usage(FILE *out)
{
	fputs("usage: vharness sweep SCENARIO.lua --cut-at flush|write|line:PATTERN\n"
	      "                      [--from PATTERN] [--flash MODE] [--max N] [--jobs N|auto]\n"
	      "                      [--seed S] [--artifacts DIR] [-D KEY=VALUE]...\n"
	      "\n"
	      "A recording run of the scenario finds each device's cut points. Then one run\n"
	      "per point, with the same seed, cuts that device's power exactly there, powers\n"
	      "it on again and runs the scenario's vh.after_power_loss(function(dev, cut) ...\n"
	      "end) in place of its remaining steps; cut is { kind, point, line }, line the\n"
	      "device's last console line before the cut.\n"
	      "\n"
	      "  --cut-at flush         every flush (and FUA write) reaching the device's flash;\n"
	      "                         the power dies as it arrives, before it completes\n"
	      "  --cut-at write         every write reaching the flash; the power dies as it\n"
	      "                         arrives, with that write in flight\n"
	      "  --cut-at line:PATTERN  every console line matching the Lua PATTERN\n"
	      "  --from PATTERN         points count from the device's first console line\n"
	      "                         matching the Lua PATTERN (default: the whole run)\n"
	      "  --flash MODE           what the flash keeps at the cut: volatile (default),\n"
	      "                         torn, ordered, durable (docs/flash-model.md)\n"
	      "  --max N                at most N cut points (default 50): the first N lines;\n"
	      "                         of flushes or writes, N spread evenly from the first\n"
	      "                         to the last\n"
	      "  --jobs N|auto, -j      point runs at once (default 1; auto: from cores and\n"
	      "                         free memory, as vharness run's)\n"
	      "  --seed S               the seed of every run (default: a random one, printed)\n"
	      "  --artifacts DIR        DIR/record/, DIR/point-NNN/ and DIR/junit.xml\n"
	      "                         (default vharness-out/sweep-<scenario>)\n"
	      "  -D KEY=VALUE           a scenario parameter, read with vh.param(\"KEY\")\n"
	      "\n"
	      "exit: 0 every point passed, 1 a point failed (or the recording run did),\n"
	      "2 usage or configuration error, 3 harness fault\n",
	      out);
}

int sweep_select(int total, int max, enum sweep_cut_kind kind, int *idx)
{
	int n = total < max ? total : max;
	for (int i = 0; i < n; i++) {
		if (kind == SWEEP_CUT_LINE || n == total)
			idx[i] = i;
		else if (n == 1)
			idx[i] = total - 1;
		else /* the first, the last and evenly between, rounded down */
			idx[i] = (int)((long long)i * (total - 1) / (n - 1));
	}
	return n;
}

void sweep_points_free(struct sweep_point *p, int n)
{
	for (int i = 0; i < n; i++)
		free(p[i].line);
	free(p);
}

int sweep_points_read(FILE *f, int max, struct sweep_point **out, int *n, char *err, size_t errlen)
{
	*out = NULL;
	*n = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int row = 0;
	while (*n < max && (len = getline(&line, &cap, f)) >= 0) {
		row++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		char *tab1 = strchr(line, '\t');
		char *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
		char *end = NULL;
		long ordinal = tab2 ? strtol(tab1 + 1, &end, 10) : 0;
		if (!tab2 || end != tab2 || ordinal < 1 || tab1 == line ||
		    (size_t)(tab1 - line) >= sizeof((*out)->device)) {
			free(line);
			sweep_points_free(*out, *n);
			*out = NULL;
			*n = 0;
			return cli_usage_error(
				err, errlen, "sweep-points.tsv:%d: not device<TAB>ordinal<TAB>line",
				row);
		}
		struct sweep_point *grown = realloc(*out, (size_t)(*n + 1) * sizeof(**out));
		if (!grown)
			abort();
		*out = grown;
		struct sweep_point *p = &(*out)[(*n)++];
		memset(p, 0, sizeof(*p));
		memcpy(p->device, line, (size_t)(tab1 - line));
		p->ordinal = ordinal;
		p->line = strdup(tab2 + 1);
	}
	free(line);
	return 0;
}

void sweep_outcome_read(FILE *events, const char *device, int exit_code, struct sweep_outcome *out)
{
	memset(out, 0, sizeof(*out));
	out->cut_event = -1;
	bool bricked = false;
	char *line = NULL;
	size_t cap = 0;
	long row = 0;
	while (events && getline(&line, &cap, events) >= 0) {
		row++;
		line[strcspn(line, "\n")] = '\0';
		struct json_flat j;
		char err[128];
		if (json_flat_parse(line, &j, err, sizeof(err)) == 0) {
			const char *ev = json_flat_get(&j, "event");
			const char *dev = json_flat_get(&j, "device");
			bool mine = ev && dev && !strcmp(dev, device);
			if (mine && !strcmp(ev, "sweep_cut")) {
				out->cut_event = row;
			} else if (mine && out->cut_event >= 0 && !strcmp(ev, "boot_choice")) {
				const char *slot = json_flat_get(&j, "slot");
				const char *version = json_flat_get(&j, "version");
				out->slot = slot ? slot[0] : 0;
				snprintf(out->version, sizeof(out->version), "%s",
					 version ? version : "");
			} else if (mine && !strcmp(ev, "sweep_after_cut")) {
				const char *stage = json_flat_get(&j, "stage");
				bricked = stage && !strcmp(stage, "bricked");
			}
		}
		json_flat_free(&j);
	}
	free(line);
	if (exit_code == 0)
		out->kind = out->cut_event < 0 ? SWEEP_NOT_REACHED : SWEEP_PASS;
	else if (exit_code != 1)
		out->kind = SWEEP_ERROR;
	else if (out->cut_event < 0)
		out->kind = SWEEP_NOT_REACHED;
	else
		out->kind = bricked ? SWEEP_BRICKED : SWEEP_CHECK_FAILED;
}

void sweep_outcome_text(const struct sweep_outcome *o, char *out, size_t len)
{
	switch (o->kind) {
	case SWEEP_PASS:
		if (o->slot)
			snprintf(out, len, "pass (slot %c %s)", o->slot, o->version);
		else
			snprintf(out, len, "pass");
		return;
	case SWEEP_BRICKED:
		snprintf(out, len, "bricked");
		return;
	case SWEEP_CHECK_FAILED:
		if (o->slot)
			snprintf(out, len, "check failed (slot %c %s)", o->slot, o->version);
		else
			snprintf(out, len, "check failed");
		return;
	case SWEEP_NOT_REACHED:
		snprintf(out, len, "not reached");
		return;
	case SWEEP_ERROR:
		snprintf(out, len, "error");
		return;
	}
}

void sweep_table_print(FILE *out, enum sweep_cut_kind kind, const struct sweep_point *p,
		       const struct sweep_outcome *o, const char *const *messages, int n)
{
	fprintf(out, "%-5s  %-10s  %-11s  %-44s  %s\n", "point", "device", "cut",
		kind == SWEEP_CUT_LINE ? "line" : "last line", "outcome");
	for (int i = 0; i < n; i++) {
		char text[96], cut[32];
		sweep_outcome_text(&o[i], text, sizeof(text));
		snprintf(cut, sizeof(cut), "%s %ld", sweep_cut_kind_name(kind), p[i].ordinal);
		fprintf(out, "%-5d  %-10s  %-11s  %-44.44s  %s", i + 1, p[i].device, cut, p[i].line,
			text);
		const char *m = messages ? messages[i] : NULL;
		if (o[i].kind != SWEEP_PASS && m && *m)
			fprintf(out, ": %.*s", (int)strcspn(m, "\n"), m);
		fputc('\n', out);
	}
}
