/* A guest device's power state machine: see device.h. */
#include "device.h"

#include "ab_boot.h"
#include "accel.h"
#include "agent_event.h"
#include "boot_gate.h"
#include "device_boot.h"
#include "disk_image.h"
#include "ev.h"
#include "flash.h"
#include "hostinfo.h"
#include "network.h"
#include "nic.h"
#include "qemu.h"
#include "qemu_argv.h"
#include "qmp.h"
#include "snapshot.h"
#include "work.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

enum { QMP_TIMEOUT_MS = 5000, SEND_TIMEOUT_MS = 5000, DEFAULT_START_TIMEOUT_MS = 10000 };
/* A template boots a whole firmware (the cloud kernel: 2-5 s under TCG, far
 * longer on a loaded host); a restore loads a few kB of device state. */
enum { SNAPSHOT_BOOT_TIMEOUT_MS = 120000, RESTORE_TIMEOUT_MS = 10000 };
/* A flash_fault{on=} line may come at any time in the run (whose own
 * --timeout ends it first). */
#define FAULT_WATCH_MS (24ull * 3600 * 1000)

enum dev_state {
	DEV_OFF,
	DEV_STARTING, /* boot gate, accelerator, bootloader, QEMU start, QMP, cont */
	DEV_ON,
	DEV_ENDING, /* the last power-on is still finishing: QEMU to reap, bootloader to end */
};

/* A request's completion, always delivered from the loop. */
struct op {
	struct op *next;
	struct vh_device *dev;
	device_done_fn fn;
	void *arg;
	uint64_t defer;
	enum vh_outcome status;
	char err[1200];
	char what[16]; /* "reset", "link" */
	bool link_up;
};

/* The bootloader's part, off the loop (base/work.h): it reads and hashes a
 * whole slot, which would stall every console for tens of milliseconds. */
struct prep {
	struct vh_device *dev;
	struct work *work;
	struct device_boot_in in;
	struct device_boot out;
	char accel[8];
	int r;
	enum vh_outcome status;
	char err[1200];
};

struct cut_on {
	struct vh_device *dev;
	enum flash_cut_mode flash;
	char why[300];
	console_wait_fn fn;
	void *arg;
};

/* A flash_fault{on=} rule waiting for its console line. */
struct fault_watch {
	struct vh_device *dev;
	int rule;
	struct console_wait *cw;
};

struct vh_device {
	char name[32];
	struct ev_loop *loop;
	char *artifacts_dir;
	char *image_dir;
	struct vh_firmware fw;
	unsigned memory_mib;
	struct network_member *member;
	char server[64];
	struct accel *accel;
	struct boot_gate *gate;	    /* NULL: no limit */
	struct boot_ticket *ticket; /* this boot's place at the gate, until it is up */
	struct device_hooks hooks;
	device_start_fn start;
	device_cancel_fn cancel;
	uint64_t start_timeout_ms;
	uint64_t seed;
	char mac[18];
	char stderr_path[1100];

	enum dev_state state;
	bool want_start;     /* power_on asked for while ENDING */
	bool cut_by_harness; /* the harness ended QEMU: not a guest reboot or crash */
	bool shutting_down;  /* end of run: SIGTERM sent */
	int boots;
	char shutdown_reason[32]; /* from QMP's SHUTDOWN event */
	const char *accel_name;	  /* of this power-on */

	struct console *console;
	struct accel_request *accel_req;
	struct prep *prep;
	struct qemu_start *starting;
	bool has_proc;
	struct qemu_proc proc;
	struct qmp *qmp;
	/* The disk while a QEMU may use it (launch to cut or reap), else NULL. */
	struct flash *flash;
	uint64_t flash_cuts; /* numbers the cuts, for their seeds */
	/* Fault rules, slowness and wear: the device's, handed to each boot's
	 * flash, so counts and wear carry over reboots. */
	struct flash_faults faults;
	struct fault_watch watches[FLASH_FAULT_RULES_MAX];
	flash_watch_fn flash_watch; /* handed to each boot's flash, as the faults */
	void *flash_watch_ctx;

	/* Snapshot boot: the run's cache (NULL: off), the wait for this boot's
	 * template, the boot it is for, and what the restore needs. */
	struct snapshot_cache *snapshots;
	struct snapshot_wait *snap_wait;
	struct device_boot *snap_boot;
	bool restoring;
	uint64_t restore_timer;
	char restore_uri[1200];
	char identity[2200];

	struct op *power_waiters; /* power_on requests until ON */
	struct op *ready_waiters; /* reset and link asked for while STARTING */
	struct op *ops;		  /* every other op not yet delivered */
};

static void begin_start(struct vh_device *dev);
static void start_failed(struct vh_device *dev, enum vh_outcome status, const char *err);

/* --- small helpers --- */

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* A stable MAC per device name, so captures are comparable across runs. */
static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static void snap_wait_cancel(struct vh_device *dev)
{
	snapshot_wait_cancel(dev->snap_wait);
	dev->snap_wait = NULL;
	free(dev->snap_boot);
	dev->snap_boot = NULL;
}

static void mac_for(const char *name, char *out, size_t len)
{
	uint32_t h = fnv1a(name);
	snprintf(out, len, "52:54:00:%02x:%02x:%02x", (h >> 16) & 0xff, (h >> 8) & 0xff, h & 0xff);
}

static void event(struct vh_device *dev, const char *name, const char *const *kv)
{
	if (dev->hooks.event)
		dev->hooks.event(dev->hooks.ctx, name, kv);
}

static void event_cb(void *ctx, const char *name, const char *const *kv)
{
	event(ctx, name, kv);
}

/* The boot is over for the gate: the firmware said it is up, or the device
 * stopped. */
static void gate_leave(struct vh_device *dev)
{
	boot_gate_leave(dev->ticket);
	dev->ticket = NULL;
}

