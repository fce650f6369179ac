/* netem delay distribution tables: iproute2's NAME.dist files (normal, pareto,
 * paretonormal, experimental) and the kernel's tabledist() arithmetic on them. */
#ifndef VH_NETEM_DIST_H
#define VH_NETEM_DIST_H

#include <stddef.h>
#include <stdint.h>

/* Where Debian's iproute2 installs the tables. */
#define NETEM_DIST_DIR_DEFAULT "/usr/lib/x86_64-linux-gnu/tc"
/* iproute2's MAX_DIST: the most values a table may hold. */
#define NETEM_DIST_MAX_VALUES (16 * 1024)
/* The kernel's NETEM_DIST_SCALE: table values are deviations in units of sigma/8192. */
#define NETEM_DIST_SCALE 8192

struct netem_dist_table {
	size_t size; /* 1..NETEM_DIST_MAX_VALUES */
	int16_t values[NETEM_DIST_MAX_VALUES];
};

/* Parses the text of a .dist file as iproute2's get_distribution() does: lines that
 * are empty or start with '#' are skipped, every other line holds integers (C syntax)
 * separated by blanks. Values outside int16 and tables that are empty or too long are
 * errors. Pure; returns 0, or -1 with a message in err (NUL-terminated if errlen). */
int netem_dist_parse(const char *text, size_t len, struct netem_dist_table *out, char *err,
		     size_t errlen);

/* Reads DIR/NAME.dist (dir NULL = NETEM_DIST_DIR_DEFAULT) into *out. name must be a
 * plain file name (letters, digits, '-', '_'). Returns 0, or -1 with err naming the
 * path and the reason. The caller owns *out (it is large: keep it off small stacks). */
int netem_dist_load(const char *dir, const char *name, struct netem_dist_table *out, char *err,
		    size_t errlen);

/* The kernel's tabledist(): a delay around mu_ns with spread sigma_ns, from the
 * 32-bit random value rnd. table NULL gives the kernel's uniform jitter,
 * mu - sigma .. mu + sigma - 1. Returns mu_ns when sigma_ns is 0. May be negative
 * when sigma > mu: clamping is the caller's business (the kernel does not). */
int64_t netem_dist_sample(const struct netem_dist_table *table, int64_t mu_ns, int64_t sigma_ns,
			  uint32_t rnd);

#endif
