/* A user's firmware disk image, booted the way its own bootloader would:
 * the description a scenario gives (vh.firmware{}), checked against the
 * image before anything runs, and the bootloader's part of each power-on
 * (the profile's rules on the image's env, the chosen slot's kernel read out
 * of its filesystem).
 *
 * The image given is never written: each device boots a copy of it. */
#ifndef VH_USER_FW_H
#define VH_USER_FW_H

#include "boot_profile.h"
#include "outcome.h"
#include "ubootenv.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a scenario says (strings belong to the caller). */
struct user_fw_spec {
	const char *disk;
	const char *profile;
	const char *const *options; /* "name=value" for the profile */
	int n_options;
	/* env = { offset=, size=, redundant= } */
	bool env_given;
	uint64_t env_offset, env_size, env_redundant;
	bool env_has_redundant;
	/* env = "path of fw_env.config in a slot's filesystem"; NULL (and not
	 * env_given): /etc/fw_env.config */
	const char *env_config;
	int slots[2];
	bool slots_given;
	const char *kernel; /* inside the slot's filesystem */
	const char *initrd; /* inside the slot's filesystem, or NULL */
};

/* The description resolved against the image. */
struct user_fw {
	char disk[1024];
	struct boot_profile_cfg boot;
	struct ubootenv_layout env;
	int slot_part[2];
	char kernel[512];
	char initrd[512];
};

/* Checks spec against the image (read only) and fills *out: the profile and
 * its options, the partitions of the slots, where the env lives, that the
 * env can be read or the profile can start from a blank one, and that the
 * kernel is in a slot. -1 with err naming the field and the fix. */
int user_fw_resolve(const struct user_fw_spec *spec, struct user_fw *out, char *err, size_t errlen);

#define USER_FW_PASSES_MAX 8

/* One power-on's boot. */
struct user_fw_boot {
	char kernel_path[1100];
	char initrd_path[1100]; /* "" without an initrd */
	char args[1024];	/* the profile's command line (+ root= when it has none) */
	int partition;		/* the slot that boots */
	struct boot_outcome outcome;
	struct boot_decision passes[USER_FW_PASSES_MAX];
	int n_passes;
	char slot_why[2][400]; /* why a slot was found unbootable ("" if it was not) */
};

/* The bootloader's part of a power-on of disk (the device's copy of the
 * image): the env at fw->env, the profile's rules (storing the env when they
 * changed it), and the chosen slot's kernel and initrd copied into
 * work_dir/boot-<device>.{kernel,initrd}. Touches only its arguments and
 * files: run it off the loop. 0, or -1 with *status (VH_FAIL: nothing
 * boots, the firmware's failure; VH_FAULT: I/O) and err. */
int user_fw_boot(const struct user_fw *fw, const char *disk, const char *work_dir,
		 const char *device, struct user_fw_boot *out, enum vh_outcome *status, char *err,
		 size_t errlen);

/* Copies the image to path, keeping it sparse (holes stay holes). 0 or -1
 * with err. */
int user_fw_copy_disk(const char *from, const char *to, char *err, size_t errlen);

#endif
