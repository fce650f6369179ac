/* A guest device: its QEMU process, console, power and, for the reference
 * firmware, its flash and the harness's part as its bootloader. It knows
 * neither Lua nor the run: requests complete through callbacks from the
 * event loop, and what it has to say goes through its hooks.
 *
 * Power states:
 *
 *   OFF --power_on--> STARTING --(QEMU connected, QMP up, "cont")--> ON
 *    ^                  |  (boot gate, accelerator, bootloader, QEMU) |
 *    |                  +------------------ power_cut ----------------+
 *    +---- ENDING <--- (QEMU exits: guest poweroff, crash; or a cut) -+
 *                  \-- guest reboot: STARTING again (the harness is the
 *                      bootloader: QEMU runs with -no-reboot)
 *
 * ENDING lasts until QEMU is reaped (milliseconds after SIGKILL); a power_on
 * asked for meanwhile starts right after, so a new QEMU never shares the
 * flash with a dying one. Nothing here blocks the loop. */
#ifndef VH_DEVICE_H
#define VH_DEVICE_H

#include "console.h"
#include "flash.h"
#include "flash_faults.h"
#include "flash_model.h"
#include "outcome.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct accel;
struct boot_gate;
struct ev_loop;
struct network_member;
struct qemu_launch;
struct qemu_proc;
struct qemu_start;
struct vh_device;

/* How a request ended: 0 on success, else the exit code the failure maps
 * to (1: the firmware did not boot, 2: a bad request, 3: the harness or
 * QEMU failed). */
typedef void (*device_done_fn)(void *arg, enum vh_outcome status, const char *err);

struct user_fw;

struct vh_firmware {
	/* arch: the guest's, "x86_64" or "aarch64"; NULL: the host's
	 * (device_firmware_arch). */
	char *kernel, *initrd, *bios, *disk, *append, *arch, *version, *bugs;
	/* Text of the console line that says the firmware is up (boot_gate.h);
	 * NULL: none, the boot gate's hold time ends the boot. */
	char *ready;
	/* The built-in reference firmware: the harness is its bootloader (A/B
	 * disk image, bootcount rules) and passes it vh.* parameters. */
	bool reference;
	/* The reference image's manifest says qemu_acpi=off (the small kernel:
	 * docs/fleet.md): QEMU is started with -M microvm,acpi=off. */
	bool no_acpi;
	/* The manifest's qemu_tb_size_mib (TCG's translation buffer); 0: QEMU's
	 * default in qemu_argv. */
	unsigned tb_size_mib;
	/* A user's disk image booted through its bootloader's rules
	 * (harness/disk/user_fw.h): disk is then the image, kernel and initrd
	 * paths inside its slots. NULL otherwise. */
	const struct user_fw *user;
};

struct device_hooks {
	/* An event for events.jsonl (kv: NULL-terminated key/value pairs; a
	 * value starting with '\x01' is a raw JSON number or literal). */
	void (*event)(void *ctx, const char *event, const char *const *kv);
	/* Something nobody asked for ended the device's usefulness: QEMU crashed
	 * (status 3), or a reboot the guest asked for found no bootable slot
	 * (status 1). The run's verdict. */
	void (*fault)(void *ctx, enum vh_outcome status, const char *message);
	/* A complete console line (no newline), as it arrives; may be NULL. */
	void (*line)(void *ctx, const char *device, const char *line);
	void *ctx;
};

/* Where QEMU comes from: qemu_start, or a stand-in in unit tests. */
typedef struct qemu_start *(*device_start_fn)(struct ev_loop *loop, const struct qemu_launch *l,
					      const char *stderr_path, uint64_t timeout_ms,
					      void (*fn)(void *, const struct qemu_proc *,
							 const char *),
					      void *arg, char *err, size_t errlen);
typedef void (*device_cancel_fn)(struct qemu_start *s);

struct device_config {
	const char *name;
	struct ev_loop *loop;
	/* Where serial-<name>.log, disk-<name>.img, qemu-<name>.stderr and the
	 * bootloader's scratch files go; NULL: a device on paper (`check`),
	 * which starts nothing. */
	const char *artifacts_dir;
	const char *image_dir; /* reference firmware */
	const struct vh_firmware *fw;
	unsigned memory_mib;
	struct network_member *member; /* NULL: no NIC */
	const char *server;	       /* "ip:port" of its update server, or NULL */
	struct accel *accel;
	/* Shared by the run's devices: how many boot at once; NULL: no limit. */
	struct boot_gate *gate;
	int echo_fd; /* -v: the console is copied here; -1: not */
	struct device_hooks hooks;
	/* NULL: QEMU (qemu_start, qemu_start_cancel). */
	device_start_fn start;
	device_cancel_fn cancel;
	uint64_t start_timeout_ms; /* 0: 10 s */
	/* The run's seed: with the device's name and the cut's number, it
	 * chooses what a power cut keeps of the flash. */
	uint64_t seed;
	/* Snapshot boot (harness/machine/snapshot.h) for the reference firmware:
	 * the run's template cache; NULL: every power-on boots. */
	struct snapshot_cache *snapshots;
};

