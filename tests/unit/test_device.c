/* The device's state machine (harness/device/device.c) driven without QEMU:
 * a forked child stands in for it, speaking QMP and playing a console over
 * socketpairs, handed to the device through its start seam. Real guests are
 * the integration tests' job; these reach the paths real guests produce
 * rarely or only by accident (a crash, a reset racing an exit, a start that
 * dies, a cut in the middle of a chunk). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "accel.h"
#include "boot_gate.h"
#include "console.h"
#include "device.h"
#include "ev.h"
#include "network.h"
#include "qemu.h"
#include "test_skip.h"

/* --- the stand-in for QEMU --- */

enum fake_mode {
	FAKE_NORMAL,	    /* boots when resumed, answers QMP, echoes the console */
	FAKE_DIES_AT_START, /* exits 1 before connecting, after a word on stderr */
	FAKE_CHUNKY,	    /* prints three step lines in one write when resumed */
};

static enum fake_mode mode;

static void say(int fd, const char *s)
{
	size_t n = strlen(s);
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w <= 0)
			_exit(2);
		s += w;
		n -= (size_t)w;
	}
}

static long qmp_id(const char *line)
{
	const char *p = strstr(line, "\"id\":");
	return p ? strtol(p + 5, NULL, 10) : -1;
}

static void reply(int qmp, const char *line)
{
	char r[128];
	snprintf(r, sizeof(r), "{\"return\": {}, \"id\": %ld}\n", qmp_id(line));
	say(qmp, r);
}

/* The child: one QMP line or console line at a time. */
static void fake_qemu(int serial, int qmp)
{
	say(qmp, "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\n");
	char qbuf[4096], sbuf[4096];
	size_t qlen = 0, slen = 0;
	for (;;) {
		struct pollfd pfd[2] = { { .fd = qmp, .events = POLLIN },
					 { .fd = serial, .events = POLLIN } };
		if (poll(pfd, 2, -1) < 0)
			_exit(2);
		if (pfd[0].revents) {
			ssize_t n = read(qmp, qbuf + qlen, sizeof(qbuf) - 1 - qlen);
			if (n <= 0)
				_exit(0);
			qlen += (size_t)n;
			qbuf[qlen] = '\0';
			char *nl;
			while ((nl = strchr(qbuf, '\n'))) {
				*nl = '\0';
				const char *line = qbuf;
				if (strstr(line, "\"cont\"")) {
					reply(qmp, line);
					if (mode == FAKE_CHUNKY)
						say(serial, "step 1\nstep 2\nstep 3\n");
					else
						say(serial, "fake: booted\n");
				} else if (strstr(line, "\"system_reset\"")) {
					reply(qmp, line);
					say(qmp, "{\"event\": \"SHUTDOWN\", \"data\": {\"guest\": "
						 "false, "
						 "\"reason\": \"host-qmp-system-reset\"}}\n");
					_exit(0);
				} else {
					reply(qmp, line);
				}
				size_t used = (size_t)(nl - qbuf) + 1;
				memmove(qbuf, qbuf + used, qlen - used + 1);
				qlen -= used;
			}
		}
		if (pfd[1].revents) {
			ssize_t n = read(serial, sbuf + slen, sizeof(sbuf) - 1 - slen);
			if (n <= 0)
				_exit(0);
			slen += (size_t)n;
			sbuf[slen] = '\0';
			char *nl;
			while ((nl = strchr(sbuf, '\n'))) {
				*nl = '\0';
				if (!strcmp(sbuf, "reboot")) {
					say(qmp,
					    "{\"event\": \"SHUTDOWN\", \"data\": {\"guest\": true, "
					    "\"reason\": \"guest-reset\"}}\n");
					_exit(0);
				}
				if (!strcmp(sbuf, "crash")) {
					fprintf(stderr, "fake: segfault in the emulated flash\n");
					fflush(stderr);
					_exit(1);
				}
				char out[4200];
				snprintf(out, sizeof(out), "got: %s\n", sbuf);
				say(serial, out);
				size_t used = (size_t)(nl - sbuf) + 1;
				memmove(sbuf, sbuf + used, slen - used + 1);
				slen -= used;
			}
		}
	}
}