static void on_console_line(void *arg, const char *line)
{
	struct vh_device *dev = arg;
	if (dev->ticket && dev->fw.ready && strstr(line, dev->fw.ready))
		gate_leave(dev);
	if (dev->hooks.line)
		dev->hooks.line(dev->hooks.ctx, dev->name, line);
}

static void power_event(struct vh_device *dev, const char *name, const char *status,
			const char *reason)
{
	const char *kv[7] = { "device", dev->name };
	int n = 2;
	if (status)
		kv[n++] = "status", kv[n++] = status;
	if (reason)
		kv[n++] = "reason", kv[n++] = reason;
	kv[n] = NULL;
	event(dev, name, kv);
}

static void fault(struct vh_device *dev, enum vh_outcome status, const char *message)
{
	if (dev->hooks.fault)
		dev->hooks.fault(dev->hooks.ctx, status, message);
}

/* --- request completions --- */

static struct op *op_new(struct vh_device *dev, device_done_fn fn, void *arg)
{
	struct op *op = calloc(1, sizeof(*op));
	if (!op)
		abort();
	op->dev = dev;
	op->fn = fn;
	op->arg = arg;
	op->next = dev->ops;
	dev->ops = op;
	return op;
}

static void op_unlink(struct op **list, struct op *op)
{
	for (struct op **p = list; *p; p = &(*p)->next) {
		if (*p == op) {
			*p = op->next;
			return;
		}
	}
}

static void op_deliver(struct ev_loop *loop, void *arg)
{
	(void)loop;
	struct op *op = arg;
	op_unlink(&op->dev->ops, op);
	device_done_fn fn = op->fn;
	void *fn_arg = op->arg;
	enum vh_outcome status = op->status;
	char err[sizeof(op->err)];
	snprintf(err, sizeof(err), "%s", op->err);
	free(op);
	if (fn)
		fn(fn_arg, status, status == VH_PASS ? NULL : err);
}

/* Completes op on the next turn: never inside the call that made it. */
static void op_complete(struct op *op, enum vh_outcome status, const char *err)
{
	if (op->defer)
		return; /* already on its way */
	op->status = status;
	snprintf(op->err, sizeof(op->err), "%s", err ? err : "");
	op->defer = ev_defer(op->dev->loop, op_deliver, op);
}

static void done_now(struct vh_device *dev, device_done_fn fn, void *arg, enum vh_outcome status,
		     const char *err)
{
	op_complete(op_new(dev, fn, arg), status, err);
}

/* Requests that wait for the device to run are kept on lists of their own
 * until then; back on dev->ops, op_deliver finds them. */
static void complete_list(struct vh_device *dev, struct op **list, enum vh_outcome status,
			  const char *err)
{
	while (*list) {
		struct op *op = *list;
		*list = op->next;
		op->next = dev->ops;
		dev->ops = op;
		op_complete(op, status, err);
	}
}

static void complete_power_waiters(struct vh_device *dev, enum vh_outcome status, const char *err)
{
	complete_list(dev, &dev->power_waiters, status, err);
	if (status != VH_PASS)
		complete_list(dev, &dev->ready_waiters, status, err);
}

static void issue(struct vh_device *dev, struct op *op);

/* --- creation --- */

const char *device_firmware_arch(const struct vh_firmware *fw)
{
	if (fw->arch)
		return fw->arch;
	const char *host = qemu_host_arch();
	return host ? host : "x86_64";
}

struct vh_device *device_new(const struct device_config *cfg, char *err, size_t errlen)
{
	struct vh_device *dev = calloc(1, sizeof(*dev));
	if (!dev) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(dev->name, sizeof(dev->name), "%s", cfg->name);
	dev->loop = cfg->loop;
	dev->artifacts_dir = dup_or_null(cfg->artifacts_dir);
	dev->image_dir = dup_or_null(cfg->image_dir);
	const struct vh_firmware *fw = cfg->fw;
	dev->fw = (struct vh_firmware){
		.kernel = dup_or_null(fw->kernel),
		.initrd = dup_or_null(fw->initrd),
		.bios = dup_or_null(fw->bios),
		.disk = dup_or_null(fw->disk),
		.append = dup_or_null(fw->append),
		.arch = dup_or_null(fw->arch),
		.version = dup_or_null(fw->version),
		.bugs = dup_or_null(fw->bugs),
		.ready = dup_or_null(fw->ready),
		.reference = fw->reference,
		.no_acpi = fw->no_acpi,
		.tb_size_mib = fw->tb_size_mib,
	};
	if (fw->user) {
		struct user_fw *copy = malloc(sizeof(*copy));
		if (!copy)
			abort();
		*copy = *fw->user;
		dev->fw.user = copy;
	}
	dev->memory_mib = cfg->memory_mib;
	dev->member = cfg->member;
	snprintf(dev->server, sizeof(dev->server), "%s", cfg->server ? cfg->server : "");
	dev->accel = cfg->accel;
	dev->gate = cfg->gate;
	dev->hooks = cfg->hooks;
	dev->start = cfg->start ? cfg->start : qemu_start;
	dev->cancel = cfg->cancel ? cfg->cancel : qemu_start_cancel;
	dev->start_timeout_ms =
		cfg->start_timeout_ms ? cfg->start_timeout_ms : DEFAULT_START_TIMEOUT_MS;
	dev->seed = cfg->seed;
	dev->snapshots = fw->reference ? cfg->snapshots : NULL;
	flash_faults_init(&dev->faults);
	mac_for(dev->name, dev->mac, sizeof(dev->mac));
	if (!dev->artifacts_dir) {
		/* On paper: a console with no log, so expects have something to ask. */
		dev->console = console_new(dev->loop, NULL, -1, err, errlen);
		if (!dev->console) {
			device_free(dev);
			return NULL;
		}
		return dev;
	}
	if (fw->reference) {
		/* The device's flash: slot a holds the firmware it ships with. */
		char bundle[1024], disk[1100];
		snprintf(disk, sizeof(disk), "%s/disk-%s.img", dev->artifacts_dir, dev->name);
		unlink(disk);
		if (ab_boot_bundle_for(dev->image_dir, device_firmware_arch(fw), dev->artifacts_dir,
				       fw->version, fw->bugs, bundle, sizeof(bundle), err,
				       errlen) < 0 ||
		    disk_image_create(disk, bundle, fw->version, err, errlen) < 0) {
			device_free(dev);
			return NULL;
		}
		free(dev->fw.disk);
		dev->fw.disk = strdup(disk);
	}
	if (fw->user) {
		/* The device's flash is a copy of the image, made at its first
		 * power-on (off the loop: images are large): never the image. */
		char disk[1100];
		snprintf(disk, sizeof(disk), "%s/disk-%s.img", dev->artifacts_dir, dev->name);
		unlink(disk);
		free(dev->fw.disk);
		dev->fw.disk = strdup(disk);
	}
	char log[1100];
	snprintf(log, sizeof(log), "%s/serial-%s.log", dev->artifacts_dir, dev->name);
	snprintf(dev->stderr_path, sizeof(dev->stderr_path), "%s/qemu-%s.stderr",
		 dev->artifacts_dir, dev->name);
	dev->console = console_new(dev->loop, log, cfg->echo_fd, err, errlen);
	if (!dev->console) {
		device_free(dev);
		return NULL;
	}
	console_on_line(dev->console, on_console_line, dev);
	/* Measured once here, on the loop's thread, before a boot needs it. */
	hostinfo_tsc_khz();
	return dev;
}

