/* Lua bindings for devices: dut:power_on(), dut:expect(), ... (DESIGN.md §4). */
#include "lua_device.h"

#include "ab_boot.h"
#include "device.h"
#include "duration.h"
#include "ev.h"
#include "lua_util.h"
#include "run.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEVICE_MT "vh.device"

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

static int device_power_on_l(lua_State *L)
{
	struct vh_device *dev = lua_device_check(L, 1);
	struct vh_run *run = dev->run;
	if (run->cfg.dry_run)
		return 0;
	char err[1200];
	int why;
	if (device_power_on(dev, &why, err, sizeof(err)) < 0)
		return run_raise(L, (enum vh_outcome)why, "power_on %s: %s", dev->name, err);
	return 0;
}

static int device_send_l(lua_State *L)
{
	struct vh_device *dev = lua_device_check(L, 1);
	size_t len;
	const char *text = luaL_checklstring(L, 2, &len);
	if (dev->run->cfg.dry_run)
		return 0;
	char err[256];
	if (device_send(dev, text, len, err, sizeof(err)) < 0)
		return run_raise(L, VH_FAIL, "send: %s", err);
	const char *kv[] = { "device", dev->name, "text", text, NULL };
	run_event(dev->run, "send", kv);
	return 0;
}

/* The continuation finds the arguments (self, pattern, timeout, options)
 * where the call left them, and the wait's start time after them. */
#define WAIT_STARTED_INDEX 5

/* Registers w on dev and yields the calling coroutine; k continues the call
 * when the device wakes it, with the wait's start time at WAIT_STARTED_INDEX. */
static int wait_for(lua_State *L, struct vh_device *dev, struct vh_waiter *w, const char *what,
		    lua_KContext ctx, lua_KFunction k)
{
	if (!lua_isyieldable(L)) {
		waiter_free(w);
		return luaL_error(L, "%s cannot wait here (inside a metamethod or C call)", what);
	}
	lua_settop(L, WAIT_STARTED_INDEX - 1);
	lua_pushnumber(L, ev_now(dev->run->loop));
	device_wait(dev, w);
	run_wait_begin(dev->run);
	return lua_yieldk(L, 0, ctx, k);
}

/* Validates the pattern now, so a bad one fails at the script's line. */
static struct vh_waiter *waiter_from_args(lua_State *L, struct vh_device *dev, enum waiter_kind kind,
					  const char *default_timeout)
{
	const char *pattern = luaL_checkstring(L, 2);
	uint64_t timeout_ms = lua_util_check_duration(L, 3, default_timeout);
	bool regex = false;
	if (!lua_isnoneornil(L, 4)) {
		luaL_checktype(L, 4, LUA_TTABLE);
		static const char *const fields[] = { "regex", NULL };
		lua_util_check_fields(L, 4, "expect options", fields);
		lua_getfield(L, 4, "regex");
		regex = lua_toboolean(L, -1);
		lua_pop(L, 1);
	}
	struct expect_regex *re = NULL;
	if (regex) {
		char err[256];
		re = expect_regex_new(pattern, err, sizeof(err));
		if (!re)
			luaL_argerror(L, 2, err);
	} else {
		const char *why = lua_util_pattern_error(pattern);
		if (why)
			luaL_argerror(L, 2, why);
	}
	struct vh_waiter *w = calloc(1, sizeof(*w));
	w->kind = kind;
	w->dev = dev;
	w->co = L;
	w->pattern = strdup(pattern);
	w->regex = regex;
	w->re = re;
	w->timeout_ms = timeout_ms;
	return w;
}

static void expect_event(struct vh_device *dev, const char *event, const char *pattern,
			 const char *result, const char *line, double seconds)
{
	char secs[32];
	snprintf(secs, sizeof(secs), "\x01%.3f", seconds);
	const char *kv[] = { "device", dev->name, "pattern", pattern, "result", result,
			     "seconds", secs, line ? "line" : NULL, line, NULL };
	run_event(dev->run, event, kv);
}

/* Returns what a match hands back: a Lua pattern's captures, else the line. */
static int expect_results(lua_State *L, struct vh_device *dev, int flags, const char *line)
{
	if (!(flags & EXPECT_REGEX)) {
		int top = lua_gettop(L);
		lua_rawgeti(L, LUA_REGISTRYINDEX, dev->run->find_ref);
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
		lua_pushfstring(L, "expect \"%s\" on %s: %s after %s", pattern, dev->name, why,
				duration_format(timeout_ms, d, sizeof(d)));
		return 2;
	}
	char *last = device_last_lines(dev);
	free(dev->run->details);
	dev->run->details = strdup(last);
	lua_pushstring(L, last);
	free(last);
	const char *last_lines = lua_tostring(L, -1);
	return run_raise(L, VH_FAIL, "expect \"%s\" on %s: %s (timeout %s)\nlast serial lines of %s:\n%s",
			 pattern, dev->name, why, duration_format(timeout_ms, d, sizeof(d)), dev->name,
			 last_lines);
}

