/* vh.fleet{}: many ordinary devices made alike, and their staggered
 * power-on (issue 12 §2):
 *   local fleet = vh.fleet { n = 100, name = "d%03d", network = lan,
 *                            server = ota, firmware = fw, stagger = "50ms" }
 *   fleet:power_on()          -- one every `stagger`, waits until all run
 *   for i, d in ipairs(fleet) do ... end                -- each a vh.device
 * Each device is made by vh.device{} itself, so a fleet's device is what a
 * scenario would have made by hand; an error names the scenario's line and
 * the device it happened on. */
#include "lua_fleet.h"

#include "device.h"
#include "ev.h"
#include "lua_device.h"
#include "lua_util.h"
#include "run.h"
#include "script.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLEET_MT "vh.fleet"
/* Enough for the 100 devices on one /24 and many more on a larger
 * subnet; a typo of n = 1e6 is refused before it makes anything. */
#define FLEET_MAX 4096

/* A fleet's stagger, by fleet table (weak keys: a dropped fleet goes). */
static const char STAGGER_KEY = 's';

/* name must hold exactly one integer conversion (%d, %03d) and no other
 * conversion but %%: it is formatted with the device's number. */
static bool name_format_ok(const char *f)
{
	int conversions = 0;
	for (const char *p = f; *p; p++) {
		if (*p != '%')
			continue;
		if (p[1] == '%') {
			p++;
			continue;
		}
		p++;
		while (*p >= '0' && *p <= '9')
			p++;
		if (*p != 'd')
			return false;
		conversions++;
	}
	return conversions == 1;
}

/* Re-raises the error on top of the stack from vh.device{} for device
 * name, at the scenario's line (vh.device ran inside this C call, so its
 * own position is empty). Keeps a failure's kind and details. */
static int reraise(lua_State *L, const char *name)
{
	luaL_where(L, 1);
	const char *where = lua_tostring(L, -1);
	if (lua_istable(L, -2)) {
		lua_getfield(L, -2, "message");
		lua_pushfstring(L, "%svh.fleet{}: %s: %s", where, name, luaL_optstring(L, -1, ""));
		lua_setfield(L, -4, "message");
		lua_pop(L, 2);
		return lua_error(L);
	}
	const char *msg = lua_tostring(L, -2);
	lua_pushfstring(L, "%svh.fleet{}: %s: %s", where, name, msg ? msg : "error");
	return lua_error(L);
}

static int vh_fleet_l(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	static const char *const fields[] = { "n",	  "name",   "network", "server",
					      "firmware", "memory", "stagger", NULL };
	lua_util_check_fields(L, 1, "vh.fleet{}", fields);
	lua_getfield(L, 1, "n");
	lua_Integer n = lua_tointeger(L, -1);
	if (!lua_isinteger(L, -1) || n < 1 || n > FLEET_MAX)
		return luaL_error(L,
				  "vh.fleet{}: 'n' must be a whole number of devices from 1 to %d",
				  FLEET_MAX);
	lua_pop(L, 1);
	const char *name = lua_util_opt_string_field(L, 1, "name", "vh.fleet{}");
	if (!name)
		name = "d%03d";
	if (!name_format_ok(name))
		return luaL_error(
			L,
			"vh.fleet{}: 'name' must hold one %%d (like \"d%%03d\") to give each "
			"device its own name, not \"%s\"",
			name);
	lua_getfield(L, 1, "stagger");
	uint64_t stagger_ms = lua_util_check_duration(L, lua_gettop(L), "50ms");
	lua_pop(L, 1);

	lua_createtable(L, (int)n, 0); /* the fleet */
	int fleet = lua_gettop(L);
	for (lua_Integer i = 1; i <= n; i++) {
		char dev_name[64];
		snprintf(dev_name, sizeof(dev_name), name, (int)i);
		lua_pushvalue(L, lua_upvalueindex(1)); /* vh.device */
		lua_createtable(L, 0, 5);
		lua_pushstring(L, dev_name);
		lua_setfield(L, -2, "name");
		static const char *const copied[] = { "network", "server", "firmware", "memory",
						      NULL };
		for (const char *const *f = copied; *f; f++) {
			lua_getfield(L, 1, *f);
			lua_setfield(L, -2, *f);
		}
		if (lua_pcall(L, 1, 1, 0) != LUA_OK)
			return reraise(L, dev_name);
		lua_rawseti(L, fleet, i);
	}
	luaL_setmetatable(L, FLEET_MT);
	lua_rawgetp(L, LUA_REGISTRYINDEX, &STAGGER_KEY);
	lua_pushvalue(L, fleet);
	lua_pushinteger(L, (lua_Integer)stagger_ms);
	lua_rawset(L, -3);
	lua_pop(L, 1);
	char count[16], stagger[24];
	snprintf(count, sizeof(count), "\x01%d", (int)n);
	snprintf(stagger, sizeof(stagger), "\x01%llu", (unsigned long long)stagger_ms);
	const char *kv[] = { "n", count, "name", name, "stagger_ms", stagger, NULL };
	run_event(script_run(script_of(L)), "fleet", kv);
	return 1;
}

