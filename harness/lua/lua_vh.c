/* The `vharness` Lua module (DESIGN.md §4): constructors for networks,
 * devices and firmware, and the run-wide calls sleep, check, spawn, seed. */
#include "ab_boot.h"
#include "boot_args.h"
#include "bundle.h"
#include "device.h"
#include "ev.h"
#include "lua_device.h"
#include "lua_fleet.h"
#include "lua_network.h"
#include "lua_sweep.h"
#include "lua_update_server.h"
#include "lua_util.h"
#include "network.h"
#include "qemu_argv.h"
#include "release.h"
#include "run.h"
#include "script.h"
#include "user_fw.h"

#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { REFERENCE_MIN_MEMORY_MIB = 80, DEFAULT_MEMORY_MIB = 96 };
/* The reference agent's line once its network is configured: the costly part
 * of a boot (kernel, init) is over (boot_gate.h). */
#define REFERENCE_READY_LINE "vh-agent: net up"

static struct vh_run *check_run(lua_State *L)
{
	return script_run(script_of(L));
}

static int vh_network_l(lua_State *L)
{
	struct vh_run *run = check_run(L);
	luaL_checktype(L, 1, LUA_TTABLE);
	static const char *const fields[] = { "name", "subnet", NULL };
	lua_util_check_fields(L, 1, "vh.network{}", fields);
	const char *name = lua_util_opt_string_field(L, 1, "name", "vh.network{}");
	const char *subnet = lua_util_opt_string_field(L, 1, "subnet", "vh.network{}");
	if (!name)
		return luaL_error(L, "vh.network{}: 'name' is required");
	char err[512];
	struct vh_network *net = run_add_network(run, name, subnet, err, sizeof(err));
	if (!net)
		return script_raise(L, VH_CONFIG, NULL, "vh.network{}: %s", err);
	lua_network_push(L, net);
	return 1;
}

/* "96M", "1G", or a number of MiB. */
static unsigned check_memory(lua_State *L, int idx)
{
	if (lua_type(L, idx) == LUA_TNUMBER) {
		lua_Integer mib = lua_tointeger(L, idx);
		if (mib >= 16 && mib <= 65536)
			return (unsigned)mib;
	} else if (lua_type(L, idx) == LUA_TSTRING) {
		const char *s = lua_tostring(L, idx);
		char *end;
		unsigned long v = strtoul(s, &end, 10);
		unsigned long mib = !strcmp(end, "M") || !strcmp(end, "MiB")   ? v
				    : !strcmp(end, "G") || !strcmp(end, "GiB") ? v * 1024
									       : 0;
		if (end != s && mib >= 16 && mib <= 65536)
			return (unsigned)mib;
	}
	luaL_error(L, "vh.device{}: memory must be like \"96M\" or \"1G\" (16M to 64G)");
	return 0;
}

/* A number field of an env = { ... } table: an integer (0x400000 works). */
static uint64_t env_number(lua_State *L, int idx, const char *field, bool *present)
{
	int t = lua_getfield(L, idx, field);
	lua_Integer v = lua_tointeger(L, -1);
	lua_pop(L, 1);
	*present = t != LUA_TNIL;
	if (!*present)
		return 0;
	if (t != LUA_TNUMBER || v < 0)
		luaL_error(L, "firmware: env.%s must be a byte count such as 0x400000", field);
	return (uint64_t)v;
}

/* The user-image part of a firmware table (profile, boot, env, slots),
 * resolved against the image. Pushes a userdata holding the struct
 * user_fw, which fw->user points to while it stays on the stack. */
