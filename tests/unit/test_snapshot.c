/* Snapshot boot's template cache (harness/machine/snapshot.c) driven without
 * QEMU: a forked child stands in for the template, speaking QMP and printing
 * the agent's snapshot point on a console socketpair, and writing the state
 * file as QEMU's migration command would. Real templates are
 * it_snapshot_boot's; these reach what real ones do rarely: a state file
 * that appears after QEMU said "completed", a template that never reaches
 * its snapshot point, a QEMU that dies, waits cancelled, a cache freed while
 * a template boots. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "ev.h"
#include "qemu.h"
#include "qemu_argv.h"
#include "snapshot.h"
#include "test_skip.h"

enum fake_mode {
	FAKE_SAVES,	/* snapshot point on cont; saves on migrate */
	FAKE_LATE_FILE, /* says "completed" 300 ms before the state file exists */
	FAKE_SILENT,	/* never reaches the snapshot point */
	FAKE_DIES,	/* exits 1 once resumed */
	FAKE_BAD_START, /* the start itself fails */
};

static enum fake_mode mode;
static int starts;
static pid_t last_pid;
static char state_path[256];

static void say(int fd, const char *s)
{
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		_exit(2);
}

static void reply(int qmp, const char *line)
{
	const char *p = strstr(line, "\"id\":");
	char r[128];
	snprintf(r, sizeof(r), "{\"return\": {}, \"id\": %ld}\n", p ? strtol(p + 5, NULL, 10) : -1);
	say(qmp, r);
}

static void write_state(void)
{
	FILE *f = fopen(state_path, "w");
	if (f) {
		fputs("device state", f);
		fclose(f);
	}
}

/* The child: QMP commands in, console lines and events out. */
static void fake_template(int serial, int qmp)
{
	say(qmp, "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\n");
	char buf[8192];
	size_t len = 0;
	for (;;) {
		ssize_t n = read(qmp, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			_exit(0);
		len += (size_t)n;
		buf[len] = '\0';
		char *nl;
		while ((nl = strchr(buf, '\n'))) {
			*nl = '\0';
			const char *line = buf;
			if (strstr(line, "\"quit\"")) {
				/* QEMU does not wait for its migration command. */
				_exit(access(state_path, F_OK) == 0 ? 0 : 3);
			}
			reply(qmp, line);
			if (strstr(line, "\"cont\"")) {
				if (mode == FAKE_DIES)
					_exit(1);
				if (mode != FAKE_SILENT)
					say(serial,
					    "[    0.5] boot noise\r\nvh-agent: snapshot point\r\n");
			} else if (strstr(line, "\"migrate\"")) {
				if (!strstr(line, "exec:cat > '") || !strstr(line, "&& mv -f"))
					_exit(4);
				if (mode != FAKE_LATE_FILE)
					write_state();
				say(qmp, "{\"event\": \"MIGRATION\", \"data\": {\"status\": "
					 "\"completed\"}}\n");
				/* Like QEMU's "cat > tmp && mv": a process of its
				 * own, still writing while QEMU takes commands. */
				if (mode == FAKE_LATE_FILE && fork() == 0) {
					usleep(300 * 1000);
					write_state();
					_exit(0);
				}
			}
			size_t used = (size_t)(nl - buf) + 1;
			memmove(buf, buf + used, len - used + 1);
			len -= used;
		}
	}
}

struct qemu_start {
	struct ev_loop *loop;
	struct qemu_proc proc;
	uint64_t defer;
	void (*fn)(void *, const struct qemu_proc *, const char *);
	void *arg;
};

static void deliver(struct ev_loop *loop, void *arg)
{
	(void)loop;
	struct qemu_start *s = arg;
	struct qemu_proc p = s->proc;
	void (*fn)(void *, const struct qemu_proc *, const char *) = s->fn;
	void *fn_arg = s->arg;
	free(s);
	fn(fn_arg, &p, NULL);
}

static struct qemu_start *fake_start(struct ev_loop *loop, const struct qemu_launch *l,
				     const char *stderr_path, uint64_t timeout_ms,
				     void (*fn)(void *, const struct qemu_proc *, const char *),
				     void *arg, char *err, size_t errlen)
{
	(void)timeout_ms;
	starts++;
	/* A template's RAM is a shared file, and it starts afresh. */
	assert_non_null(l->ram_file);
	assert_true(l->ram_shared);
	assert_false(l->incoming);
	snprintf(state_path, sizeof(state_path), "%.*s.state", (int)(strlen(l->ram_file) - 4),
		 l->ram_file);
	if (mode == FAKE_BAD_START) {
		snprintf(err, errlen, "cannot listen on socket @x: Address already in use");
		return NULL;
	}
	int serial[2], qmp[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, serial), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, qmp), 0);
	struct qemu_start *s = calloc(1, sizeof(*s));
	s->loop = loop;
	s->fn = fn;
	s->arg = arg;
	snprintf(s->proc.stderr_path, sizeof(s->proc.stderr_path), "%s", stderr_path);
	pid_t pid = fork();
	if (pid == 0) {
		close(serial[0]);
		close(qmp[0]);
		fake_template(serial[1], qmp[1]);
		_exit(0);
	}
	close(serial[1]);
	close(qmp[1]);
	last_pid = pid;
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
	ev_cancel_defer(s->loop, s->defer);
	child_kill(&s->proc.child);
	child_wait(&s->proc.child, 2000, NULL);
	qemu_proc_close_sockets(&s->proc);
	free(s);
}