/* --- fleet:power_on(): one every stagger, all waited for --- */

struct power_slot {
	struct fleet_power *fp;
	int index;
};

/* Rides on the coroutine's stack as a full userdata: the run may end with
 * power-ons in flight (their callbacks are then dropped with the devices
 * and the loop), and Lua frees it with the coroutine. */
struct fleet_power {
	lua_State *co;
	struct ev_loop *loop;
	int n, pending, failures;
	enum vh_outcome worst;
	char first_err[400];
	struct vh_device **devs;
	struct power_slot *slots;
};

static void on_one_powered(void *arg, enum vh_outcome status, const char *err)
{
	struct power_slot *slot = arg;
	struct fleet_power *fp = slot->fp;
	if (status != VH_PASS) {
		if (!fp->failures++)
			snprintf(fp->first_err, sizeof(fp->first_err), "%s: %s",
				 device_name(fp->devs[slot->index]), err ? err : "failed");
		/* A harness fault outranks a firmware that did not boot. */
		if (status > fp->worst)
			fp->worst = status;
	}
	if (--fp->pending == 0)
		script_resume_soon(script_of(fp->co), fp->co, 0);
}

static void on_stagger(struct ev_loop *loop, uint64_t id, void *arg)
{
	(void)loop, (void)id;
	struct power_slot *slot = arg;
	device_power_on(slot->fp->devs[slot->index], on_one_powered, slot);
}

static int power_on_k(lua_State *L, int status, lua_KContext ctx)
{
	(void)status, (void)ctx;
	struct fleet_power *fp = lua_touserdata(L, 2);
	if (!fp->failures)
		return 0;
	return script_raise(L, fp->worst, NULL,
			    "fleet power_on: %d of %d devices did not start; "
			    "first %s",
			    fp->failures, fp->n, fp->first_err);
}

static int fleet_power_on_l(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	lua_Integer n = luaL_len(L, 1);
	for (lua_Integer i = 1; i <= n; i++) {
		lua_geti(L, 1, i);
		lua_device_check(L, -1);
		lua_pop(L, 1);
	}
	struct script *s = script_of(L);
	if (script_dry_run(s) || n == 0)
		return 0;
	lua_rawgetp(L, LUA_REGISTRYINDEX, &STAGGER_KEY);
	lua_pushvalue(L, 1);
	lua_rawget(L, -2);
	uint64_t stagger_ms = (uint64_t)lua_tointeger(L, -1);
	lua_pop(L, 2);
	size_t size = sizeof(struct fleet_power) +
		      (size_t)n * (sizeof(struct vh_device *) + sizeof(struct power_slot));
	struct fleet_power *fp = lua_newuserdatauv(L, size, 0); /* at 2 */
	memset(fp, 0, size);
	fp->co = L;
	fp->loop = run_loop(script_run(s));
	fp->n = fp->pending = (int)n;
	fp->slots = (struct power_slot *)(fp + 1);
	fp->devs = (struct vh_device **)(fp->slots + n);
	for (int i = 0; i < fp->n; i++) {
		lua_geti(L, 1, i + 1);
		fp->devs[i] = lua_device_check(L, -1);
		lua_pop(L, 1);
		fp->slots[i] = (struct power_slot){ fp, i };
		/* The first at once; each next one a stagger later, so QEMU's
		 * start-up costs do not all land on the same instant. */
		if (i == 0)
			device_power_on(fp->devs[0], on_one_powered, &fp->slots[0]);
		else
			ev_add_timer(fp->loop, stagger_ms * (uint64_t)i, on_stagger, &fp->slots[i]);
	}
	return script_wait(L, "fleet power_on", 0, power_on_k);
}

static const luaL_Reg fleet_methods[] = {
	{ "power_on", fleet_power_on_l },
	{ NULL, NULL },
};

void lua_fleet_register(lua_State *L)
{
	luaL_checktype(L, -1, LUA_TTABLE);
	luaL_newmetatable(L, FLEET_MT);
	luaL_newlib(L, fleet_methods);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
	lua_newtable(L);
	lua_createtable(L, 0, 1);
	lua_pushliteral(L, "k");
	lua_setfield(L, -2, "__mode");
	lua_setmetatable(L, -2);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &STAGGER_KEY);
	/* vh.fleet builds each device through the module's own vh.device. */
	lua_getfield(L, -1, "device");
	lua_pushcclosure(L, vh_fleet_l, 1);
	lua_setfield(L, -2, "fleet");
}
