/* Lua bindings for networks: vh.network{...} objects. */
#include "lua_network.h"

#include "network.h"

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

static int network_index_l(lua_State *L)
{
	struct vh_network *net = check_network(L, 1);
	const char *key = luaL_checkstring(L, 2);
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
