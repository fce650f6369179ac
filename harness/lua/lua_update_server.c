/* Lua bindings for the OTA update server (docs/ota-protocol.md):
 *   local ota = vh.update_server { network = lan }       -- http://<host_ip>:8080
 *   ota:publish(vh.reference_firmware { version = "2.0.0" })
 *   ota:publish(fw, { percent = 10 })  -- a staged rollout (ota/rollout.h)
 *   ota:rollout(50)                    -- widen it
 *   ota:bucket(dev)                    -- dev's bucket 0-99: in when < percent
 *   ota:connections(since)             -- { {t=, ip=}, ... } accepted since
 *   ota:unpublish()   ota:down()   ota:up()   ota.url
 *   ota:serve("/r2.mender", "out/r2.mender")   -- any file, with Range
 *   ota:serve("/r2.mender", nil)               -- no longer served */
#include "lua_update_server.h"

#include "ab_boot.h"
#include "device.h"
#include "lua_device.h"
#include "lua_network.h"
#include "lua_util.h"
#include "network.h"
#include "rollout.h"
#include "run.h"
#include "script.h"
#include "update_server.h"

#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SERVER_MT "vh.update_server"

/* Lua's view of an update server; the run owns the server itself. */
struct vh_server {
	struct vh_run *run;
	struct update_server *server; /* NULL in a dry run */
	char address[32];
	char name[40];
	char version[64]; /* what publish was last given, for ota:bucket */
	/* every connection to the server, for ota:connections (freed by __gc) */
	struct server_conn {
		double t;
		char ip[16];
	} * conns;
	size_t n_conns, cap_conns;
};

struct vh_server *lua_update_server_test(lua_State *L, int idx)
{
	return luaL_testudata(L, idx, SERVER_MT);
}

static struct vh_server *check_server(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, SERVER_MT);
}

const char *lua_update_server_address(const struct vh_server *s)
{
	return s->address;
}

/* Keeps an http_connect's time and peer address ("ip:port" in kv). */
static void remember_connection(struct vh_server *s, const char *const *kv)
{
	const char *peer = NULL;
	for (int i = 0; kv && kv[i] && kv[i + 1]; i += 2)
		if (!strcmp(kv[i], "peer"))
			peer = kv[i + 1];
	if (!peer)
		return;
	if (s->n_conns == s->cap_conns) {
		size_t cap = s->cap_conns ? s->cap_conns * 2 : 64;
		struct server_conn *c = realloc(s->conns, cap * sizeof(*c));
		if (!c)
			abort();
		s->conns = c;
		s->cap_conns = cap;
	}
	struct server_conn *c = &s->conns[s->n_conns++];
	c->t = run_now(s->run);
	snprintf(c->ip, sizeof(c->ip), "%.*s", (int)strcspn(peer, ":"), peer);
}

/* Server events go to events.jsonl with the server's name first. */
static void on_server_event(void *ctx, const char *event, const char *const *kv)
{
	struct vh_server *s = ctx;
	if (!strcmp(event, "http_connect"))
		remember_connection(s, kv);
	const char *all[40] = { "server", s->name };
	int n = 2;
	for (int i = 0; kv && kv[i] && n < 38; i++)
		all[n++] = kv[i];
	all[n] = NULL;
	run_event(s->run, event, all);
}

