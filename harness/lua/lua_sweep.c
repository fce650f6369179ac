/* The scenario's side of `vharness sweep` (harness/cli/cmd_sweep.c), which
 * drives each run through the environment so that a sweep run is an
 * ordinary `vharness run` with its artifacts, verdict and junit.xml. Only a
 * run started with --sweep-point reads them:
 *
 *   VH_SWEEP_KIND=KIND     line (default), flush or write: what a cut point is
 *   VH_SWEEP_LINE=PATTERN  line: every complete console line of a device that
 *                          matches the Lua pattern is a cut point
 *                          flush: every flush (NBD_CMD_FLUSH) and FUA write
 *                          reaching the device's flash; write: every write
 *   VH_SWEEP_FROM=PATTERN  the window: only points after the device's first
 *                          console line matching it count (default: all)
 *   VH_SWEEP_CUT=DEV:K     cut DEV's power at its K-th point in the window;
 *                          without it the run records: each point becomes a
 *                          row "device<TAB>K<TAB>line" of sweep-points.tsv in
 *                          the artifacts, line the device's last console line
 *   VH_SWEEP_FLASH=MODE    what the flash keeps at the cut (default volatile)
 *
 * A line point cuts when its line comes; a flush or write point cuts in the
 * flash itself as the request arrives (flash_set_watch), so the cut does
 * not wait for the console. At the cut the scenario is abandoned where it
 * is (script_abandon): its remaining steps never run. In its place a
 * coroutine powers the device on and calls the function the scenario gave
 * vh.after_power_loss; the run's verdict is that function's. */
#include "lua_sweep.h"

#include "device.h"
#include "ev.h"
#include "flash.h"
#include "flash_model.h"
#include "lua_device.h"
#include "run.h"
#include "script.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char AFTER_LOSS_KEY = 'l';

enum sweep_kind { KIND_LINE, KIND_FLUSH, KIND_WRITE };
static const char *const kind_names[] = { "line", "flush", "write" };

struct sweep_watch {
	struct script *s;
	struct vh_device *dev;
	int device_ref; /* the device's userdata, for the after-loss call */
	enum sweep_kind kind;
	bool window_open;
	long seen;   /* points in the window so far */
	long cut_at; /* 0: record */
	enum flash_cut_mode flash;
	char *record; /* the file's path, opened per point so nothing is left open */
	bool done;
	char last_line[512]; /* the device's last console line */
	int lines_ref;	     /* a Lua array of its lines in the window, for the check */
	long n_lines;
};

/* Enough for a boot and an update; the check sees the first ones. */
enum { MAX_CUT_LINES = 20000 };

/* The after-loss coroutine's body; chunk arguments: fn, dev, note, cut. */
/* cut.env_copies: the env copies as the cut left them, read before the
 * bootloader's next store can hide what a store did (nil without an env). */
static const char after_loss_chunk[] = "local fn, dev, note, cut = ...\n"
				       "return function()\n"
				       "  local has, copies = pcall(dev.env_copies, dev)\n"
				       "  if has then cut.env_copies = copies end\n"
				       "  local ok, err = pcall(dev.power_on, dev)\n"
				       "  if not ok then note(dev, 'bricked') error(err, 0) end\n"
				       "  note(dev, 'booted')\n"
				       "  fn(dev, cut)\n"
				       "  note(dev, 'passed')\n"
				       "end\n";

/* note(dev, stage): a sweep_after_cut event, so the sweep tells a device
 * that never booted (bricked) from a failed check. */
static int note_l(lua_State *L)
{
	struct vh_device *dev = lua_device_check(L, 1);
	const char *kv[] = { "device", device_name(dev), "stage", luaL_checkstring(L, 2), NULL };
	run_event(script_run(script_of(L)), "sweep_after_cut", kv);
	return 0;
}