/* --- the flash --- */

/* QEMU is gone or going without a power cut: the flash kept its power, so
 * every write it took survives into the file. */
static void flash_end(struct vh_device *dev)
{
	if (!dev->flash)
		return;
	char err[300];
	int r = flash_close(dev->flash, err, sizeof(err));
	dev->flash = NULL;
	if (r < 0) {
		char why[400];
		snprintf(why, sizeof(why), "%s's flash: %s", dev->name, err);
		fault(dev, VH_FAULT, why);
	}
}

static void num(char *buf, size_t len, uint64_t v)
{
	snprintf(buf, len, "\x01%llu", (unsigned long long)v);
}

/* A request the flash failed on purpose: one flash_fault event each. */
static void on_flash_fault(void *ctx, const struct flash_fault_report *r)
{
	struct vh_device *dev = ctx;
	char off[24], len[24], rule[24];
	num(off, sizeof(off), r->offset), num(len, sizeof(len), r->len);
	snprintf(rule, sizeof(rule), "\x01%d", r->rule + 1);
	const char *kv[] = { "device",
			     dev->name,
			     "op",
			     flash_op_name(r->op),
			     "offset",
			     off,
			     "length",
			     len,
			     "error",
			     flash_fault_error_name(r->error),
			     "why",
			     r->rule < 0 ? "wear_out" : "rule",
			     r->rule < 0 ? NULL : "rule",
			     rule,
			     NULL };
	event(dev, "flash_fault", kv);
}

/* The power died: the model chooses what survives, and says so. */
static void flash_power_cut(struct vh_device *dev, enum flash_cut_mode mode)
{
	if (!dev->flash)
		return;
	uint64_t seed = flash_model_cut_seed(dev->seed, dev->name, ++dev->flash_cuts);
	struct flash_cut_report rep;
	struct flash_stats st;
	char err[300];
	int r = flash_cut(dev->flash, mode, seed, &rep, &st, err, sizeof(err));
	dev->flash = NULL;
	char pw[24], pb[24], sw[24], sb[24], tb[24], wr[24], fl[24], cut[24];
	num(pw, sizeof(pw), rep.pending_writes), num(pb, sizeof(pb), rep.pending_bytes);
	num(sw, sizeof(sw), rep.survived_writes), num(sb, sizeof(sb), rep.survived_bytes);
	num(tb, sizeof(tb), rep.torn_bytes), num(wr, sizeof(wr), st.writes);
	num(fl, sizeof(fl), st.flushes), num(cut, sizeof(cut), dev->flash_cuts);
	const char *kv[] = { "device",
			     dev->name,
			     "mode",
			     flash_cut_mode_name(mode),
			     "cut",
			     cut,
			     "pending_writes",
			     pw,
			     "pending_bytes",
			     pb,
			     "survived_writes",
			     sw,
			     "survived_bytes",
			     sb,
			     "survived",
			     rep.survived,
			     "torn_bytes",
			     tb,
			     "writes",
			     wr,
			     "flushes",
			     fl,
			     NULL };
	event(dev, "flash_cut", kv);
	if (r < 0) {
		char why[400];
		snprintf(why, sizeof(why), "%s's flash: %s", dev->name, err);
		fault(dev, VH_FAULT, why);
	}
}

/* --- the running QEMU --- */

static void on_exit_fd(struct ev_loop *loop, int fd, uint32_t events, void *arg);

/* Lets go of the process's sockets and the QMP client (not the child). */
/* The restore of a snapshot is over, however it ended. */
static void restore_end(struct vh_device *dev)
{
	if (dev->restore_timer)
		ev_del_timer(dev->loop, dev->restore_timer);
	dev->restore_timer = 0;
	dev->restoring = false;
}

/* Every way a QEMU is let go passes here: a restore in flight ends too. */
static void drop_channels(struct vh_device *dev, bool drain_console)
{
	restore_end(dev);
	console_detach(dev->console, drain_console);
	qmp_free(dev->qmp);
	dev->qmp = NULL;
	qemu_proc_close_sockets(&dev->proc);
}

static void restore_event(struct vh_device *dev, const char *name, const char *line);

static void on_qmp_event(void *ctx, const char *name, const char *line)
{
	struct vh_device *dev = ctx;
	if (!strcmp(name, "SHUTDOWN"))
		qmp_json_string(line, "reason", dev->shutdown_reason, sizeof(dev->shutdown_reason));
	if (dev->restoring)
		restore_event(dev, name, line);
}

