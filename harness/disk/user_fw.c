/* A user's firmware image as its bootloader sees it: see user_fw.h. */
#include "user_fw.h"

#include "extfs.h"
#include "fw_env.h"
#include "partition.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Under QEMU the firmware's disk is a virtio disk: /dev/vda. */
#define USER_FW_ROOT_BASE "/dev/vda"

static void list_partitions(const struct partition_table *t, char *out, size_t len)
{
	size_t n = 0;
	out[0] = '\0';
	for (int i = 0; i < t->n && n < len; i++)
		if (!t->parts[i].extended)
			n += (size_t)snprintf(out + n, len - n, "%s%d", n ? ", " : "",
					      t->parts[i].number);
}

static void profile_names(char *out, size_t len)
{
	size_t n = 0;
	out[0] = '\0';
	for (int i = 0; boot_profiles[i] && n < len; i++)
		n += (size_t)snprintf(out + n, len - n, "%s%s", i ? ", " : "",
				      boot_profiles[i]->name);
}

static int resolve_profile(const struct user_fw_spec *spec, struct user_fw *out, char *err,
			   size_t errlen)
{
	const struct boot_profile *p = spec->profile ? boot_profile_find(spec->profile) : NULL;
	if (!p) {
		char names[256];
		profile_names(names, sizeof(names));
		snprintf(err, errlen,
			 "profile: '%s' is not a bootloader profile vharness plays (%s)",
			 spec->profile ? spec->profile : "", names);
		return -1;
	}
	boot_cfg_init(&out->boot, p);
	char why[400];
	/* The harness's machine names its disk /dev/vda, not the board's. */
	if (!strcmp(p->name, "mender"))
		boot_cfg_set(&out->boot, "root_base", USER_FW_ROOT_BASE "", why, sizeof(why));
	for (int i = 0; i < spec->n_options; i++) {
		const char *kv = spec->options[i], *eq = strchr(kv, '=');
		char name[64];
		snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - kv) : 0, kv);
		if (!eq || boot_cfg_set(&out->boot, name, eq + 1, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "boot: %s", eq ? why : kv);
			return -1;
		}
	}
	return 0;
}

static int resolve_slots(const struct user_fw_spec *spec, const struct partition_table *t,
			 struct user_fw *out, char *err, size_t errlen)
{
	bool mender = !strcmp(out->boot.profile->name, "mender");
	for (int i = 0; i < 2; i++) {
		if (spec->slots_given)
			out->slot_part[i] = spec->slots[i];
		else if (mender)
			out->slot_part[i] = (int)boot_cfg_uint(&out->boot, i ? "part_b" : "part_a");
		else
			out->slot_part[i] = 2 + i;
		const struct partition *p = partition_find(t, out->slot_part[i]);
		if (!p || p->extended) {
			char have[256];
			list_partitions(t, have, sizeof(have));
			snprintf(err, errlen,
				 "slots: partition %d is not a partition of %s (it has %s)%s",
				 out->slot_part[i], spec->disk, have[0] ? have : "none",
				 spec->slots_given ? ""
						   : "; give slots = { A, B } with the two "
						     "rootfs partitions");
			return -1;
		}
	}
	if (out->slot_part[0] == out->slot_part[1]) {
		snprintf(err, errlen, "slots: both slots are partition %d", out->slot_part[0]);
		return -1;
	}
	char n[16], why[300];
	/* Mender's own partition numbers are the slots. */
	if (mender) {
		snprintf(n, sizeof(n), "%d", out->slot_part[0]);
		boot_cfg_set(&out->boot, "part_a", n, why, sizeof(why));
		snprintf(n, sizeof(n), "%d", out->slot_part[1]);
		boot_cfg_set(&out->boot, "part_b", n, why, sizeof(why));
	}
	return 0;
}

