/* The vh.device userdata. */
#ifndef VH_LUA_DEVICE_H
#define VH_LUA_DEVICE_H

#include "console.h"

#include <lua.h>
#include <stdbool.h>

struct vh_device;

/* Creates the metatable; called once when the module opens. */
void lua_device_register(lua_State *L);
/* Pushes a userdata for dev (owned by the run, not by Lua). */
void lua_device_push(lua_State *L, struct vh_device *dev);
/* A console matcher for the Lua pattern (an ERE when regex) at arg,
 * checked now: a malformed one raises an argument error there. The caller
 * owns it (m.free). */
struct console_matcher lua_device_matcher(lua_State *L, int arg, bool regex);
/* Adds dut:flash_fault and dut:flash (lua_device_flash.c) to the methods
 * table on top of the stack. */
void lua_device_flash_methods(lua_State *L);

/* The device at arg, or raises an argument error. */
struct vh_device *lua_device_check(lua_State *L, int arg);

#endif
