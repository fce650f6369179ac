/* Lua bindings for devices: dut:power_on(), dut:expect(), ... (DESIGN.md §4).
 * Every call that waits starts its request on the device and yields; the
 * device's completion resumes the coroutine. */
#include "lua_device.h"

#include "ab_boot.h"
#include "console.h"
#include "device.h"
#include "duration.h"
#include "expect.h"
#include "lua_util.h"
#include "run.h"
#include "script.h"
#include "user_fw.h"

#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEVICE_MT "vh.device"

/* The continuation finds the call's arguments (self, pattern, timeout,
 * options) where the call left them, and the wait's start time after them. */
#define WAIT_STARTED_INDEX 5

enum expect_flags { EXPECT_TRY = 1, EXPECT_REGEX = 2 };

void lua_device_push(lua_State *L, struct vh_device *dev)
{
	struct vh_device **box = lua_newuserdatauv(L, sizeof(*box), 0);
	*box = dev;
	luaL_setmetatable(L, DEVICE_MT);
}

struct vh_device *lua_device_check(lua_State *L, int arg)
{
	struct vh_device **box = luaL_checkudata(L, arg, DEVICE_MT);
	return *box;
}

static struct vh_run *run_of(lua_State *L)
{
	return script_run(script_of(L));
}

static void device_event(lua_State *L, const char *event, const char *const *kv)
{
	run_event(run_of(L), event, kv);
}

/* --- requests: power_on, reset, link, send --- */

/* The device's answer, pushed for the continuation: (status, err). */
static void on_request_done(void *arg, enum vh_outcome status, const char *err)
{
	lua_State *co = arg;
	lua_pushinteger(co, status);
	err ? (void)lua_pushstring(co, err) : lua_pushnil(co);
	script_resume_soon(script_of(co), co, 2);
}

/* Continuation of a request: raises its failure at the script's line. */
static int request_k(lua_State *L, int status, lua_KContext ctx)
{
	(void)status;
	const char *what = (const char *)ctx;
	enum vh_outcome result = (enum vh_outcome)lua_tointeger(L, -2);
	if (result == VH_PASS)
		return 0;
	return script_raise(L, result, NULL, "%s: %s", what, lua_tostring(L, -1));
}

static int device_power_on_l(lua_State *L)
{
	struct vh_device *dev = lua_device_check(L, 1);
	if (script_dry_run(script_of(L)))
		return 0;
	device_power_on(dev, on_request_done, L);
	return script_wait(L, "power_on", (lua_KContext) "power_on", request_k);
}

static int device_send_l(lua_State *L)
{
	struct vh_device *dev = lua_device_check(L, 1);
	size_t len;
	const char *text = luaL_checklstring(L, 2, &len);
	if (script_dry_run(script_of(L)))
		return 0;
	const char *kv[] = { "device", device_name(dev), "text", text, NULL };
	device_event(L, "send", kv);
	device_send(dev, text, len, on_request_done, L);
	return script_wait(L, "send", (lua_KContext) "send", request_k);
}

static int device_reset_l(lua_State *L)
{
	struct vh_device *dev = lua_device_check(L, 1);
	if (script_dry_run(script_of(L)))
		return 0;
	device_reset(dev, on_request_done, L);
	return script_wait(L, "reset", (lua_KContext) "reset", request_k);
}

static int device_link_l(lua_State *L)
{
	struct vh_device *dev = lua_device_check(L, 1);
	luaL_checktype(L, 2, LUA_TBOOLEAN);
	if (script_dry_run(script_of(L)))
		return 0;
	device_set_link(dev, lua_toboolean(L, 2), on_request_done, L);
	return script_wait(L, "link", (lua_KContext) "link", request_k);
}

/* --- console waits: expect, try_expect, expect_not, power_cut{on=} --- */

/* A Lua pattern matched with string.find on the main state, or an ERE. */
struct pattern {
	struct script *s;
	char *text;
	struct expect_regex *re;
};