static void read_user_firmware(lua_State *L, int idx, struct vh_firmware *fw)
{
	struct user_fw_spec spec = {
		.disk = fw->disk,
		.kernel = fw->kernel,
		.initrd = fw->initrd,
		.profile = lua_util_opt_string_field(L, idx, "profile", "firmware"),
	};
	const char *options[32];
	char opt_text[32][160];
	if (lua_getfield(L, idx, "boot") != LUA_TNIL) {
		luaL_checktype(L, -1, LUA_TTABLE);
		lua_pushnil(L);
		while (lua_next(L, -2)) {
			if (lua_type(L, -2) != LUA_TSTRING || spec.n_options == 32)
				luaL_error(L,
					   "firmware: boot = { option = value, ... } (at most 32)");
			/* The key first: luaL_tolstring pushes, moving it to -3
			 * (argument order is unspecified in C). */
			const char *name = lua_tostring(L, -2);
			const char *value = luaL_tolstring(L, -1, NULL);
			snprintf(opt_text[spec.n_options], sizeof(opt_text[0]), "%s=%s", name,
				 value);
			lua_pop(L, 2);
			options[spec.n_options] = opt_text[spec.n_options];
			spec.n_options++;
		}
	}
	lua_pop(L, 1);
	spec.options = options;
	int t = lua_getfield(L, idx, "env");
	if (t == LUA_TSTRING) {
		spec.env_config = lua_tostring(L, -1);
	} else if (t == LUA_TTABLE) {
		static const char *const env_fields[] = { "offset", "size", "redundant", NULL };
		lua_util_check_fields(L, -1, "firmware env", env_fields);
		bool has_offset, has_size;
		spec.env_offset = env_number(L, lua_gettop(L), "offset", &has_offset);
		spec.env_size = env_number(L, lua_gettop(L), "size", &has_size);
		spec.env_redundant =
			env_number(L, lua_gettop(L), "redundant", &spec.env_has_redundant);
		if (!has_offset || !has_size)
			luaL_error(L, "firmware: env = { offset = ..., size = ... [, redundant = "
				      "...] } (the numbers of fw_env.config's lines)");
		spec.env_given = true;
	} else if (t != LUA_TNIL) {
		luaL_error(L, "firmware: env is the path of fw_env.config in the image or { offset "
			      "= ..., size = ..., redundant = ... }");
	}
	/* the string (if any) stays on the stack until resolved */
	if (lua_getfield(L, idx, "slots") != LUA_TNIL) {
		luaL_checktype(L, -1, LUA_TTABLE);
		for (int i = 0; i < 2; i++) {
			lua_geti(L, -1, i + 1);
			if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1)
				luaL_error(L,
					   "firmware: slots = { A, B }, the two slots' partition "
					   "numbers, like { 2, 3 }");
			spec.slots[i] = (int)lua_tointeger(L, -1);
			lua_pop(L, 1);
		}
		spec.slots_given = true;
	}
	lua_pop(L, 1);
	struct user_fw *ufw = lua_newuserdatauv(L, sizeof(*ufw), 0);
	char err[900];
	if (user_fw_resolve(&spec, ufw, err, sizeof(err)) < 0)
		script_raise(L, VH_CONFIG, NULL, "firmware %s", err);
	lua_remove(L, -2); /* the env string */
	fw->user = ufw;
}

/* What the reference image's manifest (next to its kernel) says about how
 * to start it: the smallest -m its kernel boots with on x86_64
 * (min_memory_mib; without one, the cloud kernel's floor), qemu_acpi=off and
 * qemu_tb_size_mib. build-image.sh writes them for the small kernel
 * (docs/fleet.md). Read once, when the device is made, not at each
 * power-on. */
static unsigned read_reference_manifest(const char *kernel, struct vh_firmware *fw)
{
	unsigned mib = REFERENCE_MIN_MEMORY_MIB;
	fw->no_acpi = false;
	fw->tb_size_mib = 0;
	const char *slash = kernel ? strrchr(kernel, '/') : NULL;
	if (!slash)
		return mib;
	char path[1100], line[256];
	snprintf(path, sizeof(path), "%.*s/manifest", (int)(slash - kernel), kernel);
	FILE *f = fopen(path, "r");
	if (!f)
		return mib;
	while (fgets(line, sizeof(line), f)) {
		unsigned v;
		if (sscanf(line, "min_memory_mib=%u", &v) == 1 && v >= 16)
			mib = v;
		else if (!strcmp(line, "qemu_acpi=off\n"))
			fw->no_acpi = true;
		else if (sscanf(line, "qemu_tb_size_mib=%u", &v) == 1 && v >= 1 && v <= 2048)
			fw->tb_size_mib = v;
	}
	fclose(f);
	return mib;
}