/* --- fixture --- */

struct got {
	int calls;
	bool state_whole; /* the state file was there when the wait completed */
	char ram[1100];
	char uri[1200];
	char err[1300];
};

struct fixture {
	struct ev_loop *loop;
	struct snapshot_cache *cache;
	char dir[64];
	char kernel[128];
	int events;
	char last_outcome[16];
};

static struct fixture fx;

static void on_event(void *ctx, const char *event, const char *const *kv)
{
	(void)ctx;
	assert_string_equal(event, "snapshot");
	fx.events++;
	for (int i = 0; kv[i]; i += 2)
		if (!strcmp(kv[i], "outcome"))
			snprintf(fx.last_outcome, sizeof(fx.last_outcome), "%s", kv[i + 1]);
}

static void on_snapshot(void *arg, const struct snapshot *s, const char *err)
{
	struct got *g = arg;
	g->calls++;
	if (s) {
		g->state_whole = access(state_path, R_OK) == 0;
		snprintf(g->ram, sizeof(g->ram), "%s", s->ram_path);
		snprintf(g->uri, sizeof(g->uri), "%s", s->state_uri);
	} else {
		snprintf(g->err, sizeof(g->err), "%s", err);
	}
}

static int setup(void **state)
{
	(void)state;
	memset(&fx, 0, sizeof(fx));
	starts = 0;
	last_pid = 0;
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/test_snapshot.XXXXXX");
	assert_non_null(mkdtemp(fx.dir));
	snprintf(fx.kernel, sizeof(fx.kernel), "%s/vmlinuz", fx.dir);
	FILE *f = fopen(fx.kernel, "w");
	fputs("kernel", f);
	fclose(f);
	fx.loop = ev_loop_new();
	char err[256], cache_dir[128];
	snprintf(cache_dir, sizeof(cache_dir), "%s/snapshots", fx.dir);
	fx.cache = snapshot_cache_new(fx.loop, cache_dir, fake_start, fake_cancel, on_event, NULL,
				      err, sizeof(err));
	assert_non_null(fx.cache);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	snapshot_cache_free(fx.cache);
	ev_loop_free(fx.loop);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx.dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static struct qemu_launch tmpl(void)
{
	return (struct qemu_launch){
		.arch = "x86_64",
		.accel = "tcg",
		.memory_mib = 96,
		.kernel = fx.kernel,
		.append = "console=ttyS0 vh.snapshot=1",
		.disk_snapshot = true,
		.nic_unplugged = true,
	};
}

static void run_until(int *calls, int want, int max_ms)
{
	for (int waited = 0; *calls < want && waited < max_ms; waited += 10)
		ev_run_once(fx.loop, 10);
}

/* --- tests --- */

static void test_snapshot_key_names_what_must_match(void **state)
{
	(void)state;
	struct qemu_launch a = tmpl(), b = tmpl();
	char ka[65], kb[65], err[256];
	assert_int_equal(snapshot_key(&a, ka, err, sizeof(err)), 0);
	assert_int_equal(snapshot_key(&b, kb, err, sizeof(err)), 0);
	assert_string_equal(ka, kb);
	b.memory_mib = 64;
	assert_int_equal(snapshot_key(&b, kb, err, sizeof(err)), 0);
	assert_string_not_equal(ka, kb);
	b = tmpl();
	b.append = "console=ttyS0 vh.snapshot=1 quiet";
	assert_int_equal(snapshot_key(&b, kb, err, sizeof(err)), 0);
	assert_string_not_equal(ka, kb);
	/* Another payload is another file (the boot cache shares one per payload). */
	char other[160];
	snprintf(other, sizeof(other), "%s/other", fx.dir);
	FILE *f = fopen(other, "w");
	fputs("kernel", f);
	fclose(f);
	b = tmpl();
	b.kernel = other;
	assert_int_equal(snapshot_key(&b, kb, err, sizeof(err)), 0);
	assert_string_not_equal(ka, kb);
	b.kernel = "/nonexistent/vmlinuz";
	assert_int_equal(snapshot_key(&b, kb, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/vmlinuz"));
}

/* One template for every device of a build: those that ask while it boots
 * wait for it, those that ask later get it at once. */
static void test_snapshot_one_template_serves_every_wait(void **state)
{
	(void)state;
	mode = FAKE_SAVES;
	struct qemu_launch l = tmpl();
	struct got g1 = { 0 }, g2 = { 0 }, g3 = { 0 };
	snapshot_get(fx.cache, &l, 5000, on_snapshot, &g1);
	snapshot_get(fx.cache, &l, 5000, on_snapshot, &g2);
	assert_int_equal(g1.calls, 0); /* never inside snapshot_get */
	run_until(&g2.calls, 1, 5000);
	assert_int_equal(g1.calls, 1);
	assert_int_equal(g2.calls, 1);
	assert_string_equal(g1.err, "");
	assert_string_equal(g1.ram, g2.ram);
	assert_non_null(strstr(g1.uri, "exec:cat '"));
	assert_non_null(strstr(g1.uri, ".state'"));
	snapshot_get(fx.cache, &l, 5000, on_snapshot, &g3);
	run_until(&g3.calls, 1, 1000);
	assert_int_equal(g3.calls, 1);
	assert_string_equal(g3.ram, g1.ram);
	assert_int_equal(starts, 1);
	assert_int_equal(fx.events, 1);
	assert_string_equal(fx.last_outcome, "saved");
	/* The template is gone: reaped, not left running. */
	assert_int_equal(kill(last_pid, 0), -1);
}

/* "completed" comes before the migration command has written the file:
 * quitting then would lose it (the fake exits 3 if told to quit early). */
static void test_snapshot_waits_for_the_state_file_before_quitting(void **state)
{
	(void)state;
	mode = FAKE_LATE_FILE;
	struct qemu_launch l = tmpl();
	struct got g = { 0 };
	snapshot_get(fx.cache, &l, 5000, on_snapshot, &g);
	run_until(&g.calls, 1, 5000);
	assert_int_equal(g.calls, 1);
	assert_string_equal(g.err, "");
	assert_true(g.state_whole);
	assert_string_equal(fx.last_outcome, "saved");
}

static void test_snapshot_template_without_snapshot_point_times_out(void **state)
{
	(void)state;
	mode = FAKE_SILENT;
	struct qemu_launch l = tmpl();
	struct got g1 = { 0 }, g2 = { 0 };
	snapshot_get(fx.cache, &l, 300, on_snapshot, &g1);
	run_until(&g1.calls, 1, 3000);
	assert_int_equal(g1.calls, 1);
	assert_non_null(strstr(g1.err, "vh-agent: snapshot point"));
	assert_non_null(strstr(g1.err, "vh.snapshot=1"));
	assert_string_equal(fx.last_outcome, "failed");
	assert_int_equal(kill(last_pid, 0), -1); /* killed and reaped */
	/* A failed build fails the next device at once, without a new boot. */
	snapshot_get(fx.cache, &l, 300, on_snapshot, &g2);
	run_until(&g2.calls, 1, 1000);
	assert_string_equal(g2.err, g1.err);
	assert_int_equal(starts, 1);
}

static void test_snapshot_template_that_dies_fails_its_waits(void **state)
{
	(void)state;
	mode = FAKE_DIES;
	struct qemu_launch l = tmpl();
	struct got g = { 0 };
	snapshot_get(fx.cache, &l, 5000, on_snapshot, &g);
	run_until(&g.calls, 1, 5000);
	assert_int_equal(g.calls, 1);
	assert_non_null(strstr(g.err, "QEMU exited with status 1 before the machine was saved"));
}

static void test_snapshot_start_failure_reaches_the_wait(void **state)
{
	(void)state;
	mode = FAKE_BAD_START;
	struct qemu_launch l = tmpl();
	struct got g = { 0 };
	snapshot_get(fx.cache, &l, 5000, on_snapshot, &g);
	assert_int_equal(g.calls, 0);
	run_until(&g.calls, 1, 1000);
	assert_non_null(strstr(g.err, "Address already in use"));
}

static void test_snapshot_cancelled_wait_is_never_called(void **state)
{
	(void)state;
	mode = FAKE_SAVES;
	struct qemu_launch l = tmpl();
	struct got g1 = { 0 }, g2 = { 0 };
	struct snapshot_wait *w = snapshot_get(fx.cache, &l, 5000, on_snapshot, &g1);
	snapshot_get(fx.cache, &l, 5000, on_snapshot, &g2);
	snapshot_wait_cancel(w);
	run_until(&g2.calls, 1, 5000);
	assert_int_equal(g2.calls, 1);
	assert_int_equal(g1.calls, 0);
}

/* The run ends while a template boots: it is killed, nothing is called. */
static void test_snapshot_cache_free_ends_a_booting_template(void **state)
{
	(void)state;
	mode = FAKE_SILENT;
	struct qemu_launch l = tmpl();
	struct got g = { 0 };
	snapshot_get(fx.cache, &l, 60000, on_snapshot, &g);
	for (int i = 0; i < 20; i++)
		ev_run_once(fx.loop, 10);
	assert_true(last_pid > 0);
	snapshot_cache_free(fx.cache);
	fx.cache = NULL;
	assert_int_equal(kill(last_pid, 0), -1);
	assert_int_equal(g.calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_snapshot_key_names_what_must_match),
		T(test_snapshot_one_template_serves_every_wait),
		T(test_snapshot_waits_for_the_state_file_before_quitting),
		T(test_snapshot_template_without_snapshot_point_times_out),
		T(test_snapshot_template_that_dies_fails_its_waits),
		T(test_snapshot_start_failure_reaches_the_wait),
		T(test_snapshot_cancelled_wait_is_never_called),
		T(test_snapshot_cache_free_ends_a_booting_template),
#undef T
	};
	return vh_run_tests(tests, NULL, NULL);
}
