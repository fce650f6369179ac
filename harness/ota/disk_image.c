/* Disk image creation for the reference firmware (docs/ota-protocol.md). */
#include "disk_image.h"
#include "errf.h"

#include "bundle.h"
#include "ubootenv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DISK_IMAGE_COPY_CHUNK (256u * 1024u)

int64_t disk_image_slot_offset(char slot)
{
	if (slot == 'a')
		return (int64_t)DISK_IMAGE_SLOT_A_OFFSET;
	if (slot == 'b')
		return (int64_t)DISK_IMAGE_SLOT_B_OFFSET;
	return -1;
}

static void disk_image_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* CHS as fdisk writes it for 255 heads x 63 sectors; Linux ignores it, but
 * some tools warn when it disagrees with the LBA fields. */
static void disk_image_chs(uint8_t out[3], uint32_t lba)
{
	uint32_t c = lba / (255u * 63u), h = (lba / 63u) % 255u, s = lba % 63u + 1u;
	if (c > 1023u) {
		c = 1023u;
		h = 254u;
		s = 63u;
	}
	out[0] = (uint8_t)h;
	out[1] = (uint8_t)((s & 0x3fu) | ((c >> 2) & 0xc0u));
	out[2] = (uint8_t)c;
}

void disk_image_mbr(uint8_t mbr[DISK_IMAGE_SECTOR])
{
	static const uint64_t parts[3][2] = {
		{ DISK_IMAGE_SLOT_A_OFFSET, DISK_IMAGE_SLOT_SIZE },
		{ DISK_IMAGE_SLOT_B_OFFSET, DISK_IMAGE_SLOT_SIZE },
		{ DISK_IMAGE_DATA_OFFSET, DISK_IMAGE_DATA_SIZE },
	};
	memset(mbr, 0, DISK_IMAGE_SECTOR);
	disk_image_put_le32(mbr + 440, DISK_IMAGE_DISK_ID);
	for (int i = 0; i < 3; i++) {
		uint8_t *e = mbr + 446 + 16 * i;
		uint32_t start = (uint32_t)(parts[i][0] / DISK_IMAGE_SECTOR);
		uint32_t count = (uint32_t)(parts[i][1] / DISK_IMAGE_SECTOR);
		e[0] = 0x00; /* not bootable: the harness is the bootloader */
		disk_image_chs(e + 1, start);
		e[4] = 0x83;
		disk_image_chs(e + 5, start + count - 1);
		disk_image_put_le32(e + 8, start);
		disk_image_put_le32(e + 12, count);
	}
	mbr[510] = 0x55;
	mbr[511] = 0xaa;
}

static int disk_image_pwrite_full(int fd, const uint8_t *buf, size_t len, uint64_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, buf, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Copies the validated bundle into the slot at slot_off of the open image. */
static int disk_image_copy_bundle(int img_fd, uint64_t slot_off, const char *bundle_path,
				  struct bundle_header *h, char *err, size_t errlen)
{
	int rc = bundle_read_header(bundle_path, 0, DISK_IMAGE_SLOT_SIZE, h, err, errlen);
	if (rc < 0)
		return rc;
	int bfd = open(bundle_path, O_RDONLY | O_CLOEXEC);
	if (bfd < 0) {
		rc = -errno;
		errf(err, errlen, "%s: %s", bundle_path, strerror(errno));
		return rc;
	}
	uint8_t *buf = malloc(DISK_IMAGE_COPY_CHUNK);
	if (!buf) {
		close(bfd);
		errf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	uint64_t left = bundle_total_size(h), off = 0;
	while (left > 0) {
		size_t want = left < DISK_IMAGE_COPY_CHUNK ? (size_t)left : DISK_IMAGE_COPY_CHUNK;
		ssize_t n = pread(bfd, buf, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EINVAL;
			errf(err, errlen, "%s: %s", bundle_path,
			     n < 0 ? strerror(errno) : "bundle shorter than its header says");
			break;
		}
		if ((rc = disk_image_pwrite_full(img_fd, buf, (size_t)n, slot_off + off)) < 0) {
			errf(err, errlen, "writing slot: %s", strerror(-rc));
			break;
		}
		off += (uint64_t)n;
		left -= (uint64_t)n;
	}
	free(buf);
	close(bfd);
	return rc;
}

int disk_image_create(const char *path, const char *bundle_path_for_slot_a, const char *version_a,
		      char *err, size_t errlen)
{
	if (version_a && !bundle_version_valid(version_a)) {
		errf(err, errlen, "bad version '%s'", version_a);
		return -EINVAL;
	}
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		int rc = -errno;
		errf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	int rc;
	/* ftruncate on a freshly truncated file allocates nothing: sparse */
	if (ftruncate(fd, (off_t)DISK_IMAGE_SIZE) < 0) {
		rc = -errno;
		errf(err, errlen, "%s: ftruncate: %s", path, strerror(errno));
		goto fail;
	}
	uint8_t mbr[DISK_IMAGE_SECTOR];
	disk_image_mbr(mbr);
	if ((rc = disk_image_pwrite_full(fd, mbr, sizeof(mbr), 0)) < 0) {
		errf(err, errlen, "%s: writing MBR: %s", path, strerror(-rc));
		goto fail;
	}
	struct bundle_header h;
	if (bundle_path_for_slot_a) {
		rc = disk_image_copy_bundle(fd, DISK_IMAGE_SLOT_A_OFFSET, bundle_path_for_slot_a,
					    &h, err, errlen);
		if (rc < 0)
			goto fail;
		if (!version_a)
			version_a = h.version;
	}
	if (fsync(fd) < 0) {
		rc = -errno;
		errf(err, errlen, "%s: fsync: %s", path, strerror(errno));
		goto fail;
	}
	close(fd);
	fd = -1;

	struct ubootenv env;
	ubootenv_init(&env);
	rc = 0;
	if (!rc)
		rc = ubootenv_set(&env, "boot_slot", "a");
	if (!rc)
		rc = ubootenv_set(&env, "upgrade_available", "0");
	if (!rc)
		rc = ubootenv_set(&env, "bootcount", "0");
	if (!rc)
		rc = ubootenv_set(&env, "bootlimit", "3");
	if (!rc && version_a)
		rc = ubootenv_set(&env, "version_a", version_a);
	if (rc < 0) {
		errf(err, errlen, "env: %s", strerror(-rc));
	} else {
		/* A blank image stores to copy 1 first; the second store fills
		 * copy 0, so both copies hold the defaults (copy 0 current). */
		rc = ubootenv_file_store(path, &env, err, errlen);
		if (!rc)
			rc = ubootenv_file_store(path, &env, err, errlen);
	}
	ubootenv_free(&env);
	if (rc < 0)
		goto fail;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(path);
	return rc;
}

int disk_image_write_slot(const char *path, char slot, const char *bundle_path, char *err,
			  size_t errlen)
{
	int64_t off = disk_image_slot_offset(slot);
	if (off < 0) {
		errf(err, errlen, "bad slot '%c' (want a or b)", slot);
		return -EINVAL;
	}
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int rc = -errno;
		errf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	struct bundle_header h;
	int rc = disk_image_copy_bundle(fd, (uint64_t)off, bundle_path, &h, err, errlen);
	if (rc == 0 && fsync(fd) < 0) {
		rc = -errno;
		errf(err, errlen, "%s: fsync: %s", path, strerror(errno));
	}
	close(fd);
	return rc;
}