static void read_firmware(lua_State *L, int idx, struct vh_firmware *fw)
{
	static const char *const fields[] = { "kernel", "initrd",  "bios",  "disk",	 "append",
					      "arch",	"version", "bugs",  "reference", "profile",
					      "boot",	"env",	   "slots", "ready",	 NULL };
	const char *what = "firmware";
	idx = lua_absindex(L, idx);
	luaL_checktype(L, idx, LUA_TTABLE);
	lua_util_check_fields(L, idx, what, fields);
	fw->kernel = (char *)lua_util_opt_string_field(L, idx, "kernel", what);
	fw->initrd = (char *)lua_util_opt_string_field(L, idx, "initrd", what);
	fw->bios = (char *)lua_util_opt_string_field(L, idx, "bios", what);
	fw->disk = (char *)lua_util_opt_string_field(L, idx, "disk", what);
	fw->append = (char *)lua_util_opt_string_field(L, idx, "append", what);
	char why[300];
	if (fw->append && boot_args_check(fw->append, why, sizeof(why)) < 0)
		luaL_error(L, "firmware %s", why);
	fw->arch = (char *)lua_util_opt_string_field(L, idx, "arch", what);
	fw->version = (char *)lua_util_opt_string_field(L, idx, "version", what);
	fw->bugs = (char *)lua_util_opt_string_field(L, idx, "bugs", what);
	lua_getfield(L, idx, "reference");
	fw->reference = lua_toboolean(L, -1);
	lua_pop(L, 1);
	fw->ready = (char *)lua_util_opt_string_field(L, idx, "ready", what);
	if (fw->ready && !*fw->ready)
		luaL_error(L, "firmware: 'ready' must be the text of a console line, not \"\"");
	if (!fw->ready && fw->reference)
		fw->ready = (char *)REFERENCE_READY_LINE;
	if (!fw->kernel && !fw->bios)
		luaL_error(
			L,
			"firmware needs 'kernel' (or 'bios' for firmware with its own bootloader)");
	if (fw->arch && !qemu_arch_known(fw->arch))
		luaL_error(L, "firmware: arch must be \"x86_64\" or \"aarch64\", not \"%s\"",
			   fw->arch);
	lua_getfield(L, idx, "profile");
	bool user = !lua_isnil(L, -1);
	lua_pop(L, 1);
	if (user)
		read_user_firmware(L, idx, fw);
	else
		lua_pushnil(L); /* the same stack shape either way */
}

/* vh.firmware{ disk=, profile=, boot=, env=, slots=, kernel=, initrd=,
 * append=, arch= }: a user's firmware image, checked against the image now
 * (so a mistake names this line), returned as the table vh.device takes. */
static int vh_firmware_l(lua_State *L)
{
	struct vh_firmware fw = { 0 };
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_getfield(L, 1, "profile");
	if (lua_isnil(L, -1))
		return luaL_error(L,
				  "vh.firmware{}: 'profile' is required (the bootloader's rules: "
				  "uboot-bootcount, mender, rauc, nerves or swupdate); for a bare "
				  "kernel give firmware = { kernel = ..., initrd = ... }");
	lua_pop(L, 1);
	read_firmware(L, 1, &fw);
	lua_settop(L, 1);
	return 1;
}

static void check_file(lua_State *L, struct vh_run *run, const char *role, const char *path)
{
	if (!path || run_config(run)->dry_run || access(path, R_OK) == 0)
		return;
	script_raise(L, VH_CONFIG, NULL, "firmware %s %s: %s", role, path, strerror(errno));
}