int lua_update_server_new(lua_State *L)
{
	struct vh_run *run = script_run(script_of(L));
	luaL_checktype(L, 1, LUA_TTABLE);
	static const char *const fields[] = { "network", "port", NULL };
	lua_util_check_fields(L, 1, "vh.update_server{}", fields);
	lua_getfield(L, 1, "network");
	struct vh_network *net = lua_network_test(L, -1);
	if (!net)
		return luaL_error(L, "vh.update_server{}: 'network' must be a vh.network");
	lua_pop(L, 1);
	lua_Integer port = UPDATE_SERVER_DEFAULT_PORT;
	if (lua_getfield(L, 1, "port") != LUA_TNIL) {
		port = lua_tointeger(L, -1);
		if (!lua_isinteger(L, -1) || port < 1 || port > 65535)
			return luaL_error(L, "vh.update_server{}: port must be 1-65535");
	}
	lua_pop(L, 1);

	/* Lua's memory: the box is the vh_server, freed with the state. */
	struct vh_server *s = lua_newuserdatauv(L, sizeof(*s), 0);
	memset(s, 0, sizeof(*s));
	s->run = run;
	char ip[16];
	network_host_ip(net, ip, sizeof(ip));
	snprintf(s->address, sizeof(s->address), "%s:%d", ip, (int)port);
	snprintf(s->name, sizeof(s->name), "%s", s->address);
	luaL_setmetatable(L, SERVER_MT);
	/* Anchored: the server's events name it for as long as the run lasts. */
	lua_getfield(L, LUA_REGISTRYINDEX, "vh.servers");
	lua_pushvalue(L, -2);
	lua_rawseti(L, -2, (lua_Integer)luaL_len(L, -2) + 1);
	lua_pop(L, 1);
	if (run_config(run)->dry_run)
		return 1;
	char err[256];
	if (update_server_new(run_loop(run), ip, (uint16_t)port, on_server_event, s, &s->server,
			      err, sizeof(err)) < 0)
		return script_raise(L, VH_FAULT, NULL, "vh.update_server{}: %s", err);
	run_adopt_server(run, s->server);
	const char *kv[] = { "server", s->name, "network", net->name, NULL };
	run_event(run, "update_server", kv);
	return 1;
}

/* Building a version's bundle copies and hashes its kernel and initramfs:
 * off the loop (base/work.h), while the publish call waits. */
struct publish_job {
	lua_State *co;
	char image_dir[1024], artifacts_dir[1024], version[64], bugs[512], arch[16];
	char bundle[1024], err[512];
	unsigned percent;
	int rc;
};

static void publish_build(void *arg)
{
	struct publish_job *j = arg;
	j->rc = ab_boot_bundle_for(j->image_dir, j->arch[0] ? j->arch : NULL, j->artifacts_dir,
				   j->version, j->bugs[0] ? j->bugs : NULL, j->bundle,
				   sizeof(j->bundle), j->err, sizeof(j->err));
}

static void publish_built(void *arg)
{
	struct publish_job *j = arg;
	lua_State *co = j->co;
	/* The job rides on the coroutine's stack as a full userdata: no leak
	 * when the run ends before it is resumed. */
	script_resume_soon(script_of(co), co, 0);
}

/* Continuation: the bundle exists (or why not); publish it on the loop. */
static int publish_k(lua_State *L, int status, lua_KContext ctx)
{
	(void)status, (void)ctx;
	struct vh_server *s = check_server(L, 1);
	struct publish_job *j = lua_touserdata(L, 3);
	char err[512];
	if (j->rc < 0)
		return script_raise(L, VH_FAULT, NULL, "publish %s: %s", j->version, j->err);
	char percent[8];
	snprintf(percent, sizeof(percent), "%u", j->percent);
	const char *kv[] = { "server", s->name,	  "version", j->version, "bugs",
			     j->bugs,  "percent", percent,   NULL };
	/* before the offers it makes, so events.jsonl reads in cause order */
	run_event(s->run, "publish", kv);
	if (update_server_publish(s->server, j->version, j->bundle, j->percent, err, sizeof(err)) <
	    0)
		return script_raise(L, VH_FAULT, NULL, "publish %s: %s", j->version, err);
	return 0;
}

/* A rollout share at idx: an integer 0-100 (a scenario error otherwise). */
static unsigned check_percent(lua_State *L, int idx, const char *what)
{
	int ok;
	lua_Integer p = lua_tointegerx(L, idx, &ok);
	if (!ok || p < 0 || p > 100)
		return (unsigned)luaL_error(L,
					    "%s: percent must be an integer from 0 to 100, not %s",
					    what, luaL_tolstring(L, idx, NULL));
	return (unsigned)p;
}