static bool pattern_match(void *ctx, const char *str, size_t len, size_t *end)
{
	struct pattern *p = ctx;
	if (p->re)
		return expect_match_regex(p->re, str, len, end);
	lua_State *L = script_main_state(p->s);
	int top = lua_gettop(L);
	script_push_find(L);
	lua_pushlstring(L, str, len);
	lua_pushstring(L, p->text);
	bool found = false;
	/* string.find(s, pattern) -> start, end | nil; the pattern was validated
	 * when the wait began, so an error here is not expected. */
	if (lua_pcall(L, 2, 2, 0) == LUA_OK && lua_isinteger(L, -1)) {
		*end = (size_t)lua_tointeger(L, -1);
		found = true;
	}
	lua_settop(L, top);
	return found;
}

static void pattern_free(void *ctx)
{
	struct pattern *p = ctx;
	expect_regex_free(p->re);
	free(p->text);
	free(p);
}

/* Checks (pattern, timeout, {regex=}) at 2, 3, 4 now, so a bad one fails at
 * the script's line, and makes the matcher. */
static struct console_matcher check_matcher(lua_State *L, uint64_t *timeout_ms,
					    const char *default_timeout, bool *regex)
{
	luaL_checkstring(L, 2);
	*timeout_ms = lua_util_check_duration(L, 3, default_timeout);
	*regex = false;
	if (!lua_isnoneornil(L, 4)) {
		luaL_checktype(L, 4, LUA_TTABLE);
		static const char *const fields[] = { "regex", NULL };
		lua_util_check_fields(L, 4, "expect options", fields);
		lua_getfield(L, 4, "regex");
		*regex = lua_toboolean(L, -1);
		lua_pop(L, 1);
	}
	return lua_device_matcher(L, 2, *regex);
}

struct console_matcher lua_device_matcher(lua_State *L, int arg, bool regex)
{
	const char *text = luaL_checkstring(L, arg);
	struct expect_regex *re = NULL;
	if (regex) {
		char err[256];
		re = expect_regex_new(text, err, sizeof(err));
		if (!re)
			luaL_argerror(L, arg, err);
	} else {
		const char *why = lua_util_pattern_error(text);
		if (why)
			luaL_argerror(L, arg, why);
	}
	struct pattern *p = calloc(1, sizeof(*p));
	if (!p)
		abort();
	p->s = script_of(L);
	p->text = strdup(text);
	p->re = re;
	return (struct console_matcher){ .match = pattern_match, .free = pattern_free, .ctx = p };
}

/* One Lua wait on a console; the record outlives the call until the wait
 * ends (script_window). */
struct lua_wait {
	struct script_window w; /* first: the script frees it at the end */
	struct console_wait *cw;
	bool closed_early;
};

static void on_console_wait(void *arg, bool ok, const char *text)
{
	struct lua_wait *lw = arg;
	lua_State *co = lw->w.co;
	struct script *s = script_of(co);
	script_window_done(s, &lw->w);
	free(lw);
	lua_pushboolean(co, ok);
	text ? (void)lua_pushstring(co, text) : lua_pushnil(co);
	script_resume_soon(s, co, 2);
}

/* expect_not in a spawned coroutine when the main chunk returns: the
 * pattern did not appear while the scenario ran. */
static void close_window(struct script_window *w)
{
	struct lua_wait *lw = (struct lua_wait *)w;
	console_wait_cancel(lw->cw);
	lua_State *co = w->co;
	struct script *s = script_of(co);
	script_window_done(s, w);
	free(lw);
	lua_pushboolean(co, 1);
	lua_pushliteral(co, "window closed at the end of the scenario");
	script_resume_soon(s, co, 2);
}

static struct lua_wait *lua_wait_new(lua_State *L, bool window)
{
	struct lua_wait *lw = calloc(1, sizeof(*lw));
	if (!lw)
		abort();
	lw->w.co = L;
	struct script *s = script_of(L);
	if (window && !script_is_main(s, L))
		lw->w.close = close_window;
	script_window_open(s, &lw->w);
	return lw;
}

