/* A suite's index.html: see suite_report.h. A static page (no script):
 * every text from a run is escaped with html_put_text. */
#include "suite_report.h"

#include "artifacts.h"
#include "html_escape.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* The run's report, as a link from root/index.html. */
static void put_report_link(FILE *out, const char *root, const char *dir)
{
	const char *rel = suite_report_rel_dir(root, dir);
	html_put_text(out, rel);
	fputs(*rel ? "/report.html" : "report.html", out);
}

static void put_first_line(FILE *out, const char *s)
{
	if (!s)
		return;
	char line[600];
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(s, "\n"), s);
	html_put_text(out, line);
}

static void put_page(FILE *out, const char *root, const struct suite_result *r, int n)
{
	int passed = 0;
	for (int i = 0; i < n; i++)
		passed += r[i].outcome == 0;
	fprintf(out,
		"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		"<title>vharness suite: %d of %d passed</title>\n<style>\n"
		"body { font: 13px/1.4 system-ui, sans-serif; margin: 16px; color: #222; }\n"
		"table { border-collapse: collapse; }\n"
		"td, th { border-bottom: 1px solid #ddd; padding: 3px 10px; text-align: left; "
		"vertical-align: top; }\n"
		"td.num { text-align: right; font-variant-numeric: tabular-nums; }\n"
		".v { font-weight: bold; color: #c62828; } .v.PASS { color: #2e7d32; }\n"
		".why { font-family: ui-monospace, monospace; font-size: 12px; }\n"
		"</style></head><body>\n<h1>vharness suite: %d of %d passed</h1>\n"
		"<table id=\"runs\">\n<tr><th>run</th><th>scenario</th><th>parameters</th>"
		"<th>verdict</th><th>seconds</th><th>seed</th><th>why</th></tr>\n",
		passed, n, passed, n);
	for (int i = 0; i < n; i++) {
		const char *verdict = suite_report_verdict_word(r[i].outcome);
		fputs("<tr><td>", out);
		if (r[i].outcome >= 0 && r[i].dir) {
			fputs("<a href=\"", out);
			put_report_link(out, root, r[i].dir);
			fputs("\">", out);
			html_put_text(out, r[i].id);
			fputs("</a>", out);
		} else {
			html_put_text(out, r[i].id);
		}
		fputs("</td><td>", out);
		html_put_text(out, r[i].scenario);
		fputs("</td><td>", out);
		html_put_text(out, r[i].params);
		fprintf(out,
			"</td><td class=\"v %s\">%s</td><td class=\"num\">%.1f</td>"
			"<td class=\"num\">%llu</td><td class=\"why\">",
			r[i].outcome == 0 ? "PASS" : "", verdict, r[i].seconds,
			(unsigned long long)r[i].seed);
		if (r[i].outcome != 0)
			put_first_line(out, r[i].message);
		fputs("</td></tr>\n", out);
	}
	fputs("</table>\n</body></html>\n", out);
}

struct suite_page {
	const char *root;
	const struct suite_result *r;
	int n;
};

static int put_suite_page(FILE *f, const void *arg)
{
	const struct suite_page *p = arg;
	put_page(f, p->root, p->r, p->n);
	return 0;
}

int suite_index_write(const char *root, const struct suite_result *r, int n, char *err,
		      size_t errlen)
{
	char path[1100];
	snprintf(path, sizeof(path), "%s/index.html", root);
	struct suite_page page = { root, r, n };
	return artifacts_write_whole(path, put_suite_page, &page, err, errlen);
}