/* The share of a publish's options table (arg 3), 100 without one. */
static unsigned publish_percent(lua_State *L)
{
	if (lua_isnoneornil(L, 3))
		return ROLLOUT_ALL;
	luaL_checktype(L, 3, LUA_TTABLE);
	static const char *const fields[] = { "percent", NULL };
	lua_util_check_fields(L, 3, "publish options", fields);
	lua_getfield(L, 3, "percent");
	unsigned p = lua_isnil(L, -1) ? ROLLOUT_ALL : check_percent(L, -1, "publish");
	lua_pop(L, 1);
	return p;
}

/* The published release's bucket of a device (or a device name): a rollout
 * of P percent takes the device in when the bucket is below P. Also in a
 * dry run, so a scenario can plan its stages. */
static int server_bucket_l(lua_State *L)
{
	struct vh_server *s = check_server(L, 1);
	const char *name = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2)
							 : device_name(lua_device_check(L, 2));
	if (!s->version[0])
		return luaL_error(L, "ota:bucket: nothing was published");
	lua_pushinteger(L, rollout_bucket(name, s->version));
	return 1;
}

/* ota:connections([since]): every connection the server accepted at or
 * after run second since (default 0), oldest first, as { t =, ip = }: a
 * scenario can judge a reconnect storm by itself. */
static int server_connections_l(lua_State *L)
{
	struct vh_server *s = check_server(L, 1);
	double since = luaL_optnumber(L, 2, 0);
	lua_newtable(L);
	lua_Integer n = 0;
	for (size_t i = 0; i < s->n_conns; i++) {
		if (s->conns[i].t < since)
			continue;
		lua_createtable(L, 0, 2);
		lua_pushnumber(L, s->conns[i].t);
		lua_setfield(L, -2, "t");
		lua_pushstring(L, s->conns[i].ip);
		lua_setfield(L, -2, "ip");
		lua_rawseti(L, -2, ++n);
	}
	return 1;
}

static int server_gc_l(lua_State *L)
{
	struct vh_server *s = check_server(L, 1);
	free(s->conns);
	s->conns = NULL;
	s->n_conns = s->cap_conns = 0;
	return 0;
}

static int server_rollout_l(lua_State *L)
{
	struct vh_server *s = check_server(L, 1);
	unsigned percent = check_percent(L, 2, "rollout");
	char err[256], p[8];
	if (!s->server)
		return 0;
	snprintf(p, sizeof(p), "%u", percent);
	const char *kv[] = { "server", s->name, "percent", p, NULL };
	/* before the offers it makes, so events.jsonl reads in cause order */
	run_event(s->run, "rollout", kv);
	/* nothing published: the scenario's mistake, not the harness's */
	if (update_server_set_rollout(s->server, percent, err, sizeof(err)) < 0)
		return script_raise(L, VH_CONFIG, NULL, "ota:rollout(%u): %s", percent, err);
	return 0;
}

