#include "lua_util.h"

#include "duration.h"

#include <lauxlib.h>
#include <math.h>
#include <string.h>

uint64_t lua_util_check_duration(lua_State *L, int arg, const char *def)
{
	uint64_t ms;
	if (lua_isnoneornil(L, arg) && def) {
		duration_parse_ms(def, &ms);
		return ms;
	}
	if (lua_type(L, arg) == LUA_TNUMBER) {
		lua_Number s = lua_tonumber(L, arg);
		if (s < 0 || !isfinite(s) || s > 1e9)
			luaL_argerror(L, arg, "duration out of range");
		return (uint64_t)ceil(s * 1000.0);
	}
	const char *text = lua_tostring(L, arg);
	if (lua_type(L, arg) != LUA_TSTRING || duration_parse_ms(text, &ms) < 0)
		luaL_argerror(L, arg,
			      lua_pushfstring(
				      L, "expected a duration such as \"30s\" or \"500ms\", got %s",
				      text ? text : luaL_typename(L, arg)));
	return ms;
}

void lua_util_check_fields(lua_State *L, int idx, const char *what, const char *const *allowed)
{
	idx = lua_absindex(L, idx);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		const char *key = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
		bool ok = false;
		for (const char *const *a = allowed; key && *a; a++)
			ok = ok || !strcmp(key, *a);
		if (!ok) {
			luaL_error(L, "%s: unknown field '%s'", what,
				   key ? key : luaL_tolstring(L, -1, NULL));
		}
	}
}

const char *lua_util_opt_string_field(lua_State *L, int idx, const char *field, const char *what)
{
	int t = lua_getfield(L, idx, field);
	const char *s = NULL;
	if (t == LUA_TSTRING)
		s = lua_tostring(L, -1);
	else if (t != LUA_TNIL)
		luaL_error(L, "%s: field '%s' must be a string, not %s", what, field,
			   lua_typename(L, t));
	lua_pop(L, 1); /* the table still holds the string, so s stays valid */
	return s;
}

/* Follows lstrlib.c's grammar: '%' escapes one character, '[' opens a set
 * closed by ']' (a leading '^' and a first ']' are literal), %b needs two
 * characters, %f needs a set, captures balance, %1-%9 name closed captures. */
const char *lua_util_pattern_error(const char *p)
{
	int depth = 0, closed = 0, captures = 0;
	if (*p == '^')
		p++;
	while (*p) {
		switch (*p) {
		case '(':
			if (++captures > 32) /* LUA_MAXCAPTURES */
				return "too many captures";
			depth++;
			p++;
			if (*p == ')') { /* position capture */
				p++;
				depth--;
				closed++;
			}
			continue;
		case ')':
			if (depth == 0)
				return "invalid pattern capture (unmatched ')')";
			depth--;
			closed++;
			p++;
			continue;
		case '%':
			p++;
			if (!*p)
				return "malformed pattern (ends with '%')";
			if (*p == 'b') {
				if (!p[1] || !p[2])
					return "missing arguments to '%b'";
				p += 3;
				continue;
			}
			if (*p == 'f') {
				p++;
				if (*p != '[')
					return "missing '[' after '%f' in pattern";
				continue; /* the set is checked below */
			}
			if (*p >= '1' && *p <= '9' && *p - '0' > closed)
				return "invalid capture index";
			p++;
			break;
		case '[':
			p++;
			if (*p == '^')
				p++;
			do {
				if (!*p)
					return "malformed pattern (missing ']')";
				if (*p == '%' && !*++p)
					return "malformed pattern (missing ']')";
				p++;
			} while (*p != ']');
			p++;
			break;
		default:
			p++;
			break;
		}
		if (*p == '*' || *p == '+' || *p == '-' || *p == '?')
			p++;
	}
	if (depth)
		return "unfinished capture";
	return NULL;
}

int lua_util_pattern_captures(const char *p)
{
	int n = 0;
	for (; *p; p++) {
		if (*p == '%' && p[1]) {
			p++;
		} else if (*p == '[') {
			/* skip the set: its '(' are literal */
			p++;
			if (*p == '^')
				p++;
			if (*p == ']')
				p++;
			while (*p && *p != ']') {
				if (*p == '%' && p[1])
					p++;
				p++;
			}
			if (!*p)
				break;
		} else if (*p == '(' && p[1] != ')') {
			n++;
		}
	}
	return n;
}
