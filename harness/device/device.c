#include "device.h"

#include "ab_boot.h"
#include "artifacts.h"
#include "disk_image.h"
#include "ev.h"
#include "hostinfo.h"
#include "impairment.h"
#include "network.h"
#include "run.h"

#include <errno.h>
#include <lauxlib.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

enum {
	EXPECT_BUFFER_BYTES = 256 * 1024,
	LAST_LINES = 20,
	QEMU_QUIT_GRACE_MS = 2000,
	/* QEMU writes a line byte by byte, microseconds apart; a pause this long
	 * means the line (a prompt, say) is as long as it is going to get. */
	CONSOLE_QUIET_MS = 25,
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* A stable MAC per device name, so captures are comparable across runs. */
static void mac_for(const char *name, char *out, size_t len)
{
	uint32_t h = 2166136261u;
	for (const char *p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	snprintf(out, len, "52:54:00:%02x:%02x:%02x", (h >> 16) & 0xff, (h >> 8) & 0xff, h & 0xff);
}

struct vh_device *device_new(struct vh_run *run, const char *name, struct vh_network *net,
			     const struct vh_firmware *fw, unsigned memory_mib, char *err, size_t errlen)
{
	struct vh_device *dev = calloc(1, sizeof(*dev));
	dev->run = run;
	snprintf(dev->name, sizeof(dev->name), "%s", name);
	dev->fw = (struct vh_firmware){
		.kernel = dup_or_null(fw->kernel), .initrd = dup_or_null(fw->initrd),
		.bios = dup_or_null(fw->bios), .disk = dup_or_null(fw->disk),
		.append = dup_or_null(fw->append), .arch = dup_or_null(fw->arch),
		.version = dup_or_null(fw->version), .bugs = dup_or_null(fw->bugs),
		.reference = fw->reference,
	};
	dev->memory_mib = memory_mib;
	dev->proc.pid = 0;
	dev->proc.pidfd = dev->proc.serial_fd = dev->proc.qmp.fd = -1;
	expect_buf_init(&dev->buf, EXPECT_BUFFER_BYTES);
	line_ring_init(&dev->ring, LAST_LINES);
	mac_for(name, dev->mac, sizeof(dev->mac));
	if (net) {
		dev->net = net;
		if (network_next_ip(net, dev->ip, sizeof(dev->ip)) < 0) {
			snprintf(err, errlen, "network '%s' (%s) has no address left for '%s'", net->name,
				 net->subnet, name);
			device_free(dev);
			return NULL;
		}
		snprintf(dev->tap, sizeof(dev->tap), "vht%d-%.9s", run->n_devices, name);
		snprintf(dev->ifb, sizeof(dev->ifb), "vhi%d-%.9s", run->n_devices, name);
		if (!run->cfg.dry_run && impairment_attach(dev, err, errlen) < 0) {
			device_free(dev);
			return NULL;
		}
	}
	if (!run->cfg.dry_run && fw->reference) {
		/* The device's flash: slot a holds the firmware it ships with. */
		char bundle[1024], disk[1024];
		snprintf(disk, sizeof(disk), "%s/disk-%s.img", run->cfg.artifacts_dir, name);
		unlink(disk);
		if (ab_boot_bundle_for(run->cfg.image_dir, run->cfg.artifacts_dir, fw->version,
				       fw->bugs, bundle, sizeof(bundle), err, errlen) < 0 ||
		    disk_image_create(disk, bundle, fw->version, err, errlen) < 0) {
			device_free(dev);
			return NULL;
		}
		free(dev->fw.disk);
		dev->fw.disk = strdup(disk);
	}
	if (!run->cfg.dry_run) {
		char path[1024];
		snprintf(path, sizeof(path), "%s/serial-%s.log", run->cfg.artifacts_dir, name);
		dev->log = serial_log_open(path, err, errlen);
		if (!dev->log) {
			device_free(dev);
			return NULL;
		}
	}
	return dev;
}

void waiter_free(struct vh_waiter *w)
{
	if (!w)
		return;
	if (w->re)
		expect_regex_free(w->re);
	free(w->pattern);
	free(w);
}

static void waiter_unlink(struct vh_device *dev, struct vh_waiter *w)
{
	for (struct vh_waiter **p = &dev->waiters; *p; p = &(*p)->next) {
		if (*p == w) {
			*p = w->next;
			return;
		}
	}
}

/* Ends a wait: the waiter leaves the device, and its coroutine is resumed
 * with (ok, text). */
static void waiter_wake(struct vh_waiter *w, bool ok, const char *text)
{
	struct vh_device *dev = w->dev;
	struct vh_run *run = dev->run;
	waiter_unlink(dev, w);
	if (w->timer)
		ev_del_timer(run->loop, w->timer);
	lua_State *co = w->co;
	waiter_free(w);
	lua_pushboolean(co, ok);
	if (text)
		lua_pushstring(co, text);
	else
		lua_pushnil(co);
	/* Not now: this may run inside a console handler or another coroutine. */
	run_resume_soon(run, co, 2);
}

void device_free(struct vh_device *dev)
{
	if (!dev)
		return;
	device_power_off(dev);
	while (dev->waiters) {
		struct vh_waiter *w = dev->waiters;
		dev->waiters = w->next;
		if (w->timer)
			ev_del_timer(dev->run->loop, w->timer);
		waiter_free(w);
	}
	if (dev->quiet_timer)
		ev_del_timer(dev->run->loop, dev->quiet_timer);
	impairment_detach(dev);
	/* The slot's kernel and initramfs were only for QEMU: not artifacts. */
	if (dev->fw.reference && !dev->run->cfg.dry_run) {
		char path[1100];
		snprintf(path, sizeof(path), "%s/boot-%s.kernel", dev->run->cfg.artifacts_dir, dev->name);
		unlink(path);
		snprintf(path, sizeof(path), "%s/boot-%s.initrd", dev->run->cfg.artifacts_dir, dev->name);
		unlink(path);
	}
	if (dev->log)
		serial_log_close(dev->log);
	expect_buf_free(&dev->buf);
	line_ring_free(&dev->ring);
	free(dev->line);
	struct vh_firmware *fw = &dev->fw;
	free(fw->kernel), free(fw->initrd), free(fw->bios), free(fw->disk);
	free(fw->append), free(fw->arch), free(fw->version), free(fw->bugs);
	free(dev);
}

bool device_waiter_matches(struct vh_waiter *w, const char *s, size_t len, size_t *end)
{
	if (w->regex)
		return expect_match_regex(w->re, s, len, end);
	lua_State *L = w->dev->run->L;
	int top = lua_gettop(L);
	lua_rawgeti(L, LUA_REGISTRYINDEX, w->dev->run->find_ref);
	lua_pushlstring(L, s, len);
	lua_pushstring(L, w->pattern);
	bool found = false;
	/* string.find(s, pattern) -> start, end | nil; the pattern was validated
	 * when the wait began, so an error here is not expected. */
	if (lua_pcall(L, 2, 2, 0) == LUA_OK && lua_isinteger(L, -1)) {
		*end = (size_t)lua_tointeger(L, -1);
		found = true;
	}
	lua_settop(L, top);
	return found;
}

static bool match_cb(void *ctx, const char *s, size_t len, size_t *end)
{
	struct vh_waiter *w = ctx;
	if (!device_waiter_matches(w, s, len, end))
		return false;
	/* A match that runs to the end of an unfinished line may still grow:
	 * "ip=(%S+)" would capture "1" of "10.77.0.2". Such a match counts only
	 * once the console has gone quiet. */
	if (s[len] == '\0' && *end == len && !w->dev->console_quiet)
		return false;
	return true;
}

bool device_expect_now(struct vh_device *dev, struct vh_waiter *w, char *line, size_t cap)
{
	bool hit = expect_buf_search(&dev->buf, match_cb, w, line, cap);
	w->seen = expect_buf_end_pos(&dev->buf);
	return hit;
}

/* Only text that arrived since this expect last looked, so a console that
 * arrives a byte at a time costs a line per byte, not the whole buffer. */
static bool expect_new_text(struct vh_device *dev, struct vh_waiter *w, char *line, size_t cap)
{
	bool hit = expect_buf_search_from(&dev->buf, w->seen, match_cb, w, line, cap);
	w->seen = expect_buf_end_pos(&dev->buf);
	return hit;
}

/* Tests every pending expect against the unconsumed text. */
static void check_expects(struct vh_device *dev)
{
	char line[1024];
	struct vh_waiter *w = dev->waiters;
	while (w) {
		struct vh_waiter *next = w->next;
		if (w->kind == WAIT_EXPECT && expect_new_text(dev, w, line, sizeof(line))) {
			waiter_wake(w, true, line);
			/* The resumed coroutine may have changed the waiter list. */
			next = dev->waiters;
		}
		w = next;
	}
}

/* Complete console lines go to the line watchers (expect_not, power_cut{on=}). */
static void on_line(struct vh_device *dev, const char *line, size_t len)
{
	struct vh_waiter *w = dev->waiters;
	while (w) {
		struct vh_waiter *next = w->next;
		size_t end;
		if (w->kind != WAIT_EXPECT && device_waiter_matches(w, line, len, &end)) {
			char copy[1024];
			snprintf(copy, sizeof(copy), "%.*s", (int)len, line);
			if (w->kind == WAIT_CUT_ON) {
				/* The cut comes first, while the guest is mid-step. */
				waiter_unlink(dev, w);
				char why[1100];
				snprintf(why, sizeof(why), "on \"%s\"", w->pattern);
				device_power_cut(dev, why);
				waiter_wake(w, true, copy);
			} else {
				waiter_wake(w, false, copy);
			}
			next = dev->waiters;
		}
		w = next;
	}
}

static void assemble_lines(struct vh_device *dev, const char *chunk, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = chunk[i];
		if (c == '\r' || c == '\0')
			continue;
		if (c == '\n') {
			on_line(dev, dev->line ? dev->line : "", dev->line_len);
			dev->line_len = 0;
			continue;
		}
		if (dev->line_len + 2 > dev->line_cap) {
			if (dev->line_cap >= 64 * 1024)
				continue; /* an endless line: keep its head only */
			dev->line_cap = dev->line_cap ? dev->line_cap * 2 : 256;
			dev->line = realloc(dev->line, dev->line_cap);
		}
		dev->line[dev->line_len++] = c;
		dev->line[dev->line_len] = '\0';
	}
}

static void on_console_quiet(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct vh_device *dev = arg;
	(void)loop, (void)id;
	dev->quiet_timer = 0;
	dev->console_quiet = true;
	/* The unfinished line was searched while it could still grow: search it again. */
	uint64_t tail_pos = dev->buf.pos + dev->buf.tail;
	for (struct vh_waiter *w = dev->waiters; w; w = w->next)
		if (w->seen > tail_pos)
			w->seen = tail_pos;
	check_expects(dev);
}

static void console_input(struct vh_device *dev, const char *data, size_t n)
{
	struct vh_run *run = dev->run;
	dev->console_quiet = false;
	if (dev->quiet_timer)
		ev_del_timer(run->loop, dev->quiet_timer);
	dev->quiet_timer = ev_add_timer(run->loop, CONSOLE_QUIET_MS, on_console_quiet, dev);
	if (dev->log)
		serial_log_append(dev->log, ev_now(run->loop), data, n);
	if (run->cfg.verbose) {
		/* Verbose echo is for humans; losing some of it is fine. */
		ssize_t ignored = write(2, data, n);
		(void)ignored;
	}
	line_ring_append(&dev->ring, data, n);
	expect_buf_append(&dev->buf, data, n);
	assemble_lines(dev, data, n);
	check_expects(dev);
}

/* Reads everything the console has; false at end of file. */
static bool drain_console(struct vh_device *dev)
{
	char buf[4096];
	for (;;) {
		if (dev->proc.serial_fd < 0)
			return false;
		ssize_t n = read(dev->proc.serial_fd, buf, sizeof(buf));
		if (n > 0) {
			console_input(dev, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && errno == EAGAIN;
	}
}

static void on_serial(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct vh_device *dev = arg;
	(void)events;
	if (!drain_console(dev))
		ev_del_fd(loop, fd); /* QEMU closed it; the pidfd tells the rest */
}

static void on_qmp_event(void *ctx, const char *name, const char *line)
{
	struct vh_device *dev = ctx;
	if (!strcmp(name, "SHUTDOWN")) {
		qmp_json_string(line, "reason", dev->shutdown_reason, sizeof(dev->shutdown_reason));
	}
}

static void on_qmp(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct vh_device *dev = arg;
	(void)events;
	if (qmp_pump(&dev->proc.qmp) < 0)
		ev_del_fd(loop, fd);
}

static void unwatch(struct vh_device *dev)
{
	struct ev_loop *loop = dev->run->loop;
	ev_del_fd(loop, dev->proc.serial_fd);
	ev_del_fd(loop, dev->proc.qmp.fd);
	ev_del_fd(loop, dev->proc.pidfd);
}

/* Expect waiters cannot be satisfied by a device that is off. */
static void fail_expects(struct vh_device *dev, const char *why)
{
	struct vh_waiter *w = dev->waiters;
	while (w) {
		struct vh_waiter *next = w->next;
		if (w->kind == WAIT_EXPECT || w->kind == WAIT_CUT_ON) {
			waiter_wake(w, false, why);
			next = dev->waiters;
		}
		w = next;
	}
}

static void power_event(struct vh_device *dev, const char *event, const char *status, const char *reason)
{
	const char *kv[7] = { "device", dev->name };
	int n = 2;
	if (status)
		kv[n++] = "status", kv[n++] = status;
	if (reason)
		kv[n++] = "reason", kv[n++] = reason;
	kv[n] = NULL;
	run_event(dev->run, event, kv);
}

static void on_exit_fd(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct vh_device *dev = arg;
	(void)loop, (void)fd, (void)events;
	drain_console(dev);
	qmp_pump(&dev->proc.qmp);
	unwatch(dev);
	int status = qemu_reap(&dev->proc);
	dev->on = false;
	char st[128], why[1600];
	qemu_status_describe(status, st, sizeof(st));
	const char *reason = dev->shutdown_reason[0] ? dev->shutdown_reason : "none";
	power_event(dev, "power_off", st, reason);

	if (!strcmp(reason, "guest-reset") || !strcmp(reason, "guest-panic") ||
	    !strcmp(reason, "host-qmp-system-reset")) {
		/* -no-reboot turned the guest's reboot into an exit: the harness is
		 * the bootloader, so it powers the device on again. */
		int why_not;
		char err[1200];
		power_event(dev, "reboot", NULL, NULL);
		if (device_power_on(dev, &why_not, err, sizeof(err)) < 0) {
			run_finish(dev->run, (enum vh_outcome)why_not, err, NULL);
			fail_expects(dev, err);
		}
		return;
	}
	bool crashed = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	if (crashed) {
		char tail[1024];
		qemu_stderr_tail(&dev->proc, tail, sizeof(tail), 5);
		snprintf(why, sizeof(why), "QEMU for %s %s%s%s", dev->name, st, tail[0] ? ": " : "", tail);
		run_finish(dev->run, VH_FAULT, why, NULL);
	}
	snprintf(why, sizeof(why), "%s powered off (QEMU %s, reason %s)", dev->name, st, reason);
	fail_expects(dev, why);
}

static const char *resolve_accel(struct vh_run *run, const char *qemu, const char *kernel)
{
	if (run->accel)
		return run->accel;
	const char *want = run->cfg.accel ? run->cfg.accel : "auto";
	char why[512];
	if (!strcmp(want, "auto")) {
		if (kernel && hostinfo_kvm_probe(qemu, kernel, 4000, false, why, sizeof(why))) {
			run->accel = "kvm";
		} else {
			run->accel = "tcg";
			if (!kernel)
				snprintf(why, sizeof(why), "no kernel to probe KVM with");
			fprintf(stderr, "vharness: using TCG: %s\n", why);
		}
	} else {
		run->accel = !strcmp(want, "kvm") ? "kvm" : "tcg";
	}
	const char *kv[] = { "accel", run->accel, "requested", want, NULL };
	run_event(run, "accel", kv);
	return run->accel;
}

/* The kernel command line: the console, boot parameters that make microvm
 * reliable under TCG, and for the reference firmware its vh.* settings from
 * the boot chooser. */
static void build_append(struct vh_device *dev, const char *accel, const struct ab_boot *ab,
			 char *out, size_t len)
{
	const char *arch = dev->fw.arch ? dev->fw.arch : "x86_64";
	size_t n = 0;
#define APPEND(...) (n += n < len ? (size_t)snprintf(out + n, len - n, __VA_ARGS__) : 0)
	APPEND("console=%s", qemu_console_for_arch(arch));
	if (ab) {
		const struct boot_choice *c = &ab->choice;
		APPEND(" quiet panic=-1 reboot=t vh.device=%s vh.slot=%c vh.version=%s vh.bootcount=%u"
		       " vh.upgrade=%d",
		       dev->name, c->slot, ab->bundle.version, c->bootcount, c->trial ? 1 : 0);
		if (ab->bundle.bugs[0])
			APPEND(" vh.bugs=%s", ab->bundle.bugs);
		if (c->rolled_back)
			APPEND(" vh.rollback_from=%c", c->rollback_from);
		if (dev->net) {
			char gw[16];
			network_host_ip(dev->net, gw, sizeof(gw));
			APPEND(" vh.ip=%s/%d vh.gw=%s", dev->ip, dev->net->prefix, gw);
		}
		if (dev->server[0])
			APPEND(" vh.server=%s", dev->server);
	}
	uint32_t khz = hostinfo_tsc_khz();
	if (!strcmp(arch, "x86_64") && !strcmp(accel, "tcg") && khz)
		APPEND(" tsc_early_khz=%u", khz);
	if (dev->fw.append)
		APPEND(" %s", dev->fw.append);
#undef APPEND
}

/* The bootloader's part of a power-on: choose the slot and extract it. */
static int ab_prepare(struct vh_device *dev, struct ab_boot *ab, int *why, char *err, size_t errlen)
{
	int r = ab_boot_prepare(dev->fw.disk, dev->run->cfg.artifacts_dir, dev->name, ab, err, errlen);
	if (r < 0) {
		*why = r == -ENOENT ? VH_FAIL : VH_FAULT;
		if (r == -ENOENT) {
			char msg[1100];
			snprintf(msg, sizeof(msg), "%s does not boot: %s", dev->name, err);
			snprintf(err, errlen, "%s", msg);
		}
		return -1;
	}
	const struct boot_choice *c = &ab->choice;
	char slot[2] = { c->slot, 0 }, from[2] = { c->rollback_from, 0 }, count[16];
	snprintf(count, sizeof(count), "\x01%u", c->bootcount);
	const char *kv[] = { "device", dev->name, "slot", slot, "version", ab->bundle.version,
			     "bootcount", count, "trial", c->trial ? "\x01" "true" : "\x01" "false",
			     c->rolled_back ? "rollback_from" : NULL, from, NULL };
	run_event(dev->run, "boot_choice", kv);
	return 0;
}

int device_power_on(struct vh_device *dev, int *why, char *err, size_t errlen)
{
	struct vh_run *run = dev->run;
	*why = VH_CONFIG;
	if (dev->on) {
		snprintf(err, errlen, "%s is already powered on", dev->name);
		return -1;
	}
	const char *arch = dev->fw.arch ? dev->fw.arch : "x86_64";
	const char *qemu = qemu_binary_for_arch(arch);
	const char *accel = resolve_accel(run, qemu, dev->fw.kernel);
	struct ab_boot ab;
	if (dev->fw.reference && ab_prepare(dev, &ab, why, err, errlen) < 0)
		return -1;
	char append[2048], serial_name[108], qmp_name[108], net_name[108], stderr_path[1024];
	snprintf(net_name, sizeof(net_name), "vharness/%d/%s/net", (int)getpid(), dev->name);
	build_append(dev, accel, dev->fw.reference ? &ab : NULL, append, sizeof(append));
	snprintf(serial_name, sizeof(serial_name), "vharness/%d/%s/serial", (int)getpid(), dev->name);
	snprintf(qmp_name, sizeof(qmp_name), "vharness/%d/%s/qmp", (int)getpid(), dev->name);
	snprintf(stderr_path, sizeof(stderr_path), "%s/qemu-%s.stderr", run->cfg.artifacts_dir, dev->name);
	struct qemu_launch l = {
		.arch = arch, .accel = accel, .memory_mib = dev->memory_mib,
		.kernel = dev->fw.reference ? ab.kernel_path : dev->fw.kernel,
		.initrd = dev->fw.reference ? ab.initrd_path : dev->fw.initrd,
		.append = dev->fw.kernel ? append : NULL,
		.bios = dev->fw.bios, .disk = dev->fw.disk,
		.mac = dev->mac, .serial_socket = serial_name, .qmp_socket = qmp_name,
	};
	impairment_launch(dev, &l, net_name);
	dev->shutdown_reason[0] = '\0';
	dev->cut_by_harness = false;
	if (qemu_spawn(&l, stderr_path, &dev->proc, err, errlen) < 0) {
		*why = VH_FAULT;
		return -1;
	}
	if (impairment_qemu_started(dev, err, errlen) < 0) {
		qemu_kill(&dev->proc);
		*why = VH_FAULT;
		return -1;
	}
	dev->proc.qmp.on_event = on_qmp_event;
	dev->proc.qmp.ctx = dev;
	ev_add_fd(run->loop, dev->proc.serial_fd, EPOLLIN, on_serial, dev);
	ev_add_fd(run->loop, dev->proc.qmp.fd, EPOLLIN, on_qmp, dev);
	ev_add_fd(run->loop, dev->proc.pidfd, EPOLLIN, on_exit_fd, dev);
	if (qemu_resume(&dev->proc, err, errlen) < 0) {
		unwatch(dev);
		qemu_kill(&dev->proc);
		*why = VH_FAULT;
		return -1;
	}
	dev->on = true;
	dev->boots++;
	char boots[16], pid[16];
	snprintf(boots, sizeof(boots), "\x01%d", dev->boots);
	snprintf(pid, sizeof(pid), "\x01%d", (int)dev->proc.pid);
	const char *kv[] = { "device", dev->name, "boot", boots, "pid", pid, "accel", accel, NULL };
	run_event(run, "power_on", kv);
	return 0;
}

void device_power_cut(struct vh_device *dev, const char *why)
{
	if (!dev->on)
		return;
	dev->cut_by_harness = true;
	unwatch(dev);
	qemu_kill(&dev->proc);
	dev->on = false;
	power_event(dev, "power_cut", NULL, why);
	char msg[256];
	snprintf(msg, sizeof(msg), "%s lost power (%s)", dev->name, why);
	fail_expects(dev, msg);
}

int device_reset(struct vh_device *dev, char *err, size_t errlen)
{
	if (!dev->on) {
		snprintf(err, errlen, "%s is powered off", dev->name);
		return -1;
	}
	/* With -no-reboot QEMU exits on the reset; the exit handler boots again. */
	if (qmp_command(&dev->proc.qmp, "{\"execute\":\"system_reset\"}", 2000, err, errlen) == 0)
		return 0;
	/* QMP closed under us: QEMU is already going down (a guest reboot or a
	 * crash), and its exit handler decides what comes next. Seen once in CI. */
	struct pollfd pfd = { .fd = dev->proc.pidfd, .events = POLLIN };
	if (poll(&pfd, 1, 1000) == 1) {
		const char *kv[] = { "device", dev->name, "note", "QEMU was already exiting", NULL };
		run_event(dev->run, "reset", kv);
		return 0;
	}
	return -1;
}

int device_set_link(struct vh_device *dev, bool up, char *err, size_t errlen)
{
	if (!dev->on || !dev->net) {
		snprintf(err, errlen, "%s %s", dev->name, dev->net ? "is powered off" : "has no network");
		return -1;
	}
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "{\"execute\":\"set_link\",\"arguments\":{\"name\":\"net0\",\"up\":%s}}",
		 up ? "true" : "false");
	if (qmp_command(&dev->proc.qmp, cmd, 2000, err, errlen) < 0)
		return -1;
	const char *kv[] = { "device", dev->name, "up", up ? "\x01" "true" : "\x01" "false", NULL };
	run_event(dev->run, "link", kv);
	return 0;
}

void device_power_off(struct vh_device *dev)
{
	if (!dev->on)
		return;
	dev->cut_by_harness = true;
	unwatch(dev);
	drain_console(dev);
	qemu_stop(&dev->proc, QEMU_QUIT_GRACE_MS);
	dev->on = false;
	power_event(dev, "power_off", "stopped by the harness", "end of run");
}

int device_send(struct vh_device *dev, const char *text, size_t len, char *err, size_t errlen)
{
	if (!dev->on) {
		snprintf(err, errlen, "%s is powered off", dev->name);
		return -1;
	}
	uint64_t deadline = ev_clock_ms() + 5000;
	while (len > 0) {
		ssize_t n = write(dev->proc.serial_fd, text, len);
		if (n > 0) {
			text += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && ev_clock_ms() < deadline) {
			struct pollfd pfd = { .fd = dev->proc.serial_fd, .events = POLLOUT };
			poll(&pfd, 1, 50);
			continue;
		}
		snprintf(err, errlen, "cannot write to %s's console: %s", dev->name,
			 n < 0 ? strerror(errno) : "timed out");
		return -1;
	}
	return 0;
}

static void on_wait_timeout(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct vh_waiter *w = arg;
	(void)loop, (void)id;
	w->timer = 0;
	if (w->kind == WAIT_EXPECT_NOT) {
		waiter_wake(w, true, NULL);
		return;
	}
	/* WAIT_EXPECT and WAIT_CUT_ON: the pattern never came. */
	char why[128];
	snprintf(why, sizeof(why), "timed out");
	waiter_wake(w, false, why);
}

void device_wait(struct vh_device *dev, struct vh_waiter *w)
{
	w->dev = dev;
	w->next = dev->waiters;
	dev->waiters = w;
	w->started = ev_now(dev->run->loop);
	w->timer = ev_add_timer(dev->run->loop, w->timeout_ms, on_wait_timeout, w);
}

struct lines_acc {
	char *s;
	size_t len;
};

static void add_line(void *ctx, const char *line)
{
	struct lines_acc *a = ctx;
	size_t n = strlen(line);
	a->s = realloc(a->s, a->len + n + 4);
	memcpy(a->s + a->len, "  ", 2);
	memcpy(a->s + a->len + 2, line, n);
	a->len += n + 2;
	a->s[a->len++] = '\n';
	a->s[a->len] = '\0';
}

char *device_last_lines(const struct vh_device *dev)
{
	struct lines_acc a = { .s = strdup(""), .len = 0 };
	line_ring_each(&dev->ring, add_line, &a);
	return a.s;
}
