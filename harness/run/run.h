/* One scenario run: the Lua state, its coroutines, the event loop, the
 * networks and devices, and the verdict. Everything a run creates is owned
 * here and released by run_teardown(), on every path out. */
#ifndef VH_RUN_H
#define VH_RUN_H

#include "artifacts.h"
#include "ev.h"
#include "impairment.h"

#include <lua.h>
#include <stdbool.h>
#include <stdint.h>

struct link_ctx;
struct vh_device;
struct vh_network;

/* Exit codes (DESIGN.md §7). */
enum vh_outcome { VH_PASS = 0, VH_FAIL = 1, VH_CONFIG = 2, VH_FAULT = 3 };

struct run_config {
	const char *scenario_path;
	const char *artifacts_dir; /* must exist */
	const char *image_dir;     /* reference firmware */
	const char *accel;         /* "auto", "tcg" or "kvm" */
	const char *backend;       /* impairments: "auto", "kernel" or "user"; NULL: auto */
	uint64_t seed;
	uint64_t timeout_ms;
	int verbose;
	bool dry_run; /* `check`: constructors validate, nothing boots, waits return at once */
	const char *const *defines; /* "key=value" from -D */
	int n_defines;
};

struct vh_run {
	struct run_config cfg;
	lua_State *L;
	struct ev_loop *loop;
	struct event_log *events;
	struct link_ctx *links;
	const char *accel;      /* resolved: "tcg" or "kvm" (NULL until first power-on) */
	enum impairment_backend backend; /* resolved before the scenario starts */
	char backend_why[256];  /* why that backend ("auto: sch_netem loads") */
	struct vh_device **devices;
	int n_devices;
	struct vh_network **networks;
	int n_networks;
	int live_coroutines;
	bool main_done;
	enum vh_outcome outcome;
	char *message;          /* why the run did not pass; NULL when it did */
	char *details;          /* longer context: last serial lines */
	double started;
	int find_ref;            /* string.find, for matching Lua patterns from C */
	bool waiter_registered; /* set by run_wait_begin during a resume */
	struct pending_resume *pending; /* scheduled by run_resume_soon */
};

/* Creates the Lua state with the `vharness` module preloaded. */
struct vh_run *run_new(const struct run_config *cfg);

/* Loads and runs the scenario to completion (or failure, timeout, signal).
 * Returns the outcome; run->message says why when it is not VH_PASS. */
enum vh_outcome run_execute(struct vh_run *run);

/* Powers off every device, removes links, writes junit.xml, frees everything. */
void run_free(struct vh_run *run);

/* Records the first failure of the run and stops the loop. Later calls
 * keep the first verdict (the cause, not its echoes). Takes copies. */
void run_finish(struct vh_run *run, enum vh_outcome outcome, const char *message, const char *details);

/* Writes one event to events.jsonl (kv: NULL-terminated key/value pairs). */
void run_event(struct vh_run *run, const char *event, const char *const *kv);

/* Coroutines: a waiting C function calls run_wait_begin() and yields with
 * lua_yieldk; the event that ends the wait calls run_resume() with the
 * values to hand back. run_resume must only be called from the event loop,
 * never from inside a running coroutine. */
void run_resume(struct vh_run *run, lua_State *co, int nargs);

/* Like run_resume, but on the next loop turn: the values are already on
 * co's stack. Safe from anywhere, including inside another coroutine and
 * inside a device's console handler. */
void run_resume_soon(struct vh_run *run, lua_State *co, int nargs);

/* Starts fn (a function at the top of L's stack, popped) as a new coroutine
 * on the next loop turn. */
void run_spawn(struct vh_run *run, lua_State *L);

/* Tells run_resume that the coroutine now yielding waits for an event (a
 * timer, console text, ...) that will resume it; a yield without this is a
 * bare coroutine.yield() and is resumed on the next loop turn. Coroutines
 * stay alive while they wait because the run anchors every one it starts. */
void run_wait_begin(struct vh_run *run);

/* The run that owns L (any of its coroutines). */
struct vh_run *run_from_lua(lua_State *L);

/* Raises a scenario failure (exit 1) at the script's current line: the
 * error object is a table {kind="fail", message=...} so failures are told
 * apart from Lua errors (exit 2) and harness faults (exit 3). Never returns. */
int run_raise(lua_State *L, enum vh_outcome kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Registers the `vharness` module (lua_vh.c). */
int luaopen_vharness(lua_State *L);

#endif
