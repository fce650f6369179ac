#include "ab_boot.h"

#include "disk_image.h"
#include "ubootenv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int extract_slot(const char *disk_path, char slot, struct ab_boot *out, char *err,
			size_t errlen)
{
	return bundle_extract(disk_path, (uint64_t)disk_image_slot_offset(slot), DISK_IMAGE_SLOT_SIZE,
			      out->kernel_path, out->initrd_path, &out->bundle, true, err, errlen);
}

int ab_boot_prepare(const char *disk_path, const char *work_dir, const char *device,
		    struct ab_boot *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->kernel_path, sizeof(out->kernel_path), "%s/boot-%s.kernel", work_dir, device);
	snprintf(out->initrd_path, sizeof(out->initrd_path), "%s/boot-%s.initrd", work_dir, device);
	struct ubootenv env;
	ubootenv_init(&env);
	/* -ENODATA (no valid copy) is an empty env: the chooser's defaults apply. */
	int r = ubootenv_file_load(disk_path, &env, err, errlen);
	if (r < 0 && r != -ENODATA)
		goto out;
	r = boot_choose(&env, &out->choice);
	if (r < 0)
		goto out;
	char why[512] = "";
	r = extract_slot(disk_path, out->choice.slot, out, why, sizeof(why));
	if (r == -EINVAL || r == -EBADMSG) {
		char first = out->choice.slot;
		r = boot_choose_fallback(&env, &out->choice);
		char why2[512] = "";
		if (r == 0)
			r = extract_slot(disk_path, out->choice.slot, out, why2, sizeof(why2));
		if (r == -EINVAL || r == -EBADMSG) {
			snprintf(err, errlen, "neither slot boots: slot %c: %s; slot %c: %s", first, why,
				 out->choice.slot, why2);
			r = -ENOENT;
		} else if (r < 0) {
			snprintf(err, errlen, "%s", why2);
		}
	} else if (r < 0) {
		snprintf(err, errlen, "%s", why);
	}
	/* The env is stored even when nothing boots: U-Boot would have counted. */
	if (out->choice.env_changed) {
		char serr[256];
		int s = ubootenv_file_store(disk_path, &env, serr, sizeof(serr));
		if (s < 0 && r == 0) {
			snprintf(err, errlen, "%s", serr);
			r = s;
		}
	}
out:
	ubootenv_free(&env);
	return r;
}

int ab_boot_env_get(const char *disk_path, const char *key, char *out, size_t outlen, char *err,
		    size_t errlen)
{
	struct ubootenv env;
	ubootenv_init(&env);
	int r = ubootenv_file_load(disk_path, &env, err, errlen);
	if (r >= 0 || r == -ENODATA) {
		const char *v = ubootenv_get(&env, key);
		snprintf(out, outlen, "%s", v ? v : "");
		r = 0;
	}
	ubootenv_free(&env);
	return r;
}

int ab_boot_bundle_for(const char *image_dir, const char *work_dir, const char *version,
		       const char *bugs, char *path, size_t pathlen, char *err, size_t errlen)
{
	char kernel[1024], initrd[1024], tag[600];
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", image_dir);
	snprintf(initrd, sizeof(initrd), "%s/initramfs.cpio", image_dir);
	snprintf(tag, sizeof(tag), "%s", bugs && *bugs ? bugs : "");
	for (char *p = tag; *p; p++)
		if (*p == ',')
			*p = '+';
	snprintf(path, pathlen, "%s/firmware-%s%s%s.bundle", work_dir, version, tag[0] ? "-" : "", tag);
	if (access(path, R_OK) == 0)
		return 0;
	return bundle_write(path, version, bugs ? bugs : "", kernel, initrd, NULL, err, errlen);
}

int ab_boot_env_copies(const char *disk_path, struct ab_env_copy copies[2], int *active, char *err,
		       size_t errlen)
{
	static const off_t offsets[2] = { UBOOTENV_COPY0_OFFSET, UBOOTENV_COPY1_OFFSET };
	uint8_t *raw[2] = { malloc(UBOOTENV_COPY_SIZE), malloc(UBOOTENV_COPY_SIZE) };
	int r = 0;
	int fd = open(disk_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || !raw[0] || !raw[1]) {
		r = fd < 0 ? -errno : -ENOMEM;
		snprintf(err, errlen, "%s: %s", disk_path, strerror(-r));
		goto out;
	}
	for (int i = 0; i < 2; i++) {
		if (pread(fd, raw[i], UBOOTENV_COPY_SIZE, offsets[i]) != (ssize_t)UBOOTENV_COPY_SIZE) {
			r = -EIO;
			snprintf(err, errlen, "%s: short read of env copy %d", disk_path, i);
			goto out;
		}
	}
	for (int i = 0; i < 2; i++) {
		ubootenv_init(&copies[i].env);
		copies[i].valid = ubootenv_decode(raw[i], NULL, UBOOTENV_COPY_SIZE, &copies[i].env) == 0;
		copies[i].flags = raw[i][4]; /* after the CRC32 */
	}
	struct ubootenv both;
	ubootenv_init(&both);
	*active = ubootenv_decode(raw[0], raw[1], UBOOTENV_COPY_SIZE, &both);
	ubootenv_free(&both);
out:
	if (fd >= 0)
		close(fd);
	free(raw[0]);
	free(raw[1]);
	return r;
}
