#include "run.h"

#include "device.h"
#include "link.h"
#include "network.h"
#include "lua_update_server.h"
#include "duration.h"

#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

static const char RUN_KEY = 'r';     /* registry key for the run pointer */
static const char THREADS_KEY = 't'; /* registry table anchoring live coroutines */

struct vh_run *run_from_lua(lua_State *L)
{
	lua_rawgetp(L, LUA_REGISTRYINDEX, &RUN_KEY);
	struct vh_run *run = lua_touserdata(L, -1);
	lua_pop(L, 1);
	return run;
}

struct vh_run *run_new(const struct run_config *cfg)
{
	struct vh_run *run = calloc(1, sizeof(*run));
	run->cfg = *cfg;
	run->loop = ev_loop_new();
	run->L = luaL_newstate();
	if (!run->loop || !run->L) {
		run_free(run);
		return NULL;
	}
	lua_State *L = run->L;
	luaL_openlibs(L);
	lua_pushlightuserdata(L, run);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &RUN_KEY);
	lua_newtable(L);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &THREADS_KEY);
	lua_getglobal(L, "string");
	lua_getfield(L, -1, "find");
	run->find_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_pop(L, 1);
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
	lua_pushcfunction(L, luaopen_vharness);
	lua_setfield(L, -2, "vharness");
	lua_pop(L, 1);
	return run;
}

void run_event(struct vh_run *run, const char *event, const char *const *kv)
{
	if (run->events)
		event_log_write(run->events, ev_now(run->loop), event, kv);
}

void run_finish(struct vh_run *run, enum vh_outcome outcome, const char *message, const char *details)
{
	if (run->message)
		return; /* the first verdict is the cause; later ones are its echoes */
	ev_stop(run->loop);
	if (outcome == VH_PASS)
		return;
	run->outcome = outcome;
	run->message = strdup(message ? message : "");
	/* A failing expect may have left the serial lines here already. */
	if (details) {
		free(run->details);
		run->details = strdup(details);
	}
}

int run_raise(lua_State *L, enum vh_outcome kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	luaL_where(L, 1);
	lua_pushvfstring(L, fmt, ap);
	va_end(ap);
	lua_concat(L, 2);
	lua_createtable(L, 0, 2);
	lua_pushinteger(L, kind);
	lua_setfield(L, -2, "kind");
	lua_insert(L, -2);
	lua_setfield(L, -2, "message");
	luaL_setmetatable(L, "vh.failure");
	return lua_error(L);
}

void run_wait_begin(struct vh_run *run)
{
	run->waiter_registered = true;
}

static void forget_thread(struct vh_run *run, lua_State *co)
{
	lua_State *L = run->L;
	lua_rawgetp(L, LUA_REGISTRYINDEX, &THREADS_KEY);
	lua_pushthread(co);
	lua_xmove(co, L, 1);
	lua_pushnil(L);
	lua_rawset(L, -3);
	lua_pop(L, 1);
	run->live_coroutines--;
}

/* Turns a coroutine's error object into the run's verdict. */
static void coroutine_failed(struct vh_run *run, lua_State *co)
{
	enum vh_outcome kind = VH_CONFIG;
	const char *msg = NULL;
	if (lua_istable(co, -1)) {
		lua_getfield(co, -1, "kind");
		kind = (enum vh_outcome)lua_tointeger(co, -1);
		lua_pop(co, 1);
		lua_getfield(co, -1, "message");
		msg = lua_tostring(co, -1);
		lua_pop(co, 1);
		if (kind < VH_FAIL || kind > VH_FAULT)
			kind = VH_CONFIG;
	} else {
		msg = lua_tostring(co, -1);
	}
	if (!msg)
		msg = "(error object is not a string)";
	if (kind == VH_CONFIG) {
		/* A Lua error: the traceback shows the scenario's path to it. */
		luaL_traceback(co, co, msg, 0);
		msg = lua_tostring(co, -1);
	}
	run_finish(run, kind, msg, NULL);
}

