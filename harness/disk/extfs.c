/* Files in an ext filesystem inside a disk image: see extfs.h. */
#include "extfs.h"

#include <errno.h>
#include <et/com_err.h>
#include <ext2fs/ext2fs.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Opens the filesystem at offset, read-only. */
static int open_fs(const char *disk, uint64_t offset, ext2_filsys *fs, char *err, size_t errlen)
{
	char options[64];
	snprintf(options, sizeof(options), "offset=%" PRIu64, offset);
	errcode_t rc = ext2fs_open2(disk, options, EXT2_FLAG_64BITS, 0, 0, unix_io_manager, fs);
	if (rc) {
		snprintf(err, errlen, "%s at offset %" PRIu64 ": no ext2/3/4 filesystem (%s)", disk,
			 offset, error_message(rc));
		return -EINVAL;
	}
	return 0;
}

/* Opens path for reading; -ENOENT when it is not there. */
static int open_file(ext2_filsys fs, const char *path, ext2_file_t *file, uint64_t *size, char *err,
		     size_t errlen)
{
	ext2_ino_t ino;
	errcode_t rc = ext2fs_namei_follow(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path, &ino);
	if (rc) {
		snprintf(err, errlen, "%s: not in the filesystem (%s)", path, error_message(rc));
		return -ENOENT;
	}
	struct ext2_inode inode;
	if ((rc = ext2fs_read_inode(fs, ino, &inode)) != 0 || !LINUX_S_ISREG(inode.i_mode)) {
		snprintf(err, errlen, "%s: not a regular file%s%s", path, rc ? ": " : "",
			 rc ? error_message(rc) : "");
		return -ENOENT;
	}
	if ((rc = ext2fs_file_open(fs, ino, 0, file)) != 0) {
		snprintf(err, errlen, "%s: %s", path, error_message(rc));
		return -EIO;
	}
	*size = EXT2_I_SIZE(&inode);
	return 0;
}

int extfs_copy_file(const char *disk, uint64_t offset, const char *path, const char *out_path,
		    char *err, size_t errlen)
{
	ext2_filsys fs;
	int r = open_fs(disk, offset, &fs, err, errlen);
	if (r < 0)
		return r;
	ext2_file_t file;
	uint64_t size;
	if ((r = open_file(fs, path, &file, &size, err, errlen)) < 0) {
		ext2fs_close_free(&fs);
		return r;
	}
	int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", out_path, strerror(errno));
	}
	char chunk[1 << 16]; /* on the stack: slots may be read on several threads */
	uint64_t done = 0;
	while (r == 0 && done < size) {
		unsigned int got = 0;
		errcode_t rc = ext2fs_file_read(file, chunk, sizeof(chunk), &got);
		if (rc || got == 0) {
			snprintf(err, errlen,
				 "%s: read failed after %" PRIu64 " of %" PRIu64 " bytes%s%s", path,
				 done, size, rc ? ": " : "", rc ? error_message(rc) : "");
			r = -EIO;
			break;
		}
		for (unsigned int off = 0; off < got;) {
			ssize_t w = write(out, chunk + off, got - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				r = -errno;
				snprintf(err, errlen, "%s: %s", out_path, strerror(errno));
				break;
			}
			off += (unsigned int)w;
		}
		done += got;
	}
	if (out >= 0 && close(out) < 0 && r == 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", out_path, strerror(errno));
	}
	if (r < 0 && out >= 0)
		unlink(out_path);
	ext2fs_file_close(file);
	ext2fs_close_free(&fs);
	return r;
}

int extfs_read_small(const char *disk, uint64_t offset, const char *path, char *buf, size_t cap,
		     char *err, size_t errlen)
{
	ext2_filsys fs;
	int r = open_fs(disk, offset, &fs, err, errlen);
	if (r < 0)
		return r;
	ext2_file_t file;
	uint64_t size;
	if ((r = open_file(fs, path, &file, &size, err, errlen)) < 0) {
		ext2fs_close_free(&fs);
		return r;
	}
	if (size >= cap) {
		snprintf(err, errlen, "%s: %" PRIu64 " bytes, more than %zu", path, size, cap - 1);
		r = -EFBIG;
	}
	unsigned int got = 0;
	errcode_t rc = r == 0 ? ext2fs_file_read(file, buf, (unsigned int)size, &got) : 0;
	if (r == 0 && (rc || got != size)) {
		snprintf(err, errlen, "%s: short read%s%s", path, rc ? ": " : "",
			 rc ? error_message(rc) : "");
		r = -EIO;
	}
	if (r == 0) {
		buf[got] = '\0';
		r = (int)got;
	}
	ext2fs_file_close(file);
	ext2fs_close_free(&fs);
	return r;
}
