/* Lua bindings for a device's flash faults: dut:flash_fault{} and
 * dut:flash{} (docs/flash-model.md, "Flash faults"). Both only set rules
 * on the device and return at once: the flash applies them to requests as
 * they come, at this boot and every later one. */
#include "lua_device.h"

#include "device.h"
#include "duration.h"
#include "expect.h"
#include "flash_faults.h"
#include "lua_util.h"
#include "script.h"

#include <errno.h>
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>

/* An integer field of the table at idx, at least min; def when absent.
 * Anything else is the scenario's error, naming the field. */
static uint64_t int_field(lua_State *L, int idx, const char *what, const char *field,
			  lua_Integer min, uint64_t def)
{
	int t = lua_getfield(L, idx, field);
	if (t == LUA_TNIL) {
		lua_pop(L, 1);
		return def;
	}
	int isnum = 0;
	lua_Integer v = lua_tointegerx(L, -1, &isnum);
	if (!isnum || v < min)
		luaL_error(L, "%s: '%s' must be an integer >= %d, not %s", what, field, (int)min,
			   luaL_tolstring(L, -1, NULL));
	lua_pop(L, 1);
	return (uint64_t)v;
}

/* An enumerated string field: parse gives its value or -1. */
static int enum_field(lua_State *L, int idx, const char *what, const char *field,
		      int (*parse)(const char *), const char *def, const char *choices)
{
	const char *s = lua_util_opt_string_field(L, idx, field, what);
	int v = parse(s ? s : def);
	if (v < 0)
		luaL_error(L, "%s: '%s' must be %s, not \"%s\"", what, field, choices, s);
	return v;
}

/* range = { offset, length } (or { offset = , length = }): bytes of the
 * disk a request must overlap. */
static void check_range(lua_State *L, int idx, struct flash_fault_rule *r)
{
	static const char what[] = "flash_fault{}";
	int t = lua_getfield(L, idx, "range");
	if (t == LUA_TNIL) {
		lua_pop(L, 1);
		return;
	}
	if (t != LUA_TTABLE)
		luaL_error(L, "%s: 'range' must be a table { offset, length }, not %s", what,
			   lua_typename(L, t));
	int range = lua_gettop(L);
	lua_Integer v[2];
	static const char *const names[2] = { "offset", "length" };
	for (int i = 0; i < 2; i++) {
		if (lua_rawgeti(L, range, i + 1) == LUA_TNIL) {
			lua_pop(L, 1);
			lua_getfield(L, range, names[i]);
		}
		int isnum = 0;
		v[i] = lua_tointegerx(L, -1, &isnum);
		if (!isnum || v[i] < (i ? 1 : 0))
			luaL_error(L, "%s: range's %s must be an integer >= %d, not %s", what,
				   names[i], i, luaL_tolstring(L, -1, NULL));
		lua_pop(L, 1);
	}
	if (v[0] > INT64_MAX - v[1])
		luaL_error(L, "%s: range ends past 2^63", what);
	r->has_range = true;
	r->offset = (uint64_t)v[0];
	r->length = (uint64_t)v[1];
	lua_pop(L, 1);
}

/* The on= pattern, checked here so that its error names the field (the
 * matcher would name an argument the scenario never wrote). */
static void check_on(lua_State *L, const char *what, const char *on, bool regex)
{
	char err[256];
	const char *why = NULL;
	if (regex) {
		struct expect_regex *re = expect_regex_new(on, err, sizeof(err));
		why = re ? NULL : err;
		expect_regex_free(re);
	} else {
		why = lua_util_pattern_error(on);
	}
	if (why)
		luaL_error(L, "%s: 'on' is not a %s: %s", what, regex ? "regex" : "Lua pattern",
			   why);
}

/* dut:flash_fault{ op = "write"|"read"|"flush", error = "EIO"|"EPERM",
 * on = PATTERN, regex = bool, after = N, count = N, range = { offset,
 * length } }: the flash fails matching requests. op defaults to "write",
 * error to "EIO", count to 1 (one failed request is the common case; a
 * bigger count keeps failing the retries). */
