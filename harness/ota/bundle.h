/* Firmware bundle (docs/ota-protocol.md): a text header ending at the first
 * empty line, then the kernel and the initrd back to back. The harness builds
 * bundles (reference firmware, ota:publish), copies them into disk slots and
 * pulls a slot's kernel and initrd back out to boot them with QEMU.
 *
 *   VHFW1\n version=V\n bugs=B\n kernel_size=N\n initrd_size=M\n
 *   sha256=<hex of the payload>\n \n <kernel><initrd>
 *
 * The header codec (and its rules) is wire/bundle_header.h, shared with the
 * guest agent; these are the harness's file shells around it. */
#ifndef VH_BUNDLE_H
#define VH_BUNDLE_H

#include "bundle_header.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Builds a bundle at path from the files kernel_path and initrd_path,
 * streaming them (never loaded whole) and hashing the payload on the way.
 * bugs may be NULL (empty). The bundle is written to a temporary file next
 * to path and renamed over it, so a reader never sees half a bundle. If h is
 * non-NULL it receives the header written. Returns 0 or a negative errno
 * with a message in err. */
int bundle_write(const char *path, const char *version, const char *bugs, const char *kernel_path,
		 const char *initrd_path, struct bundle_header *h, char *err, size_t errlen);

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