/* Continuation after the wait: the stack holds the call's arguments, then
 * (ok, line-or-reason) pushed by the device. */
static int expect_k(lua_State *L, int status, lua_KContext ctx)
{
	(void)status;
	int flags = (int)ctx;
	struct vh_device *dev = lua_device_check(L, 1);
	bool ok = lua_toboolean(L, -2);
	const char *text = lua_tostring(L, -1);
	double seconds = ev_now(dev->run->loop) - lua_tonumber(L, WAIT_STARTED_INDEX);
	expect_event(dev, "expect", lua_tostring(L, 2), ok ? "matched" : "failed", text, seconds);
	if (ok)
		return expect_results(L, dev, flags, text);
	return expect_failed(L, dev, flags, text ? text : "failed");
}

static int expect_common(lua_State *L, int flags)
{
	struct vh_device *dev = lua_device_check(L, 1);
	struct vh_waiter *w = waiter_from_args(L, dev, WAIT_EXPECT, "30s");
	if (w->regex)
		flags |= EXPECT_REGEX;
	if (dev->run->cfg.dry_run) {
		/* `check` runs the script without guests: one stand-in per capture,
		 * "0", which the script can use as a string or as a number. */
		int n = w->regex ? 0 : lua_util_pattern_captures(w->pattern);
		waiter_free(w);
		for (int i = 0; i < (n ? n : 1); i++)
			lua_pushliteral(L, "0");
		return n ? n : 1;
	}
	char line[1024];
	if (device_expect_now(dev, w, line, sizeof(line))) {
		expect_event(dev, "expect", w->pattern, "matched", line, 0);
		waiter_free(w);
		return expect_results(L, dev, flags, line);
	}
	if (!dev->on && !dev->waiters) {
		waiter_free(w);
		char why[128];
		snprintf(why, sizeof(why), "%s is powered off", dev->name);
		return expect_failed(L, dev, flags, why);
	}
	return wait_for(L, dev, w, "expect", flags, expect_k);
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
	double seconds = ev_now(dev->run->loop) - lua_tonumber(L, WAIT_STARTED_INDEX);
	expect_event(dev, "expect_not", lua_tostring(L, 2), ok ? "absent" : "seen", line, seconds);
	if (ok)
		return 0;
	return run_raise(L, VH_FAIL, "expect_not \"%s\" on %s: seen: %s", lua_tostring(L, 2), dev->name,
			 line ? line : "");
}

static int device_expect_not_l(lua_State *L)
{
	struct vh_device *dev = lua_device_check(L, 1);
	if (lua_isnoneornil(L, 3))
		luaL_argerror(L, 3, "expect_not needs a duration to watch for");
	struct vh_waiter *w = waiter_from_args(L, dev, WAIT_EXPECT_NOT, NULL);
	if (dev->run->cfg.dry_run) {
		waiter_free(w);
		return 0;
	}
	return wait_for(L, dev, w, "expect_not", 0, expect_not_k);
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
	return run_raise(L, VH_FAIL, "power_cut{on=\"%s\"} on %s: %s (timeout %s)", lua_tostring(L, 2),
			 dev->name, text ? text : "failed",
			 duration_format(lua_util_check_duration(L, 3, "60s"), d, sizeof(d)));
}

/* dut:power_cut() cuts now; dut:power_cut{on=PATTERN, timeout=, regex=}
 * waits until a console line matches and cuts at that instant, returning
 * the line. */
static int device_power_cut_l(lua_State *L)
{
	struct vh_device *dev = lua_device_check(L, 1);
	if (lua_isnoneornil(L, 2)) {
		if (!dev->run->cfg.dry_run)
			device_power_cut(dev, "power_cut()");
		return 0;
	}
	luaL_checktype(L, 2, LUA_TTABLE);
	static const char *const fields[] = { "on", "timeout", "regex", NULL };
	lua_util_check_fields(L, 2, "power_cut{}", fields);
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
	struct vh_waiter *w = waiter_from_args(L, dev, WAIT_CUT_ON, "60s");
	if (dev->run->cfg.dry_run) {
		waiter_free(w);
		lua_pushstring(L, "");
		return 1;
	}
	return wait_for(L, dev, w, "power_cut", 0, power_cut_k);
}

static int device_reset_l(lua_State *L)
{
	struct vh_device *dev = lua_device_check(L, 1);
	char err[256];
	if (!dev->run->cfg.dry_run && device_reset(dev, err, sizeof(err)) < 0)
		return run_raise(L, VH_FAIL, "reset: %s", err);
	return 0;
}

