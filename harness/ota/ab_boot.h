/* The harness as the reference firmware's bootloader (docs/ota-protocol.md
 * "Boot"): at each power-on, read the env from the device's disk image,
 * apply the bootcount rules, store the env back, and pull the chosen slot's
 * kernel and initramfs out of its bundle for QEMU. */
#ifndef VH_AB_BOOT_H
#define VH_AB_BOOT_H

#include "boot_chooser.h"
#include "bundle.h"
#include "ubootenv.h"

#include <stdbool.h>

#include <stddef.h>

struct ab_boot {
	struct boot_choice choice;
	struct bundle_header bundle;
	char kernel_path[1024];
	char initrd_path[1024];
};

/* Where devices that boot the same payload share its extracted files:
 * work_dir/.boot-cache/<sha256>.{kernel,initrd}. */
#define AB_BOOT_SHARED_DIR ".boot-cache"

/* Chooses and prepares the boot of the disk image at disk_path, extracting
 * into work_dir/boot-<device>.{kernel,initrd} (a name of the shared copy when
 * another device extracted the same payload). A slot whose bundle is
 * missing or fails its sha256 is unbootable and rolled back from, as U-Boot
 * would. Returns 0; -ENOENT when neither slot boots (the device is bricked:
 * a firmware failure, not the harness's); other negative errno on I/O
 * failure. err says what happened. */
/* Removes the shared copies under work_dir, once no device boots any more
 * (the run's end). */
void ab_boot_forget_shared(const char *work_dir);

int ab_boot_prepare(const char *disk_path, const char *work_dir, const char *device,
		    struct ab_boot *out, char *err, size_t errlen);

/* Reads one env value from the disk image into out ("" when unset).
 * 0, or a negative errno with err. */
int ab_boot_env_get(const char *disk_path, const char *key, char *out, size_t outlen, char *err,
		    size_t errlen);

/* One U-Boot env copy as it is on the disk, decoded on its own. */
struct ab_env_copy {
	bool valid;	     /* its CRC matches */
	unsigned flags;	     /* its flags byte (redundancy counter) */
	struct ubootenv env; /* its pairs (empty when invalid); ubootenv_free it */
};

/* Reads both env copies of the disk image separately, and which one a
 * bootloader would use (*active: 0, 1, or -1 when neither is valid). Lets a
 * scenario check how firmware writes its env (the inactive copy, never the
 * active one in place). 0, or a negative errno with err. */
int ab_boot_env_copies(const char *disk_path, struct ab_env_copy copies[2], int *active, char *err,
		       size_t errlen);
/* The same at layout l (a user image's env; with one copy the second is
 * reported invalid). The copies' envs are initialised even on failure. */
int ab_boot_env_copies_layout(const char *disk_path, const struct ubootenv_layout *l,
			      struct ab_env_copy copies[2], int *active, char *err, size_t errlen);

/* Where the reference image for a guest arch is under the image root (the
 * build's image directory, --image-dir): the root itself for x86_64, where
 * it has always been, and root/aarch64 for aarch64. arch NULL: x86_64. */
void ab_boot_image_dir(const char *image_root, const char *arch, char *out, size_t len);

/* Creates the bundle of the reference firmware build (version, bugs) for
 * arch (NULL: x86_64) from the image under image_root (ab_boot_image_dir):
 * its kernel, and as initrd the image's initramfs.cpio followed by a cpio
 * archive holding /etc/vh-release (wire/release.h) with that version and
 * bugs, so the build itself says what it is. bugs may be NULL (none).
 * Cached as work_dir/firmware-<version>[-<bugs>].bundle (x86_64) or
 * work_dir/aarch64_firmware-<version>[-<bugs>].bundle, so devices of both
 * arches can run the same version in one run, and rebuilt when the image
 * changed since; path receives its name. 0 or a negative errno with err. */
int ab_boot_bundle_for(const char *image_root, const char *arch, const char *work_dir,
		       const char *version, const char *bugs, char *path, size_t pathlen, char *err,
		       size_t errlen);

#endif
