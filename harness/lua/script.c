/* The scenario's Lua state and its coroutines: see script.h. */
#include "script.h"

#include "ev.h"
#include "run.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How often the count hook looks at the deadline and Ctrl-C: a few
 * thousand instructions take well under a millisecond, and the check is a
 * clock read. */
enum { HOOK_INSTRUCTIONS = 10000 };

static const char THREADS_KEY = 't'; /* registry table anchoring live coroutines */
/* Coroutines script_abandon left: still anchored, since waits in flight
 * hold them, but never resumed. */
static const char ABANDONED_KEY = 'a';

struct pending {
	struct pending *next;
	struct script *s;
	lua_State *co;
	int nargs;
	uint64_t defer;
};

struct script {
	struct vh_run *run;
	lua_State *L;
	lua_State *main_co;
	int live; /* coroutines started and not finished, the main chunk's included */
	bool main_done;
	bool abandoned; /* script_abandon ran: resume checks ABANDONED_KEY */
	bool waiting;	/* the running coroutine's yield is a registered wait */
	int find_ref;
	struct pending *pending;
	struct script_window *windows;
	/* While the hook asks the run whether to stop: where the scenario is. */
	lua_State *hook_L;
	lua_Debug *hook_ar;
};

struct script *script_of(lua_State *L)
{
	return *(struct script **)lua_getextraspace(L);
}

struct vh_run *script_run(const struct script *s)
{
	return s->run;
}

bool script_dry_run(const struct script *s)
{
	return run_config(s->run)->dry_run;
}

lua_State *script_main_state(const struct script *s)
{
	return s->L;
}

void script_push_find(lua_State *L)
{
	lua_rawgeti(L, LUA_REGISTRYINDEX, script_of(L)->find_ref);
}

bool script_is_main(struct script *s, lua_State *co)
{
	return co == s->main_co;
}

/* "file:line" of the innermost Lua function on co's stack; "" if none. */
static void lua_where(lua_State *co, char *out, size_t len)
{
	lua_Debug ar;
	out[0] = '\0';
	for (int level = 0; lua_getstack(co, level, &ar); level++) {
		if (lua_getinfo(co, "Sl", &ar) && ar.currentline > 0) {
			snprintf(out, len, "%s:%d", ar.short_src, ar.currentline);
			return;
		}
	}
}

/* For the deadline's message: where the scenario is stuck. */
static void where_now(void *ctx, char *out, size_t len)
{
	struct script *s = ctx;
	out[0] = '\0';
	if (s->hook_L) {
		if (lua_getinfo(s->hook_L, "Sl", s->hook_ar) && s->hook_ar->currentline > 0)
			snprintf(out, len, "%s:%d", s->hook_ar->short_src, s->hook_ar->currentline);
		return;
	}
	if (!s->main_done && s->main_co) {
		lua_where(s->main_co, out, len);
		return;
	}
	/* The main chunk returned: a spawned coroutine holds the run. */
	lua_State *L = s->L;
	lua_rawgetp(L, LUA_REGISTRYINDEX, &THREADS_KEY);
	lua_pushnil(L);
	while (!out[0] && lua_next(L, -2)) {
		lua_pop(L, 1);
		lua_State *co = lua_tothread(L, -1);
		if (co)
			lua_where(co, out, len);
	}
	if (out[0])
		lua_pop(L, 1); /* the key lua_next left */
	lua_pop(L, 1);
}

/* Stops a scenario busy in Lua: at the deadline, on Ctrl-C, or once the run
 * has its verdict. The yield cannot be caught by pcall. */
static void count_hook(lua_State *L, lua_Debug *ar)
{
	struct script *s = script_of(L);
	s->hook_L = L;
	s->hook_ar = ar;
	bool stop = run_poll(s->run);
	s->hook_L = NULL;
	s->hook_ar = NULL;
	if (!stop)
		return;
	if (lua_isyieldable(L)) {
		/* In a hook lua_yield returns; the VM yields once the hook does. */
		lua_yield(L, 0);
		return;
	}
	/* Inside a C call (a metamethod, a sort comparator): unwind to a
	 * point that can yield; the next tick stops it there. */
	luaL_error(L, "scenario stopped: %s", run_message(s->run) ? run_message(s->run) : "");
}

static int os_exit_refused(lua_State *L)
{
	return luaL_error(L, "os.exit() would end vharness without a verdict: a scenario passes "
			     "by returning and fails with error() or vh.check()");
}

struct script *script_new(struct vh_run *run)
{
	struct script *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->run = run;
	s->L = luaL_newstate();
	if (!s->L) {
		free(s);
		return NULL;
	}
	lua_State *L = s->L;
	/* Every coroutine copies the main thread's extra space: the script. */
	*(struct script **)lua_getextraspace(L) = s;
	luaL_openlibs(L);
	lua_newtable(L);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &THREADS_KEY);
	lua_getglobal(L, "string");
	lua_getfield(L, -1, "find");
	s->find_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_pop(L, 1);
	lua_getglobal(L, "os");
	lua_pushcfunction(L, os_exit_refused);
	lua_setfield(L, -2, "exit");
	lua_pop(L, 1);
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
	lua_pushcfunction(L, luaopen_vharness);
	lua_setfield(L, -2, "vharness");
	lua_pop(L, 1);
	/* Threads inherit the hook of the thread that creates them. */
	lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_INSTRUCTIONS);
	run_set_where(run, where_now, s);
	return s;
}

