/* Files inside a slot's ext2/3/4 filesystem, read from the host as U-Boot's
 * ext4load would (libext2fs, read-only: the image is never written). For
 * firmware that keeps its kernel in each rootfs slot (/boot/vmlinuz), and
 * its own /etc/fw_env.config. */
#ifndef VH_EXTFS_H
#define VH_EXTFS_H

#include <stddef.h>
#include <stdint.h>

/* Copies the file at path (absolute; symlinks followed, within the
 * filesystem) of the filesystem that starts offset bytes into the disk
 * image at disk, to out_path (created or truncated, 0644). 0, or -ENOENT
 * (no such file), -EINVAL (no ext filesystem there), another -errno; err
 * says which, naming the path. Safe to call from any thread. */
int extfs_copy_file(const char *disk, uint64_t offset, const char *path, const char *out_path,
		    char *err, size_t errlen);

/* Reads a small file (up to cap - 1 bytes, NUL-terminated) the same way.
 * Returns its length, or a negative errno with err (-EFBIG when larger). */
int extfs_read_small(const char *disk, uint64_t offset, const char *path, char *buf, size_t cap,
		     char *err, size_t errlen);

#endif