static void expect_event(lua_State *L, struct vh_device *dev, const char *event,
			 const char *pattern, const char *result, const char *line, double seconds,
			 int flags)
{
	char secs[32];
	snprintf(secs, sizeof(secs), "\x01%.3f", seconds);
	const char *kv[13] = { "device", device_name(dev), "pattern", pattern,
			       "result", result,	   "seconds", secs };
	int n = 8;
	if (line)
		kv[n++] = "line", kv[n++] = line;
	/* try_expect: a miss is an answer the scenario asked for, not a
	 * failure; live progress tells the two apart by this. */
	if (flags & EXPECT_TRY)
		kv[n++] = "try", kv[n++] = "\x01true";
	kv[n] = NULL;
	device_event(L, event, kv);
}

/* Returns what a match hands back: a Lua pattern's captures, else the line. */
static int expect_results(lua_State *L, int flags, const char *line)
{
	if (!(flags & EXPECT_REGEX)) {
		int top = lua_gettop(L);
		script_push_find(L);
		lua_pushstring(L, line);
		lua_pushvalue(L, 2);
		lua_call(L, 2, LUA_MULTRET);
		int n = lua_gettop(L) - top;
		if (n > 2) {
			lua_remove(L, top + 1);
			lua_remove(L, top + 1);
			return n - 2;
		}
		lua_settop(L, top);
	}
	lua_pushstring(L, line);
	return 1;
}

static int expect_failed(lua_State *L, struct vh_device *dev, int flags, const char *why)
{
	char d[32];
	uint64_t timeout_ms = lua_util_check_duration(L, 3, "30s");
	const char *pattern = lua_tostring(L, 2);
	if (flags & EXPECT_TRY) {
		lua_pushnil(L);
		lua_pushfstring(L, "expect \"%s\" on %s: %s after %s", pattern, device_name(dev),
				why, duration_format(timeout_ms, d, sizeof(d)));
		return 2;
	}
	/* The failure carries its own serial lines: a failure caught by pcall
	 * leaves nothing behind for a later, unrelated one. */
	char *last = console_last_lines(device_console(dev));
	lua_pushstring(L, last);
	free(last);
	const char *last_lines = lua_tostring(L, -1);
	return script_raise(L, VH_FAIL, last_lines,
			    "expect \"%s\" on %s: %s (timeout %s)\nlast serial lines of %s:\n%s",
			    pattern, device_name(dev), why,
			    duration_format(timeout_ms, d, sizeof(d)), device_name(dev),
			    last_lines);
}

/* Continuation after the wait: the stack holds the call's arguments, the
 * start time, then (ok, line-or-reason). */
static int expect_k(lua_State *L, int status, lua_KContext ctx)
{
	(void)status;
	int flags = (int)ctx;
	struct vh_device *dev = lua_device_check(L, 1);
	bool ok = lua_toboolean(L, -2);
	const char *text = lua_tostring(L, -1);
	double seconds = run_now(run_of(L)) - lua_tonumber(L, WAIT_STARTED_INDEX);
	expect_event(L, dev, "expect", lua_tostring(L, 2), ok ? "matched" : "failed", text, seconds,
		     flags);
	if (ok)
		return expect_results(L, flags, text);
	return expect_failed(L, dev, flags, text ? text : "failed");
}

static void push_started(lua_State *L)
{
	lua_settop(L, WAIT_STARTED_INDEX - 1);
	lua_pushnumber(L, run_now(run_of(L)));
}

