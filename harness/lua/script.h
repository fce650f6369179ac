/* The scenario: a Lua 5.4 state on a run (run.h), its coroutines on the
 * run's loop (after nmap NSE: a C call that waits starts the request and
 * yields; the completion resumes the coroutine), and the rules that make
 * every scenario end with an honest verdict:
 *
 *   - the run ends when the main chunk has returned and every coroutine it
 *     spawned has finished; a spawned coroutine's error fails the run with
 *     its own file:line, whenever it happens;
 *   - when the main chunk returns, the watch windows of spawned expect_not
 *     calls close (what they watch for did not happen during the scenario);
 *     every other wait of a spawned coroutine is waited for, within the
 *     run's --timeout;
 *   - a count hook checks the deadline and Ctrl-C every few thousand Lua
 *     instructions, so a scenario busy in Lua is stopped too: it yields the
 *     coroutine for good (pcall cannot catch a yield);
 *   - os.exit raises an error: a scenario cannot leave without a verdict;
 *   - a scenario that made no device has nothing to run (exit 2). */
#ifndef VH_SCRIPT_H
#define VH_SCRIPT_H

#include "outcome.h"

#include <lua.h>
#include <stdbool.h>

struct script;
struct vh_run;

/* A Lua state with the vharness module preloaded, on run. NULL when out of
 * memory. */
struct script *script_new(struct vh_run *run);
/* Closes the state. Call after run_free: the devices its objects name are
 * gone by then, and nothing resumes a coroutine any more. */
void script_free(struct script *s);

/* Loads and runs the scenario at the run's scenario_path until the run has
 * its verdict, which it returns. */
enum vh_outcome script_execute(struct script *s);

/* --- for the bindings --- */

/* The script (and run) that owns L, any of its coroutines. */
struct script *script_of(lua_State *L);
struct vh_run *script_run(const struct script *s);
bool script_dry_run(const struct script *s);
/* The main state, for matching Lua patterns from C (string.find). */
lua_State *script_main_state(const struct script *s);
/* Pushes string.find. */
void script_push_find(lua_State *L);

/* Yields the calling coroutine until something resumes it with
 * script_resume_soon; k continues the call. Raises when the caller cannot
 * yield (inside a metamethod or a C call). what names the call. */
int script_wait(lua_State *L, const char *what, lua_KContext ctx, lua_KFunction k);

/* Resumes co on the next loop turn with the nargs values already pushed on
 * co's stack. Safe from anywhere: a console handler, another coroutine. */
void script_resume_soon(struct script *s, lua_State *co, int nargs);

/* Starts the function on top of L's stack (popped) as a new coroutine on
 * the next loop turn. */
void script_spawn(struct script *s, lua_State *L);

/* Stops the scenario where it is, for good: every coroutine (the main
 * chunk's included) is never resumed again, whatever its waits bring, and
 * the run ends once the coroutines spawned after this have finished
 * (vharness sweep: the scenario is interrupted at its cut point and the
 * after-loss check runs in its place). Call from the loop, not from
 * inside a coroutine. */
void script_abandon(struct script *s);

/* A wait on a device that a binding started: the record is malloc'd with
 * this struct first, opened when the wait starts and done (unlinked, not
 * freed) when it ends; script_free frees the ones still open (their waits
 * were dropped with their devices). close, when set, makes it a window
 * that closes when the main chunk returns (expect_not in a spawned
 * coroutine): close must end the wait and resume its coroutine. */
struct script_window {
	struct script_window *next;
	lua_State *co;
	void (*close)(struct script_window *w);
};
void script_window_open(struct script *s, struct script_window *w);
void script_window_done(struct script *s, struct script_window *w);
/* True for the main chunk's coroutine. */
bool script_is_main(struct script *s, lua_State *co);

/* Raises a scenario failure at the script's current line: the error object
 * is a table {kind=, message=, details=} so failures are told apart from Lua
 * errors (exit 2) and harness faults (exit 3), and carry their own serial
 * lines (details, may be NULL). Never returns. */
int script_raise(lua_State *L, enum vh_outcome kind, const char *details, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Registers the `vharness` module (lua_vh.c). */
int luaopen_vharness(lua_State *L);

#endif