static int resolve_env(const struct user_fw_spec *spec, const struct partition_table *t,
		       uint64_t disk_size, struct user_fw *out, char *err, size_t errlen)
{
	struct fw_env_location loc = { 0 };
	char why[600];
	if (spec->env_given) {
		loc.copy[0] = (struct fw_env_copy){ spec->env_offset, spec->env_size };
		loc.n = 1;
		if (spec->env_has_redundant)
			loc.copy[loc.n++] =
				(struct fw_env_copy){ spec->env_redundant, spec->env_size };
	} else {
		const char *path = spec->env_config ? spec->env_config : "/etc/fw_env.config";
		char text[4096], whys[2][400];
		int got = -1;
		for (int i = 0; i < 2 && got < 0; i++)
			got = extfs_read_small(spec->disk,
					       partition_find(t, out->slot_part[i])->start, path,
					       text, sizeof(text), whys[i], sizeof(whys[i]));
		if (got < 0) {
			snprintf(err, errlen,
				 "env: no %s in either slot (%s; %s): give env = \"path\" or env = "
				 "{ offset = ..., size = ..., redundant = ... }",
				 path, whys[0], whys[1]);
			return -1;
		}
		if (fw_env_parse_config(text, t, &loc, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "env: %s: %s", path, why);
			return -1;
		}
	}
	for (int i = 0; i < loc.n; i++) {
		if (loc.copy[i].size < 8 || loc.copy[i].offset > disk_size ||
		    loc.copy[i].size > disk_size - loc.copy[i].offset) {
			snprintf(err, errlen,
				 "env: copy %d (%" PRIu64 " bytes at 0x%" PRIx64
				 ") is not inside the disk",
				 i, loc.copy[i].size, loc.copy[i].offset);
			return -1;
		}
	}
	out->env = (struct ubootenv_layout){
		.offset = { loc.copy[0].offset, loc.copy[loc.n - 1].offset },
		.size = (size_t)loc.copy[0].size,
		.copies = loc.n,
	};
	struct ubootenv env;
	ubootenv_init(&env);
	int r = ubootenv_file_load_layout(spec->disk, &out->env, &env, why, sizeof(why));
	if (r == -ENODATA) {
		/* No valid copy: fine where the real bootloader starts from its
		 * defaults, a dead board where it would not. */
		struct boot_decision d;
		ubootenv_free(&env);
		if (boot_profile_choose(&out->boot, &env, &d) < 0 || d.action == BOOT_ACTION_HALT) {
			snprintf(err, errlen,
				 "env: no copy at 0x%" PRIx64
				 " has a valid CRC and %s cannot start "
				 "from a blank env (%s): check env's offset and size",
				 out->env.offset[0], out->boot.profile->name, d.why);
			ubootenv_free(&env);
			return -1;
		}
	} else if (r < 0) {
		snprintf(err, errlen, "env: %s", why);
		ubootenv_free(&env);
		return -1;
	}
	ubootenv_free(&env);
	return 0;
}

/* The kernel must be in at least one slot: a path that is in neither is a
 * typo, not a firmware failure. */
static int check_kernel(const struct user_fw_spec *spec, const struct partition_table *t,
			struct user_fw *out, char *err, size_t errlen)
{
	if (!spec->kernel || spec->kernel[0] != '/') {
		snprintf(err, errlen,
			 "kernel: the absolute path of the kernel in the slots' "
			 "filesystem, like \"/boot/vmlinuz\"");
		return -1;
	}
	snprintf(out->kernel, sizeof(out->kernel), "%s", spec->kernel);
	snprintf(out->initrd, sizeof(out->initrd), "%s", spec->initrd ? spec->initrd : "");
	char whys[2][400], small[2];
	for (int i = 0; i < 2; i++) {
		int r = extfs_read_small(spec->disk, partition_find(t, out->slot_part[i])->start,
					 spec->kernel, small, sizeof(small), whys[i],
					 sizeof(whys[i]));
		if (r >= 0 || r == -EFBIG)
			return 0;
	}
	snprintf(err, errlen, "kernel: %s is in neither slot (partition %d: %s; partition %d: %s)",
		 spec->kernel, out->slot_part[0], whys[0], out->slot_part[1], whys[1]);
	return -1;
}

int user_fw_resolve(const struct user_fw_spec *spec, struct user_fw *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!spec->disk) {
		snprintf(err, errlen, "disk: the firmware's disk image is required with a profile");
		return -1;
	}
	snprintf(out->disk, sizeof(out->disk), "%s", spec->disk);
	struct stat st;
	if (stat(spec->disk, &st) < 0 || access(spec->disk, R_OK) < 0) {
		snprintf(err, errlen, "disk: %s: %s", spec->disk, strerror(errno));
		return -1;
	}
	if (resolve_profile(spec, out, err, errlen) < 0)
		return -1;
	struct partition_table t;
	char why[600];
	if (partition_table_read(spec->disk, &t, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "disk: %s", why);
		return -1;
	}
	if (t.scheme == PARTITION_NONE) {
		snprintf(err, errlen,
			 "disk: %s has no partition table (MBR or GPT): the slots are "
			 "partitions",
			 spec->disk);
		return -1;
	}
	if (resolve_slots(spec, &t, out, err, errlen) < 0)
		return -1;
	if (boot_cfg_check(&out->boot, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "boot: %s", why);
		return -1;
	}
	if (resolve_env(spec, &t, (uint64_t)st.st_size, out, err, errlen) < 0)
		return -1;
	return check_kernel(spec, &t, out, err, errlen);
}

/* --- a power-on --- */

struct boot_ctx {
	const struct user_fw *fw;
	const char *disk;
	const struct partition_table *t;
	struct user_fw_boot *out;
};

