/* cpio: newc archive writer (format in the header). */
#include "cpio.h"

#include "errf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CPIO_HEADER 110u
#define CPIO_TRAILER "TRAILER!!!"

static size_t cpio_pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static bool cpio_entry_valid(const struct cpio_entry *e)
{
	bool dir = (e->mode & 0170000) == 0040000, reg = (e->mode & 0170000) == 0100000;

	return e->name && e->name[0] != '\0' && e->name[0] != '/' && (dir || reg) &&
	       (reg || (e->size == 0 && !e->data)) && (e->size == 0 || e->data) &&
	       (uint64_t)e->size <= UINT32_MAX && strlen(e->name) < 4096;
}

/* Bytes one entry named name with size bytes of data takes. */
static size_t cpio_entry_size(const char *name, size_t size)
{
	return cpio_pad4(CPIO_HEADER + strlen(name) + 1) + cpio_pad4(size);
}

size_t cpio_newc_size(const struct cpio_entry *entries, size_t n)
{
	size_t total = cpio_entry_size(CPIO_TRAILER, 0);

	for (size_t i = 0; i < n; i++) {
		if (!cpio_entry_valid(&entries[i]))
			return 0;
		total += cpio_entry_size(entries[i].name, entries[i].size);
	}
	return total;
}

/* Writes one entry at out (room checked by the caller); returns its size. */
static size_t cpio_put(uint8_t *out, uint32_t ino, uint32_t mode, uint32_t nlink, const char *name,
		       const void *data, size_t size)
{
	size_t name_size = strlen(name) + 1;
	size_t head = cpio_pad4(CPIO_HEADER + name_size), total = head + cpio_pad4(size);
	char fields[CPIO_HEADER + 1];

	/* magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor,
	 * devminor, rdevmajor, rdevminor, namesize, check */
	snprintf(fields, sizeof(fields),
		 "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", ino, mode, 0u, 0u,
		 nlink, 0u, (uint32_t)size, 0u, 0u, 0u, 0u, (uint32_t)name_size, 0u);
	memset(out, 0, total);
	memcpy(out, fields, CPIO_HEADER);
	memcpy(out + CPIO_HEADER, name, name_size);
	if (size)
		memcpy(out + head, data, size);
	return total;
}

ssize_t cpio_newc_write(const struct cpio_entry *entries, size_t n, uint8_t *out, size_t cap)
{
	size_t total = cpio_newc_size(entries, n), pos = 0;

	if (total == 0)
		return -EINVAL;
	if (total > cap)
		return -ENOSPC;
	for (size_t i = 0; i < n; i++) {
		const struct cpio_entry *e = &entries[i];
		bool dir = (e->mode & 0170000) == 0040000;

		pos += cpio_put(out + pos, (uint32_t)i + 1, e->mode, dir ? 2 : 1, e->name, e->data,
				e->size);
	}
	pos += cpio_put(out + pos, 0, 0, 1, CPIO_TRAILER, NULL, 0);
	return (ssize_t)pos;
}

static int cpio_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int cpio_concat_file(const char *out_path, const char *base_path, const uint8_t *extra,
		     size_t extra_len, char *err, size_t errlen)
{
	static const uint8_t zeros[4];
	size_t tmp_len = strlen(out_path) + 16;
	char *tmp = malloc(tmp_len);
	uint8_t *buf = malloc(64 * 1024);
	uint64_t base_len = 0;
	int in = -1, out = -1, rc = 0;

	if (!tmp || !buf) {
		rc = -ENOMEM;
		errf(err, errlen, "out of memory");
		goto out;
	}
	in = open(base_path, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		rc = -errno;
		errf(err, errlen, "%s: %s", base_path, strerror(errno));
		goto out;
	}
	snprintf(tmp, tmp_len, "%s.tmpXXXXXX", out_path);
	out = mkostemp(tmp, O_CLOEXEC);
	if (out < 0) {
		rc = -errno;
		errf(err, errlen, "%s: %s", tmp, strerror(errno));
		tmp[0] = '\0';
		goto out;
	}
	for (;;) {
		ssize_t n = read(in, buf, 64 * 1024);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			errf(err, errlen, "%s: %s", base_path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if ((rc = cpio_write_all(out, buf, (size_t)n)) < 0)
			break;
		base_len += (uint64_t)n;
	}
	if (rc == 0)
		rc = cpio_write_all(out, zeros, (size_t)((4 - base_len % 4) % 4));
	if (rc == 0)
		rc = cpio_write_all(out, extra, extra_len);
	if (rc == 0 && fchmod(out, 0644) < 0)
		rc = -errno;
	if (close(out) < 0 && rc == 0)
		rc = -errno;
	out = -1;
	if (rc == 0 && rename(tmp, out_path) < 0)
		rc = -errno;
	if (rc < 0)
		errf(err, errlen, "writing %s: %s", out_path, strerror(-rc));
	else
		tmp[0] = '\0';
out:
	if (out >= 0)
		close(out);
	if (tmp && tmp[0])
		unlink(tmp);
	if (in >= 0)
		close(in);
	free(buf);
	free(tmp);
	return rc;
}