static int expect_common(lua_State *L, int flags)
{
	struct vh_device *dev = lua_device_check(L, 1);
	uint64_t timeout_ms;
	bool regex;
	struct console_matcher m = check_matcher(L, &timeout_ms, "30s", &regex);
	if (regex)
		flags |= EXPECT_REGEX;
	if (script_dry_run(script_of(L))) {
		/* `check` runs the script without guests: one stand-in per capture,
		 * "0", which the script can use as a string or as a number. */
		struct pattern *p = m.ctx;
		int n = regex ? 0 : lua_util_pattern_captures(p->text);
		m.free(m.ctx);
		for (int i = 0; i < (n ? n : 1); i++)
			lua_pushliteral(L, "0");
		return n ? n : 1;
	}
	struct console *console = device_console(dev);
	char line[1024];
	if (console_expect_now(console, &m, line, sizeof(line))) {
		m.free(m.ctx);
		expect_event(L, dev, "expect", lua_tostring(L, 2), "matched", line, 0, flags);
		return expect_results(L, flags, line);
	}
	if (!device_is_on(dev)) {
		m.free(m.ctx);
		char why[128];
		snprintf(why, sizeof(why), "%s is powered off", device_name(dev));
		return expect_failed(L, dev, flags, why);
	}
	push_started(L);
	struct lua_wait *lw = lua_wait_new(L, false);
	lw->cw = console_wait(console, CONSOLE_EXPECT, m, timeout_ms, on_console_wait, lw);
	return script_wait(L, "expect", flags, expect_k);
}

static int device_expect_l(lua_State *L)
{
	return expect_common(L, 0);
}

static int device_try_expect_l(lua_State *L)
{
	return expect_common(L, EXPECT_TRY);
}

static int expect_not_k(lua_State *L, int status, lua_KContext ctx)
{
	(void)status, (void)ctx;
	struct vh_device *dev = lua_device_check(L, 1);
	bool ok = lua_toboolean(L, -2);
	const char *line = lua_tostring(L, -1);
	double seconds = run_now(run_of(L)) - lua_tonumber(L, WAIT_STARTED_INDEX);
	expect_event(L, dev, "expect_not", lua_tostring(L, 2), ok ? "absent" : "seen",
		     ok ? NULL : line, seconds, 0);
	if (ok)
		return 0;
	char *last = console_last_lines(device_console(dev));
	lua_pushstring(L, last);
	free(last);
	return script_raise(L, VH_FAIL, lua_tostring(L, -1), "expect_not \"%s\" on %s: seen: %s",
			    lua_tostring(L, 2), device_name(dev), line ? line : "");
}

static int device_expect_not_l(lua_State *L)
{
	struct vh_device *dev = lua_device_check(L, 1);
	if (lua_isnoneornil(L, 3))
		luaL_argerror(L, 3, "expect_not needs a duration to watch for");
	uint64_t timeout_ms;
	bool regex;
	struct console_matcher m = check_matcher(L, &timeout_ms, NULL, &regex);
	if (script_dry_run(script_of(L))) {
		m.free(m.ctx);
		return 0;
	}
	push_started(L);
	struct lua_wait *lw = lua_wait_new(L, true);
	lw->cw = console_wait(device_console(dev), CONSOLE_EXPECT_NOT, m, timeout_ms,
			      on_console_wait, lw);
	return script_wait(L, "expect_not", 0, expect_not_k);
}

/* dut:mark(pattern [, label] [, {regex=}]): every console line that
 * matches, from now on and across reboots, becomes a "mark" event (and a
 * marker on the device's lane in report.html) named label (the pattern
 * when absent). The mark lives as long as the device. */
struct mark {
	struct console_matcher m; /* the pattern's own */
	struct vh_run *run;
	char device[64], label[128];
};

static bool mark_match(void *ctx, const char *s, size_t len, size_t *end)
{
	struct mark *mk = ctx;
	return mk->m.match(mk->m.ctx, s, len, end);
}

static void mark_free(void *ctx)
{
	struct mark *mk = ctx;
	if (mk->m.free)
		mk->m.free(mk->m.ctx);
	free(mk);
}

static void on_mark(void *arg, bool ok, const char *line)
{
	struct mark *mk = arg;
	if (!ok)
		return;
	const char *kv[] = { "device", mk->device, "label", mk->label, "line", line, NULL };
	run_event(mk->run, "mark", kv);
}

