/* Waits over many devices (issue 12 §2):
 *   vh.all(devices, pattern [, timeout [, {regex=}]])
 *   vh.count(devices, pattern, n [, timeout [, {regex=}]])
 * return when every device / n of them have printed a matching line: the
 * devices that did, in the order they did. Each device's match is an
 * expect of its own (it consumes that console's text up to the match). A
 * failure is one message naming every device that did not match and why,
 * raised as soon as the outcome is certain. */
#include "lua_fleet.h"

#include "console.h"
#include "device.h"
#include "duration.h"
#include "lua_device.h"
#include "lua_util.h"
#include "run.h"
#include "script.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where the continuation finds what the call was given (after normalising
 * vh.all's arguments to vh.count's shape). */
enum { ARG_DEVICES = 1, ARG_PATTERN, ARG_NEED, ARG_TIMEOUT, ARG_OPTIONS, ARG_STARTED };

struct gw_slot {
	struct group_wait *gw;
	struct console_wait *cw; /* NULL once ended */
	bool done, ok;
	char why[48];
};

/* malloc'd with the script_window first: the script frees it if the run
 * ends while it waits. */
struct group_wait {
	struct script_window w;
	int n, need, matched, ended;
	/* The run's clock when every wait ends by timeout (they all start in
	 * one turn): the ones still waiting then have timed out too. */
	double deadline;
	int *order; /* indexes of the devices that matched, in match order */
	struct gw_slot *slots;
	struct vh_device **devs;
};

static void gw_finish(struct group_wait *gw)
{
	lua_State *co = gw->w.co;
	struct script *s = script_of(co);
	for (int i = 0; i < gw->n; i++) {
		if (gw->slots[i].cw)
			console_wait_cancel(gw->slots[i].cw);
		gw->slots[i].cw = NULL;
	}
	script_window_done(s, &gw->w);
	/* (matched order, missing text) for the continuation. */
	lua_createtable(co, gw->matched, 0);
	for (int k = 0; k < gw->matched; k++) {
		lua_pushinteger(co, gw->order[k] + 1);
		lua_rawseti(co, -2, k + 1);
	}
	/* A few ms of slack: the loop's timers and run_now read the clock apart. */
	bool at_deadline = run_now(script_run(s)) + 0.005 >= gw->deadline;
	luaL_Buffer b;
	luaL_buffinit(co, &b);
	int listed = 0;
	for (int i = 0; i < gw->n; i++) {
		struct gw_slot *sl = &gw->slots[i];
		if (sl->ok)
			continue;
		/* At most 40 names: the message must stay readable at 1000. */
		if (listed++ == 40) {
			luaL_addstring(&b, ", ...");
			break;
		}
		char one[96];
		snprintf(one, sizeof(one), "%s%s (%s)", listed > 1 ? ", " : "",
			 device_name(gw->devs[i]),
			 sl->done      ? sl->why
			 : at_deadline ? "timed out"
				       : "still waiting");
		luaL_addstring(&b, one);
	}
	luaL_pushresult(&b);
	free(gw);
	script_resume_soon(s, co, 2);
}

/* Ends the wait once its outcome is certain: enough matched, or too few
 * still waiting to make up the number. */
static void gw_check(struct group_wait *gw)
{
	int waiting = gw->n - gw->ended;
	if (gw->matched >= gw->need || gw->matched + waiting < gw->need)
		gw_finish(gw);
}

static void on_device(void *arg, bool ok, const char *text)
{
	struct gw_slot *sl = arg;
	struct group_wait *gw = sl->gw;
	sl->cw = NULL;
	sl->done = true;
	sl->ok = ok;
	gw->ended++;
	if (ok)
		gw->order[gw->matched++] = (int)(sl - gw->slots);
	else
		snprintf(sl->why, sizeof(sl->why), "%s", text ? text : "failed");
	gw_check(gw);
}

static void group_event(lua_State *L, const char *what, const char *result, int matched, int need,
			const char *missing)
{
	char m[16], n[16], secs[32];
	snprintf(m, sizeof(m), "\x01%d", matched);
	snprintf(n, sizeof(n), "\x01%d", need);
	snprintf(secs, sizeof(secs), "\x01%.3f",
		 run_now(script_run(script_of(L))) - lua_tonumber(L, ARG_STARTED));
	const char *kv[] = { "call",
			     what,
			     "pattern",
			     lua_tostring(L, ARG_PATTERN),
			     "result",
			     result,
			     "matched",
			     m,
			     "need",
			     n,
			     "seconds",
			     secs,
			     missing ? "missing" : NULL,
			     missing,
			     NULL };
	run_event(script_run(script_of(L)), "expect_group", kv);
}

/* Stack: the call's arguments, the start time, (order, missing). */
static int group_k(lua_State *L, int status, lua_KContext ctx)
{
	(void)status;
	const char *what = ctx ? "vh.all" : "vh.count";
	int order = lua_gettop(L) - 1;
	lua_Integer matched = luaL_len(L, order);
	lua_Integer need = lua_tointeger(L, ARG_NEED);
	lua_Integer n = luaL_len(L, ARG_DEVICES);
	if (matched >= need) {
		group_event(L, what, "matched", (int)matched, (int)need, NULL);
		lua_createtable(L, (int)matched, 0);
		for (lua_Integer k = 1; k <= matched; k++) {
			lua_geti(L, order, k);
			lua_geti(L, ARG_DEVICES, lua_tointeger(L, -1));
			lua_rawseti(L, -3, k);
			lua_pop(L, 1);
		}
		return 1;
	}
	const char *missing = lua_tostring(L, order + 1);
	group_event(L, what, "failed", (int)matched, (int)need, missing);
	char d[32];
	return script_raise(
		L, VH_FAIL, NULL,
		"%s \"%s\": %d of %d devices matched within %s, %d needed; not matched: %s", what,
		lua_tostring(L, ARG_PATTERN), (int)matched, (int)n,
		duration_format(lua_util_check_duration(L, ARG_TIMEOUT, "30s"), d, sizeof(d)),
		(int)need, missing);
}

