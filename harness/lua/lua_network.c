/* Lua bindings for networks: vh.network{...} objects. */
#include "lua_network.h"

#include "device.h"
#include "impairment.h"
#include "lua_device.h"
#include "lua_util.h"
#include "netem_spec.h"
#include "network.h"
#include "nic.h"
#include "run.h"
#include "script.h"

#include <stdio.h>

#include <lauxlib.h>
#include <string.h>

#define NETWORK_MT "vh.network"

void lua_network_push(lua_State *L, struct vh_network *net)
{
	struct vh_network **box = lua_newuserdatauv(L, sizeof(*box), 0);
	*box = net;
	luaL_setmetatable(L, NETWORK_MT);
}

struct vh_network *lua_network_test(lua_State *L, int idx)
{
	struct vh_network **box = luaL_testudata(L, idx, NETWORK_MT);
	return box ? *box : NULL;
}

static struct vh_network *check_network(lua_State *L, int arg)
{
	return *(struct vh_network **)luaL_checkudata(L, arg, NETWORK_MT);
}

static struct network_member *check_member(lua_State *L, struct vh_network *net, int arg)
{
	struct vh_device *dev = lua_device_check(L, arg);
	struct network_member *m = device_member(dev);
	if (!m || m->net != net)
		luaL_argerror(L, arg, lua_pushfstring(L, "%s is not on network %s", device_name(dev),
						     net->name));
	return m;
}

/* A spec as tc-netem text or as a table { delay = "200ms 50ms", loss = "2%" }. */
static void check_spec(lua_State *L, int arg, struct netem_spec *spec)
{
	struct netem_error nerr;
	int r;
	if (lua_type(L, arg) == LUA_TSTRING) {
		const char *text = lua_tostring(L, arg);
		if (text[strspn(text, " \t\n")] == '\0')
			script_raise(L, VH_CONFIG, NULL, "%s", NETEM_EMPTY_SPEC_MESSAGE);
		r = netem_spec_parse(text, spec, &nerr);
	} else {
		luaL_checktype(L, arg, LUA_TTABLE);
		const char *kv[64];
		size_t n = 0;
		lua_newtable(L); /* anchors converted values while kv points at them */
		int anchor = lua_gettop(L), kept = 0;
		lua_pushnil(L);
		while (lua_next(L, arg)) {
			if (lua_type(L, -2) != LUA_TSTRING || n == 64)
				luaL_argerror(L, arg, "netem table keys are keywords such as delay or loss");
			kv[n++] = lua_tostring(L, -2);
			if (lua_type(L, -1) == LUA_TBOOLEAN) {
				kv[n++] = ""; /* ecn = true */
			} else {
				kv[n++] = luaL_tolstring(L, -1, NULL);
				lua_rawseti(L, anchor, ++kept);
			}
			lua_pop(L, 1);
		}
		if (n == 0)
			script_raise(L, VH_CONFIG, NULL, "%s", NETEM_EMPTY_SPEC_MESSAGE);
		r = netem_spec_parse_table(kv, n / 2, spec, &nerr);
	}
	if (r < 0) {
		char msg[256];
		netem_error_format(&nerr, msg, sizeof(msg));
		script_raise(L, VH_CONFIG, NULL, "%s", msg);
	}
}

static void impair_event(struct vh_run *run, const char *event, struct vh_network *net,
			 struct network_member *m, const char *direction, const char *spec,
			 const char *via)
{
	const char *kv[16];
	int n = 0;
	kv[n++] = "network", kv[n++] = net->name;
	if (m)
		kv[n++] = "device", kv[n++] = m->device;
	if (direction)
		kv[n++] = "direction", kv[n++] = direction;
	if (spec)
		kv[n++] = "spec", kv[n++] = spec;
	kv[n++] = "backend", kv[n++] = impairment_backend_name(run_backend(run));
	if (via) /* kernel backend: libnl or tc, which took the spec */
		kv[n++] = "via", kv[n++] = via;
	kv[n] = NULL;
	run_event(run, event, kv);
}

