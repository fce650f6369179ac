/* Firmware bundle (docs/ota-protocol.md): a text header ending at the first
 * empty line, then the kernel and the initrd back to back. The harness builds
 * bundles (reference firmware, ota:publish), copies them into disk slots and
 * pulls a slot's kernel and initrd back out to boot them with QEMU.
 *
 *   VHFW1\n version=V\n bugs=B\n kernel_size=N\n initrd_size=M\n
 *   sha256=<hex of the payload>\n \n <kernel><initrd>
 *
 * bundle_parse_header is the pure core; the rest are thin file shells. */
#ifndef VH_BUNDLE_H
#define VH_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BUNDLE_MAGIC "VHFW1\n"
/* the header, blank line included, never exceeds this */
#define BUNDLE_HEADER_MAX 4096u
#define BUNDLE_VERSION_MAX 64u
#define BUNDLE_BUGS_MAX 512u

struct bundle_header {
	char version[BUNDLE_VERSION_MAX]; /* [A-Za-z0-9._+-], non-empty */
	char bugs[BUNDLE_BUGS_MAX];       /* comma-separated, may be empty */
	uint64_t kernel_size;
	uint64_t initrd_size;
	char sha256[65];    /* lowercase hex of kernel+initrd bytes */
	size_t header_size; /* bytes up to and including the blank line */
};

/* Total bytes of the bundle h describes: header + kernel + initrd. */
uint64_t bundle_total_size(const struct bundle_header *h);

/* True when s is a valid bundle version: 1..63 chars of [A-Za-z0-9._+-], so
 * it is safe in a URL path, a file name and the kernel command line. */
bool bundle_version_valid(const char *s);

/* True when s is a valid bugs list: up to 511 chars of [a-z0-9_,-] (no
 * spaces: it goes on the kernel command line). The empty list is valid. */
bool bundle_bugs_valid(const char *s);

/* Parses the header at the start of buf (len bytes, may hold more than the
 * header). Unknown keys are skipped for forward compatibility; version,
 * kernel_size, initrd_size and sha256 are required, bugs defaults to empty.
 * Returns 0 and fills *h; -ENODATA when buf ends before the blank line and
 * len < BUNDLE_HEADER_MAX (read more and retry); -EINVAL for anything else
 * malformed (bad magic, no blank line within BUNDLE_HEADER_MAX, bad value),
 * with a message in err. Pure: no I/O, no allocation. */
int bundle_parse_header(const uint8_t *buf, size_t len, struct bundle_header *h, char *err,
			size_t errlen);

/* Formats the header for the given fields into out (outlen bytes) and
 * returns its length, or -ENOSPC / -EINVAL (invalid version or bugs). h's
 * header_size is ignored. Pure. */
int bundle_format_header(const struct bundle_header *h, char *out, size_t outlen);

/* Builds a bundle at path from the files kernel_path and initrd_path,
 * streaming them (never loaded whole) and hashing the payload on the way.
 * bugs may be NULL (empty). The bundle is written to a temporary file next
 * to path and renamed over it, so a reader never sees half a bundle. If h is
 * non-NULL it receives the header written. Returns 0 or a negative errno
 * with a message in err. */
int bundle_write(const char *path, const char *version, const char *bugs,
		 const char *kernel_path, const char *initrd_path, struct bundle_header *h,
		 char *err, size_t errlen);

/* Reads and parses the header of the bundle at offset of the file (or block
 * device) at path, rejecting bundles larger than max_size bytes (the slot
 * size). Returns 0, -EINVAL (no valid bundle there: the slot is unbootable)
 * or another negative errno on I/O failure; message in err. */
int bundle_read_header(const char *path, uint64_t offset, uint64_t max_size,
		       struct bundle_header *h, char *err, size_t errlen);

/* Pulls the bundle at offset of the file at disk_path (a disk image slot, or
 * offset 0 of a plain bundle file) apart: the kernel goes to kernel_out_path
 * and the initrd to initrd_out_path (created or truncated, mode 0644; either
 * may be NULL to skip it). When verify_sha, the payload is hashed while
 * copying and a mismatch fails with -EBADMSG (the output files are then
 * removed). *h receives the header (may be NULL). Returns 0, -EINVAL (no
 * valid bundle, or larger than max_size), -EBADMSG, or another negative
 * errno; message in err. */
int bundle_extract(const char *disk_path, uint64_t offset, uint64_t max_size,
		   const char *kernel_out_path, const char *initrd_out_path,
		   struct bundle_header *h, bool verify_sha, char *err, size_t errlen);

#endif