void script_free(struct script *s)
{
	if (!s)
		return;
	while (s->pending) {
		struct pending *p = s->pending;
		s->pending = p->next;
		ev_cancel_defer(run_loop(s->run), p->defer);
		free(p);
	}
	while (s->windows) {
		struct script_window *w = s->windows;
		s->windows = w->next;
		free(w);
	}
	/* The run is gone by now (script.h): nothing to unhook there. */
	lua_close(s->L);
	free(s);
}

int script_raise(lua_State *L, enum vh_outcome kind, const char *details, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	luaL_where(L, 1);
	lua_pushvfstring(L, fmt, ap);
	va_end(ap);
	lua_concat(L, 2);
	lua_createtable(L, 0, 3);
	lua_pushinteger(L, kind);
	lua_setfield(L, -2, "kind");
	lua_insert(L, -2);
	lua_setfield(L, -2, "message");
	if (details) {
		lua_pushstring(L, details);
		lua_setfield(L, -2, "details");
	}
	luaL_setmetatable(L, "vh.failure");
	return lua_error(L);
}

/* --- coroutines --- */

static void forget_thread(struct script *s, lua_State *co)
{
	lua_State *L = s->L;
	lua_rawgetp(L, LUA_REGISTRYINDEX, &THREADS_KEY);
	lua_pushthread(co);
	lua_xmove(co, L, 1);
	lua_pushnil(L);
	lua_rawset(L, -3);
	lua_pop(L, 1);
	s->live--;
}

/* Creates a coroutine for the function on top of L and anchors it. */
static lua_State *new_coroutine(struct script *s, lua_State *L)
{
	lua_State *co = lua_newthread(L); /* fn co */
	lua_rawgetp(L, LUA_REGISTRYINDEX, &THREADS_KEY);
	lua_pushvalue(L, -2);
	lua_pushboolean(L, 1);
	lua_rawset(L, -3); /* fn co threads */
	lua_pop(L, 1);	   /* fn co */
	lua_insert(L, -2); /* co fn */
	lua_xmove(L, co, 1);
	lua_pop(L, 1);
	s->live++;
	return co;
}

static bool is_failure(lua_State *co, int idx)
{
	if (!lua_istable(co, idx) || !lua_getmetatable(co, idx))
		return false;
	luaL_getmetatable(co, "vh.failure");
	bool same = lua_rawequal(co, -1, -2);
	lua_pop(co, 2);
	return same;
}

/* Turns a coroutine's error object into the run's verdict. */
static void coroutine_failed(struct script *s, lua_State *co)
{
	if (is_failure(co, -1)) {
		lua_getfield(co, -1, "kind");
		enum vh_outcome kind = (enum vh_outcome)lua_tointeger(co, -1);
		lua_getfield(co, -2, "message");
		lua_getfield(co, -3, "details");
		if (kind != VH_FAIL && kind != VH_CONFIG && kind != VH_FAULT)
			kind = VH_CONFIG;
		run_finish(s->run, kind, lua_tostring(co, -2), lua_tostring(co, -1));
		return;
	}
	char where[300], msg[600];
	const char *text = lua_type(co, -1) == LUA_TSTRING ? lua_tostring(co, -1) : NULL;
	if (!text) {
		/* error({...}) carries no position: the innermost Lua frame has it. */
		lua_where(co, where, sizeof(where));
		snprintf(msg, sizeof(msg),
			 "%s%serror object is a %s, not a message: use error(\"text\")"
			 " or vh.check()",
			 where, where[0] ? ": " : "", luaL_typename(co, -1));
		text = msg;
	}
	/* A Lua error: the traceback shows the scenario's path to it. */
	luaL_traceback(co, co, text, 0);
	run_finish(s->run, VH_CONFIG, lua_tostring(co, -1), NULL);
}

static void close_windows(struct script *s)
{
	struct script_window *w = s->windows;
	while (w) {
		struct script_window *next = w->next;
		if (w->close) {
			w->close(w); /* unlinks (and frees) it */
			next = s->windows;
		}
		w = next;
	}
}

static void maybe_done(struct script *s)
{
	if (!s->main_done || s->live > 0 || run_finished(s->run))
		return;
	if (run_device_count(s->run) == 0) {
		char msg[1200];
		snprintf(msg, sizeof(msg),
			 "%s has nothing to run: it made no device (vh.device{...}, then "
			 "dut:power_on())",
			 run_config(s->run)->scenario_path);
		run_finish(s->run, VH_CONFIG, msg, NULL);
		return;
	}
	run_finish(s->run, VH_PASS, NULL, NULL);
}