static int vh_device_l(lua_State *L)
{
	struct vh_run *run = check_run(L);
	luaL_checktype(L, 1, LUA_TTABLE);
	static const char *const fields[] = { "name",	"network",  "server",
					      "memory", "firmware", NULL };
	lua_util_check_fields(L, 1, "vh.device{}", fields);
	const char *name = lua_util_opt_string_field(L, 1, "name", "vh.device{}");
	if (!name || !*name || strlen(name) > 24 || strpbrk(name, "/ \t\n"))
		return luaL_error(
			L, "vh.device{}: 'name' is required (1-24 characters, no '/' or spaces)");
	if (run_find_device(run, name))
		return luaL_error(L, "vh.device{}: a device named '%s' already exists", name);

	struct vh_network *net = NULL;
	if (lua_getfield(L, 1, "network") != LUA_TNIL && !(net = lua_network_test(L, -1)))
		return luaL_error(L, "vh.device{}: 'network' must be a vh.network");
	lua_pop(L, 1);
	struct vh_server *server = NULL;
	if (lua_getfield(L, 1, "server") != LUA_TNIL && !(server = lua_update_server_test(L, -1)))
		return luaL_error(L, "vh.device{}: 'server' must be a vh.update_server");
	lua_pop(L, 1);
	unsigned memory = DEFAULT_MEMORY_MIB;
	if (lua_getfield(L, 1, "memory") != LUA_TNIL)
		memory = check_memory(L, -1);
	lua_pop(L, 1);
	if (lua_getfield(L, 1, "firmware") == LUA_TNIL)
		return luaL_error(
			L, "vh.device{}: 'firmware' is required (e.g. vh.reference_firmware{})");
	struct vh_firmware fw = { 0 };
	read_firmware(L, lua_gettop(L), &fw); /* pushes the user image's description */
	bool x86 = !strcmp(device_firmware_arch(&fw), "x86_64");
	unsigned min_mib = 0;
	if (fw.reference) {
		unsigned floor = read_reference_manifest(fw.kernel, &fw);
		min_mib = x86 ? floor : 0;
	}
	if (memory < min_mib)
		return luaL_error(
			L,
			"vh.device{}: the reference firmware needs memory >= %dM on x86_64 "
			"(%s)",
			(int)min_mib,
			min_mib == REFERENCE_MIN_MEMORY_MIB
				? "its kernel unpacks 51.5 MiB at 16 MiB"
				: "min_memory_mib in its image's manifest");
	if (!fw.user) { /* a user image's kernel and initrd are inside its slots */
		check_file(L, run, "kernel", fw.kernel);
		check_file(L, run, "initrd", fw.initrd);
	}
	check_file(L, run, "bios", fw.bios);
	check_file(L, run, "disk", fw.disk);

	char err[512];
	struct run_device_spec spec = {
		.name = name,
		.network = net,
		.memory_mib = memory,
		.fw = &fw,
		.server = server ? lua_update_server_address(server) : NULL,
	};
	enum vh_outcome status;
	struct vh_device *dev = run_add_device(run, &spec, &status, err, sizeof(err));
	lua_pop(L, 2); /* firmware table and image description: the device copied them */
	if (!dev)
		return script_raise(L, status, NULL, "vh.device{}: %s", err);
	lua_device_push(L, dev);
	lua_sweep_device(L, dev, -1);
	return 1;
}

/* bugs = { "no-backoff", ... } -> "no-backoff,..." on the stack's top. */
static const char *check_bugs(lua_State *L, int idx)
{
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	luaL_checktype(L, idx, LUA_TTABLE);
	lua_Integer n = luaL_len(L, idx);
	for (lua_Integer i = 1; i <= n; i++) {
		lua_geti(L, idx, i);
		const char *bug = lua_tostring(L, -1);
		bool known = false;
		for (const char *const *k = release_bug_names; bug && *k; k++)
			known = known || !strcmp(bug, *k);
		if (!known) {
			luaL_Buffer names;
			luaL_buffinit(L, &names);
			for (const char *const *k = release_bug_names; *k; k++) {
				luaL_addstring(&names, k == release_bug_names ? "" : ", ");
				luaL_addstring(&names, *k);
			}
			luaL_pushresult(&names);
			luaL_error(L, "vh.reference_firmware{}: unknown bug '%s' (known: %s)",
				   bug ? bug : "?", lua_tostring(L, -1));
		}
		lua_pop(L, 1);
		if (i > 1)
			luaL_addchar(&b, ',');
		luaL_addstring(&b, bug);
	}
	luaL_pushresult(&b);
	return lua_tostring(L, -1);
}

