/* netem distribution tables: parsing iproute2's files and the kernel's sampling. */
#include "netem_dist.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int netem_dist_parse(const char *text, size_t len, struct netem_dist_table *out, char *err,
		     size_t errlen)
{
	size_t n = 0;
	size_t i = 0;
	unsigned line_no = 0;
	while (i < len) {
		size_t eol = i;
		while (eol < len && text[eol] != '\n')
			eol++;
		line_no++;
		if (eol > i && text[i] != '#') {
			/* strtol needs a terminated string: copy the line. */
			char line[4096];
			size_t ll = eol - i;
			if (ll >= sizeof line) {
				snprintf(err, errlen, "line %u too long", line_no);
				return -1;
			}
			memcpy(line, text + i, ll);
			line[ll] = '\0';
			char *p = line;
			for (;;) {
				char *end;
				errno = 0;
				long x = strtol(p, &end, 0);
				if (end == p)
					break;
				if (errno == ERANGE || x < INT16_MIN || x > INT16_MAX) {
					snprintf(err, errlen, "line %u: value out of range",
						 line_no);
					return -1;
				}
				if (n >= NETEM_DIST_MAX_VALUES) {
					snprintf(err, errlen, "too much data (more than %d values)",
						 NETEM_DIST_MAX_VALUES);
					return -1;
				}
				out->values[n++] = (int16_t)x;
				p = end;
			}
			while (*p && isspace((unsigned char)*p))
				p++;
			if (*p) {
				snprintf(err, errlen, "line %u: not a number: %.20s", line_no, p);
				return -1;
			}
		}
		i = eol + 1;
	}
	if (n == 0) {
		snprintf(err, errlen, "no data");
		return -1;
	}
	out->size = n;
	return 0;
}

static int name_is_plain(const char *name)
{
	if (!name[0])
		return 0;
	for (const char *c = name; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_')
			return 0;
	return 1;
}

int netem_dist_load(const char *dir, const char *name, struct netem_dist_table *out, char *err,
		    size_t errlen)
{
	if (!name || !name_is_plain(name)) {
		snprintf(err, errlen, "bad distribution name \"%s\"", name ? name : "(null)");
		return -1;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/%s.dist", dir ? dir : NETEM_DIST_DIR_DEFAULT, name);
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "no distribution data for %s (%s: %s)", name, path,
			 strerror(errno));
		return -1;
	}
	/* Tables are ~25 KB; 1 MiB is far beyond any table iproute2 would accept. */
	size_t cap = 1 << 20;
	char *text = malloc(cap);
	if (!text) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	size_t len = fread(text, 1, cap, f);
	int read_err = ferror(f);
	int too_big = len == cap;
	fclose(f);
	int rc = -1;
	if (read_err)
		snprintf(err, errlen, "%s: read error", path);
	else if (too_big)
		snprintf(err, errlen, "%s: file too large", path);
	else {
		char why[160];
		rc = netem_dist_parse(text, len, out, why, sizeof why);
		if (rc < 0)
			snprintf(err, errlen, "%s: %s", path, why);
	}
	free(text);
	return rc;
}

int64_t netem_dist_sample(const struct netem_dist_table *table, int64_t mu_ns, int64_t sigma_ns,
			  uint32_t rnd)
{
	if (sigma_ns == 0)
		return mu_ns;
	if (!table)
		return (int64_t)(rnd % (uint64_t)(2 * sigma_ns)) + mu_ns - sigma_ns;
	int64_t t = table->values[rnd % table->size];
	/* Split sigma so the product cannot overflow; round the fractional part to nearest,
	 * exactly as the kernel does. */
	int64_t x = (sigma_ns % NETEM_DIST_SCALE) * t;
	if (x >= 0)
		x += NETEM_DIST_SCALE / 2;
	else
		x -= NETEM_DIST_SCALE / 2;
	return x / NETEM_DIST_SCALE + (sigma_ns / NETEM_DIST_SCALE) * t + mu_ns;
}
