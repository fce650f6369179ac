/* A disk's partition table: see partition.h. */
#include "partition.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static bool is_extended(uint8_t type)
{
	return type == 0x05 || type == 0x0f || type == 0x85;
}

static int add(struct partition_table *t, int number, uint64_t start, uint64_t size, uint8_t type,
	       uint64_t disk_size, char *err, size_t errlen)
{
	if (t->n == PARTITION_MAX) {
		snprintf(err, errlen, "more than %d partitions", PARTITION_MAX);
		return -1;
	}
	if (start > disk_size || size > disk_size - start) {
		snprintf(err, errlen,
			 "partition %d (%llu bytes at %llu) runs past the end of the disk (%llu "
			 "bytes)",
			 number, (unsigned long long)size, (unsigned long long)start,
			 (unsigned long long)disk_size);
		return -1;
	}
	t->parts[t->n++] = (struct partition){
		.number = number,
		.start = start,
		.size = size,
		.mbr_type = type,
		.extended = is_extended(type),
	};
	return 0;
}

/* Logical partitions: a chain of EBRs, each holding one partition (relative
 * to its EBR) and a link to the next (relative to the extended container). */
static int parse_logicals(partition_read_fn read, void *ctx, uint64_t disk_size, uint64_t base,
			  uint64_t ext_size, struct partition_table *t, char *err, size_t errlen)
{
	uint64_t ebr = base;
	for (int number = 5; number < 5 + PARTITION_MAX; number++) {
		uint8_t s[PARTITION_SECTOR];
		if (read(ctx, ebr, s, sizeof(s)) < 0) {
			snprintf(err, errlen, "cannot read the extended partition's table at %llu",
				 (unsigned long long)ebr);
			return -1;
		}
		if (s[510] != 0x55 || s[511] != 0xaa) {
			snprintf(err, errlen, "logical partition table at %llu has no signature",
				 (unsigned long long)ebr);
			return -1;
		}
		const uint8_t *e0 = s + 446, *e1 = s + 462;
		if (e0[4] != 0 && le32(e0 + 12) != 0 &&
		    add(t, number, ebr + (uint64_t)le32(e0 + 8) * PARTITION_SECTOR,
			(uint64_t)le32(e0 + 12) * PARTITION_SECTOR, e0[4], disk_size, err,
			errlen) < 0)
			return -1;
		if (e1[4] == 0 || le32(e1 + 12) == 0)
			return 0;
		uint64_t next = base + (uint64_t)le32(e1 + 8) * PARTITION_SECTOR;
		if (next <= ebr || next >= base + ext_size) {
			/* Links only go forward inside the container: anything else loops. */
			snprintf(err, errlen,
				 "the chain of logical partitions loops or leaves the "
				 "extended partition");
			return -1;
		}
		ebr = next;
	}
	snprintf(err, errlen, "more than %d logical partitions", PARTITION_MAX);
	return -1;
}

static int parse_gpt(partition_read_fn read, void *ctx, uint64_t disk_size,
		     struct partition_table *t, char *err, size_t errlen)
{
	uint8_t h[PARTITION_SECTOR];
	if (read(ctx, PARTITION_SECTOR, h, sizeof(h)) < 0 || memcmp(h, "EFI PART", 8) != 0) {
		snprintf(err, errlen, "protective MBR but no GPT header at LBA 1");
		return -1;
	}
	uint64_t entries_lba = le64(h + 72);
	uint32_t count = le32(h + 80), entry_size = le32(h + 84);
	if (entry_size < 128 || entry_size > 4096 || count > 1024 ||
	    entries_lba * PARTITION_SECTOR >= disk_size) {
		snprintf(err, errlen, "GPT header with %u entries of %u bytes at LBA %llu", count,
			 entry_size, (unsigned long long)entries_lba);
		return -1;
	}
	t->scheme = PARTITION_GPT;
	for (uint32_t i = 0; i < count; i++) {
		uint8_t e[128];
		if (read(ctx, entries_lba * PARTITION_SECTOR + (uint64_t)i * entry_size, e,
			 sizeof(e)) < 0) {
			snprintf(err, errlen, "cannot read GPT entry %u", i + 1);
			return -1;
		}
		static const uint8_t unused[16];
		if (!memcmp(e, unused, 16))
			continue;
		uint64_t first = le64(e + 32), last = le64(e + 40);
		if (last < first) {
			snprintf(err, errlen, "GPT entry %u ends before it starts", i + 1);
			return -1;
		}
		if (add(t, (int)i + 1, first * PARTITION_SECTOR,
			(last - first + 1) * PARTITION_SECTOR, 0, disk_size, err, errlen) < 0)
			return -1;
	}
	return 0;
}

int partition_table_parse(partition_read_fn read, void *ctx, uint64_t disk_size,
			  struct partition_table *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	uint8_t mbr[PARTITION_SECTOR];
	if (disk_size < PARTITION_SECTOR || read(ctx, 0, mbr, sizeof(mbr)) < 0)
		return 0; /* too small for a table: a bare filesystem, say */
	if (mbr[510] != 0x55 || mbr[511] != 0xaa)
		return 0;
	for (int i = 0; i < 4; i++)
		if (mbr[446 + i * 16 + 4] == 0xee)
			return parse_gpt(read, ctx, disk_size, out, err, errlen);
	out->scheme = PARTITION_MBR;
	for (int i = 0; i < 4; i++) {
		const uint8_t *e = mbr + 446 + i * 16;
		uint64_t start = (uint64_t)le32(e + 8) * PARTITION_SECTOR;
		uint64_t size = (uint64_t)le32(e + 12) * PARTITION_SECTOR;
		if (e[4] == 0 || size == 0)
			continue;
		if (add(out, i + 1, start, size, e[4], disk_size, err, errlen) < 0)
			return -1;
		if (is_extended(e[4]) &&
		    parse_logicals(read, ctx, disk_size, start, size, out, err, errlen) < 0)
			return -1;
	}
	return 0;
}

static int read_fd(void *ctx, uint64_t offset, void *buf, size_t len)
{
	int fd = *(int *)ctx;
	ssize_t n = pread(fd, buf, len, (off_t)offset);
	return n == (ssize_t)len ? 0 : -1;
}

int partition_table_read(const char *path, struct partition_table *out, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	char why[400];
	int r = partition_table_parse(read_fd, &fd, (uint64_t)st.st_size, out, why, sizeof(why));
	close(fd);
	if (r < 0)
		snprintf(err, errlen, "%s: %s", path, why);
	return r;
}

const struct partition *partition_find(const struct partition_table *t, int n)
{
	for (int i = 0; i < t->n; i++)
		if (t->parts[i].number == n)
			return &t->parts[i];
	return NULL;
}