/* Lets the run know, once per unexpected end, and fails what waits. */
static void lost(struct vh_device *dev, const char *why)
{
	console_fail_waits(dev->console, true, true, why);
}

static void reaped(struct vh_device *dev, int status)
{
	dev->has_proc = false;
	gate_leave(dev);
	bool by_harness = dev->cut_by_harness;
	dev->cut_by_harness = false;
	dev->state = DEV_OFF;
	if (by_harness) {
		if (dev->want_start) {
			dev->want_start = false;
			begin_start(dev);
		}
		return;
	}
	char st[128], why[1600];
	child_status_text(status, st, sizeof(st));
	const char *reason = dev->shutdown_reason[0] ? dev->shutdown_reason : "none";
	power_event(dev, "power_off", st, reason);
	if (!strcmp(reason, "guest-reset") || !strcmp(reason, "guest-panic") ||
	    !strcmp(reason, "host-qmp-system-reset")) {
		/* -no-reboot turned the guest's reboot into an exit: the harness is
		 * the bootloader, so it powers the device on again. */
		power_event(dev, "reboot", NULL, NULL);
		begin_start(dev);
		return;
	}
	if (!child_status_ok(status)) {
		char tail[1024];
		child_file_tail(dev->stderr_path, tail, sizeof(tail), 5);
		snprintf(why, sizeof(why), "QEMU for %s %s%s%s", dev->name, st, tail[0] ? ": " : "",
			 tail);
		fault(dev, VH_FAULT, why);
	}
	snprintf(why, sizeof(why), "%s powered off (QEMU %s, reason %s)", dev->name, st, reason);
	lost(dev, why);
	if (dev->want_start) {
		dev->want_start = false;
		begin_start(dev);
	}
}

static void on_exit_fd(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	(void)events;
	struct vh_device *dev = arg;
	/* Unwatched before the reap closes it: the number may be reused at once. */
	ev_del_fd(loop, fd);
	int status = 0;
	if (!child_reap(&dev->proc.child, &status)) {
		ev_add_fd(loop, fd, EPOLLIN, on_exit_fd, dev);
		return;
	}
	/* Before anything reads the file: a reboot's bootloader does at once. */
	flash_end(dev);
	if (dev->state != DEV_ENDING) {
		/* QEMU ended by itself: what it printed and said last still counts. */
		drop_channels(dev, true);
		if (dev->state == DEV_STARTING) {
			char st[128], tail[800], why[1100];
			child_file_tail(dev->stderr_path, tail, sizeof(tail), 5);
			snprintf(why, sizeof(why), "QEMU for %s %s while starting%s%s", dev->name,
				 child_status_text(status, st, sizeof(st)), tail[0] ? ": " : "",
				 tail);
			dev->has_proc = false;
			start_failed(dev, VH_FAULT, why);
			return;
		}
	}
	reaped(dev, status);
}

/* A start that got as far as a running QEMU failed: it is ended. */
static void start_abort(struct vh_device *dev, const char *why)
{
	dev->cut_by_harness = true;
	drop_channels(dev, false);
	child_kill(&dev->proc.child);
	dev->state = DEV_ENDING;
	start_failed(dev, VH_FAULT, why);
}

static void on_cont(void *arg, bool ok, const char *text)
{
	struct vh_device *dev = arg;
	if (dev->state != DEV_STARTING)
		return;
	if (!ok) {
		char why[1100];
		snprintf(why, sizeof(why), "QEMU for %s did not resume: %s", dev->name, text);
		start_abort(dev, why);
		return;
	}
	dev->state = DEV_ON;
	dev->boots++;
	char boots[16], pid[16], waited[24];
	snprintf(boots, sizeof(boots), "\x01%d", dev->boots);
	snprintf(pid, sizeof(pid), "\x01%d", (int)dev->proc.child.pid);
	/* The guest has not run yet, so it cannot have said it is up: the
	 * ticket is still this boot's. */
	snprintf(waited, sizeof(waited), "\x01%llu",
		 (unsigned long long)(dev->ticket ? boot_ticket_waited_ms(dev->ticket) : 0));
	const char *kv[13] = { "device", dev->name, "boot",  boots,
			       "pid",	 pid,	    "accel", dev->accel_name };
	int n = 8;
	if (dev->gate) {
		kv[n++] = "gate_ms";
		kv[n++] = waited;
	}
	if (dev->restore_uri[0]) {
		kv[n++] = "from";
		kv[n++] = "snapshot";
	}
	kv[n] = NULL;
	event(dev, "power_on", kv);
	complete_power_waiters(dev, VH_PASS, NULL);
	while (dev->ready_waiters) {
		struct op *op = dev->ready_waiters;
		dev->ready_waiters = op->next;
		op->next = dev->ops;
		dev->ops = op;
		issue(dev, op);
	}
}

/* --- snapshot boot: the restore --- */

static void on_restore_timeout(struct ev_loop *loop, uint64_t id, void *arg)
{
	(void)loop;
	(void)id;
	struct vh_device *dev = arg;
	dev->restore_timer = 0;
	char why[200];
	snprintf(why, sizeof(why), "QEMU for %s did not load its snapshot within %d ms", dev->name,
		 RESTORE_TIMEOUT_MS);
	start_abort(dev, why);
}

static void on_restore_step(void *arg, bool ok, const char *text)
{
	struct vh_device *dev = arg;
	if (ok || dev->state != DEV_STARTING || !dev->restoring)
		return;
	char why[1100];
	snprintf(why, sizeof(why), "QEMU for %s could not load its snapshot: %s", dev->name, text);
	start_abort(dev, why);
}