struct pending_resume {
	struct pending_resume *next;
	struct vh_run *run;
	lua_State *co;
	int nargs;
	uint64_t timer;
};

static void on_pending_resume(struct ev_loop *loop, uint64_t id, void *arg)
{
	(void)loop, (void)id;
	struct pending_resume *p = arg;
	struct vh_run *run = p->run;
	for (struct pending_resume **pp = &run->pending; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	lua_State *co = p->co;
	int nargs = p->nargs;
	free(p);
	run_resume(run, co, nargs);
}

void run_resume_soon(struct vh_run *run, lua_State *co, int nargs)
{
	struct pending_resume *p = calloc(1, sizeof(*p));
	if (!p)
		abort();
	*p = (struct pending_resume){ .next = run->pending, .run = run, .co = co, .nargs = nargs };
	run->pending = p;
	p->timer = ev_add_timer(run->loop, 0, on_pending_resume, p);
}

static bool is_main_thread(lua_State *co)
{
	lua_getfield(co, LUA_REGISTRYINDEX, "vh.main");
	bool is_main = lua_tothread(co, -1) == co;
	lua_pop(co, 1);
	return is_main;
}

void run_resume(struct vh_run *run, lua_State *co, int nargs)
{
	int nres = 0;
	run->waiter_registered = false;
	int status = lua_resume(co, NULL, nargs, &nres);
	if (status == LUA_YIELD) {
		lua_pop(co, nres);
		/* A bare coroutine.yield() lets the others run, then continues. */
		if (!run->waiter_registered)
			run_resume_soon(run, co, 0);
		return;
	}
	bool is_main = is_main_thread(co);
	if (status == LUA_OK) {
		lua_pop(co, nres);
		forget_thread(run, co);
		if (is_main) {
			run->main_done = true;
			run_finish(run, VH_PASS, NULL, NULL);
		}
		return;
	}
	coroutine_failed(run, co);
	lua_settop(co, 0);
	forget_thread(run, co);
}

/* Creates a coroutine for the function on top of L and anchors it. */
static lua_State *new_coroutine(struct vh_run *run, lua_State *L)
{
	lua_State *co = lua_newthread(L);     /* fn co */
	lua_rawgetp(L, LUA_REGISTRYINDEX, &THREADS_KEY);
	lua_pushvalue(L, -2);
	lua_pushboolean(L, 1);
	lua_rawset(L, -3);                    /* fn co threads */
	lua_pop(L, 1);                        /* fn co */
	lua_insert(L, -2);                    /* co fn */
	lua_xmove(L, co, 1);                  /* co */
	lua_pop(L, 1);
	run->live_coroutines++;
	return co;
}

void run_spawn(struct vh_run *run, lua_State *L)
{
	run_resume_soon(run, new_coroutine(run, L), 0);
}

static void on_signal(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct vh_run *run = arg;
	(void)loop, (void)events;
	struct signalfd_siginfo si;
	if (read(fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return;
	char msg[96];
	snprintf(msg, sizeof(msg), "interrupted by %s", strsignal((int)si.ssi_signo));
	run_finish(run, VH_FAULT, msg, NULL);
}

static void on_run_timeout(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct vh_run *run = arg;
	(void)loop, (void)id;
	char msg[128], d[32];
	snprintf(msg, sizeof(msg), "scenario did not finish within %s (--timeout)",
		 duration_format(run->cfg.timeout_ms, d, sizeof(d)));
	run_finish(run, VH_FAIL, msg, NULL);
}

/* The impairment backend is chosen in the run's own namespace, where it will
 * be used: sch_netem may load there even where the host has no netem qdisc.
 * A dry run boots nothing and probes nothing. 0, or -1 with the verdict set. */
static int resolve_backend(struct vh_run *run)
{
	const char *want = run->cfg.backend ? run->cfg.backend : "auto";
	char err[512];
	if (run->cfg.dry_run) {
		run->backend = !strcmp(want, "kernel") ? IMPAIRMENT_KERNEL : IMPAIRMENT_USER;
		snprintf(run->backend_why, sizeof(run->backend_why), "not probed (check)");
		return 0;
	}
	if (impairment_resolve(want, &run->backend, run->backend_why, sizeof(run->backend_why), err,
			       sizeof(err)) < 0) {
		run_finish(run, VH_CONFIG, err, NULL);
		return -1;
	}
	fprintf(stderr, "vharness: %s: impairment backend %s (%s)\n", run->cfg.scenario_path,
		impairment_backend_name(run->backend), run->backend_why);
	return 0;
}

enum vh_outcome run_execute(struct vh_run *run)
{
	char err[512];
	lua_State *L = run->L;
	int sigfd = -1;
	if (!run->cfg.dry_run) {
		char path[1024];
		snprintf(path, sizeof(path), "%s/events.jsonl", run->cfg.artifacts_dir);
		run->events = event_log_open(path, err, sizeof(err));
		if (!run->events) {
			run_finish(run, VH_CONFIG, err, NULL);
			return run->outcome;
		}
		sigset_t mask;
		sigemptyset(&mask);
		sigaddset(&mask, SIGINT);
		sigaddset(&mask, SIGTERM);
		sigaddset(&mask, SIGHUP);
		sigprocmask(SIG_BLOCK, &mask, NULL);
		sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
		if (sigfd >= 0)
			ev_add_fd(run->loop, sigfd, EPOLLIN, on_signal, run);
		run->links = link_ctx_new(err, sizeof(err));
		if (!run->links || link_lo_up(run->links, err, sizeof(err)) < 0) {
			run_finish(run, VH_FAULT, err, NULL);
			goto out;
		}
	}
	if (resolve_backend(run) < 0)
		goto out;
	char seed[32], pid[32];
	snprintf(seed, sizeof(seed), "\x01%llu", (unsigned long long)run->cfg.seed);
	/* The pid names the run's namespaces (/proc/PID/ns/net) for debugging. */
	snprintf(pid, sizeof(pid), "\x01%d", (int)getpid());
	const char *kv[] = { "scenario", run->cfg.scenario_path, "seed", seed, "pid", pid,
			     "impairment_backend", impairment_backend_name(run->backend),
			     "impairment_backend_why", run->backend_why, NULL };
	run_event(run, "run_start", kv);

	if (luaL_loadfilex(L, run->cfg.scenario_path, "t") != LUA_OK) {
		run_finish(run, VH_CONFIG, lua_tostring(L, -1), NULL);
		lua_pop(L, 1);
		goto out;
	}
	lua_State *co = new_coroutine(run, L);
	lua_pushthread(co);
	lua_xmove(co, L, 1);
	lua_setfield(L, LUA_REGISTRYINDEX, "vh.main");
	ev_add_timer(run->loop, run->cfg.timeout_ms, on_run_timeout, run);
	run_resume(run, co, 0);
	ev_run(run->loop);
out:
	if (sigfd >= 0) {
		ev_del_fd(run->loop, sigfd);
		close(sigfd);
	}
	return run->outcome;
}

void run_free(struct vh_run *run)
{
	if (!run)
		return;
	for (int i = 0; i < run->n_devices; i++)
		device_free(run->devices[i]);
	if (run->L)
		lua_update_server_free_all(run->L);
	while (run->pending) {
		struct pending_resume *p = run->pending;
		run->pending = p->next;
		ev_del_timer(run->loop, p->timer);
		free(p);
	}
	for (int i = 0; i < run->n_networks; i++) {
		network_stop_capture(run->networks[i]); /* while the bridge still exists */
		if (run->links && !run->cfg.dry_run)
			link_delete(run->links, run->networks[i]->bridge, NULL, 0);
		network_free(run->networks[i]);
	}
	free(run->devices);
	free(run->networks);
	if (run->links)
		link_ctx_free(run->links);
	if (run->events)
		event_log_close(run->events);
	if (run->L)
		lua_close(run->L);
	if (run->loop)
		ev_loop_free(run->loop);
	free(run->message);
	free(run->details);
	free(run);
}