/* line: the console line the cut came on, for the check (fn(dev, cut)). */
static void take_over(struct sweep_watch *w, const char *line)
{
	struct script *s = w->s;
	struct vh_run *run = script_run(s);
	lua_State *L = script_main_state(s);
	script_abandon(s);
	lua_rawgetp(L, LUA_REGISTRYINDEX, &AFTER_LOSS_KEY);
	if (!lua_isfunction(L, -1)) {
		lua_pop(L, 1);
		char msg[1200];
		snprintf(msg, sizeof(msg),
			 "%s: vharness sweep needs the scenario to declare its after-loss check: "
			 "vh.after_power_loss(function(dev) ... end), before the cut",
			 run_config(run)->scenario_path);
		run_finish(run, VH_CONFIG, msg, NULL);
		return;
	}
	if (luaL_loadbuffer(L, after_loss_chunk, sizeof(after_loss_chunk) - 1, "=vharness sweep") !=
	    LUA_OK) {
		run_finish(run, VH_FAULT, lua_tostring(L, -1), NULL);
		lua_pop(L, 2);
		return;
	}
	lua_insert(L, -2); /* chunk fn */
	lua_rawgeti(L, LUA_REGISTRYINDEX, w->device_ref);
	lua_pushcfunction(L, note_l);
	lua_createtable(L, 0, 4);
	lua_pushstring(L, line);
	lua_setfield(L, -2, "line");
	lua_rawgeti(L, LUA_REGISTRYINDEX, w->lines_ref);
	lua_setfield(L, -2, "lines");
	lua_pushstring(L, kind_names[w->kind]);
	lua_setfield(L, -2, "kind");
	lua_pushinteger(L, w->seen);
	lua_setfield(L, -2, "point");
	if (lua_pcall(L, 4, 1, 0) != LUA_OK) {
		run_finish(run, VH_FAULT, lua_tostring(L, -1), NULL);
		lua_pop(L, 1);
		return;
	}
	script_spawn(s, L);
}

/* The point is reached: the event, the cut, the after-loss check. */
static void cut(struct sweep_watch *w, const char *line)
{
	char point[24], why[64];
	snprintf(point, sizeof(point), "\x01%ld", w->seen);
	const char *kv[] = { "device", device_name(w->dev),
			     "kind",   kind_names[w->kind],
			     "point",  point,
			     "line",   line,
			     NULL };
	run_event(script_run(w->s), "sweep_cut", kv);
	snprintf(why, sizeof(why), "sweep %s point %ld", kind_names[w->kind], w->seen);
	device_power_cut(w->dev, why, w->flash);
	take_over(w, line);
}

/* One more point in the window: recorded, or true when it is the cut's. */
static bool point(struct sweep_watch *w, const char *line)
{
	if (w->done || !w->window_open)
		return false;
	w->seen++;
	if (w->record) {
		FILE *f = fopen(w->record, "ae");
		if (f) {
			fprintf(f, "%s\t%ld\t%s\n", device_name(w->dev), w->seen, line);
			fclose(f);
		}
		return false;
	}
	if (w->seen != w->cut_at)
		return false;
	w->done = true;
	return true;
}

static void on_line(void *arg, bool ok, const char *line)
{
	struct sweep_watch *w = arg;
	if (ok && point(w, line))
		cut(w, line);
}

static void on_any_line(void *arg, bool ok, const char *line)
{
	struct sweep_watch *w = arg;
	if (!ok)
		return;
	snprintf(w->last_line, sizeof(w->last_line), "%s", line);
	if (!w->window_open || w->cut_at == 0 || w->done || w->n_lines >= MAX_CUT_LINES)
		return;
	lua_State *L = script_main_state(w->s);
	lua_rawgeti(L, LUA_REGISTRYINDEX, w->lines_ref);
	lua_pushstring(L, line);
	lua_rawseti(L, -2, ++w->n_lines);
	lua_pop(L, 1);
}

static void on_from_line(void *arg, bool ok, const char *line)
{
	(void)line;
	struct sweep_watch *w = arg;
	if (ok)
		w->window_open = true;
}

static void cut_deferred(struct ev_loop *loop, void *arg)
{
	(void)loop;
	struct sweep_watch *w = arg;
	cut(w, w->last_line);
}

/* In the flash, as the request arrives: the flash goes dead at once, and
 * the power cut follows from the loop (flash_set_watch). */
static bool on_flash_request(void *arg, enum flash_op op, bool fua)
{
	struct sweep_watch *w = arg;
	bool counts = w->kind == KIND_WRITE ? op == FLASH_OP_WRITE
					    : op == FLASH_OP_FLUSH || (op == FLASH_OP_WRITE && fua);
	if (!counts || !point(w, w->last_line))
		return false;
	ev_defer(run_loop(script_run(w->s)), cut_deferred, w);
	return true;
}

/* A console mark for the Lua pattern: every matching line, across reboots,
 * for as long as the console lives. */
