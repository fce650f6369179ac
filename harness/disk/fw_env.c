/* Where the env lives: see fw_env.h. */
#include "fw_env.h"

#include "partition.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fw_env_partition_of(const char *device)
{
	const char *base = strrchr(device, '/');
	base = base ? base + 1 : device;
	size_t n = strlen(base);
	size_t digits = 0;
	while (digits < n && isdigit((unsigned char)base[n - 1 - digits]))
		digits++;
	if (!digits || digits == n)
		return 0;
	/* mmcblk0 and nvme0n1 end in digits that name the disk: their
	 * partitions come after a 'p' (mmcblk0p2). */
	char before = base[n - 1 - digits];
	bool disk_ends_in_digit = !strncmp(base, "mmcblk", 6) || !strncmp(base, "nvme", 4) ||
				  !strncmp(base, "loop", 4);
	if (disk_ends_in_digit && before != 'p')
		return 0;
	return atoi(base + n - digits);
}

/* A number as fw_env.config writes them: 0x... or decimal. */
static bool parse_number(const char *s, uint64_t *out)
{
	if (!*s)
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end || s[0] == '-')
		return false;
	*out = v;
	return true;
}

int fw_env_parse_config(const char *text, const struct partition_table *t,
			struct fw_env_location *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	int lineno = 0;
	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");
		char line[512];
		snprintf(line, sizeof(line), "%.*s",
			 (int)(len < sizeof(line) - 1 ? len : sizeof(line) - 1), p);
		p += len + (p[len] == '\n');
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *words[6];
		int nw = 0;
		for (char *w = strtok(line, " \t\r"); w && nw < 6; w = strtok(NULL, " \t\r"))
			words[nw++] = w;
		if (nw == 0)
			continue;
		uint64_t offset, size;
		if (nw < 3 || !parse_number(words[1], &offset) || !parse_number(words[2], &size) ||
		    size == 0) {
			snprintf(err, errlen,
				 "fw_env.config line %d: expected \"DEVICE OFFSET SIZE\" (numbers "
				 "in "
				 "hex or decimal)",
				 lineno);
			return -1;
		}
		if (out->n == 2) {
			snprintf(err, errlen, "fw_env.config line %d: a third env copy", lineno);
			return -1;
		}
		int part = fw_env_partition_of(words[0]);
		if (part) {
			const struct partition *pt = t ? partition_find(t, part) : NULL;
			if (!pt) {
				snprintf(err, errlen,
					 "fw_env.config line %d: %s names partition %d, which the "
					 "disk "
					 "does not have",
					 lineno, words[0], part);
				return -1;
			}
			if (offset > pt->size || size > pt->size - offset) {
				snprintf(err, errlen,
					 "fw_env.config line %d: the env runs past the end of %s",
					 lineno, words[0]);
				return -1;
			}
			offset += pt->start;
		}
		out->copy[out->n++] = (struct fw_env_copy){ .offset = offset, .size = size };
	}
	if (out->n == 0) {
		snprintf(err, errlen, "fw_env.config names no env");
		return -1;
	}
	if (out->n == 2 && out->copy[0].size != out->copy[1].size) {
		snprintf(err, errlen, "fw_env.config: the two env copies differ in size");
		return -1;
	}
	return 0;
}