static bool bootable(int slot, const char *slot_name, void *arg)
{
	(void)slot_name;
	struct boot_ctx *c = arg;
	const struct partition *p = partition_find(c->t, c->fw->slot_part[slot]);
	char *why = c->out->slot_why[slot];
	size_t whylen = sizeof(c->out->slot_why[slot]);
	if (!p) {
		snprintf(why, whylen, "partition %d is gone", c->fw->slot_part[slot]);
		return false;
	}
	if (extfs_copy_file(c->disk, p->start, c->fw->kernel, c->out->kernel_path, why, whylen) < 0)
		return false;
	if (c->fw->initrd[0] &&
	    extfs_copy_file(c->disk, p->start, c->fw->initrd, c->out->initrd_path, why, whylen) < 0)
		return false;
	why[0] = '\0';
	return true;
}

static void on_pass(const struct boot_decision *d, void *arg)
{
	struct boot_ctx *c = arg;
	if (c->out->n_passes < USER_FW_PASSES_MAX)
		c->out->passes[c->out->n_passes++] = *d;
}

int user_fw_boot(const struct user_fw *fw, const char *disk, const char *work_dir,
		 const char *device, struct user_fw_boot *out, enum vh_outcome *status, char *err,
		 size_t errlen)
{
	memset(out, 0, sizeof(*out));
	*status = VH_FAULT;
	snprintf(out->kernel_path, sizeof(out->kernel_path), "%s/boot-%s.kernel", work_dir, device);
	if (fw->initrd[0])
		snprintf(out->initrd_path, sizeof(out->initrd_path), "%s/boot-%s.initrd", work_dir,
			 device);
	struct partition_table t;
	char why[600];
	if (partition_table_read(disk, &t, why, sizeof(why)) < 0) {
		/* The firmware wrote over its own partition table: it does not boot. */
		*status = VH_FAIL;
		snprintf(err, errlen, "%s does not boot: %s", device, why);
		return -1;
	}
	struct ubootenv env;
	ubootenv_init(&env);
	int r = ubootenv_file_load_layout(disk, &fw->env, &env, why, sizeof(why));
	if (r < 0 && r != -ENODATA) {
		snprintf(err, errlen, "%s's env: %s", device, why);
		ubootenv_free(&env);
		return -1;
	}
	if (r == -ENODATA)
		ubootenv_free(&env); /* the profile starts from a blank env */
	struct boot_ctx c = { .fw = fw, .disk = disk, .t = &t, .out = out };
	if (boot_power_on(&fw->boot, &env, bootable, on_pass, &c, &out->outcome) < 0) {
		snprintf(err, errlen, "%s: out of memory in the bootloader", device);
		ubootenv_free(&env);
		return -1;
	}
	if (out->outcome.env_changed &&
	    ubootenv_file_store_layout(disk, &fw->env, &env, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s's env: %s", device, why);
		ubootenv_free(&env);
		return -1;
	}
	ubootenv_free(&env);
	const struct boot_decision *d = &out->outcome.decision;
	if (d->action != BOOT_ACTION_BOOT) {
		*status = VH_FAIL;
		size_t n = (size_t)snprintf(err, errlen, "%s does not boot: %s%s", device, d->why,
					    out->outcome.reset_loop ? " (a reset loop)" : "");
		for (int i = 0; i < 2 && n < errlen; i++)
			if (out->slot_why[i][0])
				n += (size_t)snprintf(err + n, errlen - n, "; partition %d: %s",
						      fw->slot_part[i], out->slot_why[i]);
		return -1;
	}
	out->partition = fw->slot_part[d->slot];
	if (strstr(d->kernel_args, "root="))
		snprintf(out->args, sizeof(out->args), "%s", d->kernel_args);
	else
		snprintf(out->args, sizeof(out->args), "%s%sroot=" USER_FW_ROOT_BASE "%d rootwait",
			 d->kernel_args, d->kernel_args[0] ? " " : "", out->partition);
	return 0;
}

int user_fw_copy_disk(const char *from, const char *to, char *err, size_t errlen)
{
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int out = in < 0 ? -1 : open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	struct stat st;
	int r = 0;
	if (in < 0 || out < 0 || fstat(in, &st) < 0 || ftruncate(out, st.st_size) < 0) {
		snprintf(err, errlen, "copying %s to %s: %s", from, to, strerror(errno));
		r = -1;
	}
	/* Only the data: the holes of a sparse image stay holes. */
	off_t data = 0;
	while (r == 0 && (data = lseek(in, data, SEEK_DATA)) >= 0) {
		off_t hole = lseek(in, data, SEEK_HOLE);
		if (hole < 0)
			hole = st.st_size;
		off_t src = data, dst = data;
		while (src < hole) {
			ssize_t n = copy_file_range(in, &src, out, &dst, (size_t)(hole - src), 0);
			if (n <= 0) {
				snprintf(err, errlen, "copying %s to %s: %s", from, to,
					 n < 0 ? strerror(errno) : "short copy");
				r = -1;
				break;
			}
		}
		data = hole;
	}
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) < 0 && r == 0) {
		snprintf(err, errlen, "copying %s to %s: %s", from, to, strerror(errno));
		r = -1;
	}
	if (r < 0)
		unlink(to);
	return r;
}