/* The machine state comes over QMP; RAM is the template's file, mapped. */
static void restore_begin(struct vh_device *dev)
{
	dev->restoring = true;
	dev->restore_timer = ev_add_timer(dev->loop, RESTORE_TIMEOUT_MS, on_restore_timeout, dev);
	qmp_request(dev->qmp, "migrate-set-capabilities", SNAPSHOT_QMP_CAPABILITIES, QMP_TIMEOUT_MS,
		    on_restore_step, dev);
	char args[1300];
	snprintf(args, sizeof(args), "{\"uri\": \"%s\"}", dev->restore_uri);
	qmp_request(dev->qmp, "migrate-incoming", args, QMP_TIMEOUT_MS, on_restore_step, dev);
}

/* Loaded (and paused, as the template was saved): the agent waits on the
 * console for who it is; the line is queued before the guest runs, so it is
 * the first thing it reads. */
static void restore_event(struct vh_device *dev, const char *name, const char *line)
{
	if (strcmp(name, "MIGRATION") != 0 || dev->state != DEV_STARTING)
		return;
	char status[32] = "";
	qmp_json_string(line, "status", status, sizeof(status));
	if (!strcmp(status, "failed")) {
		on_restore_step(dev, false, "the migration stream failed");
		return;
	}
	if (strcmp(status, "completed") != 0)
		return;
	restore_end(dev);
	console_write(dev->console, dev->identity, strlen(dev->identity), SEND_TIMEOUT_MS, NULL,
		      NULL);
	qmp_request(dev->qmp, "cont", NULL, QMP_TIMEOUT_MS, on_cont, dev);
}

static void on_started(void *arg, const struct qemu_proc *p, const char *err)
{
	struct vh_device *dev = arg;
	dev->starting = NULL;
	if (!p) {
		start_failed(dev, VH_FAULT, err);
		return;
	}
	dev->proc = *p;
	dev->has_proc = true;
	ev_add_fd(dev->loop, dev->proc.child.pidfd, EPOLLIN, on_exit_fd, dev);
	ev_fd_component(dev->loop, dev->proc.child.pidfd, ev_component(dev->loop, "qemu"));
	if (dev->proc.net_fd >= 0) {
		char why[600];
		int fd = dev->proc.net_fd;
		dev->proc.net_fd = -1; /* the NIC's now, whatever happens */
		if (nic_qemu_connected(dev->member->nic, fd, why, sizeof(why)) < 0) {
			char msg[700];
			snprintf(msg, sizeof(msg), "%s's network: %s", dev->name, why);
			dev->cut_by_harness = true;
			drop_channels(dev, false);
			child_kill(&dev->proc.child);
			dev->state = DEV_ENDING;
			start_failed(dev, VH_FAULT, msg);
			return;
		}
	}
	struct qmp_handlers h = { .event = on_qmp_event, .ctx = dev };
	dev->qmp = qmp_new(dev->loop, dev->proc.qmp_fd, &h);
	dev->proc.qmp_fd = -1; /* the QMP client's */
	/* The console is read before the guest runs, so no output is missed. */
	console_attach(dev->console, dev->proc.serial_fd);
	dev->shutdown_reason[0] = '\0';
	if (dev->restore_uri[0]) {
		restore_begin(dev);
		return;
	}
	qmp_request(dev->qmp, "cont", NULL, QMP_TIMEOUT_MS, on_cont, dev);
}

/* Starts QEMU for boot; with snap, from that saved machine. */
static void launch_qemu(struct vh_device *dev, const struct device_boot *boot,
			const struct snapshot *snap)
{
	const char *arch = device_firmware_arch(&dev->fw);
	char serial[108], qmp[108], net[108], nbd[108];
	int pid = (int)getpid();
	snprintf(nbd, sizeof(nbd), "@vharness/%d/%s/nbd", pid, dev->name);
	snprintf(serial, sizeof(serial), "vharness/%d/%s/serial", pid, dev->name);
	snprintf(qmp, sizeof(qmp), "vharness/%d/%s/qmp", pid, dev->name);
	snprintf(net, sizeof(net), "vharness/%d/%s/net", pid, dev->name);
	struct qemu_launch l = {
		.arch = arch,
		.accel = dev->accel_name,
		.memory_mib = dev->memory_mib,
		.no_acpi = dev->fw.no_acpi,
		.tb_size_mib = dev->fw.tb_size_mib,
		.kernel = boot->kernel[0] ? boot->kernel : NULL,
		.initrd = boot->initrd[0] ? boot->initrd : NULL,
		.append = boot->has_append ? boot->append : NULL,
		.bios = dev->fw.bios,
		.disk = dev->fw.disk,
		.mac = dev->mac,
		.serial_socket = serial,
		.qmp_socket = qmp,
	};
	char err[1200];
	if (dev->fw.disk) {
		/* Listening before QEMU starts: its NBD client connects at once. */
		dev->flash = flash_open(dev->loop, dev->fw.disk, nbd, err, sizeof(err));
		if (!dev->flash) {
			start_failed(dev, VH_FAULT, err);
			return;
		}
		flash_set_faults(dev->flash, &dev->faults, on_flash_fault, dev);
		flash_set_watch(dev->flash, dev->flash_watch, dev->flash_watch_ctx);
		l.disk_nbd_socket = nbd + 1;
	}
	if (dev->member && dev->member->nic) {
		l.tap_ifname = nic_qemu_tap(dev->member->nic);
		if (!l.tap_ifname)
			l.net_socket = net;
	}
	dev->restore_uri[0] = '\0';
	if (snap) {
		l.ram_file = snap->ram_path;
		l.incoming = true;
		snprintf(dev->restore_uri, sizeof(dev->restore_uri), "%s", snap->state_uri);
		snprintf(dev->identity, sizeof(dev->identity), "%s%s vh.mac=%s vh.seed=%llu\n",
			 AGENT_IDENTITY_PREFIX, boot->identity, dev->mac,
			 (unsigned long long)(dev->seed ^ ((uint64_t)dev->boots << 32) ^
					      (uint64_t)fnv1a(dev->name)));
	}
	dev->starting = dev->start(dev->loop, &l, dev->stderr_path, dev->start_timeout_ms,
				   on_started, dev, err, sizeof(err));
	if (!dev->starting)
		start_failed(dev, VH_FAULT, err);
}

