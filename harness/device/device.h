/* A guest device at run time: its QEMU process, serial console, expect
 * waiters and power state. Lua bindings live in lua_device.c. */
#ifndef VH_DEVICE_H
#define VH_DEVICE_H

#include "expect.h"
#include "qemu.h"

#include <lua.h>
#include <stdbool.h>
#include <stdint.h>

struct vh_run;
struct vh_network;
struct datapath;
struct kernel_netem;

struct vh_firmware {
	char *kernel, *initrd, *bios, *disk, *append, *arch, *version, *bugs;
	/* The built-in reference firmware: the harness is its bootloader (A/B
	 * disk image, bootcount rules) and passes it vh.* parameters. */
	bool reference;
};

/* WAIT_CUT_ON: power_cut{on=pattern}, cuts the instant a line matches. */
enum waiter_kind { WAIT_EXPECT, WAIT_EXPECT_NOT, WAIT_CUT_ON };

struct vh_waiter {
	struct vh_waiter *next;
	enum waiter_kind kind;
	struct vh_device *dev;
	lua_State *co;
	uint64_t timer;
	char *pattern;
	bool regex;
	struct expect_regex *re;
	uint64_t seen; /* console stream offset this expect has already searched */
	double started;
	uint64_t timeout_ms;
};

struct vh_device {
	struct vh_run *run;
	char name[32];
	struct vh_network *net; /* NULL: no NIC */
	char tap[16];
	char ifb[16];            /* kernel backend: the IFB for frames from the device */
	/* The NIC's impairment backend (impairment.c): one of them, per the run. */
	struct datapath *dp;     /* user: the datapath (QEMU socket <-> tap) */
	struct kernel_netem *kn; /* kernel: tc-netem on the tap and the IFB */
	bool partitioned;
	char ip[16];
	char mac[18];
	char server[32];         /* "ip:port" of its update server, "" if none */
	struct vh_firmware fw;
	unsigned memory_mib;
	struct qemu_proc proc;
	bool on;
	bool cut_by_harness;     /* the harness ended QEMU: not a guest reboot or crash */
	char shutdown_reason[32]; /* from QMP's SHUTDOWN event */
	int boots;
	struct expect_buf buf;   /* unconsumed console text, for expect */
	struct line_ring ring;   /* last lines, for failure reports */
	char *line;              /* the console line being assembled, for line watchers */
	size_t line_len, line_cap;
	double line_started;
	struct serial_log *log;
	bool console_quiet;      /* no console bytes for CONSOLE_QUIET_MS */
	uint64_t quiet_timer;
	struct vh_waiter *waiters;
};

/* Creates the device (and its tap on net); called by vh.device{}. */
struct vh_device *device_new(struct vh_run *run, const char *name, struct vh_network *net,
			     const struct vh_firmware *fw, unsigned memory_mib, char *err, size_t errlen);
/* Powers off (if on) and frees everything the device owns. */
void device_free(struct vh_device *dev);

/* Runs the bootloader's part (reference firmware), starts QEMU and resumes
 * the guest. 0, or -1 with err and *why: VH_FAULT when QEMU would not start,
 * VH_FAIL when the firmware does not boot (both slots bad), VH_CONFIG for a
 * bad request (already on). */
int device_power_on(struct vh_device *dev, int *why, char *err, size_t errlen);

/* Ends QEMU now (SIGKILL): a power cut. */
void device_power_cut(struct vh_device *dev, const char *why);

/* QMP system_reset: the guest reboots through the harness's boot path. */
int device_reset(struct vh_device *dev, char *err, size_t errlen);

/* QMP set_link: pulls (up=false) or restores the network cable. */
int device_set_link(struct vh_device *dev, bool up, char *err, size_t errlen);

/* Graceful stop at the end of a run. */
void device_power_off(struct vh_device *dev);

/* Writes text to the console. 0 or -1 with err. */
int device_send(struct vh_device *dev, const char *text, size_t len, char *err, size_t errlen);

/* Registers a waiter; the device wakes it (run_resume) with (true, line) on a
 * match, or (false, reason) on timeout or power-off. For WAIT_EXPECT_NOT the
 * roles swap: a match wakes with (false, line), the timeout with (true). */
void device_wait(struct vh_device *dev, struct vh_waiter *w);

/* Tries to satisfy an expect from text already received; true with line. */
bool device_expect_now(struct vh_device *dev, struct vh_waiter *w, char *line, size_t cap);

/* Appends the last serial lines (up to 20) to a malloc'd string. */
char *device_last_lines(const struct vh_device *dev);

/* Matches pattern (a Lua pattern, or an ERE when w->regex) against s. */
bool device_waiter_matches(struct vh_waiter *w, const char *s, size_t len, size_t *end);

void waiter_free(struct vh_waiter *w);

#endif