static int server_publish_l(lua_State *L)
{
	struct vh_server *s = check_server(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	lua_getfield(L, 2, "reference");
	bool reference = lua_toboolean(L, -1);
	lua_pop(L, 1);
	if (!reference)
		return luaL_argerror(L, 2, "publish takes a vh.reference_firmware{}");
	const char *version = lua_util_opt_string_field(L, 2, "version", "firmware");
	const char *bugs = lua_util_opt_string_field(L, 2, "bugs", "firmware");
	/* The build for the arch its constructor chose: the devices that take
	 * it must be of that arch. */
	const char *arch = lua_util_opt_string_field(L, 2, "arch", "firmware");
	unsigned percent = publish_percent(L);
	snprintf(s->version, sizeof(s->version), "%s", version ? version : "");
	if (!s->server)
		return 0;
	const struct run_config *cfg = run_config(s->run);
	lua_settop(L, 2);
	struct publish_job *j = lua_newuserdatauv(L, sizeof(*j), 0); /* at 3 */
	memset(j, 0, sizeof(*j));
	j->co = L;
	snprintf(j->image_dir, sizeof(j->image_dir), "%s", cfg->image_dir);
	snprintf(j->artifacts_dir, sizeof(j->artifacts_dir), "%s", cfg->artifacts_dir);
	snprintf(j->version, sizeof(j->version), "%s", version ? version : "");
	snprintf(j->bugs, sizeof(j->bugs), "%s", bugs ? bugs : "");
	snprintf(j->arch, sizeof(j->arch), "%s", arch ? arch : "");
	j->percent = percent;
	if (!run_work(s->run, publish_build, publish_built, j))
		return script_raise(L, VH_FAULT, NULL, "publish %s: cannot start a thread",
				    j->version);
	return script_wait(L, "publish", 0, publish_k);
}

/* Serves a host file as it is (a client's own artifact, a release note),
 * checked when called so a wrong path fails at its line, also in a dry run. */
static int server_serve_l(lua_State *L)
{
	struct vh_server *s = check_server(L, 1);
	const char *url_path = luaL_checkstring(L, 2);
	const char *host_path = luaL_optstring(L, 3, NULL);
	char err[1200];
	if (host_path && access(host_path, R_OK) < 0)
		return script_raise(L, VH_CONFIG, NULL, "ota:serve(\"%s\"): cannot read %s: %s",
				    url_path, host_path, strerror(errno));
	if (s->server && update_server_serve(s->server, url_path, host_path, err, sizeof(err)) < 0)
		return script_raise(L, VH_CONFIG, NULL, "ota:serve(\"%s\"): %s", url_path, err);
	const char *kv[] = { "server", s->name, "path",
			     url_path, "file",	host_path ? host_path : "",
			     NULL };
	run_event(s->run, "serve", kv);
	return 0;
}

static int server_unpublish_l(lua_State *L)
{
	struct vh_server *s = check_server(L, 1);
	if (s->server) {
		update_server_unpublish(s->server);
		const char *kv[] = { "server", s->name, NULL };
		run_event(s->run, "unpublish", kv);
	}
	return 0;
}

static int set_down(lua_State *L, bool down)
{
	struct vh_server *s = check_server(L, 1);
	char err[256];
	if (s->server && update_server_set_down(s->server, down, err, sizeof(err)) < 0)
		return script_raise(L, VH_FAULT, NULL, "update server %s: %s", down ? "down" : "up",
				    err);
	const char *kv[] = { "server", s->name, NULL };
	run_event(s->run, down ? "server_down" : "server_up", kv);
	return 0;
}

static int server_down_l(lua_State *L)
{
	return set_down(L, true);
}

static int server_up_l(lua_State *L)
{
	return set_down(L, false);
}

static int server_index_l(lua_State *L)
{
	struct vh_server *s = check_server(L, 1);
	const char *key = luaL_checkstring(L, 2);
	luaL_getmetatable(L, SERVER_MT);
	lua_getfield(L, -1, "methods");
	if (lua_getfield(L, -1, key) != LUA_TNIL)
		return 1;
	if (!strcmp(key, "url"))
		lua_pushfstring(L, "http://%s", s->address);
	else if (!strcmp(key, "address"))
		lua_pushstring(L, s->address);
	else
		return luaL_error(L, "update server has no field or method '%s'", key);
	return 1;
}

void lua_update_server_register(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "publish", server_publish_l },
		{ "unpublish", server_unpublish_l },
		{ "serve", server_serve_l },
		{ "down", server_down_l },
		{ "up", server_up_l },
		{ "rollout", server_rollout_l },
		{ "bucket", server_bucket_l },
		{ "connections", server_connections_l },
		{ NULL, NULL },
	};
	luaL_newmetatable(L, SERVER_MT);
	lua_pushcfunction(L, server_index_l);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, server_gc_l);
	lua_setfield(L, -2, "__gc");
	luaL_newlib(L, methods);
	lua_setfield(L, -2, "methods");
	lua_pop(L, 1);
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, "vh.servers");
}