static void on_snapshot(void *arg, const struct snapshot *snap, const char *err)
{
	struct vh_device *dev = arg;
	dev->snap_wait = NULL;
	struct device_boot *boot = dev->snap_boot;
	dev->snap_boot = NULL;
	if (!snap)
		start_failed(dev, VH_FAULT, err);
	else
		launch_qemu(dev, boot, snap);
	free(boot);
}

/* The template of boot: the same machine without the device's identity, its
 * disk a throwaway view of this device's and its NIC unplugged. */
static void launch(struct vh_device *dev, const struct device_boot *boot)
{
	if (!boot->snapshot) {
		launch_qemu(dev, boot, NULL);
		return;
	}
	struct qemu_launch t = {
		.arch = device_firmware_arch(&dev->fw),
		.accel = dev->accel_name,
		.memory_mib = dev->memory_mib,
		.no_acpi = dev->fw.no_acpi,
		.tb_size_mib = dev->fw.tb_size_mib,
		.kernel = boot->kernel,
		.initrd = boot->initrd[0] ? boot->initrd : NULL,
		.append = boot->append,
		.disk = dev->fw.disk,
		.disk_snapshot = true,
		.nic_unplugged = dev->member && dev->member->nic,
	};
	dev->snap_boot = malloc(sizeof(*boot));
	if (!dev->snap_boot)
		abort();
	*dev->snap_boot = *boot;
	dev->snap_wait =
		snapshot_get(dev->snapshots, &t, SNAPSHOT_BOOT_TIMEOUT_MS, on_snapshot, dev);
}

/* --- the bootloader, off the loop --- */

static void prep_run(void *arg)
{
	struct prep *p = arg;
	p->r = device_boot_prepare(&p->in, &p->out, &p->status, p->err, sizeof(p->err));
}

static void on_prep_done(void *arg)
{
	struct prep *p = arg;
	struct vh_device *dev = p->dev;
	dev->prep = NULL;
	bool abandoned = dev->state != DEV_STARTING; /* cut while the bootloader ran */
	struct device_boot boot = p->out;
	int r = p->r;
	enum vh_outcome status = p->status;
	char err[sizeof(p->err)];
	snprintf(err, sizeof(err), "%s", p->err);
	free(p);
	if (abandoned) {
		dev->state = DEV_OFF;
		if (dev->want_start) {
			dev->want_start = false;
			begin_start(dev);
		}
		return;
	}
	if (r < 0) {
		start_failed(dev, status, err);
		return;
	}
	device_boot_report(&boot, dev->name, event_cb, dev);
	launch(dev, &boot);
}

static void on_accel(void *arg, const char *accel)
{
	struct vh_device *dev = arg;
	dev->accel_req = NULL;
	dev->accel_name = accel;
	struct prep *p = calloc(1, sizeof(*p));
	if (!p)
		abort();
	p->dev = dev;
	snprintf(p->accel, sizeof(p->accel), "%s", accel);
	p->in = (struct device_boot_in){
		.device = dev->name,
		.fw = &dev->fw,
		.artifacts_dir = dev->artifacts_dir,
		.member = dev->member,
		.server = dev->server,
		.accel = p->accel,
		.snapshot = dev->snapshots != NULL,
	};
	p->work = work_start(dev->loop, prep_run, on_prep_done, p);
	if (!p->work) {
		free(p);
		start_failed(dev, VH_FAULT, "cannot start the bootloader's thread");
		return;
	}
	dev->prep = p;
}

/* --- power --- */

static void start_granted(void *arg);

static void begin_start(struct vh_device *dev)
{
	dev->state = DEV_STARTING;
	gate_leave(dev);
	if (dev->gate) {
		dev->ticket = boot_gate_enter(dev->gate, start_granted, dev);
		return;
	}
	start_granted(dev);
}

static void start_granted(void *arg)
{
	struct vh_device *dev = arg;
	const char *arch = device_firmware_arch(&dev->fw);
	char kernel[1100];
	/* The reference firmware's fw.kernel is its image's copy of the kernel in
	 * its slots, good for a probe; a user image's kernel sits inside its slots,
	 * and the reference kernel of the same arch proves KVM as well. */
	if (dev->fw.user) {
		char dir[1024];
		ab_boot_image_dir(dev->image_dir ? dev->image_dir : "", arch, dir, sizeof(dir));
		snprintf(kernel, sizeof(kernel), "%s/vmlinuz", dir);
	} else {
		snprintf(kernel, sizeof(kernel), "%s", dev->fw.kernel ? dev->fw.kernel : "");
	}
	dev->accel_req = accel_get(dev->accel, arch, qemu_binary_for_arch(arch),
				   kernel[0] ? kernel : NULL, on_accel, dev);
}

static void start_failed(struct vh_device *dev, enum vh_outcome status, const char *err)
{
	bool asked = dev->power_waiters != NULL;
	gate_leave(dev);
	flash_end(dev);
	if (dev->state == DEV_STARTING)
		dev->state = dev->has_proc ? DEV_ENDING : DEV_OFF;
	char why[1300];
	snprintf(why, sizeof(why), "power_on %s: %s", dev->name, err);
	complete_power_waiters(dev, status, err);
	/* A reboot nobody asked for: the device is gone for the run. */
	if (!asked)
		fault(dev, status, err);
	lost(dev, why);
}

void device_power_on(struct vh_device *dev, device_done_fn done, void *arg)
{
	if (!dev->artifacts_dir) {
		done_now(dev, done, arg, VH_PASS, NULL);
		return;
	}
	if (dev->state == DEV_ON || dev->state == DEV_STARTING || dev->want_start) {
		char err[96];
		snprintf(err, sizeof(err), "%s is already powered on", dev->name);
		done_now(dev, done, arg, VH_CONFIG, err);
		return;
	}
	struct op *op = op_new(dev, done, arg);
	op_unlink(&dev->ops, op);
	op->next = dev->power_waiters;
	dev->power_waiters = op;
	if (dev->state == DEV_ENDING) {
		dev->want_start = true; /* after the reap */
		return;
	}
	begin_start(dev);
}

