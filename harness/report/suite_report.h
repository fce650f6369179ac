/* What a suite of runs leaves at the root of its artifacts: one junit.xml
 * (one testsuite, one testcase per run, with the failure message and the
 * serial tail), summary.md (a verdict table for CI step summaries) and
 * timings.txt (each run's seconds, for balancing --shard next time); and the
 * table printed at the end. */
#ifndef VH_SUITE_REPORT_H
#define VH_SUITE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct suite_result {
	const char *id;	      /* the run: names its directory and testcase */
	const char *scenario; /* the file */
	const char *params;   /* "k=v k=v" or "" */
	const char *dir;      /* its artifacts, relative to the root where possible */
	uint64_t seed;
	int outcome; /* exit code: 0..3, 129/130/143 cancelled, -1 not run */
	double seconds;
	const char *message; /* NULL when it passed */
	const char *details; /* NULL when none */
};

/* Writes root/summary.md, root/timings.txt, root/index.html and, when
 * junit, root/junit.xml.
 * Runs not run (outcome -1) are skipped testcases and absent from the
 * timings. 0 or -1 with err. */
int suite_report_write(const char *root, const struct suite_result *r, int n, bool junit, char *err,
		       size_t errlen);

/* The table (run, params, verdict, seconds, seed) and, for scenarios run
 * more than once, the pass rate. */
void suite_report_print(FILE *out, const struct suite_result *r, int n);

/* The Markdown table alone (summary.md's body), for a step summary: each
 * run that has a directory links to its report.html, relative to root (the
 * links work where summary.md lies next to the runs, as in a downloaded
 * artifact). */
void suite_report_markdown(FILE *out, const char *root, const struct suite_result *r, int n);

/* dir relative to root ("" when they are the same), or dir itself when it
 * is not under root. */
const char *suite_report_rel_dir(const char *root, const char *dir);

/* index.html at root: one row per run (verdict, seconds, seed, parameters,
 * the failure's first line) linking to the run's report.html. 0 or -1 with
 * err. */
int suite_index_write(const char *root, const struct suite_result *r, int n, char *err,
		      size_t errlen);

/* "PASS", "FAIL", "ERROR", "HARNESS FAULT", "CANCELLED", "NOT RUN". */
const char *suite_report_verdict_word(int outcome);

#endif