/* The guest architecture fw runs on: its arch, else the host's
 * (qemu_host_arch), else x86_64. A static string or fw's. */
const char *device_firmware_arch(const struct vh_firmware *fw);

/* Creates the device; for the reference firmware also its flash (slot a
 * holds the firmware it ships with). Copies what it keeps of cfg. NULL with
 * err. */
struct vh_device *device_new(const struct device_config *cfg, char *err, size_t errlen);

/* Ends QEMU (SIGKILL, reaped) and frees everything. Requests in flight are
 * dropped without their callbacks. NULL is ignored. */
void device_free(struct vh_device *dev);

/* Asks a running QEMU to end (SIGTERM: it flushes and exits) without
 * waiting: for the end of a run, so all devices shut down at once. */
void device_shutdown_begin(struct vh_device *dev);
/* The pidfd to wait on after device_shutdown_begin, or -1 when off. */
int device_shutdown_fd(const struct vh_device *dev);

/* Boots the device: the bootloader's part (reference firmware), QEMU, the
 * console, then the guest is resumed. done (may be NULL) when it runs, or
 * with the reason it could not start. Already on: status 2. */
void device_power_on(struct vh_device *dev, device_done_fn done, void *arg);

/* Cuts the power now: QEMU is SIGKILLed (nothing in flight is flushed), the
 * device is off for everyone at once (expects and sends fail), and reaped
 * from the loop. A start in progress is abandoned. Off already: nothing.
 * The flash (a device with a disk) keeps what flash chooses of the writes
 * the guest had not flushed (flash_model.h), and a "flash_cut" event says
 * what that was; disk-<name>.img is then what the next power-on finds.
 *
 * The flash is served by the harness over NBD while QEMU runs. When QEMU
 * ends by itself (a guest reboot or poweroff, a crash, the run's end) the
 * flash kept its power: every write survives. */
void device_power_cut(struct vh_device *dev, const char *why, enum flash_cut_mode flash);

/* QMP system_reset: the guest reboots through the harness's boot path.
 * done when QEMU took it. While the device boots, it applies once it runs.
 * Off: status 1. */
void device_reset(struct vh_device *dev, device_done_fn done, void *arg);

/* QMP set_link: pulls (up=false) or restores the network cable. */
void device_set_link(struct vh_device *dev, bool up, device_done_fn done, void *arg);

/* Writes text to the console; done once written (or why not). While the
 * device boots, the text waits for the console. Off: status 1. */
void device_send(struct vh_device *dev, const char *text, size_t len, device_done_fn done,
		 void *arg);

/* The device's console, for expects (console.h). */
struct console *device_console(struct vh_device *dev);

/* A power_cut{on=pattern}: watches complete lines and cuts the power the
 * instant one matches (before anything after it is logged), then calls fn
 * with the line; fn(false, reason) on timeout or when the device goes off
 * first. Takes m; pattern is for the event log; flash as for
 * device_power_cut. */
struct console_wait *device_cut_on(struct vh_device *dev, const char *pattern,
				   struct console_matcher m, uint64_t timeout_ms,
				   enum flash_cut_mode flash, console_wait_fn fn, void *arg);

/* dut:flash_fault{}: adds a fault rule (flash_faults.h) to the device's
 * flash for every boot from now on. With m (the on= pattern), the rule is
 * armed when a complete console line matches, unless the device loses power
 * first; m is then taken. The rule's index, -1 when the table is full. */
int device_flash_fault(struct vh_device *dev, const struct flash_fault_rule *rule,
		       struct console_matcher *m);

/* Watches every write and flush reaching the device's flash, this boot's
 * and every later one's (flash.h's flash_set_watch). */
void device_flash_watch(struct vh_device *dev, flash_watch_fn fn, void *ctx);

/* The device's fault rules, slowness and wear (dut:flash{}), which every
 * boot's flash consults. */
struct flash_faults *device_flash_faults(struct vh_device *dev);

const char *device_name(const struct vh_device *dev);
bool device_is_on(const struct vh_device *dev); /* STARTING or ON */
int device_boots(const struct vh_device *dev);
int device_pid(const struct vh_device *dev);	    /* 0 when no QEMU runs */
const char *device_ip(const struct vh_device *dev); /* NULL without a NIC */
const char *device_mac(const struct vh_device *dev);
struct network_member *device_member(const struct vh_device *dev);
const struct vh_firmware *device_firmware(const struct vh_device *dev);

#endif
