/* The harness's part of a power-on, before QEMU starts: for the reference
 * firmware the bootloader (docs/ota-protocol.md "Boot": env, bootcount
 * rules, the chosen slot's kernel and initramfs), and for every firmware the
 * kernel command line. Internal to the device room. */
#ifndef VH_DEVICE_BOOT_H
#define VH_DEVICE_BOOT_H

#include "ab_boot.h"
#include "outcome.h"
#include "user_fw.h"

#include <stdbool.h>
#include <stddef.h>

struct vh_firmware;
struct network_member;

struct device_boot_in {
	const char *device;
	const struct vh_firmware *fw;
	const char *artifacts_dir;
	struct network_member *member; /* NULL: no NIC */
	const char *server;	       /* "ip:port" or NULL */
	const char *accel;	       /* "tcg" or "kvm" */
	bool snapshot;		       /* boot from a snapshot (reference firmware) */
};

struct device_boot {
	char kernel[1100]; /* "" with firmware that boots from bios */
	char initrd[1100];
	char append[2048];
	bool has_append;
	/* Snapshot boot: append is then the template's (no vh.* words but
	 * vh.snapshot=1) and identity holds the device's vh.* words, for the
	 * console after the restore (wire/agent_event.h). */
	bool snapshot;
	char identity[2048];
	bool reference;
	struct ab_boot ab; /* the bootloader's choice, when reference */
	bool user;
	struct user_fw_boot ub; /* the profile's choice, for a user's image */
};

/* Decides how this power-on boots; for the reference firmware it writes the
 * env back to the flash and extracts the chosen slot, which reads and hashes
 * the whole slot: run it off the event loop. Touches nothing but its
 * arguments and files. 0, or -1 with *status (VH_FAIL: neither slot boots,
 * the firmware's failure; VH_FAULT: I/O) and err. */
int device_boot_prepare(const struct device_boot_in *in, struct device_boot *out,
			enum vh_outcome *status, char *err, size_t errlen);

/* Reports the bootloader's choice (events.jsonl "boot_choice"); nothing for
 * firmware with its own bootloader. */
void device_boot_report(const struct device_boot *b, const char *device,
			void (*event)(void *ctx, const char *event, const char *const *kv),
			void *ctx);

#endif
