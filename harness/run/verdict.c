/* Telling the verdict: see verdict.h. */
#include "verdict.h"

#include "artifacts.h"
#include "ev.h"
#include "run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
		.name = scenario,
		.classname = "vharness",
		.seconds = seconds,
		.status = outcome,
		.message = message,
		.details = details,
	};
	return junit_write(path, &jc, 1, err, errlen) < 0 ? -1 : 0;
}

/* The loop's CPU milliseconds by component, one "cpu_<component>_ms" key
 * each: what the console reader, the datapath, the update server... cost
 * this run. Appends to kv at *n; names and values live in the buffers. */
static void loop_cpu_kv(const struct ev_loop *loop, const char **kv, size_t *n, char (*names)[40],
			char (*values)[32])
{
	for (unsigned i = 0; i < ev_component_count(loop); i++) {
		snprintf(names[i], sizeof(names[i]), "cpu_%s_ms", ev_component_name(loop, i));
		snprintf(values[i], sizeof(values[i]), "\x01%.1f",
			 (double)ev_component_cpu_us(loop, i) / 1000.0);
		kv[(*n)++] = names[i];
		kv[(*n)++] = values[i];
	}
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
	char names[EV_COMPONENTS_MAX][40], values[EV_COMPONENTS_MAX][32];
	const char *kv[2 * (5 + EV_COMPONENTS_MAX) + 1] = {
		"verdict", verdict_name(outcome),      "seconds",  secs, "loop_busiest_turn_ms",
		busiest,   "loop_busiest_turn_cpu_ms", busiest_cpu
	};
	size_t n = 8;
	loop_cpu_kv(run_loop(run), kv, &n, names, values);
	if (message) {
		kv[n++] = "message";
		kv[n++] = message;
	}
	kv[n] = NULL;
	run_event(run, "verdict", kv);
	char err[600];
	if (verdict_write_junit(cfg->artifacts_dir, cfg->scenario_path, seconds, outcome, message,
				run_details(run), err, sizeof(err)) < 0 ||
	    verdict_write_file(cfg->artifacts_dir, outcome, seconds, cfg->seed, message,
			       run_details(run), err, sizeof(err)) < 0)
		fprintf(stderr, "vharness: %s\n", err);
}

struct verdict_text {
	enum vh_outcome outcome;
	double seconds;
	unsigned long long seed;
	const char *message, *details;
};

static int put_verdict(FILE *f, const void *arg)
{
	const struct verdict_text *v = arg;
	fprintf(f, "verdict %s\nexit %d\nseconds %.3f\nseed %llu\n", verdict_name(v->outcome),
		(int)v->outcome, v->seconds, v->seed);
	const char *texts[2] = { v->message, v->details }, *names[2] = { "message", "details" };
	for (int i = 0; i < 2; i++)
		if (texts[i])
			fprintf(f, "%s %zu\n%s\n", names[i], strlen(texts[i]), texts[i]);
	return 0;
}

int verdict_write_file(const char *dir, enum vh_outcome outcome, double seconds,
		       unsigned long long seed, const char *message, const char *details, char *err,
		       size_t errlen)
{
	char path[1100];
	snprintf(path, sizeof(path), "%s/verdict.txt", dir);
	struct verdict_text v = { outcome, seconds, seed, message, details };
	return artifacts_write_whole(path, put_verdict, &v, err, errlen);
}

/* Reads "name LENGTH\n" then LENGTH bytes and a newline. */
static char *read_text(FILE *f, const char *line, const char *name)
{
	size_t n = strlen(name);
	if (strncmp(line, name, n) || line[n] != ' ')
		return NULL;
	unsigned long len = strtoul(line + n + 1, NULL, 10);
	if (len > 16u << 20)
		return NULL;
	char *text = malloc(len + 1);
	if (!text)
		return NULL;
	if (fread(text, 1, len, f) != len) {
		free(text);
		return NULL;
	}
	text[len] = '\0';
	fgetc(f); /* its newline */
	return text;
}

int verdict_read_file(const char *dir, struct verdict_file *out)
{
	memset(out, 0, sizeof(*out));
	char path[1100], line[256];
	snprintf(path, sizeof(path), "%s/verdict.txt", dir);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	int fields = 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "exit %d", &out->outcome) == 1 ||
		    sscanf(line, "seconds %lf", &out->seconds) == 1 ||
		    sscanf(line, "seed %llu", &out->seed) == 1)
			fields++;
		else if (!out->message && (out->message = read_text(f, line, "message")))
			continue;
		else if (!out->details && (out->details = read_text(f, line, "details")))
			continue;
	}
	fclose(f);
	if (fields < 3) {
		verdict_file_free(out);
		return -1;
	}
	return 0;
}

void verdict_file_free(struct verdict_file *v)
{
	free(v->message);
	free(v->details);
	v->message = v->details = NULL;
}
