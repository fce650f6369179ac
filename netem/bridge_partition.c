/* Group partitions on the kernel backend: see bridge_partition.h. */
#include "bridge_partition.h"

#include "child.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* nft answers in milliseconds; a wedged netlink socket must not hang the run. */
#define BP_NFT_TIMEOUT_MS 10000
/* 100 devices in islands, each port named in three rules. */
#define BP_SCRIPT_MAX (64 * 1024)

static bool name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 15)
		return false;
	return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") ==
	       n;
}

struct out {
	char *p;
	size_t len, used;
	bool full;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	if (o->full)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(o->p + o->used, o->len - o->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->len - o->used)
		o->full = true;
	else
		o->used += (size_t)n;
}

/* { "a", "b" }: an anonymous set of port names. */
static void put_set(struct out *o, const char *const *ports, size_t n)
{
	put(o, "{ ");
	for (size_t i = 0; i < n; i++)
		put(o, "%s\"%s\"", i ? ", " : "", ports[i]);
	put(o, " }");
}

int bridge_partition_script(const char *bridge, const struct bridge_island *islands,
			    size_t n_islands, char *out, size_t len)
{
	if (!name_ok(bridge) || len == 0)
		return -1;
	for (size_t i = 0; i < n_islands; i++) {
		if (islands[i].n == 0)
			return -1;
		for (size_t k = 0; k < islands[i].n; k++)
			if (!name_ok(islands[i].ports[k]))
				return -1;
	}
	/* nft identifiers take no '-': the table is named after the bridge. */
	char table[32] = "vh_part_";
	for (const char *s = bridge; *s; s++) {
		size_t n = strlen(table);
		table[n] = *s == '-' || *s == '.' ? '_' : *s;
		table[n + 1] = '\0';
	}
	struct out o = { .p = out, .len = len };
	/* add-then-delete: removes the table whether or not it exists. */
	put(&o, "add table bridge %s\ndelete table bridge %s\n", table, table);
	if (n_islands > 0) {
		put(&o, "table bridge %s {\n", table);
		put(&o,
		    "\tchain forward {\n\t\ttype filter hook forward priority 0; policy accept;\n");
		for (size_t i = 0; i < n_islands; i++) {
			put(&o, "\t\tiifname ");
			put_set(&o, islands[i].ports, islands[i].n);
			put(&o, " oifname != ");
			put_set(&o, islands[i].ports, islands[i].n);
			put(&o, " drop\n\t\toifname ");
			put_set(&o, islands[i].ports, islands[i].n);
			put(&o, " iifname != ");
			put_set(&o, islands[i].ports, islands[i].n);
			put(&o, " drop\n");
		}
		put(&o, "\t}\n");
		static const char *const hooks[2][2] = { { "input", "iifname" },
							 { "output", "oifname" } };
		for (int h = 0; h < 2; h++) {
			put(&o,
			    "\tchain %s {\n\t\ttype filter hook %s priority 0; policy accept;\n",
			    hooks[h][0], hooks[h][0]);
			for (size_t i = 0; i < n_islands; i++) {
				put(&o, "\t\t%s ", hooks[h][1]);
				put_set(&o, islands[i].ports, islands[i].n);
				put(&o, " drop\n");
			}
			put(&o, "\t}\n");
		}
		put(&o, "}\n");
	}
	return o.full ? -1 : (int)o.used;
}

static const char *nft_path(void)
{
	const char *env = getenv("VH_NFT");
	if (env && *env)
		return env;
	if (access("/usr/sbin/nft", X_OK) == 0)
		return "/usr/sbin/nft";
	return "/sbin/nft";
}

int bridge_partition_apply(const char *bridge, const struct bridge_island *islands,
			   size_t n_islands, char *err, size_t errlen)
{
	char *script = malloc(BP_SCRIPT_MAX);
	if (!script) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (bridge_partition_script(bridge, islands, n_islands, script, BP_SCRIPT_MAX) < 0) {
		snprintf(err, errlen, "partition of bridge %s: too many ports or a bad port name",
			 bridge);
		free(script);
		return -1;
	}
	/* nft reads one argument as a whole script: one transaction. */
	const char *args[] = { nft_path(), script, NULL };
	struct child_spec spec = { .argv = args };
	char out[512], why[256];
	bool timed_out = false;
	int status =
		child_run(&spec, BP_NFT_TIMEOUT_MS, out, sizeof(out), &timed_out, why, sizeof(why));
	free(script);
	if (status < 0) {
		snprintf(err, errlen, "%s (install nftables)", why);
		return -1;
	}
	if (child_status_ok(status))
		return 0;
	for (char *p = out; *p; p++)
		if (*p == '\n')
			*p = *(p + 1) ? ' ' : '\0';
	if (timed_out)
		snprintf(out, sizeof(out), "no answer within %d s", BP_NFT_TIMEOUT_MS / 1000);
	snprintf(err, errlen, "nft (partition of bridge %s): %s", bridge,
		 *out ? out : child_status_text(status, why, sizeof(why)));
	return -1;
}