static int vh_reference_firmware_l(lua_State *L)
{
	struct vh_run *run = check_run(L);
	const char *version = "1.0.0";
	const char *bugs = "";
	/* The run's --arch, else the host's: a scenario that names no arch
	 * runs on either. */
	const char *arch = run_config(run)->arch;
	if (!arch)
		arch = qemu_host_arch() ? qemu_host_arch() : "x86_64";
	if (!lua_isnoneornil(L, 1)) {
		luaL_checktype(L, 1, LUA_TTABLE);
		static const char *const fields[] = { "version", "bugs", "arch", NULL };
		lua_util_check_fields(L, 1, "vh.reference_firmware{}", fields);
		const char *v =
			lua_util_opt_string_field(L, 1, "version", "vh.reference_firmware{}");
		if (v)
			version = v;
		const char *a = lua_util_opt_string_field(L, 1, "arch", "vh.reference_firmware{}");
		if (a && !qemu_arch_known(a))
			return luaL_error(L,
					  "vh.reference_firmware{}: arch must be \"x86_64\" or "
					  "\"aarch64\", not \"%s\"",
					  a);
		if (a)
			arch = a;
		int t = lua_getfield(L, 1, "bugs");
		if (t == LUA_TSTRING) {
			/* "a,b" as from vh.param("bugs"): split into a list first. */
			lua_newtable(L);
			const char *s = lua_tostring(L, -2);
			for (int n = 1; *s;) {
				size_t k = strcspn(s, ",");
				if (k) {
					lua_pushlstring(L, s, k);
					lua_rawseti(L, -2, n++);
				}
				s += k + (s[k] == ',');
			}
		}
		if (t != LUA_TNIL)
			bugs = check_bugs(L, lua_gettop(L)); /* stays on the stack */
	}
	if (!bundle_version_valid(version))
		return luaL_error(L, "vh.reference_firmware{}: version must be 1-63 of "
				     "[A-Za-z0-9._+-], like \"1.0.0\"");
	char dir[1024], kernel[1100], initrd[1100];
	ab_boot_image_dir(run_config(run)->image_dir, arch, dir, sizeof(dir));
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", dir);
	snprintf(initrd, sizeof(initrd), "%s/initramfs.cpio", dir);
	if (!run_config(run)->dry_run && (access(kernel, R_OK) != 0 || access(initrd, R_OK) != 0))
		return script_raise(
			L, VH_CONFIG, NULL,
			"reference firmware image not found: %s: %s\n"
			"  build the %s image with `cmake --build build --target image-%s` "
			"or `vharness image build --arch %s`,\n"
			"  or point --image-dir / VH_IMAGE_DIR at a built image",
			access(kernel, R_OK) != 0 ? kernel : initrd, strerror(errno), arch, arch,
			arch);
	lua_createtable(L, 0, 6);
	lua_pushstring(L, kernel);
	lua_setfield(L, -2, "kernel");
	lua_pushstring(L, initrd);
	lua_setfield(L, -2, "initrd");
	lua_pushstring(L, version);
	lua_setfield(L, -2, "version");
	lua_pushstring(L, bugs);
	lua_setfield(L, -2, "bugs");
	lua_pushstring(L, arch);
	lua_setfield(L, -2, "arch");
	lua_pushboolean(L, 1);
	lua_setfield(L, -2, "reference");
	return 1;
}

static int sleep_k(lua_State *L, int status, lua_KContext ctx)
{
	(void)L, (void)status, (void)ctx;
	return 0;
}

static void on_sleep_done(struct ev_loop *loop, uint64_t id, void *arg)
{
	(void)loop, (void)id;
	lua_State *co = arg;
	script_resume_soon(script_of(co), co, 0);
}

static int vh_sleep_l(lua_State *L)
{
	struct vh_run *run = check_run(L);
	uint64_t ms = lua_util_check_duration(L, 1, NULL);
	if (run_config(run)->dry_run)
		return 0;
	if (!lua_isyieldable(L))
		return luaL_error(L, "vh.sleep cannot wait here (inside a metamethod or C call)");
	ev_add_timer(run_loop(run), ms, on_sleep_done, L);
	return script_wait(L, "vh.sleep", 0, sleep_k);
}