static int device_mark_l(lua_State *L)
{
	struct vh_device *dev = lua_device_check(L, 1);
	const char *pattern = luaL_checkstring(L, 2);
	const char *label = luaL_optstring(L, 3, pattern);
	bool regex = false;
	if (!lua_isnoneornil(L, 4)) {
		luaL_checktype(L, 4, LUA_TTABLE);
		static const char *const fields[] = { "regex", NULL };
		lua_util_check_fields(L, 4, "mark options", fields);
		lua_getfield(L, 4, "regex");
		regex = lua_toboolean(L, -1);
		lua_pop(L, 1);
	}
	struct console_matcher inner = lua_device_matcher(L, 2, regex);
	if (script_dry_run(script_of(L))) {
		inner.free(inner.ctx);
		return 0;
	}
	struct mark *mk = calloc(1, sizeof(*mk));
	if (!mk)
		abort();
	mk->m = inner;
	mk->run = run_of(L);
	snprintf(mk->device, sizeof(mk->device), "%s", device_name(dev));
	snprintf(mk->label, sizeof(mk->label), "%s", label);
	struct console_matcher m = { .match = mark_match, .free = mark_free, .ctx = mk };
	console_wait(device_console(dev), CONSOLE_MARK, m, 0, on_mark, mk);
	const char *kv[] = { "device", mk->device, "pattern", pattern, "label", mk->label, NULL };
	run_event(mk->run, "mark_lines", kv);
	return 0;
}

static int power_cut_k(lua_State *L, int status, lua_KContext ctx)
{
	(void)status, (void)ctx;
	struct vh_device *dev = lua_device_check(L, 1);
	bool ok = lua_toboolean(L, -2);
	const char *text = lua_tostring(L, -1);
	if (ok) {
		lua_pushstring(L, text);
		return 1;
	}
	char d[32];
	return script_raise(L, VH_FAIL, NULL, "power_cut{on=\"%s\"} on %s: %s (timeout %s)",
			    lua_tostring(L, 2), device_name(dev), text ? text : "failed",
			    duration_format(lua_util_check_duration(L, 3, "60s"), d, sizeof(d)));
}

/* The flash = field of power_cut{}: what the flash keeps of the writes the
 * guest had not flushed (flash_model.h); "volatile" when absent. */
static enum flash_cut_mode check_flash_mode(lua_State *L, int idx)
{
	lua_getfield(L, idx, "flash");
	enum flash_cut_mode mode = FLASH_CUT_VOLATILE;
	if (!lua_isnil(L, -1)) {
		int m = flash_cut_mode_parse(lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
									    : NULL);
		if (m < 0)
			return luaL_error(L,
					  "power_cut{}: 'flash' must be \"volatile\", \"torn\", "
					  "\"ordered\" or \"durable\", not %s",
					  luaL_tolstring(L, -1, NULL));
		mode = (enum flash_cut_mode)m;
	}
	lua_pop(L, 1);
	return mode;
}

/* dut:power_cut() cuts now; dut:power_cut{on=PATTERN, timeout=, regex=}
 * waits until a console line matches and cuts at that instant, returning
 * the line. flash= (both forms) chooses what the flash keeps; a table
 * without on= cuts now. */
static int device_power_cut_l(lua_State *L)
{
	struct vh_device *dev = lua_device_check(L, 1);
	if (lua_isnoneornil(L, 2)) {
		if (!script_dry_run(script_of(L)))
			device_power_cut(dev, "power_cut()", FLASH_CUT_VOLATILE);
		return 0;
	}
	luaL_checktype(L, 2, LUA_TTABLE);
	static const char *const fields[] = { "on", "timeout", "regex", "flash", NULL };
	lua_util_check_fields(L, 2, "power_cut{}", fields);
	enum flash_cut_mode flash = check_flash_mode(L, 2);
	if (lua_getfield(L, 2, "on") == LUA_TNIL) {
		lua_pop(L, 1);
		char why[48];
		snprintf(why, sizeof(why), "power_cut{flash=\"%s\"}", flash_cut_mode_name(flash));
		if (!script_dry_run(script_of(L)))
			device_power_cut(dev, why, flash);
		return 0;
	}
	lua_pop(L, 1);
	/* Rearranged to expect's (self, pattern, timeout, {regex=}) shape. */
	lua_settop(L, 2);
	lua_getfield(L, 2, "on");
	if (lua_type(L, -1) != LUA_TSTRING)
		return luaL_error(L, "power_cut{}: 'on' must be a pattern string");
	lua_getfield(L, 2, "timeout");
	lua_createtable(L, 0, 1);
	lua_getfield(L, 2, "regex");
	lua_setfield(L, -2, "regex");
	lua_remove(L, 2);
	uint64_t timeout_ms;
	bool regex;
	struct console_matcher m = check_matcher(L, &timeout_ms, "60s", &regex);
	if (script_dry_run(script_of(L))) {
		m.free(m.ctx);
		lua_pushstring(L, "");
		return 1;
	}
	push_started(L);
	struct lua_wait *lw = lua_wait_new(L, false);
	lw->cw = device_cut_on(dev, lua_tostring(L, 2), m, timeout_ms, flash, on_console_wait, lw);
	return script_wait(L, "power_cut", 0, power_cut_k);
}

