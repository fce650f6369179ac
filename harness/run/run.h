/* One scenario run, without the scenario's language: the event loop, the
 * run's networks, devices and update servers, its events.jsonl, the
 * deadline, Ctrl-C, and the verdict. Everything a run creates is owned here
 * and released by run_free(), on every path out. The Lua layer (harness/lua)
 * drives it; nothing here knows Lua. */
#ifndef VH_RUN_H
#define VH_RUN_H

#include "impairment.h"
#include "outcome.h"
#include "progress_term.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ev_loop;
struct update_server;
struct vh_device;
struct vh_firmware;
struct vh_network;
struct vh_run;

struct run_config {
	const char *scenario_path;
	const char *artifacts_dir; /* must exist; unused in a dry run */
	const char *image_dir;	   /* reference firmware: the root (ab_boot_image_dir) */
	/* The reference firmware's guest arch when a scenario names none
	 * ("x86_64", "aarch64"); NULL: the host's. */
	const char *arch;
	const char *accel;   /* "auto", "tcg" or "kvm" */
	const char *backend; /* impairments: "auto", "kernel" or "user"; NULL: auto */
	uint64_t seed;
	uint64_t timeout_ms;
	/* Guests that boot at once (boot_gate.h); 0: twice the online cores. */
	unsigned boot_slots;
	/* Reference devices start from a snapshot (harness/machine/snapshot.h),
	 * kept under artifacts_dir/snapshots. */
	bool snapshot_boot;
	int verbose;
	/* Live progress on stderr (progress_term.h); { PROGRESS_OFF } none. */
	struct progress_choice progress;
	bool quiet;	  /* -q: the harness's notices and vh.log lines are not printed */
	bool dry_run;	  /* `check`: everything on paper, nothing boots, waits return at once */
	bool sweep_point; /* a run of `vharness sweep`: VH_SWEEP_* steer it (lua_sweep.h) */
	const char *const *defines; /* "key=value" from -D */
	int n_defines;
};

/* Creates the run (its loop; nothing outside the process yet). NULL when
 * out of memory. */
struct vh_run *run_new(const struct run_config *cfg);

/* Starts the run for real: events.jsonl, Ctrl-C/SIGTERM handling, the
 * namespace's loopback, the impairment backend (said on stderr), the
 * deadline, and the run_start event. A dry run does none of it. 0, or -1
 * with the verdict set (run_outcome). */
int run_start(struct vh_run *run);

/* Shuts the devices down (all at once, a short grace each), then frees the
 * servers, the networks (captures, links) and everything else. NULL is
 * ignored. */
void run_free(struct vh_run *run);

const struct run_config *run_config(const struct vh_run *run);
struct ev_loop *run_loop(struct vh_run *run);
/* Seconds since the run started, on the monotonic clock. */
double run_now(const struct vh_run *run);
enum impairment_backend run_backend(const struct vh_run *run);

/* Writes one event to events.jsonl (kv: NULL-terminated key/value pairs;
 * a value starting with '\x01' is a raw JSON number or literal). */
void run_event(struct vh_run *run, const char *event, const char *const *kv);

/* Prints a line (printf format, no newline) on stderr for the person
 * watching: above the progress block if there is one, nothing with -q. */
void run_say(struct vh_run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records the run's verdict and stops the loop. The first verdict is the
 * cause and stays: later calls are its echoes. A pass is recorded too (so
 * nothing can turn it into another verdict afterwards, and nothing can turn
 * another verdict into a pass). details is the long context (serial lines);
 * both are copied. */
void run_finish(struct vh_run *run, enum vh_outcome outcome, const char *message,
		const char *details);
bool run_finished(const struct vh_run *run);
enum vh_outcome run_outcome(const struct vh_run *run);
const char *run_message(const struct vh_run *run); /* NULL when it passed */
const char *run_details(const struct vh_run *run); /* NULL when none */

/* Where the scenario is now ("scenario.lua:12"), for the deadline's
 * message; set by whoever runs the scenario. */
typedef void (*run_where_fn)(void *ctx, char *out, size_t len);
void run_set_where(struct vh_run *run, run_where_fn fn, void *ctx);

/* Checks the deadline and pending signals without the loop, for code that
 * runs long without returning to it (a scenario's busy loop): records the
 * verdict when one is due. True when the run has a verdict and should stop. */
bool run_poll(struct vh_run *run);

/* Adds a network; a name in use or a subnet that overlaps another network's
 * is a configuration error naming both. subnet NULL: the first 10.77.N.0/24
 * that no network of the run overlaps. NULL with err. */
struct vh_network *run_add_network(struct vh_run *run, const char *name, const char *subnet,
				   char *err, size_t errlen);

struct run_device_spec {
	const char *name;
	struct vh_network *network; /* NULL: no NIC */
	const char *server;	    /* "ip:port" or NULL */
	unsigned memory_mib;
	const struct vh_firmware *fw;
};
/* Adds a device (on its network, with its flash and console). NULL with err
 * and *status: VH_CONFIG for a name in use, VH_FAULT when it cannot be made. */
struct vh_device *run_add_device(struct vh_run *run, const struct run_device_spec *spec,
				 enum vh_outcome *status, char *err, size_t errlen);
int run_device_count(const struct vh_run *run);
struct vh_device *run_device(struct vh_run *run, int index);
struct vh_device *run_find_device(struct vh_run *run, const char *name);

/* Runs fn(arg) off the loop and done(arg) on it (base/work.h); a job still
 * running when the run ends is waited for, first thing in run_free, and its
 * done is not called. false when no thread could be started. */
bool run_work(struct vh_run *run, void (*fn)(void *arg), void (*done)(void *arg), void *arg);

/* Hands an update server to the run, which frees it after the devices and
 * before the networks. */
void run_adopt_server(struct vh_run *run, struct update_server *server);

#endif