static int vh_check_l(lua_State *L)
{
	struct vh_run *run = check_run(L);
	luaL_checkany(L, 1);
	const char *what = luaL_optstring(L, 2, "check");
	bool ok = lua_toboolean(L, 1);
	const char *kv[] = { "what", what, "result", ok ? "pass" : "fail", NULL };
	run_event(run, "check", kv);
	if (!ok && !run_config(run)->dry_run)
		return script_raise(L, VH_FAIL, NULL, "check failed: %s", what);
	return 0;
}

static int vh_spawn_l(lua_State *L)
{
	struct script *s = script_of(L);
	luaL_checktype(L, 1, LUA_TFUNCTION);
	lua_settop(L, 1);
	if (script_dry_run(s)) {
		/* Still run it, so `check` sees errors in spawned code. */
		lua_call(L, 0, 0);
		return 0;
	}
	script_spawn(s, L);
	return 0;
}

static int vh_seed_l(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)run_config(check_run(L))->seed);
	return 1;
}

/* Seconds since the run started, on the monotonic clock: for scenarios
 * that measure (bench/boot.lua). */
static int vh_now_l(lua_State *L)
{
	lua_pushnumber(L, run_now(check_run(L)));
	return 1;
}

/* vh.harness_cpu(): the harness's CPU seconds so far by component of its
 * loop ({ console = 0.8, datapath = 2.1, scenario = 0.3, ... }), for benches
 * that ask what costs the harness at fleet scale (bench/fleet.lua). */
static int vh_harness_cpu_l(lua_State *L)
{
	struct ev_loop *loop = run_loop(check_run(L));
	unsigned n = ev_component_count(loop);
	lua_createtable(L, 0, (int)n);
	for (unsigned i = 0; i < n; i++) {
		lua_pushnumber(L, (double)ev_component_cpu_us(loop, i) / 1e6);
		lua_setfield(L, -2, ev_component_name(loop, i));
	}
	return 1;
}

/* vh.param(name [, default]): a -D name=value from the command line, so one
 * scenario serves several configurations (e.g. -D bugs=no-backoff). */
static int vh_param_l(lua_State *L)
{
	const struct run_config *cfg = run_config(check_run(L));
	size_t len;
	const char *name = luaL_checklstring(L, 1, &len);
	for (int i = cfg->n_defines - 1; i >= 0; i--) {
		const char *d = cfg->defines[i];
		if (!strncmp(d, name, len) && d[len] == '=') {
			lua_pushstring(L, d + len + 1);
			return 1;
		}
	}
	lua_settop(L, 2);
	return 1;
}

static int vh_log_l(lua_State *L)
{
	struct vh_run *run = check_run(L);
	const char *msg = luaL_checkstring(L, 1);
	const char *kv[] = { "message", msg, NULL };
	run_event(run, "log", kv);
	if (!run_config(run)->dry_run)
		run_say(run, "[%9.3f] %s", run_now(run), msg);
	return 0;
}

static int failure_tostring_l(lua_State *L)
{
	lua_getfield(L, 1, "message");
	return 1;
}

int luaopen_vharness(lua_State *L)
{
	static const luaL_Reg functions[] = {
		{ "network", vh_network_l },
		{ "device", vh_device_l },
		{ "reference_firmware", vh_reference_firmware_l },
		{ "firmware", vh_firmware_l },
		{ "sleep", vh_sleep_l },
		{ "check", vh_check_l },
		{ "spawn", vh_spawn_l },
		{ "seed", vh_seed_l },
		{ "log", vh_log_l },
		{ "now", vh_now_l },
		{ "harness_cpu", vh_harness_cpu_l },
		{ "param", vh_param_l },
		{ "update_server", lua_update_server_new },
		{ NULL, NULL },
	};
	luaL_newmetatable(L, "vh.failure");
	lua_pushcfunction(L, failure_tostring_l);
	lua_setfield(L, -2, "__tostring");
	lua_pop(L, 1);
	lua_device_register(L);
	lua_network_register(L);
	lua_update_server_register(L);
	luaL_newlib(L, functions);
	lua_fleet_register(L);
	lua_group_wait_register(L);
	lua_sweep_register(L);
	return 1;
}