/* --- the flash, read as a bootloader would --- */

/* The device's flash and where its env lives: the reference firmware's A/B
 * disk, or a user image (its copy once the device has powered on, the image
 * itself before: both say the same until then). */
static const char *flash_env(lua_State *L, struct vh_device *dev, const char *what,
			     const struct ubootenv_layout **layout)
{
	const struct vh_firmware *fw = device_firmware(dev);
	if (fw->user) {
		*layout = &fw->user->env;
		return access(fw->disk, F_OK) == 0 ? fw->disk : fw->user->disk;
	}
	if (!fw->reference)
		luaL_error(L,
			   "%s: %s() needs a disk with a U-Boot env: the reference firmware or "
			   "vh.firmware{}",
			   device_name(dev), what);
	*layout = &ubootenv_layout_v0;
	return fw->disk;
}

/* dut:env(key): a value of the U-Boot environment on the device's disk,
 * read from the host as a bootloader would; nil when unset. */
static int device_env_l(lua_State *L)
{
	struct vh_device *dev = lua_device_check(L, 1);
	const char *key = luaL_checkstring(L, 2);
	if (script_dry_run(script_of(L))) {
		lua_pushnil(L);
		return 1;
	}
	const struct ubootenv_layout *layout;
	const char *disk = flash_env(L, dev, "env", &layout);
	char err[1300];
	struct ubootenv env;
	ubootenv_init(&env);
	int r = ubootenv_file_load_layout(disk, layout, &env, err, sizeof(err));
	if (r < 0 && r != -ENODATA) {
		ubootenv_free(&env);
		return script_raise(L, VH_FAULT, NULL, "env(%s): %s", key, err);
	}
	const char *value = ubootenv_get(&env, key);
	value ? (void)lua_pushstring(L, value) : lua_pushnil(L);
	ubootenv_free(&env);
	return 1;
}

static void push_env_copy(lua_State *L, bool valid, unsigned flags, bool active)
{
	lua_createtable(L, 0, 4);
	lua_pushboolean(L, valid);
	lua_setfield(L, -2, "valid");
	lua_pushinteger(L, flags);
	lua_setfield(L, -2, "flags");
	lua_pushboolean(L, active);
	lua_setfield(L, -2, "active");
}

/* dut:env_copies(): both redundant env copies as on the disk:
 * { {valid=, flags=, active=, env={k=v...}}, {...} }, so a scenario can check
 * that firmware writes the inactive copy and leaves the active one alone. */
