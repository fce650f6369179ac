/* Firmware bundle builder, header reader and extractor (docs/ota-protocol.md). */
#include "bundle.h"
#include "errf.h"

#include "sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* copy buffer: big enough to keep syscalls few, small enough for the stack */
#define BUNDLE_COPY_CHUNK (64u * 1024u)

static int bundle_write_full(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads up to len bytes at offset, retrying short reads; returns bytes read
 * (less than len only at end of file) or -errno. */
static ssize_t bundle_pread_full(int fd, void *buf, size_t len, uint64_t offset)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(fd, (uint8_t *)buf + got, len - got, (off_t)(offset + got));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Copies exactly len bytes from in_fd at in_off to out_fd's current position
 * (out_fd < 0: read only), feeding sha if non-NULL. A short source fails
 * with -EIO: the header promised those bytes. */
static int bundle_copy(int in_fd, uint64_t in_off, uint64_t len, int out_fd, struct sha256_ctx *sha)
{
	uint8_t *buf = malloc(BUNDLE_COPY_CHUNK);
	if (!buf)
		return -ENOMEM;
	int rc = 0;
	while (len > 0) {
		size_t want = len < BUNDLE_COPY_CHUNK ? (size_t)len : BUNDLE_COPY_CHUNK;
		ssize_t n = bundle_pread_full(in_fd, buf, want, in_off);
		if (n < 0) {
			rc = (int)n;
			break;
		}
		if ((size_t)n < want) {
			rc = -EIO;
			break;
		}
		if (sha)
			sha256_update(sha, buf, want);
		if (out_fd >= 0 && (rc = bundle_write_full(out_fd, buf, want)) < 0)
			break;
		in_off += want;
		len -= want;
	}
	free(buf);
	return rc;
}

int bundle_write(const char *path, const char *version, const char *bugs, const char *kernel_path,
		 const char *initrd_path, struct bundle_header *h_out, char *err, size_t errlen)
{
	struct bundle_header h;
	memset(&h, 0, sizeof(h));
	if (!bugs)
		bugs = "";
	if (!bundle_version_valid(version)) {
		errf(err, errlen, "bad bundle version '%s'", version);
		return -EINVAL;
	}
	if (!bundle_bugs_valid(bugs)) {
		errf(err, errlen, "bad bugs list '%s'", bugs);
		return -EINVAL;
	}
	snprintf(h.version, sizeof(h.version), "%s", version);
	snprintf(h.bugs, sizeof(h.bugs), "%s", bugs);

	int kfd = -1, ifd = -1, ofd = -1, rc;
	char *tmp = NULL;
	kfd = open(kernel_path, O_RDONLY | O_CLOEXEC);
	if (kfd < 0) {
		rc = -errno;
		errf(err, errlen, "%s: %s", kernel_path, strerror(errno));
		goto out;
	}
	ifd = open(initrd_path, O_RDONLY | O_CLOEXEC);
	if (ifd < 0) {
		rc = -errno;
		errf(err, errlen, "%s: %s", initrd_path, strerror(errno));
		goto out;
	}
	struct stat kst, ist;
	if (fstat(kfd, &kst) < 0 || fstat(ifd, &ist) < 0) {
		rc = -errno;
		errf(err, errlen, "fstat: %s", strerror(errno));
		goto out;
	}
	h.kernel_size = (uint64_t)kst.st_size;
	h.initrd_size = (uint64_t)ist.st_size;

	/* The sha is fixed-width, so a placeholder header has the final length:
	 * write it, stream the payload once while hashing, then patch it. */
	memset(h.sha256, '0', 64);
	char header[BUNDLE_HEADER_MAX + 1];
	int hlen = bundle_header_format(&h, header, sizeof(header));
	if (hlen < 0) {
		rc = hlen;
		errf(err, errlen, "%s + %s: cannot describe them in a bundle header: %s",
		     kernel_path, initrd_path, strerror(-hlen));
		goto out;
	}
	size_t tmp_len = strlen(path) + 16;
	tmp = malloc(tmp_len);
	if (!tmp) {
		rc = -ENOMEM;
		errf(err, errlen, "out of memory");
		goto out;
	}
	snprintf(tmp, tmp_len, "%s.tmpXXXXXX", path);
	ofd = mkostemp(tmp, O_CLOEXEC);
	if (ofd < 0) {
		rc = -errno;
		errf(err, errlen, "%s: %s", tmp, strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	struct sha256_ctx sha;
	sha256_init(&sha);
	if ((rc = bundle_write_full(ofd, header, (size_t)hlen)) < 0 ||
	    (rc = bundle_copy(kfd, 0, h.kernel_size, ofd, &sha)) < 0 ||
	    (rc = bundle_copy(ifd, 0, h.initrd_size, ofd, &sha)) < 0) {
		errf(err, errlen, "writing %s: %s", path,
		     rc == -EIO ? "input file shrank while copying" : strerror(-rc));
		goto out;
	}
	uint8_t digest[SHA256_DIGEST_SIZE];
	sha256_final(&sha, digest);
	sha256_to_hex(digest, h.sha256);
	hlen = bundle_header_format(&h, header, sizeof(header));
	if (pwrite(ofd, header, (size_t)hlen, 0) != hlen || fchmod(ofd, 0644) < 0 ||
	    fsync(ofd) < 0) {
		rc = -errno;
		errf(err, errlen, "writing %s: %s", path, strerror(errno));
		goto out;
	}
	if (close(ofd) < 0) {
		ofd = -1;
		rc = -errno;
		errf(err, errlen, "writing %s: %s", path, strerror(errno));
		goto out;
	}
	ofd = -1;
	if (rename(tmp, path) < 0) {
		rc = -errno;
		errf(err, errlen, "rename to %s: %s", path, strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	h.header_size = (size_t)hlen;
	if (h_out)
		*h_out = h;
	rc = 0;
out:
	if (ofd >= 0)
		close(ofd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	if (kfd >= 0)
		close(kfd);
	if (ifd >= 0)
		close(ifd);
	return rc;
}

/* Reads and parses the header at offset of an open fd. */
static int bundle_read_header_fd(int fd, const char *path, uint64_t offset, uint64_t max_size,
				 struct bundle_header *h, char *err, size_t errlen)
{
	uint8_t buf[BUNDLE_HEADER_MAX];
	size_t want = max_size < sizeof(buf) ? (size_t)max_size : sizeof(buf);
	ssize_t n = bundle_pread_full(fd, buf, want, offset);
	if (n < 0) {
		errf(err, errlen, "%s: read: %s", path, strerror((int)-n));
		return (int)n;
	}
	char why[160];
	int rc = bundle_header_parse(buf, (size_t)n, h, why, sizeof(why));
	if (rc < 0) {
		/* -ENODATA here means the file or slot ended inside the header */
		errf(err, errlen, "%s at offset %" PRIu64 ": %s", path, offset, why);
		return -EINVAL;
	}
	if (bundle_total_size(h) > max_size) {
		errf(err, errlen,
		     "%s at offset %" PRIu64 ": bundle of %" PRIu64 " bytes exceeds its %" PRIu64
		     "-byte slot",
		     path, offset, bundle_total_size(h), max_size);
		return -EINVAL;
	}
	return 0;
}

int bundle_read_header(const char *path, uint64_t offset, uint64_t max_size,
		       struct bundle_header *h, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int rc = -errno;
		errf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	int rc = bundle_read_header_fd(fd, path, offset, max_size, h, err, errlen);
	close(fd);
	return rc;
}

static int bundle_open_out(const char *path, char *err, size_t errlen)
{
	/* A new inode each time: the old file may be shared with other devices
	 * (ab_boot.c) and mapped by their QEMU; truncating it would pull the
	 * pages from under them. */
	if (unlink(path) < 0 && errno != ENOENT) {
		errf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		errf(err, errlen, "%s: %s", path, strerror(errno));
	return fd < 0 ? -errno : fd;
}

int bundle_extract(const char *disk_path, uint64_t offset, uint64_t max_size,
		   const char *kernel_out_path, const char *initrd_out_path,
		   struct bundle_header *h_out, bool verify_sha, char *err, size_t errlen)
{
	struct bundle_header h;
	int kfd = -1, ifd = -1, rc;
	bool k_created = false, i_created = false;
	int fd = open(disk_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		errf(err, errlen, "%s: %s", disk_path, strerror(errno));
		return rc;
	}
	rc = bundle_read_header_fd(fd, disk_path, offset, max_size, &h, err, errlen);
	if (rc < 0)
		goto out;
	if (kernel_out_path) {
		if ((kfd = rc = bundle_open_out(kernel_out_path, err, errlen)) < 0)
			goto out;
		k_created = true;
	}
	if (initrd_out_path) {
		if ((ifd = rc = bundle_open_out(initrd_out_path, err, errlen)) < 0)
			goto out;
		i_created = true;
	}
	struct sha256_ctx sha;
	sha256_init(&sha);
	uint64_t kernel_off = offset + h.header_size;
	/* A slot read back whole (both parts) even when only hashing: the agent
	 * and the chooser must agree on what "a valid slot" means. */
	bool need_kernel = kfd >= 0 || verify_sha, need_initrd = ifd >= 0 || verify_sha;
	if ((need_kernel && (rc = bundle_copy(fd, kernel_off, h.kernel_size, kfd,
					      verify_sha ? &sha : NULL)) < 0) ||
	    (need_initrd && (rc = bundle_copy(fd, kernel_off + h.kernel_size, h.initrd_size, ifd,
					      verify_sha ? &sha : NULL)) < 0)) {
		errf(err, errlen, "%s at offset %" PRIu64 ": %s", disk_path, offset,
		     rc == -EIO ? "bundle payload truncated" : strerror(-rc));
		if (rc == -EIO)
			rc = -EINVAL;
		goto out;
	}
	if (verify_sha) {
		uint8_t digest[SHA256_DIGEST_SIZE];
		char hex[SHA256_HEX_SIZE];
		sha256_final(&sha, digest);
		sha256_to_hex(digest, hex);
		if (strcmp(hex, h.sha256) != 0) {
			errf(err, errlen,
			     "%s at offset %" PRIu64 ": payload sha256 %s, header says %s",
			     disk_path, offset, hex, h.sha256);
			rc = -EBADMSG;
			goto out;
		}
	}
	if ((kfd >= 0 && close(kfd) < 0) || (ifd >= 0 && close(ifd) < 0)) {
		kfd = ifd = -1;
		rc = -errno;
		errf(err, errlen, "writing extracted files: %s", strerror(errno));
		goto out;
	}
	kfd = ifd = -1;
	if (h_out)
		*h_out = h;
	rc = 0;
out:
	if (kfd >= 0)
		close(kfd);
	if (ifd >= 0)
		close(ifd);
	if (rc < 0) {
		/* never leave a half kernel where QEMU might pick it up */
		if (k_created)
			unlink(kernel_out_path);
		if (i_created)
			unlink(initrd_out_path);
	}
	close(fd);
	return rc;
}