/* The test's own kind of start in progress (the device only holds it). */
struct qemu_start {
	struct ev_loop *loop;
	struct qemu_proc proc;
	uint64_t defer;
	void (*fn)(void *, const struct qemu_proc *, const char *);
	void *arg;
	bool fails;
};

static int starts, cancels;

static void deliver(struct ev_loop *loop, void *arg)
{
	(void)loop;
	struct qemu_start *s = arg;
	void (*fn)(void *, const struct qemu_proc *, const char *) = s->fn;
	void *fn_arg = s->arg;
	if (s->fails) {
		/* Like qemu_start: QEMU's own last words in the reason. */
		child_wait(&s->proc.child, 2000, NULL);
		qemu_proc_close_sockets(&s->proc);
		char tail[256], why[400];
		child_file_tail(s->proc.stderr_path, tail, sizeof(tail), 3);
		snprintf(why, sizeof(why),
			 "QEMU exited with status 1 before connecting its console: %s", tail);
		free(s);
		fn(fn_arg, NULL, why);
		return;
	}
	struct qemu_proc p = s->proc;
	free(s);
	fn(fn_arg, &p, NULL);
}

static struct qemu_start *fake_start(struct ev_loop *loop, const struct qemu_launch *l,
				     const char *stderr_path, uint64_t timeout_ms,
				     void (*fn)(void *, const struct qemu_proc *, const char *),
				     void *arg, char *err, size_t errlen)
{
	(void)l, (void)timeout_ms, (void)err, (void)errlen;
	starts++;
	int serial[2], qmp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, serial) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, qmp) < 0)
		return NULL;
	struct qemu_start *s = calloc(1, sizeof(*s));
	s->loop = loop;
	s->fn = fn;
	s->arg = arg;
	s->fails = mode == FAKE_DIES_AT_START;
	snprintf(s->proc.stderr_path, sizeof(s->proc.stderr_path), "%s", stderr_path);
	pid_t pid = fork();
	if (pid == 0) {
		close(serial[0]);
		close(qmp[0]);
		int e = open(stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(e, 2);
		if (mode == FAKE_DIES_AT_START) {
			fprintf(stderr, "fake: no such machine\n");
			_exit(1);
		}
		fake_qemu(serial[1], qmp[1]);
		_exit(0);
	}
	close(serial[1]);
	close(qmp[1]);
	s->proc.child.pid = pid;
	s->proc.child.pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	s->proc.serial_fd = serial[0];
	s->proc.qmp_fd = qmp[0];
	s->proc.net_fd = -1;
	fcntl(serial[0], F_SETFL, O_NONBLOCK);
	fcntl(qmp[0], F_SETFL, O_NONBLOCK);
	s->defer = ev_defer(loop, deliver, s);
	return s;
}

static void fake_cancel(struct qemu_start *s)
{
	cancels++;
	ev_cancel_defer(s->loop, s->defer);
	child_kill(&s->proc.child);
	child_wait(&s->proc.child, 2000, NULL);
	qemu_proc_close_sockets(&s->proc);
	free(s);
}

/* --- the fixture --- */

struct fixture {
	struct ev_loop *loop;
	struct accel *accel;
	struct vh_device *dev;
	char dir[64];
	char events[8192];
	int faults;
	char fault_msg[1024];
	enum vh_outcome fault_status;
};

static struct fixture *fx;

static void on_event(void *ctx, const char *event, const char *const *kv)
{
	struct fixture *f = ctx;
	size_t n = strlen(f->events);
	snprintf(f->events + n, sizeof(f->events) - n, "%s", event);
	for (int i = 0; kv[i]; i += 2) {
		n = strlen(f->events);
		snprintf(f->events + n, sizeof(f->events) - n, " %s=%s", kv[i],
			 kv[i + 1] ? kv[i + 1] + (kv[i + 1][0] == '\x01') : "null");
	}
	n = strlen(f->events);
	snprintf(f->events + n, sizeof(f->events) - n, "\n");
}

static void on_fault(void *ctx, enum vh_outcome status, const char *message)
{
	struct fixture *f = ctx;
	f->faults++;
	f->fault_status = status;
	snprintf(f->fault_msg, sizeof(f->fault_msg), "%s", message);
}

