/* The vh.network userdata. */
#ifndef VH_LUA_NETWORK_H
#define VH_LUA_NETWORK_H

#include <lua.h>

struct vh_network;

void lua_network_register(lua_State *L);
void lua_network_push(lua_State *L, struct vh_network *net);
/* The network at idx, or NULL when it is something else. */
struct vh_network *lua_network_test(lua_State *L, int idx);

#endif