void device_power_cut(struct vh_device *dev, const char *why, enum flash_cut_mode flash)
{
	if (dev->state == DEV_OFF || dev->state == DEV_ENDING)
		return;
	char msg[400];
	snprintf(msg, sizeof(msg), "%s lost power (%s)", dev->name, why);
	gate_leave(dev);
	if (dev->state == DEV_STARTING) {
		accel_cancel(dev->accel_req);
		dev->accel_req = NULL;
		if (dev->starting) {
			dev->cancel(dev->starting);
			dev->starting = NULL;
		}
		snap_wait_cancel(dev);
	}
	if (dev->has_proc) {
		dev->cut_by_harness = true;
		/* Nothing QEMU wrote after this instant is logged. */
		drop_channels(dev, false);
		child_kill(&dev->proc.child);
		dev->state = DEV_ENDING;
	} else {
		/* The bootloader's thread finishes its writes, as U-Boot would
		 * have; until then the device is ENDING. */
		dev->state = dev->prep ? DEV_ENDING : DEV_OFF;
	}
	power_event(dev, "power_cut", NULL, why);
	flash_power_cut(dev, flash);
	complete_power_waiters(dev, VH_FAIL, msg);
	lost(dev, msg);
}

static void on_qmp_reply(void *arg, bool ok, const char *text)
{
	struct op *op = arg;
	struct vh_device *dev = op->dev;
	if (!strcmp(op->what, "reset")) {
		if (!ok && strstr(text, "QMP closed")) {
			/* QEMU is already going down (a guest reboot or a crash), and
			 * its exit handler decides what comes next. Seen once in CI. */
			const char *kv[] = { "device", dev->name, "note",
					     "QEMU was already exiting", NULL };
			event(dev, "reset", kv);
			op_complete(op, VH_PASS, NULL);
			return;
		}
	} else if (ok) {
		const char *kv[] = { "device", dev->name, "up",
				     op->link_up ? "\x01"
						   "true"
						 : "\x01"
						   "false",
				     NULL };
		event(dev, "link", kv);
	}
	char err[1100];
	snprintf(err, sizeof(err), "QMP %s on %s: %s", op->what, dev->name, ok ? "" : text);
	op_complete(op, ok ? VH_PASS : VH_FAULT, ok ? NULL : err);
}

static void issue(struct vh_device *dev, struct op *op)
{
	if (!strcmp(op->what, "reset")) {
		/* With -no-reboot QEMU exits on the reset; the exit handler boots again. */
		qmp_request(dev->qmp, "system_reset", NULL, QMP_TIMEOUT_MS, on_qmp_reply, op);
		return;
	}
	qmp_request(dev->qmp, "set_link",
		    op->link_up ? "{\"name\":\"net0\",\"up\":true}"
				: "{\"name\":\"net0\",\"up\":false}",
		    QMP_TIMEOUT_MS, on_qmp_reply, op);
}

/* Issues a QMP request now, or once the device runs when it is booting. */
static void qmp_op(struct vh_device *dev, struct op *op)
{
	if (dev->state == DEV_ON) {
		issue(dev, op);
		return;
	}
	op_unlink(&dev->ops, op);
	op->next = dev->ready_waiters;
	dev->ready_waiters = op;
}

/* Requests that need a device that is on (or on its way). */
static bool refuse_when_off(struct vh_device *dev, device_done_fn done, void *arg)
{
	if (!dev->artifacts_dir) {
		done_now(dev, done, arg, VH_PASS, NULL);
		return true;
	}
	if (dev->state == DEV_OFF || dev->state == DEV_ENDING) {
		char err[96];
		snprintf(err, sizeof(err), "%s is powered off", dev->name);
		done_now(dev, done, arg, VH_FAIL, err);
		return true;
	}
	return false;
}

void device_reset(struct vh_device *dev, device_done_fn done, void *arg)
{
	if (refuse_when_off(dev, done, arg))
		return;
	struct op *op = op_new(dev, done, arg);
	snprintf(op->what, sizeof(op->what), "reset");
	qmp_op(dev, op);
}

void device_set_link(struct vh_device *dev, bool up, device_done_fn done, void *arg)
{
	if (!dev->member && dev->artifacts_dir) {
		char err[96];
		snprintf(err, sizeof(err), "%s has no network", dev->name);
		done_now(dev, done, arg, VH_CONFIG, err);
		return;
	}
	if (refuse_when_off(dev, done, arg))
		return;
	struct op *op = op_new(dev, done, arg);
	snprintf(op->what, sizeof(op->what), "set_link");
	op->link_up = up;
	qmp_op(dev, op);
}

static void on_sent(void *arg, bool ok, const char *err)
{
	struct op *op = arg;
	char why[600];
	snprintf(why, sizeof(why), "cannot write to %s's console: %s", op->dev->name,
		 err ? err : "");
	op_complete(op, ok ? VH_PASS : VH_FAIL, ok ? NULL : why);
}

void device_send(struct vh_device *dev, const char *text, size_t len, device_done_fn done,
		 void *arg)
{
	if (refuse_when_off(dev, done, arg))
		return;
	console_write(dev->console, text, len, SEND_TIMEOUT_MS, on_sent, op_new(dev, done, arg));
}

static void on_cut_line(void *arg, bool ok, const char *text)
{
	struct cut_on *co = arg;
	console_wait_fn fn = co->fn;
	void *fn_arg = co->arg;
	/* The cut comes first, while the guest is mid-step. */
	if (ok)
		device_power_cut(co->dev, co->why, co->flash);
	free(co);
	fn(fn_arg, ok, text);
}