static int flash_fault_l(lua_State *L)
{
	static const char what[] = "flash_fault{}";
	struct vh_device *dev = lua_device_check(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	static const char *const fields[] = { "op",    "error", "on",	 "regex",
					      "after", "count", "range", NULL };
	lua_util_check_fields(L, 2, what, fields);
	struct flash_fault_rule r = { 0 };
	r.op = (enum flash_op)enum_field(L, 2, what, "op", flash_op_parse, "write",
					 "\"write\", \"read\" or \"flush\"");
	r.error = enum_field(L, 2, what, "error", flash_fault_error_parse, "EIO",
			     "\"EIO\" or \"EPERM\"");
	r.after = int_field(L, 2, what, "after", 0, 0);
	r.count = int_field(L, 2, what, "count", 1, 1);
	check_range(L, 2, &r);
	if (r.has_range && r.op == FLASH_OP_FLUSH)
		luaL_error(L,
			   "%s: 'range' means nothing for op = \"flush\" (a flush has no offset)",
			   what);
	const char *on = lua_util_opt_string_field(L, 2, "on", what);
	bool has_on = on != NULL;
	struct console_matcher m = { 0 };
	if (has_on) {
		lua_getfield(L, 2, "regex");
		bool regex = lua_toboolean(L, -1);
		check_on(L, what, on, regex);
		lua_getfield(L, 2, "on");
		m = lua_device_matcher(L, lua_gettop(L), regex);
		lua_pop(L, 2);
	} else if (lua_getfield(L, 2, "regex") != LUA_TNIL) {
		luaL_error(L, "%s: 'regex' goes with 'on'", what);
	}
	if (script_dry_run(script_of(L))) {
		if (m.free)
			m.free(m.ctx);
		return 0;
	}
	if (device_flash_fault(dev, &r, has_on ? &m : NULL) < 0) {
		if (m.free)
			m.free(m.ctx);
		luaL_error(L, "%s: %s has %d rules already", what, device_name(dev),
			   FLASH_FAULT_RULES_MAX);
	}
	return 0;
}

/* dut:flash{ write_latency = DURATION, bandwidth = "2MB/s", wear_out_after
 * = N }: a slow flash, one that wears out. Only the fields given change;
 * write_latency = 0 and bandwidth = 0 undo the slowness. */
static int flash_l(lua_State *L)
{
	static const char what[] = "flash{}";
	struct vh_device *dev = lua_device_check(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	static const char *const fields[] = { "write_latency", "bandwidth", "wear_out_after",
					      NULL };
	lua_util_check_fields(L, 2, what, fields);
	struct flash_faults *ff = device_flash_faults(dev);
	uint64_t latency_us = ff->write_latency_us, bandwidth = ff->bandwidth;
	uint64_t wear = int_field(L, 2, what, "wear_out_after", 1, ff->wear_out_after);
	int t = lua_getfield(L, 2, "write_latency");
	if (t != LUA_TNIL) {
		uint64_t ms = 0;
		bool ok = t == LUA_TNUMBER
				  ? lua_tonumber(L, -1) >= 0 && lua_tonumber(L, -1) <= 60
				  : t == LUA_TSTRING &&
					    duration_parse_ms(lua_tostring(L, -1), &ms) == 0 &&
					    ms <= 60000;
		if (!ok)
			luaL_error(L,
				   "%s: 'write_latency' must be a duration up to 60s such as "
				   "\"5ms\", not %s",
				   what, luaL_tolstring(L, -1, NULL));
		latency_us =
			t == LUA_TNUMBER ? (uint64_t)ceil(lua_tonumber(L, -1) * 1e6) : ms * 1000u;
	}
	lua_pop(L, 1);
	t = lua_getfield(L, 2, "bandwidth");
	if (t == LUA_TNUMBER && lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 0) {
		bandwidth = (uint64_t)lua_tointeger(L, -1); /* bytes per second */
	} else if (t != LUA_TNIL) {
		uint64_t bps;
		if (t != LUA_TSTRING || flash_bandwidth_parse(lua_tostring(L, -1), &bps) < 0)
			luaL_error(L,
				   "%s: 'bandwidth' must be a rate such as \"2MB/s\" or "
				   "\"512KiB/s\", or bytes per second (0: unlimited), not %s",
				   what, luaL_tolstring(L, -1, NULL));
		bandwidth = bps;
	}
	lua_pop(L, 1);
	if (script_dry_run(script_of(L)))
		return 0;
	ff->write_latency_us = latency_us;
	ff->bandwidth = bandwidth;
	ff->wear_out_after = wear;
	return 0;
}

void lua_device_flash_methods(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "flash_fault", flash_fault_l },
		{ "flash", flash_l },
		{ NULL, NULL },
	};
	luaL_setfuncs(L, methods, 0);
}
