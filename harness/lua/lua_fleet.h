/* vh.fleet{} and fleet:power_on(); vh.all() and vh.count() (lua_group_wait.c). */
#ifndef VH_LUA_FLEET_H
#define VH_LUA_FLEET_H

#include <lua.h>

/* Adds vh.fleet to the vharness module table on top of the stack (which
 * must already hold vh.device) and creates the fleet metatable. */
void lua_fleet_register(lua_State *L);

/* Adds vh.all and vh.count to the vharness module table on top of the stack. */
void lua_group_wait_register(lua_State *L);

#endif