static int group_wait(lua_State *L, bool all)
{
	const char *what = all ? "vh.all" : "vh.count";
	if (all) { /* vh.all(devices, pattern, timeout, opts): need = every device */
		lua_settop(L, ARG_OPTIONS - 1);
		lua_pushnil(L);
		lua_insert(L, ARG_NEED);
	}
	lua_settop(L, ARG_OPTIONS);
	luaL_checktype(L, ARG_DEVICES, LUA_TTABLE);
	luaL_checkstring(L, ARG_PATTERN);
	lua_Integer n = luaL_len(L, ARG_DEVICES);
	if (n < 1)
		return luaL_argerror(L, ARG_DEVICES, "a list of at least one device");
	for (lua_Integer i = 1; i <= n; i++) {
		lua_geti(L, ARG_DEVICES, i);
		if (!luaL_testudata(L, -1, "vh.device"))
			return luaL_error(L, "%s: devices[%d] is a %s, not a device", what, (int)i,
					  luaL_typename(L, -1));
		lua_pop(L, 1);
	}
	if (all) {
		lua_pushinteger(L, n);
		lua_replace(L, ARG_NEED);
	} else if (!lua_isinteger(L, ARG_NEED) || lua_tointeger(L, ARG_NEED) < 1 ||
		   lua_tointeger(L, ARG_NEED) > n) {
		return luaL_argerror(
			L, ARG_NEED,
			lua_pushfstring(L, "how many devices must match: 1 to %d", (int)n));
	}
	uint64_t timeout_ms = lua_util_check_duration(L, ARG_TIMEOUT, "30s");
	bool regex = false;
	if (!lua_isnoneornil(L, ARG_OPTIONS)) {
		luaL_checktype(L, ARG_OPTIONS, LUA_TTABLE);
		static const char *const fields[] = { "regex", NULL };
		lua_util_check_fields(L, ARG_OPTIONS, "expect options", fields);
		lua_getfield(L, ARG_OPTIONS, "regex");
		regex = lua_toboolean(L, -1);
		lua_pop(L, 1);
	}
	struct console_matcher probe = lua_device_matcher(L, ARG_PATTERN, regex);
	probe.free(probe.ctx);
	struct script *s = script_of(L);
	lua_pushnumber(L, run_now(script_run(s))); /* ARG_STARTED */
	if (script_dry_run(s)) {
		lua_Integer need = lua_tointeger(L, ARG_NEED);
		lua_settop(L, ARG_DEVICES);
		if (!all) { /* the first n stand in for the ones that would match */
			lua_createtable(L, (int)need, 0);
			for (lua_Integer k = 1; k <= need; k++) {
				lua_geti(L, ARG_DEVICES, k);
				lua_rawseti(L, -2, k);
			}
		}
		return 1;
	}
	size_t size =
		sizeof(struct group_wait) +
		(size_t)n * (sizeof(struct gw_slot) + sizeof(int) + sizeof(struct vh_device *));
	struct group_wait *gw = calloc(1, size);
	if (!gw)
		abort();
	gw->w.co = L;
	gw->n = (int)n;
	gw->need = (int)lua_tointeger(L, ARG_NEED);
	gw->deadline = lua_tonumber(L, ARG_STARTED) + (double)timeout_ms / 1000.0;
	gw->slots = (struct gw_slot *)(gw + 1);
	gw->devs = (struct vh_device **)(gw->slots + n);
	gw->order = (int *)(gw->devs + n);
	script_window_open(s, &gw->w);
	char line[1024];
	for (int i = 0; i < gw->n; i++) {
		lua_geti(L, ARG_DEVICES, i + 1);
		struct vh_device *dev = lua_device_check(L, -1);
		lua_pop(L, 1);
		gw->devs[i] = dev;
		struct gw_slot *sl = &gw->slots[i];
		sl->gw = gw;
		struct console_matcher m = lua_device_matcher(L, ARG_PATTERN, regex);
		if (console_expect_now(device_console(dev), &m, line, sizeof(line))) {
			m.free(m.ctx);
			sl->done = sl->ok = true;
			gw->ended++;
			gw->order[gw->matched++] = i;
			continue;
		}
		if (!device_is_on(dev)) {
			m.free(m.ctx);
			sl->done = true;
			gw->ended++;
			snprintf(sl->why, sizeof(sl->why), "powered off");
			continue;
		}
		sl->cw = console_wait(device_console(dev), CONSOLE_EXPECT, m, timeout_ms, on_device,
				      sl);
	}
	/* Decided already (all matched at once, or too many are off): the
	 * wait still ends on a later turn, as every wait does. */
	int waiting = gw->n - gw->ended;
	if (gw->matched >= gw->need || gw->matched + waiting < gw->need)
		gw_finish(gw);
	return script_wait(L, what, all, group_k);
}

static int vh_all_l(lua_State *L)
{
	return group_wait(L, true);
}

static int vh_count_l(lua_State *L)
{
	return group_wait(L, false);
}

void lua_group_wait_register(lua_State *L)
{
	lua_pushcfunction(L, vh_all_l);
	lua_setfield(L, -2, "all");
	lua_pushcfunction(L, vh_count_l);
	lua_setfield(L, -2, "count");
}