static int setup(void **state)
{
	static struct fixture f;
	memset(&f, 0, sizeof(f));
	mode = FAKE_NORMAL;
	starts = cancels = 0;
	snprintf(f.dir, sizeof(f.dir), "/tmp/vh-test-device-XXXXXX");
	if (!mkdtemp(f.dir))
		return -1;
	f.loop = ev_loop_new();
	f.accel = accel_new(f.loop, "tcg", NULL, NULL);
	struct vh_firmware fw = { .kernel = "/fake/vmlinuz" };
	/* A place on a network without a NIC: QEMU gets no netdev, but the
	 * device has a cable to pull. */
	static struct network_member member = { .device = "dut", .ip = "10.77.0.2" };
	struct device_config cfg = {
		.name = "dut",
		.loop = f.loop,
		.artifacts_dir = f.dir,
		.image_dir = "/nonexistent",
		.fw = &fw,
		.memory_mib = 96,
		.member = &member,
		.accel = f.accel,
		.echo_fd = -1,
		.hooks = { .event = on_event, .fault = on_fault, .ctx = &f },
		.start = fake_start,
		.cancel = fake_cancel,
	};
	char err[256];
	f.dev = device_new(&cfg, err, sizeof(err));
	if (!f.dev) {
		fprintf(stderr, "device_new: %s\n", err);
		return -1;
	}
	fx = &f;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	device_free(f->dev);
	accel_free(f->accel);
	ev_loop_free(f->loop);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* --- waiting for things --- */

struct done {
	int calls;
	enum vh_outcome status;
	char err[512];
};

static void on_done(void *arg, enum vh_outcome status, const char *err)
{
	struct done *d = arg;
	d->calls++;
	d->status = status;
	snprintf(d->err, sizeof(d->err), "%s", err ? err : "");
}

/* Generous: a passing wait ends as soon as pred holds, and under qemu-user
 * (scripts/cross-arm64.sh) on a loaded machine a power-on took over 5 s. */
#define WAIT_MS 20000

static bool run_until(struct fixture *f, bool (*pred)(void *), void *arg)
{
	uint64_t end = ev_clock_ms() + WAIT_MS;
	while (!pred(arg)) {
		if (ev_clock_ms() > end)
			return false;
		ev_run_once(f->loop, 10);
	}
	return true;
}

static bool done_called(void *arg)
{
	return ((struct done *)arg)->calls > 0;
}

struct seen {
	int calls;
	bool ok;
	char text[256];
};

static void on_seen(void *arg, bool ok, const char *text)
{
	struct seen *s = arg;
	s->calls++;
	s->ok = ok;
	snprintf(s->text, sizeof(s->text), "%s", text ? text : "");
}

static bool seen_called(void *arg)
{
	return ((struct seen *)arg)->calls > 0;
}

static bool substr_match(void *ctx, const char *s, size_t len, size_t *end)
{
	const char *needle = ctx;
	char buf[512];
	snprintf(buf, sizeof(buf), "%.*s", (int)len, s);
	const char *hit = strstr(buf, needle);
	if (!hit)
		return false;
	*end = (size_t)(hit - buf) + strlen(needle);
	return true;
}

static struct console_matcher lit(const char *needle)
{
	return (struct console_matcher){ .match = substr_match, .ctx = (void *)needle };
}

/* Waits for needle on the console (consuming up to it). */
static void expect(struct fixture *f, const char *needle)
{
	struct console *c = device_console(f->dev);
	struct console_matcher m = lit(needle);
	char line[256];
	if (console_expect_now(c, &m, line, sizeof(line)))
		return;
	struct seen s = { 0 };
	console_wait(c, CONSOLE_EXPECT, lit(needle), WAIT_MS, on_seen, &s);
	assert_true(run_until(f, seen_called, &s));
	if (!s.ok)
		fail_msg("expect \"%s\": %s", needle, s.text);
}

static void power_on(struct fixture *f)
{
	struct done d = { 0 };
	device_power_on(f->dev, on_done, &d);
	assert_int_equal(d.calls, 0); /* never inside the call */
	assert_true(run_until(f, done_called, &d));
	if (d.status != VH_PASS)
		fail_msg("power_on: %d %s", d.status, d.err);
}

static bool is_off(void *arg)
{
	return device_pid(arg) == 0 && !device_is_on(arg);
}

static bool boots_two(void *arg)
{
	return device_boots(arg) == 2 && device_pid(arg) != 0;
}

/* --- the tests --- */

static void test_device_power_on_resumes_the_guest_and_reads_its_console(void **state)
{
	struct fixture *f = *state;
	power_on(f);
	assert_true(device_is_on(f->dev));
	assert_int_equal(device_boots(f->dev), 1);
	assert_true(device_pid(f->dev) > 0);
	expect(f, "fake: booted");
	assert_non_null(strstr(f->events, "power_on device=dut boot=1"));
}

static void test_device_power_on_twice_is_a_bad_request(void **state)
{
	struct fixture *f = *state;
	power_on(f);
	struct done d = { 0 };
	device_power_on(f->dev, on_done, &d);
	assert_true(run_until(f, done_called, &d));
	assert_int_equal(d.status, VH_CONFIG);
	assert_string_equal(d.err, "dut is already powered on");
}

static void test_device_power_cut_fails_waits_and_a_new_power_on_waits_for_the_reap(void **state)
{
	struct fixture *f = *state;
	power_on(f);
	expect(f, "fake: booted");
	struct seen s = { 0 };
	console_wait(device_console(f->dev), CONSOLE_EXPECT, lit("never"), 5000, on_seen, &s);
	pid_t old = (pid_t)device_pid(f->dev);
	device_power_cut(f->dev, "test", FLASH_CUT_VOLATILE);
	/* Off at once for the scenario; the expect fails with the reason. */
	assert_false(device_is_on(f->dev));
	assert_int_equal(s.calls, 1);
	assert_false(s.ok);
	assert_string_equal(s.text, "dut lost power (test)");
	/* Powered on again before the reap: it waits for the old QEMU to go. */
	struct done d = { 0 };
	device_power_on(f->dev, on_done, &d);
	assert_true(run_until(f, done_called, &d));
	assert_int_equal(d.status, VH_PASS);
	assert_int_equal(device_boots(f->dev), 2);
	assert_true(device_pid(f->dev) != old);
	assert_int_equal(kill(old, 0), -1); /* reaped: gone, not a zombie */
	assert_non_null(strstr(f->events, "power_cut device=dut reason=test"));
}

static void test_device_reset_reboots_through_the_harness(void **state)
{
	struct fixture *f = *state;
	power_on(f);
	struct done d = { 0 };
	device_reset(f->dev, on_done, &d);
	assert_true(run_until(f, done_called, &d));
	assert_int_equal(d.status, VH_PASS);
	/* QEMU exits on the reset (-no-reboot); the device starts again. */
	assert_true(run_until(f, boots_two, f->dev));
	assert_non_null(strstr(f->events, "reason=host-qmp-system-reset"));
	assert_non_null(strstr(f->events, "reboot device=dut"));
	assert_int_equal(f->faults, 0);
}

static void test_device_guest_reboot_powers_it_on_again_without_anyone_asking(void **state)
{
	struct fixture *f = *state;
	power_on(f);
	struct done d = { 0 };
	device_send(f->dev, "reboot\n", 7, on_done, &d);
	assert_true(run_until(f, boots_two, f->dev));
	assert_non_null(strstr(f->events, "reason=guest-reset"));
	expect(f, "fake: booted");
	assert_int_equal(f->faults, 0);
}

static void test_device_send_reaches_the_console_and_completes(void **state)
{
	struct fixture *f = *state;
	power_on(f);
	struct done d = { 0 };
	device_send(f->dev, "hello\n", 6, on_done, &d);
	assert_int_equal(d.calls, 0);
	assert_true(run_until(f, done_called, &d));
	assert_int_equal(d.status, VH_PASS);
	expect(f, "got: hello");
}

static void test_device_send_while_booting_waits_for_the_console(void **state)
{
	struct fixture *f = *state;
	struct done on = { 0 }, sent = { 0 };
	device_power_on(f->dev, on_done, &on);
	device_send(f->dev, "early\n", 6, on_done, &sent);
	assert_true(run_until(f, done_called, &sent));
	assert_int_equal(sent.status, VH_PASS);
	expect(f, "got: early");
}

static void test_device_send_when_off_fails_from_the_loop(void **state)
{
	struct fixture *f = *state;
	struct done d = { 0 };
	device_send(f->dev, "x\n", 2, on_done, &d);
	assert_int_equal(d.calls, 0);
	assert_true(run_until(f, done_called, &d));
	assert_int_equal(d.status, VH_FAIL);
	assert_string_equal(d.err, "dut is powered off");
}

static void test_device_link_sets_the_cable_over_qmp(void **state)
{
	struct fixture *f = *state;
	power_on(f);
	struct done d = { 0 };
	device_set_link(f->dev, false, on_done, &d);
	assert_true(run_until(f, done_called, &d));
	assert_int_equal(d.status, VH_PASS);
	assert_non_null(strstr(f->events, "link device=dut up=false"));
	/* Without a network there is no cable: a bad request. */
	struct vh_firmware fw = { .kernel = "/fake/vmlinuz" };
	struct device_config cfg = {
		.name = "lonely",
		.loop = f->loop,
		.artifacts_dir = f->dir,
		.fw = &fw,
		.memory_mib = 96,
		.accel = f->accel,
		.echo_fd = -1,
		.start = fake_start,
		.cancel = fake_cancel,
	};
	char err[256];
	struct vh_device *lonely = device_new(&cfg, err, sizeof(err));
	assert_non_null(lonely);
	struct done n = { 0 };
	device_set_link(lonely, true, on_done, &n);
	assert_true(run_until(f, done_called, &n));
	assert_int_equal(n.status, VH_CONFIG);
	assert_string_equal(n.err, "lonely has no network");
	device_free(lonely);
}

static void test_device_qemu_crash_is_a_harness_fault_with_its_last_words(void **state)
{
	struct fixture *f = *state;
	power_on(f);
	struct seen s = { 0 };
	console_wait(device_console(f->dev), CONSOLE_EXPECT, lit("never"), 5000, on_seen, &s);
	struct done d = { 0 };
	device_send(f->dev, "crash\n", 6, on_done, &d);
	assert_true(run_until(f, is_off, f->dev));
	assert_int_equal(f->faults, 1);
	assert_int_equal(f->fault_status, VH_FAULT);
	assert_non_null(strstr(f->fault_msg, "QEMU for dut exited with status 1"));
	assert_non_null(strstr(f->fault_msg, "fake: segfault in the emulated flash"));
	assert_true(run_until(f, seen_called, &s));
	assert_false(s.ok);
	assert_non_null(strstr(s.text, "dut powered off (QEMU exited with status 1"));
}

static void test_device_start_that_dies_fails_power_on_with_the_reason(void **state)
{
	struct fixture *f = *state;
	mode = FAKE_DIES_AT_START;
	struct done d = { 0 };
	device_power_on(f->dev, on_done, &d);
	assert_true(run_until(f, done_called, &d));
	assert_int_equal(d.status, VH_FAULT);
	assert_non_null(strstr(d.err, "fake: no such machine"));
	assert_false(device_is_on(f->dev));
	/* Asked for and answered: not a fault of the run on top. */
	assert_int_equal(f->faults, 0);
}

static void test_device_cut_on_a_line_drops_what_followed_it_in_the_same_chunk(void **state)
{
	struct fixture *f = *state;
	mode = FAKE_CHUNKY;
	struct seen s = { 0 };
	device_cut_on(f->dev, "step 2", lit("step 2"), 5000, FLASH_CUT_VOLATILE, on_seen, &s);
	power_on(f);
	assert_true(run_until(f, seen_called, &s));
	assert_true(s.ok);
	assert_string_equal(s.text, "step 2");
	assert_false(device_is_on(f->dev));
	char *last = console_last_lines(device_console(f->dev));
	assert_non_null(strstr(last, "step 2"));
	assert_null(strstr(last, "step 3"));
	free(last);
	char log[128], text[256] = "";
	snprintf(log, sizeof(log), "%s/serial-dut.log", f->dir);
	FILE *lf = fopen(log, "r");
	assert_non_null(lf);
	size_t n = fread(text, 1, sizeof(text) - 1, lf);
	text[n] = '\0';
	fclose(lf);
	assert_non_null(strstr(text, "step 2"));
	assert_null(strstr(text, "step 3"));
}

static bool three_marked(void *arg)
{
	return ((struct seen *)arg)->calls >= 3;
}

/* A mark fires on every matching line, once per line, also when a watch
 * that ends on the same line makes the console walk its waits again; it
 * outlives the watch and has no timeout. */
static void test_device_mark_fires_once_per_line_for_the_console_life(void **state)
{
	struct fixture *f = *state;
	mode = FAKE_CHUNKY;
	struct seen marks = { 0 }, watch = { 0 };
	struct console *c = device_console(f->dev);
	console_wait(c, CONSOLE_WATCH, lit("step 2"), 5000, on_seen, &watch);
	/* newest first in the list: the mark is walked before the watch, whose
	 * wake starts the walk again */
	console_wait(c, CONSOLE_MARK, lit("step"), 0, on_seen, &marks);
	power_on(f);
	assert_true(run_until(f, three_marked, &marks));
	assert_int_equal(watch.calls, 1);
	assert_true(watch.ok);
	for (int i = 0; i < 10; i++) /* more turns: nothing fires twice */
		ev_run_once(f->loop, 10);
	assert_int_equal(marks.calls, 3);
	assert_true(marks.ok);
	assert_string_equal(marks.text, "step 3");
}

static void test_device_cut_while_starting_abandons_the_start(void **state)
{
	struct fixture *f = *state;
	struct done d = { 0 };
	device_power_on(f->dev, on_done, &d);
	/* One turn: the accelerator answered, the bootloader's thread runs or
	 * the start is in flight. */
	ev_run_once(f->loop, 0);
	device_power_cut(f->dev, "early", FLASH_CUT_VOLATILE);
	assert_true(run_until(f, done_called, &d));
	assert_int_equal(d.status, VH_FAIL);
	assert_non_null(strstr(d.err, "lost power (early)"));
	assert_true(run_until(f, is_off, f->dev));
	/* And it can be powered on after that. */
	power_on(f);
	assert_true(device_is_on(f->dev));
}

static void test_device_free_while_on_ends_qemu(void **state)
{
	struct fixture *f = *state;
	power_on(f);
	pid_t pid = (pid_t)device_pid(f->dev);
	device_free(f->dev);
	f->dev = NULL;
	assert_int_equal(kill(pid, 0), -1);
	assert_int_equal(errno, ESRCH);
}

/* --- the boot gate --- */

static struct vh_device *gated_device(struct fixture *f, const char *name, struct boot_gate *gate,
				      const char *ready)
{
	struct vh_firmware fw = { .kernel = "/fake/vmlinuz", .ready = (char *)ready };
	static struct network_member member = { .device = "gated", .ip = "10.77.0.3" };
	struct device_config cfg = {
		.name = name,
		.loop = f->loop,
		.artifacts_dir = f->dir,
		.image_dir = "/nonexistent",
		.fw = &fw,
		.memory_mib = 96,
		.member = &member,
		.accel = f->accel,
		.gate = gate,
		.echo_fd = -1,
		.hooks = { .event = on_event, .fault = on_fault, .ctx = f },
		.start = fake_start,
		.cancel = fake_cancel,
	};
	char err[256];
	struct vh_device *dev = device_new(&cfg, err, sizeof(err));
	if (!dev)
		fail_msg("device_new: %s", err);
	return dev;
}

static void spin(struct fixture *f, int ms)
{
	uint64_t end = ev_clock_ms() + (uint64_t)ms;
	while (ev_clock_ms() < end)
		ev_run_once(f->loop, 10);
}

/* Devices a and b behind a gate of one slot, both asked to power on, a
 * first. */
struct gated_pair {
	struct boot_gate *gate;
	struct vh_device *a, *b;
	struct done da, db;
};

static void gated_pair_power_on(struct fixture *f, struct gated_pair *p, uint64_t hold_ms,
				const char *ready)
{
	*p = (struct gated_pair){ .gate = boot_gate_new(f->loop, 1, hold_ms) };
	p->a = gated_device(f, "a", p->gate, ready);
	p->b = gated_device(f, "b", p->gate, ready);
	device_power_on(p->a, on_done, &p->da);
	device_power_on(p->b, on_done, &p->db);
}

static void test_device_waits_at_a_full_boot_gate_until_the_first_says_it_is_up(void **state)
{
	struct fixture *f = *state;
	struct gated_pair p;
	/* The fake echoes what it is sent: "up" sent is "got: up" printed. */
	gated_pair_power_on(f, &p, 60000, "got: up");
	assert_true(run_until(f, done_called, &p.da));
	assert_int_equal(p.da.status, VH_PASS);
	spin(f, 300);
	assert_int_equal(p.db.calls, 0);
	assert_int_equal(starts, 1); /* b's QEMU is not even started */
	assert_int_equal(boot_gate_queued(p.gate), 1);

	struct done sent = { 0 };
	device_send(p.a, "up\n", 3, on_done, &sent);
	assert_true(run_until(f, done_called, &p.db));
	assert_int_equal(p.db.status, VH_PASS);
	assert_int_equal(starts, 2);
	assert_int_equal(boot_gate_expired(p.gate), 0);
	/* b's power_on says how long it waited: over the 300 ms spun above. */
	const char *ev = strstr(f->events, "power_on device=b");
	assert_non_null(ev);
	const char *g = strstr(ev, "gate_ms=");
	assert_non_null(g);
	assert_true(strtol(g + 8, NULL, 10) >= 300);
	device_free(p.a);
	device_free(p.b);
	assert_int_equal(boot_gate_busy(p.gate), 0);
	boot_gate_free(p.gate);
}

static void test_device_boot_slot_is_given_back_when_the_ready_line_never_comes(void **state)
{
	struct fixture *f = *state;
	struct gated_pair p;
	gated_pair_power_on(f, &p, 200, "never printed");
	assert_true(run_until(f, done_called, &p.db));
	assert_int_equal(p.db.status, VH_PASS);
	assert_int_equal(boot_gate_expired(p.gate), 1);
	assert_true(device_is_on(p.a));
	device_free(p.a);
	device_free(p.b);
	boot_gate_free(p.gate);
}

static void
test_device_cut_while_queued_at_the_gate_fails_its_power_on_and_frees_its_place(void **state)
{
	struct fixture *f = *state;
	struct gated_pair p;
	gated_pair_power_on(f, &p, 60000, "got: up");
	struct vh_device *c = gated_device(f, "c", p.gate, "got: up");
	struct done dc = { 0 };
	device_power_on(c, on_done, &dc);
	assert_true(run_until(f, done_called, &p.da));
	device_power_cut(p.b, "test", FLASH_CUT_DURABLE);
	assert_true(run_until(f, done_called, &p.db));
	assert_int_equal(p.db.status, VH_FAIL);
	assert_int_equal(boot_gate_queued(p.gate), 1);
	/* a is up: c, not the cut b, takes the slot. */
	struct done sent = { 0 };
	device_send(p.a, "up\n", 3, on_done, &sent);
	assert_true(run_until(f, done_called, &dc));
	assert_int_equal(dc.status, VH_PASS);
	assert_int_equal(starts, 2);
	assert_false(device_is_on(p.b));
	device_free(p.a);
	device_free(p.b);
	device_free(c);
	boot_gate_free(p.gate);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		T(test_device_power_on_resumes_the_guest_and_reads_its_console),
		T(test_device_power_on_twice_is_a_bad_request),
		T(test_device_power_cut_fails_waits_and_a_new_power_on_waits_for_the_reap),
		T(test_device_reset_reboots_through_the_harness),
		T(test_device_guest_reboot_powers_it_on_again_without_anyone_asking),
		T(test_device_send_reaches_the_console_and_completes),
		T(test_device_send_while_booting_waits_for_the_console),
		T(test_device_send_when_off_fails_from_the_loop),
		T(test_device_link_sets_the_cable_over_qmp),
		T(test_device_qemu_crash_is_a_harness_fault_with_its_last_words),
		T(test_device_start_that_dies_fails_power_on_with_the_reason),
		T(test_device_cut_on_a_line_drops_what_followed_it_in_the_same_chunk),
		T(test_device_mark_fires_once_per_line_for_the_console_life),
		T(test_device_cut_while_starting_abandons_the_start),
		T(test_device_free_while_on_ends_qemu),
		T(test_device_waits_at_a_full_boot_gate_until_the_first_says_it_is_up),
		T(test_device_boot_slot_is_given_back_when_the_ready_line_never_comes),
		T(test_device_cut_while_queued_at_the_gate_fails_its_power_on_and_frees_its_place),
	};
	return vh_run_tests(tests, NULL, NULL);
}