static int device_env_copies_l(lua_State *L)
{
	struct vh_device *dev = lua_device_check(L, 1);
	lua_createtable(L, 2, 0);
	if (script_dry_run(script_of(L))) {
		/* Stand-ins for `check`: two valid, empty copies, the first in use. */
		for (int i = 0; i < 2; i++) {
			push_env_copy(L, true, 0, i == 0);
			lua_newtable(L);
			lua_setfield(L, -2, "env");
			lua_rawseti(L, -2, i + 1);
		}
		return 1;
	}
	const struct ubootenv_layout *layout;
	const char *disk = flash_env(L, dev, "env_copies", &layout);
	struct ab_env_copy copies[2];
	int active;
	char err[1300];
	if (ab_boot_env_copies_layout(disk, layout, copies, &active, err, sizeof(err)) < 0) {
		ubootenv_free(&copies[0].env);
		ubootenv_free(&copies[1].env);
		return script_raise(L, VH_FAULT, NULL, "env_copies: %s", err);
	}
	for (int i = 0; i < 2; i++) {
		push_env_copy(L, copies[i].valid, copies[i].flags, active == i);
		lua_createtable(L, 0, (int)copies[i].env.count);
		for (size_t k = 0; k < copies[i].env.count; k++) {
			lua_pushstring(L, copies[i].env.pairs[k].value);
			lua_setfield(L, -2, copies[i].env.pairs[k].key);
		}
		lua_setfield(L, -2, "env");
		lua_rawseti(L, -2, i + 1);
		ubootenv_free(&copies[i].env);
	}
	return 1;
}

/* dut:slot(): the slot the bootloader will boot next ("a" or "b"). */
static int device_slot_l(lua_State *L)
{
	struct vh_device *dev = lua_device_check(L, 1);
	if (device_firmware(dev)->user)
		return luaL_error(L,
				  "%s: slot() reads the reference firmware's boot_slot; with "
				  "vh.firmware{} read your bootloader's variable, e.g. "
				  "dut:env(\"mender_boot_part\")",
				  device_name(dev));
	lua_settop(L, 1);
	lua_pushliteral(L, "boot_slot");
	device_env_l(L);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		lua_pushliteral(L, "a"); /* the chooser's default */
	}
	return 1;
}

/* --- fields --- */

static int device_index_l(lua_State *L)
{
	struct vh_device *dev = lua_device_check(L, 1);
	const char *key = luaL_checkstring(L, 2);
	luaL_getmetatable(L, DEVICE_MT);
	lua_getfield(L, -1, "methods");
	if (lua_getfield(L, -1, key) != LUA_TNIL)
		return 1;
	if (!strcmp(key, "name")) {
		lua_pushstring(L, device_name(dev));
	} else if (!strcmp(key, "ip")) {
		const char *ip = device_ip(dev);
		ip ? (void)lua_pushstring(L, ip) : lua_pushnil(L);
	} else if (!strcmp(key, "mac")) {
		lua_pushstring(L, device_mac(dev));
	} else if (!strcmp(key, "boots")) {
		lua_pushinteger(L, device_boots(dev));
	} else if (!strcmp(key, "powered")) {
		lua_pushboolean(L, device_is_on(dev));
	} else if (!strcmp(key, "pid")) {
		int pid = device_pid(dev);
		pid ? lua_pushinteger(L, pid) : lua_pushnil(L);
	} else {
		return luaL_error(L, "device has no field or method '%s'", key);
	}
	return 1;
}

static int device_tostring_l(lua_State *L)
{
	struct vh_device *dev = lua_device_check(L, 1);
	lua_pushfstring(L, "device %s", device_name(dev));
	return 1;
}

void lua_device_register(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "power_on", device_power_on_l },
		{ "power_cut", device_power_cut_l },
		{ "reset", device_reset_l },
		{ "link", device_link_l },
		{ "env", device_env_l },
		{ "slot", device_slot_l },
		{ "env_copies", device_env_copies_l },
		{ "expect", device_expect_l },
		{ "try_expect", device_try_expect_l },
		{ "expect_not", device_expect_not_l },
		{ "mark", device_mark_l },
		{ "send", device_send_l },
		{ NULL, NULL },
	};
	static const luaL_Reg metamethods[] = {
		{ "__index", device_index_l },
		{ "__tostring", device_tostring_l },
		{ NULL, NULL },
	};
	luaL_newmetatable(L, DEVICE_MT);
	luaL_setfuncs(L, metamethods, 0);
	luaL_newlib(L, methods);
	lua_device_flash_methods(L);
	lua_setfield(L, -2, "methods");
	lua_pop(L, 1);
}
