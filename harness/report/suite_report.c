/* A suite's own artifacts: see suite_report.h. */
#include "suite_report.h"

#include "artifacts.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

const char *suite_report_verdict_word(int outcome)
{
	switch (outcome) {
	case -1:
		return "NOT RUN";
	case 0:
		return "PASS";
	case 1:
		return "FAIL";
	case 2:
		return "ERROR";
	case 3:
		return "HARNESS FAULT";
	default:
		return outcome >= 128 ? "CANCELLED" : "HARNESS FAULT";
	}
}

static int write_junit(const char *root, const struct suite_result *r, int n, char *err,
		       size_t errlen)
{
	struct junit_case *cases = calloc((size_t)n + 1, sizeof(*cases));
	if (!cases) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (int i = 0; i < n; i++)
		cases[i] = (struct junit_case){
			.name = r[i].id,
			.classname = r[i].scenario,
			.seconds = r[i].seconds,
			.status = r[i].outcome,
			.message = r[i].message,
			.details = r[i].details,
		};
	char path[1100];
	snprintf(path, sizeof(path), "%s/junit.xml", root);
	int rc = junit_write(path, cases, (size_t)n, err, errlen);
	free(cases);
	return rc < 0 ? -1 : 0;
}

/* The message's first line, with the characters a Markdown table cell
 * cannot hold replaced. */
static void cell(FILE *out, const char *s)
{
	for (; s && *s && *s != '\n'; s++)
		fputs(*s == '|' ? "\\|" : (char[]){ *s, 0 }, out);
}

const char *suite_report_rel_dir(const char *root, const char *dir)
{
	size_t n = strlen(root);
	while (n > 1 && root[n - 1] == '/')
		n--;
	if (!strncmp(dir, root, n) && (dir[n] == '\0' || dir[n] == '/'))
		return dir[n] ? dir + n + 1 : "";
	return dir;
}

/* A link destination: percent-encoded but for the characters run names
 * use, so no space, bracket or parenthesis ends it early. */
static void link_path(FILE *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("._~/=,+-", c))
			putc(c, out);
		else
			fprintf(out, "%%%02X", c);
	}
}

void suite_report_markdown(FILE *out, const char *root, const struct suite_result *r, int n)
{
	int counts[5] = { 0 };
	for (int i = 0; i < n; i++) {
		int o = r[i].outcome;
		counts[o == 0 ? 0 : o < 0 ? 4 : o >= 128 ? 3 : o == 1 ? 1 : 2]++;
	}
	fprintf(out, "### vharness: %d passed, %d failed, %d errors", counts[0], counts[1],
		counts[2]);
	if (counts[3])
		fprintf(out, ", %d cancelled", counts[3]);
	if (counts[4])
		fprintf(out, ", %d not run", counts[4]);
	fprintf(out, "\n\n| run | parameters | verdict | seconds | seed | why |\n"
		     "|---|---|---|---:|---:|---|\n");
	for (int i = 0; i < n; i++) {
		if (r[i].outcome >= 0 && r[i].dir) {
			const char *rel = suite_report_rel_dir(root, r[i].dir);
			fputs("| [", out);
			cell(out, r[i].id);
			fputs("](", out);
			link_path(out, rel);
			fputs(*rel ? "/report.html) | " : "report.html) | ", out);
		} else {
			fprintf(out, "| %s | ", r[i].id);
		}
		cell(out, r[i].params);
		const char *bold = r[i].outcome == 0 ? "" : "**";
		fprintf(out, " | %s%s%s | %.1f | %llu | ", bold,
			suite_report_verdict_word(r[i].outcome), bold, r[i].seconds,
			(unsigned long long)r[i].seed);
		cell(out, r[i].outcome != 0 ? r[i].message : NULL);
		fputs(" |\n", out);
	}
}

static int write_file(const char *root, const char *name, const struct suite_result *r, int n,
		      void (*body)(FILE *, const char *, const struct suite_result *, int),
		      char *err, size_t errlen)
{
	char path[1100];
	snprintf(path, sizeof(path), "%s/%s", root, name);
	FILE *f = fopen(path, "we");
	if (!f) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	body(f, root, r, n);
	if (fclose(f) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static void timings(FILE *out, const char *root, const struct suite_result *r, int n)
{
	(void)root;
	fputs("# run seconds (vharness run --timings this-file --shard I/N balances by them)\n",
	      out);
	for (int i = 0; i < n; i++)
		if (r[i].outcome >= 0)
			fprintf(out, "%s %.1f\n", r[i].id, r[i].seconds);
}

int suite_report_write(const char *root, const struct suite_result *r, int n, bool junit, char *err,
		       size_t errlen)
{
	if ((junit && write_junit(root, r, n, err, errlen) < 0) ||
	    write_file(root, "summary.md", r, n, suite_report_markdown, err, errlen) < 0 ||
	    write_file(root, "timings.txt", r, n, timings, err, errlen) < 0 ||
	    suite_index_write(root, r, n, err, errlen) < 0)
		return -1;
	return 0;
}

void suite_report_print(FILE *out, const struct suite_result *r, int n)
{
	size_t w = 3;
	for (int i = 0; i < n; i++)
		if (strlen(r[i].id) > w)
			w = strlen(r[i].id);
	fprintf(out, "\n%-*s  %-13s %9s  %10s  %s\n", (int)w, "run", "verdict", "seconds", "seed",
		"parameters");
	for (int i = 0; i < n; i++)
		fprintf(out, "%-*s  %-13s %9.1f  %10llu  %s\n", (int)w, r[i].id,
			suite_report_verdict_word(r[i].outcome), r[i].seconds,
			(unsigned long long)r[i].seed,
			r[i].params && r[i].params[0] ? r[i].params : "-");
	/* Pass rates, for scenarios with parameters or repeats: the same
	 * scenario file and parameters counted together. */
	bool header = false;
	for (int i = 0; i < n; i++) {
		bool first = true;
		for (int j = 0; j < i; j++)
			if (!strcmp(r[j].scenario, r[i].scenario) &&
			    !strcmp(r[j].params, r[i].params))
				first = false;
		if (!first)
			continue;
		int runs = 0, passed = 0;
		for (int j = i; j < n; j++) {
			if (strcmp(r[j].scenario, r[i].scenario) ||
			    strcmp(r[j].params, r[i].params) || r[j].outcome < 0)
				continue;
			runs++;
			passed += r[j].outcome == 0;
		}
		if (runs < 2)
			continue;
		if (!header) {
			fprintf(out, "\npass rate\n");
			header = true;
		}
		fprintf(out, "  %s%s%s: %d/%d (%.0f%%)\n", r[i].scenario, r[i].params[0] ? " " : "",
			r[i].params, passed, runs, 100.0 * passed / runs);
	}
}
