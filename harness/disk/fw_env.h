/* Where a firmware keeps its U-Boot environment: the lines of its
 * /etc/fw_env.config (libubootenv's format, the same numbers the user may
 * give as env = { offset=, size=, redundant= }), resolved to offsets in the
 * disk image. Pure. */
#ifndef VH_FW_ENV_H
#define VH_FW_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct partition_table;

struct fw_env_copy {
	uint64_t offset; /* bytes from the start of the disk image */
	uint64_t size;
};

struct fw_env_location {
	struct fw_env_copy copy[2];
	int n; /* 1 or 2 (redundant) */
};

/* Parses fw_env.config text: "DEVICE OFFSET SIZE [SECTOR-SIZE [SECTORS]]"
 * per line, '#' comments, hex (0x...) or decimal numbers, at most two
 * lines. DEVICE is the firmware's name for the disk or one of its
 * partitions (/dev/mmcblk0, /dev/mmcblk0p1, /dev/vda2, /dev/sda1):
 * offsets in a partition are made relative to the disk through t (may be
 * NULL when every line names the whole disk). 0, or -1 with err naming
 * the line. */
int fw_env_parse_config(const char *text, const struct partition_table *t,
			struct fw_env_location *out, char *err, size_t errlen);

/* The partition a device path names (the digits it ends with after a 'p'
 * or after a drive name: mmcblk0p2 -> 2, vda2 -> 2, sda -> 0), 0 for the
 * whole disk. */
int fw_env_partition_of(const char *device);

#endif
