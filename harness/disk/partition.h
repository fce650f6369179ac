/* A firmware disk's partition table, MBR (with logical partitions in an
 * extended one, as Mender's .sdimg lays out its data partition) or GPT,
 * numbered as Linux numbers them (/dev/vdaN). The parser is pure: it reads
 * the table from bytes the caller gives it. */
#ifndef VH_PARTITION_H
#define VH_PARTITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PARTITION_MAX 64
#define PARTITION_SECTOR 512u

enum partition_scheme { PARTITION_NONE, PARTITION_MBR, PARTITION_GPT };

struct partition {
	int number;	  /* Linux's: MBR 1-4 primary, 5+ logical; GPT entry index + 1 */
	uint64_t start;	  /* bytes from the start of the disk */
	uint64_t size;	  /* bytes */
	uint8_t mbr_type; /* 0 for GPT */
	bool extended;	  /* an MBR extended container (holds logicals; no filesystem) */
};

struct partition_table {
	enum partition_scheme scheme;
	struct partition parts[PARTITION_MAX];
	int n;
};

/* Reads bytes at an offset of the disk: 0, or -1 (short read, I/O error). */
typedef int (*partition_read_fn)(void *ctx, uint64_t offset, void *buf, size_t len);

/* Parses the table of a disk of disk_size bytes, reading through read.
 * A disk without a valid MBR signature has no table (scheme NONE, 0). A
 * protective MBR leads to the GPT. -1 with err for a table that is there
 * but broken (partitions past the end of the disk, an extended chain that
 * loops, a GPT header with a bad signature or sizes). */
int partition_table_parse(partition_read_fn read, void *ctx, uint64_t disk_size,
			  struct partition_table *out, char *err, size_t errlen);

/* The same for the file (a raw disk image) at path. */
int partition_table_read(const char *path, struct partition_table *out, char *err, size_t errlen);

/* Partition number n, or NULL. */
const struct partition *partition_find(const struct partition_table *t, int n);

#endif