static int device_link_l(lua_State *L)
{
	struct vh_device *dev = lua_device_check(L, 1);
	luaL_checktype(L, 2, LUA_TBOOLEAN);
	char err[256];
	if (!dev->run->cfg.dry_run && device_set_link(dev, lua_toboolean(L, 2), err, sizeof(err)) < 0)
		return run_raise(L, VH_FAIL, "link: %s", err);
	return 0;
}

/* dut:env(key): a value of the U-Boot environment on the device's disk,
 * read from the host as a bootloader would; nil when unset. */
static int device_env_l(lua_State *L)
{
	struct vh_device *dev = lua_device_check(L, 1);
	const char *key = luaL_checkstring(L, 2);
	if (dev->run->cfg.dry_run) {
		lua_pushnil(L);
		return 1;
	}
	if (!dev->fw.reference)
		return luaL_error(L, "%s: env() needs the reference firmware's A/B disk", dev->name);
	char value[1024], err[256];
	if (ab_boot_env_get(dev->fw.disk, key, value, sizeof(value), err, sizeof(err)) < 0)
		return run_raise(L, VH_FAULT, "env(%s): %s", key, err);
	value[0] ? (void)lua_pushstring(L, value) : lua_pushnil(L);
	return 1;
}

/* dut:env_copies(): both redundant env copies as on the disk:
 * { {valid=, flags=, active=, env={k=v...}}, {...} }, so a scenario can check
 * that firmware writes the inactive copy and leaves the active one alone. */
static int device_env_copies_l(lua_State *L)
{
	struct vh_device *dev = lua_device_check(L, 1);
	lua_createtable(L, 2, 0);
	if (dev->run->cfg.dry_run) {
		/* Stand-ins for `check`: two valid, empty copies, the first in use. */
		for (int i = 0; i < 2; i++) {
			lua_createtable(L, 0, 4);
			lua_pushboolean(L, 1);
			lua_setfield(L, -2, "valid");
			lua_pushinteger(L, 0);
			lua_setfield(L, -2, "flags");
			lua_pushboolean(L, i == 0);
			lua_setfield(L, -2, "active");
			lua_newtable(L);
			lua_setfield(L, -2, "env");
			lua_rawseti(L, -2, i + 1);
		}
		return 1;
	}
	if (!dev->fw.reference)
		return luaL_error(L, "%s: env_copies() needs the reference firmware's A/B disk", dev->name);
	struct ab_env_copy copies[2];
	int active;
	char err[256];
	if (ab_boot_env_copies(dev->fw.disk, copies, &active, err, sizeof(err)) < 0)
		return run_raise(L, VH_FAULT, "env_copies: %s", err);
	for (int i = 0; i < 2; i++) {
		lua_createtable(L, 0, 4);
		lua_pushboolean(L, copies[i].valid);
		lua_setfield(L, -2, "valid");
		lua_pushinteger(L, copies[i].flags);
		lua_setfield(L, -2, "flags");
		lua_pushboolean(L, active == i);
		lua_setfield(L, -2, "active");
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
	lua_settop(L, 1);
	lua_pushliteral(L, "boot_slot");
	device_env_l(L);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		lua_pushliteral(L, "a"); /* the chooser's default */
	}
	return 1;
}

static int device_index_l(lua_State *L)
{
	struct vh_device *dev = lua_device_check(L, 1);
	const char *key = luaL_checkstring(L, 2);
	luaL_getmetatable(L, DEVICE_MT);
	lua_getfield(L, -1, "methods");
	if (lua_getfield(L, -1, key) != LUA_TNIL)
		return 1;
	if (!strcmp(key, "name"))
		lua_pushstring(L, dev->name);
	else if (!strcmp(key, "ip"))
		dev->ip[0] ? (void)lua_pushstring(L, dev->ip) : lua_pushnil(L);
	else if (!strcmp(key, "mac"))
		lua_pushstring(L, dev->mac);
	else if (!strcmp(key, "boots"))
		lua_pushinteger(L, dev->boots);
	else if (!strcmp(key, "powered"))
		lua_pushboolean(L, dev->on);
	else if (!strcmp(key, "pid"))
		dev->on ? lua_pushinteger(L, dev->proc.pid) : lua_pushnil(L);
	else
		return luaL_error(L, "device has no field or method '%s'", key);
	return 1;
}

static int device_tostring_l(lua_State *L)
{
	struct vh_device *dev = lua_device_check(L, 1);
	lua_pushfstring(L, "device %s", dev->name);
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
	lua_setfield(L, -2, "methods");
	lua_pop(L, 1);
}
