/* cpio: a writer of "newc" cpio archives, the format Linux unpacks as an
 * initramfs (Documentation/driver-api/early-userspace/buffer-format.rst).
 * ab_boot uses it to append a small archive with a build's /etc/vh-release
 * to the reference firmware's initramfs: the kernel unpacks concatenated
 * archives in order, so the later one adds (or replaces) files.
 *
 * Each entry: "070701", then 13 fields of 8 hex digits (ino, mode, uid, gid,
 * nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor,
 * namesize with its NUL, check), the name and a NUL padded to a multiple of
 * 4, the data padded to a multiple of 4; the archive ends with an entry
 * named "TRAILER!!!". Entries here are owned by 0:0, dated 0 (the same
 * inputs give the same bytes) and numbered 1, 2, ... with one link each
 * (two for directories), so neither the kernel nor GNU cpio treats them as
 * hard links.
 *
 * cpio_newc_size and cpio_newc_write are the pure core; cpio_concat_file is
 * the file shell. */
#ifndef VH_CPIO_H
#define VH_CPIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cpio_entry {
	const char *name; /* relative path, "etc/vh-release": no leading '/' */
	uint32_t mode;	  /* type and permission bits: 040755, 0100644 */
	const void *data; /* size bytes for a regular file; NULL otherwise */
	size_t size;
};

/* Bytes the archive of entries[0..n) takes, trailer included, or 0 when an
 * entry is invalid (empty or absolute name, a directory with data, a size
 * that does not fit 32 bits). */
size_t cpio_newc_size(const struct cpio_entry *entries, size_t n);

/* Writes the archive of entries[0..n) into out. Returns its length
 * (cpio_newc_size), -EINVAL for an invalid entry, or -ENOSPC when cap is too
 * small. The caller owns out. */
ssize_t cpio_newc_write(const struct cpio_entry *entries, size_t n, uint8_t *out, size_t cap);

/* Writes out_path as the file base_path, zeros up to a multiple of 4 bytes
 * (where the kernel expects the next archive to start), then extra[0..
 * extra_len). Written to a temporary file next to out_path and renamed over
 * it. Returns 0 or a negative errno with a message in err. */
int cpio_concat_file(const char *out_path, const char *base_path, const uint8_t *extra,
		     size_t extra_len, char *err, size_t errlen);

#endif
