/* A suite: what `vharness run` will run, planned before anything starts.
 * Scenario arguments that are directories stand for every *.lua under them
 * (sorted); each scenario runs once per combination of --matrix values and
 * --repeat times; each run has an id that names its artifacts directory and
 * its testcase in the aggregate junit.xml, and its own seed. --shard I/N
 * takes every Nth run, or, given --timings from an earlier run, balances
 * the shards by those durations (longest first, each to the lightest
 * shard), so every shard of a CI matrix plans the same split. */
#ifndef VH_SUITE_H
#define VH_SUITE_H

#include "cli.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct suite_run {
	char *scenario; /* the file */
	char *id;	/* "flaky_ota", "flaky_ota.bugs=no-backoff", "boot.r2", ... */
	char *params;	/* the --matrix values of this run, "k=v k=v" ("" without) */
	/* -D values: the command line's, then this run's matrix values (which
	 * win: vh.param reads the last one given) */
	const char **defines;
	int n_defines;
	int repeat; /* 1..--repeat */
	uint64_t seed;
	double expected_s; /* from --timings; negative when unknown */
	bool in_shard;
};

struct suite {
	struct suite_run *runs;
	int n;
};

/* Plans the suite of o: expands directories, matrix and repeats, gives
 * seeds (--seed S: S, S+1, ... for the repeats; else random_seed() each),
 * reads --timings and picks this shard's runs. 0, or -1 with err (a
 * directory without scenarios, two runs with the same id, a bad timings
 * file). */
int suite_plan(const struct cli_opts *o, uint64_t (*random_seed)(void), struct suite *out,
	       char *err, size_t errlen);
void suite_free(struct suite *s);

/* How many runs are in this shard. */
int suite_count_in_shard(const struct suite *s);

#endif
