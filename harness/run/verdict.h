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

/* At the end of a run: the verdict event and junit.xml from the run's
 * verdict; complaints go to stderr. */
void verdict_record(struct vh_run *run, double seconds);

#endif
