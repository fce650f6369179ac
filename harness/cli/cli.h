/* Command-line parsing for `vharness`: a pure function from argv to options,
 * so every usage error is unit-tested. Strings point into argv. */
#ifndef VH_CLI_H
#define VH_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum cli_command {
	CLI_HELP,
	CLI_VERSION,
	CLI_RUN,
	CLI_CHECK,
	CLI_DOCTOR,
	CLI_NETEM,
	CLI_IMAGE,
	CLI_REPORT,
	CLI_SWEEP
};
enum cli_accel { CLI_ACCEL_AUTO, CLI_ACCEL_TCG, CLI_ACCEL_KVM };
/* Impairment backend (DESIGN.md §6): auto picks kernel where sch_netem loads. */
enum cli_backend { CLI_BACKEND_AUTO, CLI_BACKEND_KERNEL, CLI_BACKEND_USER };

#define CLI_MAX_SCENARIOS 256

struct cli_opts {
	enum cli_command command;
	const char *scenarios[CLI_MAX_SCENARIOS];
	int n_scenarios;
	const char *artifacts_dir; /* NULL: vharness-out/<scenario>/ */
	const char *image_dir;	   /* NULL: the build's default */
	/* --arch: the reference firmware's guest arch when a scenario names
	 * none, and `image build`'s; NULL: the host's */
	const char *arch;
	enum cli_accel accel;
	enum cli_backend backend;
	bool seed_set;
	uint64_t seed;
	int jobs;	     /* scenarios run at once, >= 1 */
	bool jobs_auto;	     /* --jobs auto: from cores and free memory */
	unsigned boot_slots; /* --boot-slots: guests booting at once; 0: auto */
	bool snapshot_boot;  /* --snapshot-boot: reference devices start from a saved boot */
	int repeat;	     /* --repeat N: each run N times with fresh seeds, >= 1 */
	/* --matrix KEY=v1,v2: every combination of the values as -D KEY=... */
	const char *matrix[8];
	int n_matrix;
	const char *timings; /* --timings FILE: durations that balance --shard */
	int shard_index;     /* 1-based; 0 when not sharded */
	int shard_count;
	int verbose; /* -v: echo serial output to stderr */
	bool quiet;  /* -q: the verdict only, no progress or notices */
	/* --sweep-point: a run of `vharness sweep`, steered by VH_SWEEP_* in its
	 * environment; without it they are ignored, so a stray variable in a
	 * shell cannot cut a normal run's power and swap its checks. */
	bool sweep_point;
	uint64_t timeout_ms; /* whole-scenario limit */
	/* -D key=value: scenario parameters, read with vh.param() */
	const char *defines[64];
	int n_defines;
	/* `netem`, `image`, `report` and `sweep`: the words after the command */
	int rest_argc;
	char **rest_argv;
};

/* Parses argv. Returns 0 on success; -1 with a one-line message in err on a
 * usage error (the caller exits 2). `--help`/`-h` anywhere selects CLI_HELP. */
int cli_parse(int argc, char **argv, struct cli_opts *o, char *err, size_t errlen);

/* True when scenario number i (0-based, in the order given) belongs to this
 * shard: scenarios are dealt round-robin so shards get similar counts. */
bool cli_in_shard(const struct cli_opts *o, int i);

void cli_usage(FILE *out);

#endif
