#include "ab_boot.h"

#include "cpio.h"
#include "disk_image.h"
#include "release.h"
#include "ubootenv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int extract_slot(const char *disk_path, char slot, struct ab_boot *out, char *err,
			size_t errlen)
{
	return bundle_extract(disk_path, (uint64_t)disk_image_slot_offset(slot),
			      DISK_IMAGE_SLOT_SIZE, out->kernel_path, out->initrd_path,
			      &out->bundle, true, err, errlen);
}

/* Makes path one of the names of work_dir/.boot-cache/<sha256>.<kind>, the
 * first extracted copy of that payload's part: devices booting the same
 * firmware then share one inode, and QEMU, which keeps the initramfs mapped
 * for the guest's life, maps the same page-cache pages in every process
 * (3.3 MiB of RSS a device on the cloud image, 2.7 on the small one).
 * Nothing writes an extracted file in place (bundle_extract unlinks before
 * it creates), so a shared one never changes under a running QEMU. Best
 * effort: on any failure the device keeps its own copy. Threads of two
 * devices may race here; link and rename are atomic. */
static void share_by_content(const char *work_dir, const char *sha256, const char *kind,
			     const char *path)
{
	char shared[1200], tmp[1100];
	snprintf(shared, sizeof(shared), "%s/" AB_BOOT_SHARED_DIR, work_dir);
	if (mkdir(shared, 0755) < 0 && errno != EEXIST)
		return;
	snprintf(shared, sizeof(shared), "%s/" AB_BOOT_SHARED_DIR "/%s.%s", work_dir, sha256, kind);
	if (link(path, shared) == 0 || errno != EEXIST)
		return; /* the first copy is now the shared one (or stays private) */
	snprintf(tmp, sizeof(tmp), "%s.shared", path);
	unlink(tmp);
	if (link(shared, tmp) == 0 && rename(tmp, path) == 0)
		return;
	unlink(tmp);
}

