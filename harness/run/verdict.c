/* Telling the verdict: see verdict.h. */
#include "verdict.h"

#include "artifacts.h"
#include "ev.h"
#include "run.h"

#include <stdio.h>

const char *verdict_name(enum vh_outcome outcome)
{
	switch (outcome) {
	case VH_PASS:
		return "PASS";
	case VH_FAIL:
		return "FAIL";
	case VH_CONFIG:
		return "ERROR";
	case VH_FAULT:
		return "HARNESS FAULT";
	default:
		return verdict_cancelled(outcome) ? "CANCELLED" : "HARNESS FAULT";
	}
}

bool verdict_cancelled(enum vh_outcome outcome)
{
	return outcome == VH_CANCELLED_HUP || outcome == VH_CANCELLED_INT ||
	       outcome == VH_CANCELLED_TERM;
}

int verdict_write_junit(const char *dir, const char *scenario, double seconds,
			enum vh_outcome outcome, const char *message, const char *details,
			char *err, size_t errlen)
{
	char path[1100];
	snprintf(path, sizeof(path), "%s/junit.xml", dir);
	struct junit_case jc = {
		.name = scenario, .classname = "vharness", .seconds = seconds, .status = outcome,
		.message = message, .details = details,
	};
	return junit_write(path, &jc, 1, err, errlen) < 0 ? -1 : 0;
}

void verdict_record(struct vh_run *run, double seconds)
{
	const struct run_config *cfg = run_config(run);
	enum vh_outcome outcome = run_outcome(run);
	const char *message = run_message(run);
	char secs[32], busiest[32], busiest_cpu[32];
	snprintf(secs, sizeof(secs), "\x01%.3f", seconds);
	/* How long the loop was deaf at worst: every console went unread that
	 * long. */
	snprintf(busiest, sizeof(busiest), "\x01%.1f",
		 (double)ev_busiest_turn_us(run_loop(run)) / 1000.0);
	snprintf(busiest_cpu, sizeof(busiest_cpu), "\x01%.1f",
		 (double)ev_busiest_turn_cpu_us(run_loop(run)) / 1000.0);
	const char *kv[] = { "verdict", verdict_name(outcome), "seconds", secs,
			     "loop_busiest_turn_ms", busiest, "loop_busiest_turn_cpu_ms", busiest_cpu,
			     message ? "message" : NULL, message, NULL };
	run_event(run, "verdict", kv);
	char err[600];
	if (verdict_write_junit(cfg->artifacts_dir, cfg->scenario_path, seconds, outcome, message,
				run_details(run), err, sizeof(err)) < 0)
		fprintf(stderr, "vharness: %s\n", err);
}