static void mark(lua_State *L, struct vh_device *dev, const char *pattern, console_wait_fn fn,
		 struct sweep_watch *w)
{
	lua_pushstring(L, pattern);
	struct console_matcher m = lua_device_matcher(L, -1, false);
	lua_pop(L, 1);
	console_wait(device_console(dev), CONSOLE_MARK, m, 0, fn, w);
}

void lua_sweep_device(lua_State *L, struct vh_device *dev, int idx)
{
	if (!run_config(script_run(script_of(L)))->sweep_point)
		return; /* not a sweep's run: VH_SWEEP_* left in a shell mean nothing */
	const char *kind_name = getenv("VH_SWEEP_KIND");
	const char *pattern = getenv("VH_SWEEP_LINE");
	const char *from = getenv("VH_SWEEP_FROM");
	int kind = !kind_name || !*kind_name	 ? KIND_LINE
		   : !strcmp(kind_name, "line")	 ? KIND_LINE
		   : !strcmp(kind_name, "flush") ? KIND_FLUSH
		   : !strcmp(kind_name, "write") ? KIND_WRITE
						 : -1;
	if (kind < 0)
		luaL_error(L, "VH_SWEEP_KIND=%s: not line, flush or write", kind_name);
	if (kind == KIND_LINE && (!pattern || !*pattern))
		return; /* no sweep */
	if (script_dry_run(script_of(L)))
		return;
	idx = lua_absindex(L, idx);
	const char *cut = getenv("VH_SWEEP_CUT");
	long cut_at = 0;
	if (cut && *cut) {
		const char *colon = strrchr(cut, ':');
		size_t n = colon ? (size_t)(colon - cut) : 0;
		if (!colon || strlen(device_name(dev)) != n || strncmp(cut, device_name(dev), n))
			return; /* another device is cut */
		cut_at = strtol(colon + 1, NULL, 10);
		if (cut_at < 1)
			luaL_error(L, "VH_SWEEP_CUT=%s: the point must be a number >= 1", cut);
	}
	const char *flash_name = getenv("VH_SWEEP_FLASH");
	int flash =
		flash_name && *flash_name ? flash_cut_mode_parse(flash_name) : FLASH_CUT_VOLATILE;
	if (flash < 0)
		luaL_error(L, "VH_SWEEP_FLASH=%s: not a flash mode", flash_name);

	/* Lives with the Lua state: a userdata anchored in the registry. */
	struct sweep_watch *w = lua_newuserdatauv(L, sizeof(*w), 0);
	luaL_ref(L, LUA_REGISTRYINDEX);
	*w = (struct sweep_watch){
		.s = script_of(L),
		.dev = dev,
		.kind = (enum sweep_kind)kind,
		.window_open = !from || !*from,
		.cut_at = cut_at,
		.flash = (enum flash_cut_mode)flash,
	};
	lua_pushvalue(L, idx);
	w->device_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	if (!cut_at) {
		/* In the Lua state's memory, freed with it. */
		const char *dir = run_config(script_run(w->s))->artifacts_dir;
		lua_pushfstring(L, "%s/sweep-points.tsv", dir);
		w->record = (char *)lua_tostring(L, -1);
		luaL_ref(L, LUA_REGISTRYINDEX);
	}
	lua_newtable(L);
	w->lines_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	/* The console calls a line's marks newest first (console.c), so these
	 * see each line as: the window's mark, every line's, the points': the
	 * line that opens the window is its first and may be a point, and a
	 * line point's line is its own last line, among cut.lines. */
	if (w->kind == KIND_LINE)
		mark(L, dev, pattern, on_line, w);
	else
		device_flash_watch(dev, on_flash_request, w);
	mark(L, dev, "", on_any_line, w);
	if (!w->window_open)
		mark(L, dev, from, on_from_line, w);
}

/* vh.after_power_loss(fn): what a sweep runs after each cut, as
 * fn(dev, { kind = "line"|"flush"|"write", point = K, line = the device's
 * last console line before the cut (a line point's own line), lines = its
 * console lines in the window up to the cut, an array }). */
static int after_power_loss_l(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TFUNCTION);
	lua_settop(L, 1);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &AFTER_LOSS_KEY);
	return 0;
}

void lua_sweep_register(lua_State *L)
{
	lua_pushcfunction(L, after_power_loss_l);
	lua_setfield(L, -2, "after_power_loss");
}