static bool is_abandoned(struct script *s, lua_State *co)
{
	if (!s->abandoned)
		return false;
	lua_State *L = s->L;
	lua_rawgetp(L, LUA_REGISTRYINDEX, &ABANDONED_KEY);
	lua_pushthread(co);
	lua_xmove(co, L, 1);
	bool found = lua_rawget(L, -2) != LUA_TNIL;
	lua_pop(L, 2);
	return found;
}

static void resume(struct script *s, lua_State *co, int nargs)
{
	if (run_finished(s->run))
		return; /* nothing runs after the verdict */
	if (is_abandoned(s, co)) {
		lua_pop(co, nargs);
		return;
	}
	int nres = 0;
	s->waiting = false;
	struct ev_loop *loop = run_loop(s->run);
	unsigned was = ev_charge(loop, ev_component(loop, "scenario"));
	int status = lua_resume(co, NULL, nargs, &nres);
	ev_charge(loop, was);
	if (status == LUA_YIELD) {
		lua_pop(co, nres);
		if (run_finished(s->run))
			return; /* stopped by the hook, or by what this step did */
		/* A bare coroutine.yield() lets the others run, then continues. */
		if (!s->waiting)
			script_resume_soon(s, co, 0);
		return;
	}
	if (status == LUA_OK) {
		lua_pop(co, nres);
		bool main = co == s->main_co;
		forget_thread(s, co);
		if (main) {
			s->main_done = true;
			s->main_co = NULL;
			close_windows(s);
		}
		maybe_done(s);
		return;
	}
	coroutine_failed(s, co);
	lua_settop(co, 0);
	if (co == s->main_co)
		s->main_co = NULL;
	forget_thread(s, co);
}

static void on_pending(struct ev_loop *loop, void *arg)
{
	(void)loop;
	struct pending *p = arg;
	struct script *s = p->s;
	for (struct pending **pp = &s->pending; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	lua_State *co = p->co;
	int nargs = p->nargs;
	free(p);
	resume(s, co, nargs);
}

void script_resume_soon(struct script *s, lua_State *co, int nargs)
{
	struct pending *p = calloc(1, sizeof(*p));
	if (!p)
		abort();
	*p = (struct pending){ .next = s->pending, .s = s, .co = co, .nargs = nargs };
	s->pending = p;
	p->defer = ev_defer(run_loop(s->run), on_pending, p);
}

void script_spawn(struct script *s, lua_State *L)
{
	script_resume_soon(s, new_coroutine(s, L), 0);
}

int script_wait(lua_State *L, const char *what, lua_KContext ctx, lua_KFunction k)
{
	if (!lua_isyieldable(L))
		return luaL_error(L, "%s cannot wait here (inside a metamethod or C call)", what);
	script_of(L)->waiting = true;
	return lua_yieldk(L, 0, ctx, k);
}

void script_abandon(struct script *s)
{
	lua_State *L = s->L;
	/* Merge THREADS into ABANDONED (the first time, THREADS becomes it). */
	if (!s->abandoned) {
		lua_rawgetp(L, LUA_REGISTRYINDEX, &THREADS_KEY);
		lua_rawsetp(L, LUA_REGISTRYINDEX, &ABANDONED_KEY);
	} else {
		lua_rawgetp(L, LUA_REGISTRYINDEX, &ABANDONED_KEY);
		lua_rawgetp(L, LUA_REGISTRYINDEX, &THREADS_KEY);
		lua_pushnil(L);
		while (lua_next(L, -2)) {
			lua_pushvalue(L, -2);
			lua_insert(L, -2);
			lua_rawset(L, -5);
		}
		lua_pop(L, 2);
	}
	lua_newtable(L);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &THREADS_KEY);
	s->abandoned = true;
	s->live = 0;
	s->main_done = true;
	s->main_co = NULL;
}

void script_window_open(struct script *s, struct script_window *w)
{
	w->next = s->windows;
	s->windows = w;
}

void script_window_done(struct script *s, struct script_window *w)
{
	for (struct script_window **p = &s->windows; *p; p = &(*p)->next) {
		if (*p == w) {
			*p = w->next;
			return;
		}
	}
}

enum vh_outcome script_execute(struct script *s)
{
	struct vh_run *run = s->run;
	lua_State *L = s->L;
	if (run_finished(run))
		return run_outcome(run);
	if (luaL_loadfilex(L, run_config(run)->scenario_path, "t") != LUA_OK) {
		run_finish(run, VH_CONFIG, lua_tostring(L, -1), NULL);
		lua_pop(L, 1);
		return run_outcome(run);
	}
	s->main_co = new_coroutine(s, L);
	/* Before the loop runs: what a scenario sets up first (disks, networks)
	 * is not a turn that kept consoles unread. */
	resume(s, s->main_co, 0);
	ev_run(run_loop(run));
	if (!run_finished(run))
		run_finish(run, VH_FAULT, "the event loop failed", NULL);
	return run_outcome(run);
}