void ab_boot_forget_shared(const char *work_dir)
{
	char dir[1100], path[1400];
	snprintf(dir, sizeof(dir), "%s/" AB_BOOT_SHARED_DIR, work_dir);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
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
			snprintf(err, errlen, "neither slot boots: slot %c: %s; slot %c: %s", first,
				 why, out->choice.slot, why2);
			r = -ENOENT;
		} else if (r < 0) {
			snprintf(err, errlen, "%s", why2);
		}
	} else if (r < 0) {
		snprintf(err, errlen, "%s", why);
	}
	if (r == 0) {
		share_by_content(work_dir, out->bundle.sha256, "kernel", out->kernel_path);
		share_by_content(work_dir, out->bundle.sha256, "initrd", out->initrd_path);
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

/* The archive appended to the image's initramfs for one build: /etc and
 * /etc/vh-release with the build's version and bugs. Returns its length or
 * a negative errno with err. */
static ssize_t ab_boot_release_archive(const char *version, const char *bugs, uint8_t *out,
				       size_t cap, char *err, size_t errlen)
{
	struct release r;
	char text[RELEASE_MAX];
	if (strlen(version) >= sizeof(r.version) || strlen(bugs) >= sizeof(r.bugs)) {
		snprintf(err, errlen, "bad firmware version '%s' or bugs '%s'", version, bugs);
		return -EINVAL;
	}
	snprintf(r.version, sizeof(r.version), "%s", version);
	snprintf(r.bugs, sizeof(r.bugs), "%s", bugs);
	int n = release_format(&r, text, sizeof(text));
	if (n < 0) {
		snprintf(err, errlen, "bad firmware version '%s' or bugs '%s'", version, bugs);
		return n;
	}
	const struct cpio_entry entries[] = {
		{ .name = "etc", .mode = 040755 },
		{ .name = "etc/vh-release", .mode = 0100644, .data = text, .size = (size_t)n },
	};
	ssize_t len = cpio_newc_write(entries, 2, out, cap);
	if (len < 0)
		snprintf(err, errlen, "release archive: %s", strerror((int)-len));
	return len;
}

static bool ab_boot_newer(const struct stat *a, const struct stat *b)
{
	return a->st_mtim.tv_sec > b->st_mtim.tv_sec ||
	       (a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec >= b->st_mtim.tv_nsec);
}

/* Whether the cached bundle at path was built from these inputs: written
 * after both image files, with their sizes and this release archive's, for
 * this version and bugs. Anything else (an image rebuilt since, a bundle of
 * an older layout) is rebuilt. */
static bool ab_boot_bundle_fresh(const char *path, const char *kernel, const char *base,
				 size_t extra_len, const char *version, const char *bugs)
{
	struct stat bst, kst, ist;
	struct bundle_header h;
	char why[256];
	if (stat(path, &bst) < 0 || stat(kernel, &kst) < 0 || stat(base, &ist) < 0)
		return false;
	if (!ab_boot_newer(&bst, &kst) || !ab_boot_newer(&bst, &ist))
		return false;
	if (bundle_read_header(path, 0, (uint64_t)bst.st_size, &h, why, sizeof(why)) < 0)
		return false;
	uint64_t base_padded = ((uint64_t)ist.st_size + 3) & ~(uint64_t)3;
	return h.kernel_size == (uint64_t)kst.st_size && h.initrd_size == base_padded + extra_len &&
	       strcmp(h.version, version) == 0 && strcmp(h.bugs, bugs) == 0;
}

void ab_boot_image_dir(const char *image_root, const char *arch, char *out, size_t len)
{
	if (arch && !strcmp(arch, "aarch64"))
		snprintf(out, len, "%s/aarch64", image_root);
	else
		snprintf(out, len, "%s", image_root);
}

int ab_boot_bundle_for(const char *image_root, const char *arch, const char *work_dir,
		       const char *version, const char *bugs, char *path, size_t pathlen, char *err,
		       size_t errlen)
{
	char image_dir[1024], kernel[1100], base[1100], initrd[1100], tag[600];
	uint8_t extra[2048];
	if (!bugs)
		bugs = "";
	ab_boot_image_dir(image_root, arch, image_dir, sizeof(image_dir));
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", image_dir);
	snprintf(base, sizeof(base), "%s/initramfs.cpio", image_dir);
	snprintf(tag, sizeof(tag), "%s", bugs);
	for (char *p = tag; *p; p++)
		if (*p == ',')
			*p = '+';
	/* '_' is in neither versions nor bugs, so no x86_64 name can be an
	 * aarch64 one. */
	bool aarch64 = arch && !strcmp(arch, "aarch64");
	snprintf(path, pathlen, "%s/%sfirmware-%s%s%s.bundle", work_dir, aarch64 ? "aarch64_" : "",
		 version, tag[0] ? "-" : "", tag);
	ssize_t extra_len =
		ab_boot_release_archive(version, bugs, extra, sizeof(extra), err, errlen);
	if (extra_len < 0)
		return (int)extra_len;
	if (ab_boot_bundle_fresh(path, kernel, base, (size_t)extra_len, version, bugs))
		return 0;
	/* the build's initrd: the image's initramfs, then its release archive */
	snprintf(initrd, sizeof(initrd), "%s.initrd", path);
	int r = cpio_concat_file(initrd, base, extra, (size_t)extra_len, err, errlen);
	if (r == 0)
		r = bundle_write(path, version, bugs, kernel, initrd, NULL, err, errlen);
	unlink(initrd);
	return r;
}

int ab_boot_env_copies(const char *disk_path, struct ab_env_copy copies[2], int *active, char *err,
		       size_t errlen)
{
	return ab_boot_env_copies_layout(disk_path, &ubootenv_layout_v0, copies, active, err,
					 errlen);
}

int ab_boot_env_copies_layout(const char *disk_path, const struct ubootenv_layout *l,
			      struct ab_env_copy copies[2], int *active, char *err, size_t errlen)
{
	const size_t size = l->size;
	uint8_t *raw[2] = { calloc(1, size), calloc(1, size) };
	int r = 0;
	for (int i = 0; i < 2; i++)
		ubootenv_init(&copies[i].env);
	*active = -1;
	int fd = open(disk_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || !raw[0] || !raw[1]) {
		r = fd < 0 ? -errno : -ENOMEM;
		snprintf(err, errlen, "%s: %s", disk_path, strerror(-r));
		goto out;
	}
	for (int i = 0; i < l->copies; i++) {
		if (pread(fd, raw[i], size, (off_t)l->offset[i]) != (ssize_t)size) {
			r = -EIO;
			snprintf(err, errlen, "%s: short read of env copy %d at 0x%llx", disk_path,
				 i, (unsigned long long)l->offset[i]);
			goto out;
		}
	}
	if (l->copies == 1) {
		/* no flags byte, nothing to choose between */
		copies[0].valid = ubootenv_decode_single(raw[0], size, &copies[0].env) == 0;
		copies[0].flags = 0;
		copies[1].valid = false;
		*active = copies[0].valid ? 0 : -1;
		goto out;
	}
	for (int i = 0; i < 2; i++) {
		copies[i].valid = ubootenv_decode(raw[i], NULL, size, &copies[i].env) == 0;
		copies[i].flags = raw[i][4]; /* after the CRC32 */
	}
	struct ubootenv both;
	ubootenv_init(&both);
	*active = ubootenv_decode(raw[0], raw[1], size, &both);
	ubootenv_free(&both);
out:
	if (fd >= 0)
		close(fd);
	free(raw[0]);
	free(raw[1]);
	return r;
}
