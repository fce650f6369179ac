/* `vharness sweep`'s hooks in the scenario (lua_sweep.c): the cut-point
 * watch on each device and vh.after_power_loss. */
#ifndef VH_LUA_SWEEP_H
#define VH_LUA_SWEEP_H

#include <lua.h>

struct vh_device;

/* Watches dev's console for the sweep the environment asks for (none:
 * nothing); idx is dev's userdata. Raises on a bad VH_SWEEP_* value. */
void lua_sweep_device(lua_State *L, struct vh_device *dev, int idx);

/* Adds vh.after_power_loss to the module table on top of the stack. */
void lua_sweep_register(lua_State *L);

#endif
