/* The one way a scenario's verdict is told: the verdict event in
 * events.jsonl, junit.xml, and the names CI sees. The scenario's own
 * process writes it at its end; the suite runner writes it for a scenario
 * whose process ended without a verdict (killed, crashed), so every
 * scenario of a suite has one. */
#ifndef VH_VERDICT_H
#define VH_VERDICT_H

#include "outcome.h"

#include <stdbool.h>
#include <stddef.h>

struct vh_run;

/* "PASS", "FAIL", "ERROR", "HARNESS FAULT", "CANCELLED". */
const char *verdict_name(enum vh_outcome outcome);

/* True for the cancelled outcomes (a signal ended the run). */
bool verdict_cancelled(enum vh_outcome outcome);

/* junit.xml in dir for one scenario: a pass, a <failure> (1), an <error>
 * with type "config" (2), "harness" (3) or "cancelled" (13x), with message
 * and details. 0 or -1 with err. */
int verdict_write_junit(const char *dir, const char *scenario, double seconds,
			enum vh_outcome outcome, const char *message, const char *details,
			char *err, size_t errlen);

/* At the end of a run: the verdict event, junit.xml and verdict.txt from
 * the run's verdict; complaints go to stderr. */
void verdict_record(struct vh_run *run, double seconds);

/* verdict.txt in a run's directory: what the suite runner reads back into
 * the suite's junit.xml and summary. Line-oriented, with lengths for the
 * two texts, so a message may hold anything:
 *   verdict FAIL\n exit 1\n seconds 12.345\n seed 42\n
 *   message N\n <N bytes>\n details M\n <M bytes>\n */
struct verdict_file {
	int outcome;
	double seconds;
	unsigned long long seed;
	char *message; /* NULL when none */
	char *details; /* NULL when none */
};
int verdict_write_file(const char *dir, enum vh_outcome outcome, double seconds,
		       unsigned long long seed, const char *message, const char *details, char *err,
		       size_t errlen);
/* 0, or -1 when there is none (the run ended before its verdict) or it is
 * not a verdict file. */
int verdict_read_file(const char *dir, struct verdict_file *out);
void verdict_file_free(struct verdict_file *v);

#endif
