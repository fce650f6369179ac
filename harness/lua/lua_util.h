/* Argument helpers shared by the Lua binding files. */
#ifndef VH_LUA_UTIL_H
#define VH_LUA_UTIL_H

#include <lua.h>
#include <stdbool.h>
#include <stdint.h>

/* A duration argument: a number of seconds or a string such as "30s";
 * def when the argument is absent. Raises an argument error otherwise. */
uint64_t lua_util_check_duration(lua_State *L, int arg, const char *def);

/* Raises when the table at idx has a key not in allowed (NULL-terminated):
 * a typo in a scenario is an error, not a silent default. */
void lua_util_check_fields(lua_State *L, int idx, const char *what, const char *const *allowed);

/* Optional string field of the table at idx; NULL when absent. */
const char *lua_util_opt_string_field(lua_State *L, int idx, const char *field, const char *what);

/* Checks a Lua pattern's syntax without matching it: Lua itself finds
 * pattern errors only while matching, so a bad pattern would otherwise
 * surface as an expect that never matches. NULL when well formed, else a
 * static description of the first error. */
const char *lua_util_pattern_error(const char *pattern);

/* How many values a well-formed Lua pattern captures (position captures
 * excluded), for `check`'s stand-in results. */
int lua_util_pattern_captures(const char *pattern);

#endif
