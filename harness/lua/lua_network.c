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
		luaL_argerror(
			L, arg,
			lua_pushfstring(L, "%s is not on network %s", device_name(dev), net->name));
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
				luaL_argerror(
					L, arg,
					"netem table keys are keywords such as delay or loss");
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

/* lan:impair(dut, "delay 200ms loss 2%" | {delay="200ms"},
 * {direction="both"|"to_device"|"from_device"}) */
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

/* The members one element of partition{} names: a device (alone), or a
 * table of devices (an island). Pushed into the table at `into` as
 * {member lightuserdata...}; checked before anything changes, so a bad
 * element leaves the network as it was. */
static void collect_group(lua_State *L, struct vh_network *net, int elem, int into)
{
	lua_newtable(L);
	if (lua_type(L, elem) != LUA_TTABLE) {
		lua_pushlightuserdata(L, check_member(L, net, elem));
		lua_rawseti(L, -2, 1);
	} else {
		lua_Integer n = luaL_len(L, elem);
		if (n < 1)
			luaL_error(L, "partition: an island needs at least one device");
		for (lua_Integer k = 1; k <= n; k++) {
			lua_geti(L, elem, k);
			if (!luaL_testudata(L, -1, "vh.device"))
				luaL_error(L, "partition: island element %d is a %s, not a device",
					   (int)k, luaL_typename(L, -1));
			lua_pushlightuserdata(L, check_member(L, net, lua_gettop(L)));
			lua_rawseti(L, -3, k);
			lua_pop(L, 1);
		}
	}
	lua_rawseti(L, into, (lua_Integer)luaL_len(L, into) + 1);
}

/* A device named twice (in two islands, or alone and in an island) would
 * end up wherever its last mention put it: refused instead. groups is the
 * table collect_group filled. */
static void check_each_once(lua_State *L, int groups)
{
	lua_newtable(L); /* seen: member -> true */
	int seen = lua_gettop(L);
	lua_Integer n = luaL_len(L, groups);
	for (lua_Integer g = 1; g <= n; g++) {
		lua_geti(L, groups, g);
		lua_Integer size = luaL_len(L, -1);
		for (lua_Integer k = 1; k <= size; k++) {
			lua_geti(L, -1, k);
			if (lua_rawget(L, seen) != LUA_TNIL) { /* looks up the member */
				lua_geti(L, -2, k);
				const struct network_member *m = lua_touserdata(L, -1);
				luaL_error(L, "partition: %s is named more than once", m->device);
			}
			lua_pop(L, 1);
			lua_geti(L, -1, k);
			lua_pushboolean(L, 1);
			lua_rawset(L, seen);
		}
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
}

/* lan:partition { a, b }: each device alone, cut off from everyone;
 * lan:partition { {a, b}, {c, d} }: islands, traffic only inside each (the
 * devices in none stay with the host). Both forms mix. The devices keep
 * their impairments, which apply again after heal(). */
static int network_partition_l(lua_State *L)
{
	struct vh_network *net = check_network(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	struct vh_run *run = script_run(script_of(L));
	lua_Integer n = luaL_len(L, 2);
	if (n < 1)
		return luaL_argerror(L, 2, "partition needs at least one device");
	lua_settop(L, 2);
	lua_newtable(L); /* 3: groups */
	for (lua_Integer i = 1; i <= n; i++) {
		lua_geti(L, 2, i);
		collect_group(L, net, 4, 3);
		lua_pop(L, 1);
	}
	check_each_once(L, 3);
	bool islands = false;
	char err[512], id[16];
	for (lua_Integer g = 1; g <= n; g++) {
		lua_geti(L, 3, g);
		lua_Integer size = luaL_len(L, -1);
		uint32_t island = size > 1 ? network_new_island(net) : 0;
		snprintf(id, sizeof(id), "\x01%u", island);
		/* The island's members, for each member's event: who was with whom. */
		luaL_Buffer names;
		luaL_buffinit(L, &names);
		for (lua_Integer k = 1; island && k <= size; k++) {
			lua_geti(L, -2, k); /* under the buffer's slot */
			const struct network_member *m = lua_touserdata(L, -1);
			lua_pop(L, 1);
			if (k > 1)
				luaL_addchar(&names, ',');
			luaL_addstring(&names, m->device);
		}
		luaL_pushresult(&names);
		const char *members = lua_tostring(L, -1);
		lua_insert(L, -2); /* the members' names below the group */
		for (lua_Integer k = 1; k <= size; k++) {
			lua_geti(L, -1, k);
			struct network_member *m = lua_touserdata(L, -1);
			lua_pop(L, 1);
			if (!island) { /* alone: every frame dropped, as always */
				if (network_member_block(m, true, err, sizeof(err)) < 0)
					return script_raise(L, VH_CONFIG, NULL, "partition %s: %s",
							    m->device, err);
				impair_event(run, "partition", net, m, NULL, NULL, NULL);
				continue;
			}
			struct vh_device *dev = run_find_device(run, m->device);
			if (network_member_set_island(m, island, device_mac(dev)) < 0)
				return script_raise(L, VH_FAULT, NULL, "partition %s: bad MAC %s",
						    m->device, device_mac(dev));
			islands = true;
			const char *kv[] = { "network",
					     net->name,
					     "device",
					     m->device,
					     "island",
					     id,
					     "island_devices",
					     members,
					     "backend",
					     impairment_backend_name(run_backend(run)),
					     NULL };
			run_event(run, "partition", kv);
		}
		lua_pop(L, 2);
	}
	if (islands && network_apply_islands(net, err, sizeof(err)) < 0)
		return script_raise(L, VH_CONFIG, NULL, "partition: %s", err);
	return 0;
}

static int network_heal_l(lua_State *L)
{
	struct vh_network *net = check_network(L, 1);
	struct vh_run *run = script_run(script_of(L));
	bool islands = false;
	char err[512];
	for (int i = 0; i < net->n_members; i++) {
		struct network_member *m = net->members[i];
		if (m->island) {
			m->island = 0;
			islands = true;
			impair_event(run, "heal", net, m, NULL, NULL, NULL);
		}
		if (!m->partitioned)
			continue;
		if (network_member_block(m, false, err, sizeof(err)) < 0)
			return script_raise(L, VH_CONFIG, NULL, "heal %s: %s", m->device, err);
		impair_event(run, "heal", net, m, NULL, NULL, NULL);
	}
	if (islands && network_apply_islands(net, err, sizeof(err)) < 0)
		return script_raise(L, VH_CONFIG, NULL, "heal: %s", err);
	return 0;
}

static int network_index_l(lua_State *L)
{
	struct vh_network *net = check_network(L, 1);
	const char *key = luaL_checkstring(L, 2);
	static const luaL_Reg methods[] = {
		{ "impair", network_impair_l },
		{ "clear", network_clear_l },
		{ "partition", network_partition_l },
		{ "heal", network_heal_l },
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