struct console_wait *device_cut_on(struct vh_device *dev, const char *pattern,
				   struct console_matcher m, uint64_t timeout_ms,
				   enum flash_cut_mode flash, console_wait_fn fn, void *arg)
{
	struct cut_on *co = calloc(1, sizeof(*co));
	if (!co)
		abort();
	co->dev = dev;
	co->flash = flash;
	co->fn = fn;
	co->arg = arg;
	snprintf(co->why, sizeof(co->why), "on \"%.250s\"", pattern);
	return console_wait(dev->console, CONSOLE_WATCH, m, timeout_ms, on_cut_line, co);
}

/* --- flash faults --- */

static void on_fault_line(void *arg, bool ok, const char *text)
{
	struct fault_watch *fw = arg;
	fw->cw = NULL;
	if (!ok)
		return; /* the device lost power first: the rule never fires */
	flash_faults_arm(&fw->dev->faults, fw->rule);
	char rule[24];
	snprintf(rule, sizeof(rule), "\x01%d", fw->rule + 1);
	const char *kv[] = { "device", fw->dev->name, "rule", rule, "line", text, NULL };
	event(fw->dev, "flash_fault_armed", kv);
}

int device_flash_fault(struct vh_device *dev, const struct flash_fault_rule *rule,
		       struct console_matcher *m)
{
	struct flash_fault_rule r = *rule;
	r.armed = m == NULL;
	int i = flash_faults_add(&dev->faults, &r);
	if (i < 0 || !m)
		return i;
	struct fault_watch *fw = &dev->watches[i];
	fw->dev = dev;
	fw->rule = i;
	fw->cw = console_wait(dev->console, CONSOLE_WATCH, *m, FAULT_WATCH_MS, on_fault_line, fw);
	m->free = NULL; /* the console's now */
	return i;
}

void device_flash_watch(struct vh_device *dev, flash_watch_fn fn, void *ctx)
{
	dev->flash_watch = fn;
	dev->flash_watch_ctx = ctx;
	if (dev->flash)
		flash_set_watch(dev->flash, fn, ctx);
}

struct flash_faults *device_flash_faults(struct vh_device *dev)
{
	return &dev->faults;
}

/* --- the end --- */

void device_shutdown_begin(struct vh_device *dev)
{
	if (!dev->has_proc || dev->shutting_down)
		return;
	dev->shutting_down = true;
	gate_leave(dev);
	/* The flash keeps every write, and lets go first: QEMU's flush on its
	 * way out would wait for a loop that no longer runs. */
	flash_end(dev);
	/* QEMU takes SIGTERM as a clean quit. */
	child_signal(&dev->proc.child, SIGTERM);
}

int device_shutdown_fd(const struct vh_device *dev)
{
	return dev->has_proc ? dev->proc.child.pidfd : -1;
}

void device_free(struct vh_device *dev)
{
	if (!dev)
		return;
	bool was_on = dev->state == DEV_ON || dev->state == DEV_STARTING;
	gate_leave(dev);
	accel_cancel(dev->accel_req);
	if (dev->starting)
		dev->cancel(dev->starting);
	snap_wait_cancel(dev);
	if (dev->restore_timer)
		ev_del_timer(dev->loop, dev->restore_timer);
	if (dev->prep) {
		/* Waits: the bootloader finishes its writes. */
		work_cancel(dev->prep->work);
		free(dev->prep);
		dev->prep = NULL;
	}
	if (dev->has_proc) {
		ev_del_fd(dev->loop, dev->proc.child.pidfd);
		if (dev->console)
			drop_channels(dev, true);
		/* After device_shutdown_begin QEMU has had its chance to quit. */
		child_kill(&dev->proc.child);
		child_wait(&dev->proc.child, 2000, NULL);
	}
	flash_end(dev);
	if (was_on)
		power_event(dev, "power_off", "stopped by the harness", "end of run");
	while (dev->ops) {
		struct op *op = dev->ops;
		dev->ops = op->next;
		if (op->defer)
			ev_cancel_defer(dev->loop, op->defer);
		free(op);
	}
	struct op *lists[2] = { dev->power_waiters, dev->ready_waiters };
	for (int i = 0; i < 2; i++) {
		while (lists[i]) {
			struct op *op = lists[i];
			lists[i] = op->next;
			free(op);
		}
	}
	console_free(dev->console);
	/* The slot's kernel and initramfs were only for QEMU: not artifacts. */
	if (dev->fw.reference && dev->artifacts_dir) {
		char path[1200];
		snprintf(path, sizeof(path), "%s/boot-%s.kernel", dev->artifacts_dir, dev->name);
		unlink(path);
		snprintf(path, sizeof(path), "%s/boot-%s.initrd", dev->artifacts_dir, dev->name);
		unlink(path);
	}
	struct vh_firmware *fw = &dev->fw;
	free(fw->kernel), free(fw->initrd), free(fw->bios), free(fw->disk);
	free(fw->append), free(fw->arch), free(fw->version), free(fw->bugs), free(fw->ready);
	free((struct user_fw *)fw->user);
	free(dev->artifacts_dir);
	free(dev->image_dir);
	free(dev);
}

/* --- what a scenario may read --- */

struct console *device_console(struct vh_device *dev)
{
	return dev->console;
}

const char *device_name(const struct vh_device *dev)
{
	return dev->name;
}

bool device_is_on(const struct vh_device *dev)
{
	return dev->state == DEV_ON || dev->state == DEV_STARTING;
}

int device_boots(const struct vh_device *dev)
{
	return dev->boots;
}

int device_pid(const struct vh_device *dev)
{
	return dev->has_proc ? (int)dev->proc.child.pid : 0;
}

const char *device_ip(const struct vh_device *dev)
{
	return dev->member ? dev->member->ip : NULL;
}

const char *device_mac(const struct vh_device *dev)
{
	return dev->mac;
}

struct network_member *device_member(const struct vh_device *dev)
{
	return dev->member;
}

const struct vh_firmware *device_firmware(const struct vh_device *dev)
{
	return &dev->fw;
}
