/* The vh.update_server userdata. */
#ifndef VH_LUA_UPDATE_SERVER_H
#define VH_LUA_UPDATE_SERVER_H

#include <lua.h>

struct vh_server;

void lua_update_server_register(lua_State *L);
/* vh.update_server{network=, port=}. */
int lua_update_server_new(lua_State *L);
/* The server at idx, or NULL when it is something else. */
struct vh_server *lua_update_server_test(lua_State *L, int idx);
/* "10.77.0.1:8080" */
const char *lua_update_server_address(const struct vh_server *s);

#endif