/* lan:impair(dut, "delay 200ms loss 2%" | {delay="200ms"}, {direction="both"|"to_device"|"from_device"}) */
static int network_impair_l(lua_State *L)
{
	struct vh_network *net = check_network(L, 1);
	struct network_member *m = check_member(L, net, 2);
	struct netem_spec spec;
	static const char *const directions[] = { "both", "to_device", "from_device", NULL };
	int direction = 0;
	if (!lua_isnoneornil(L, 4)) {
		luaL_checktype(L, 4, LUA_TTABLE);
		static const char *const fields[] = { "direction", NULL };
		lua_util_check_fields(L, 4, "impair options", fields);
		lua_getfield(L, 4, "direction");
		if (!lua_isnil(L, -1))
			direction = luaL_checkoption(L, -1, NULL, directions);
		lua_pop(L, 1);
	}
	check_spec(L, 3, &spec);
	struct vh_run *run = script_run(script_of(L));
	if (!m->nic)
		return 0; /* on paper */
	char err[512], text[512];
	const char *via = NULL;
	for (int d = 1; d <= 2; d++) {
		if (direction != 0 && direction != d)
			continue;
		enum impairment_dir dir = d == 1 ? IMPAIRMENT_TO_DEVICE : IMPAIRMENT_FROM_DEVICE;
		if (nic_set_spec(m->nic, dir, &spec, err, sizeof(err)) < 0)
			return script_raise(L, VH_CONFIG, NULL, "impair %s: %s", m->device, err);
		via = nic_via(m->nic, dir);
	}
	netem_spec_format(&spec, text, sizeof(text));
	impair_event(run, "impair", net, m, directions[direction], text, via);
	return 0;
}

static int network_clear_l(lua_State *L)
{
	struct vh_network *net = check_network(L, 1);
	struct network_member *m = check_member(L, net, 2);
	struct vh_run *run = script_run(script_of(L));
	if (!m->nic)
		return 0;
	char err[512];
	if (nic_set_spec(m->nic, IMPAIRMENT_TO_DEVICE, NULL, err, sizeof(err)) < 0 ||
	    nic_set_spec(m->nic, IMPAIRMENT_FROM_DEVICE, NULL, err, sizeof(err)) < 0)
		return script_raise(L, VH_CONFIG, NULL, "clear %s: %s", m->device, err);
	impair_event(run, "clear", net, m, NULL, NULL, NULL);
	return 0;
}

/* lan:partition { dut, ... }: the devices lose every frame, both ways, until
 * heal(); their impairments are kept and apply again after it. */
static int network_partition_l(lua_State *L)
{
	struct vh_network *net = check_network(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	struct vh_run *run = script_run(script_of(L));
	lua_Integer n = luaL_len(L, 2);
	if (n < 1)
		return luaL_argerror(L, 2, "partition needs at least one device");
	for (lua_Integer i = 1; i <= n; i++) {
		lua_geti(L, 2, i);
		struct network_member *m = check_member(L, net, lua_gettop(L));
		lua_pop(L, 1);
		char err[512];
		if (network_member_block(m, true, err, sizeof(err)) < 0)
			return script_raise(L, VH_CONFIG, NULL, "partition %s: %s", m->device, err);
		impair_event(run, "partition", net, m, NULL, NULL, NULL);
	}
	return 0;
}

static int network_heal_l(lua_State *L)
{
	struct vh_network *net = check_network(L, 1);
	struct vh_run *run = script_run(script_of(L));
	for (int i = 0; i < net->n_members; i++) {
		struct network_member *m = net->members[i];
		if (!m->partitioned)
			continue;
		char err[512];
		if (network_member_block(m, false, err, sizeof(err)) < 0)
			return script_raise(L, VH_CONFIG, NULL, "heal %s: %s", m->device, err);
		impair_event(run, "heal", net, m, NULL, NULL, NULL);
	}
	return 0;
}

static int network_index_l(lua_State *L)
{
	struct vh_network *net = check_network(L, 1);
	const char *key = luaL_checkstring(L, 2);
	static const luaL_Reg methods[] = {
		{ "impair", network_impair_l }, { "clear", network_clear_l },
		{ "partition", network_partition_l }, { "heal", network_heal_l },
		{ NULL, NULL },
	};
	for (const luaL_Reg *m = methods; m->name; m++) {
		if (!strcmp(key, m->name)) {
			lua_pushcfunction(L, m->func);
			return 1;
		}
	}
	char ip[16];
	if (!strcmp(key, "name")) {
		lua_pushstring(L, net->name);
	} else if (!strcmp(key, "subnet")) {
		lua_pushstring(L, net->subnet);
	} else if (!strcmp(key, "host_ip")) {
		network_host_ip(net, ip, sizeof(ip));
		lua_pushstring(L, ip);
	} else if (!strcmp(key, "bridge")) {
		lua_pushstring(L, net->bridge);
	} else {
		return luaL_error(L, "network has no field or method '%s'", key);
	}
	return 1;
}

static int network_tostring_l(lua_State *L)
{
	struct vh_network *net = check_network(L, 1);
	lua_pushfstring(L, "network %s (%s)", net->name, net->subnet);
	return 1;
}

void lua_network_register(lua_State *L)
{
	static const luaL_Reg metamethods[] = {
		{ "__index", network_index_l },
		{ "__tostring", network_tostring_l },
		{ NULL, NULL },
	};
	luaL_newmetatable(L, NETWORK_MT);
	luaL_setfuncs(L, metamethods, 0);
	lua_pop(L, 1);
}
