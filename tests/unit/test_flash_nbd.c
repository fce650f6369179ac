/* The flash served over NBD (harness/flash/flash.c, nbd_server.c), driven by
 * QEMU's own NBD client: qemu-io runs as a child while the test's event loop
 * serves it, and the backing file is checked byte by byte afterwards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "ev.h"
#include "flash.h"
#include "test_skip.h"

#define IMAGE_SIZE (1024 * 1024)

struct rig {
	char dir[64];
	char image[128];
	char sock[128];
	char out[256];
	struct ev_loop *loop;
	struct flash *flash;
	struct child qemu_io;
	int out_fd;
	struct flash_faults faults;
	struct flash_fault_report reports[8];
	int nreports;
};

static void on_fault(void *ctx, const struct flash_fault_report *rep)
{
	struct rig *r = ctx;
	if (r->nreports < 8)
		r->reports[r->nreports] = *rep;
	r->nreports++;
}

/* The rig's flash asks r->faults about every request from now on. */
static void use_faults(struct rig *r)
{
	flash_set_faults(r->flash, &r->faults, on_fault, r);
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int rig_setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	snprintf(r->dir, sizeof(r->dir), "/tmp/vh-flash-nbd-XXXXXX");
	if (!mkdtemp(r->dir))
		return -1;
	snprintf(r->image, sizeof(r->image), "%s/disk-dut.img", r->dir);
	snprintf(r->sock, sizeof(r->sock), "%s/nbd.sock", r->dir);
	snprintf(r->out, sizeof(r->out), "%s/qemu-io.out", r->dir);
	int fd = open(r->image, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, IMAGE_SIZE) < 0)
		return -1;
	close(fd);
	r->loop = ev_loop_new();
	flash_faults_init(&r->faults);
	char err[256];
	r->flash = flash_open(r->loop, r->image, r->sock, err, sizeof(err));
	if (!r->flash) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	*state = r;
	return 0;
}

static int rig_teardown(void **state)
{
	struct rig *r = *state;
	char err[256];
	if (r->flash)
		flash_close(r->flash, err, sizeof(err));
	if (r->qemu_io.pid) {
		child_kill(&r->qemu_io);
		child_wait(&r->qemu_io, 5000, NULL);
	}
	ev_loop_free(r->loop);
	unlink(r->image);
	unlink(r->sock);
	unlink(r->out);
	int ok = rmdir(r->dir);
	free(r);
	return ok;
}

/* Starts qemu-io on the export with the given -c commands. */
static void start_qemu_io(struct rig *r, const char *const *cmds)
{
	if (access("/usr/bin/qemu-io", X_OK) != 0)
		vh_skip("no qemu-io (qemu-utils)");
	char uri[200];
	snprintf(uri, sizeof(uri), "nbd+unix:///%s?socket=%s", FLASH_EXPORT, r->sock);
	/* writeback, as a guest's disk: qemu-io's default (writethrough)
	 * sends every write with FUA. */
	const char *argv[32] = { "qemu-io", "-t", "writeback", "-f", "raw" };
	int n = 5;
	for (int i = 0; cmds[i]; i++) {
		argv[n++] = "-c";
		argv[n++] = cmds[i];
	}
	argv[n++] = uri;
	argv[n] = NULL;
	int fd = open(r->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	struct child_spec spec = { .argv = argv, .stdout_fd = fd, .stderr_fd = fd };
	char err[256];
	int rc = child_spawn(&spec, &r->qemu_io, err, sizeof(err));
	close(fd);
	if (rc < 0)
		fail_msg("%s", err);
}

/* Serves until qemu-io has made `writes` writes (the session then sleeps)
 * or, with writes < 0, until it has exited (SERVE_EXIT_FAILED: a command
 * failed, so its exit status is 1). */
#define SERVE_EXIT_FAILED (-2)
static void serve_until(struct rig *r, int writes)
{
	for (int turn = 0; turn < 2000; turn++) {
		ev_run_once(r->loop, 10);
		if (writes < 0) {
			int status;
			if (child_reap(&r->qemu_io, &status)) {
				char text[64];
				if (!child_status_ok(status) && writes != SERVE_EXIT_FAILED)
					fail_msg("qemu-io %s",
						 child_status_text(status, text, sizeof(text)));
				return;
			}
			continue;
		}
		struct flash_stats st;
		flash_get_stats(r->flash, &st);
		if (st.writes >= (uint64_t)writes)
			return;
	}
	char buf[2048] = "";
	int fd = open(r->out, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : 0;
	buf[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	fail_msg("qemu-io did not get there in 20 s; it said: %s", buf);
}

/* Whether the file holds byte b over [off, off + len). */
static bool file_holds(struct rig *r, off_t off, size_t len, uint8_t b)
{
	uint8_t *buf = malloc(len);
	int fd = open(r->image, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, len, off), (ssize_t)len);
	close(fd);
	bool all = true;
	for (size_t i = 0; i < len; i++)
		all = all && buf[i] == b;
	free(buf);
	return all;
}

static bool output_has(struct rig *r, const char *needle)
{
	char buf[8192] = "";
	int fd = open(r->out, O_RDONLY);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strstr(buf, needle) != NULL;
}

static void cut(struct rig *r, enum flash_cut_mode mode, struct flash_cut_report *rep,
		struct flash_stats *st)
{
	char err[256];
	assert_int_equal(flash_cut(r->flash, mode, 1, rep, st, err, sizeof(err)), 0);
	r->flash = NULL;
}

static void test_nbd_flushed_write_reaches_the_file_unflushed_is_lost_at_volatile_cut(void **state)
{
	struct rig *r = *state;
	const char *cmds[] = { "write -P 0xab 0 64k", "flush", "write -P 0xcd 64k 4k",
			       "sleep 20000", NULL };
	start_qemu_io(r, cmds);
	serve_until(r, 2);
	assert_true(file_holds(r, 0, 65536, 0xab));
	assert_true(file_holds(r, 65536, 4096, 0));
	struct flash_cut_report rep;
	struct flash_stats st;
	cut(r, FLASH_CUT_VOLATILE, &rep, &st);
	assert_int_equal(st.writes, 2);
	assert_int_equal(st.flushes, 1);
	assert_int_equal(rep.pending_writes, 1);
	assert_int_equal(rep.pending_bytes, 4096);
	assert_int_equal(rep.survived_writes, 0);
	assert_true(file_holds(r, 0, 65536, 0xab));
	assert_true(file_holds(r, 65536, 4096, 0));
}

/* vharness sweep's watcher: the power dies at the cut_at-th request of op. */
struct watch {
	enum flash_op op;
	int seen, cut_at;
	bool cut;
};

static bool on_request_watch(void *ctx, enum flash_op op, bool fua)
{
	(void)fua;
	struct watch *w = ctx;
	if (op != w->op || ++w->seen != w->cut_at)
		return false;
	w->cut = true;
	return true;
}

/* Serves until the watcher has cut, and a while more: nothing after it may
 * reach the flash (qemu-io waits for the reply it never gets). */
static void serve_until_watch_cuts(struct rig *r, struct watch *w)
{
	for (int turn = 0; turn < 2000 && !w->cut; turn++)
		ev_run_once(r->loop, 10);
	assert_true(w->cut);
	for (int turn = 0; turn < 20; turn++)
		ev_run_once(r->loop, 10);
}

static void test_nbd_watch_cuts_at_a_flush_before_it_completes(void **state)
{
	struct rig *r = *state;
	const char *cmds[] = { "write -P 0xab 0 64k",
			       "flush",
			       "write -P 0xcd 64k 4k",
			       "flush",
			       "write -P 0xef 128k 4k",
			       "sleep 20000",
			       NULL };
	struct watch w = { .op = FLASH_OP_FLUSH, .cut_at = 2 };
	flash_set_watch(r->flash, on_request_watch, &w);
	start_qemu_io(r, cmds);
	serve_until_watch_cuts(r, &w);
	struct flash_cut_report rep;
	struct flash_stats st;
	cut(r, FLASH_CUT_VOLATILE, &rep, &st);
	/* The second flush never completed: the write before it was pending. */
	assert_int_equal(st.flushes, 1);
	assert_int_equal(st.writes, 2);
	assert_int_equal(rep.pending_writes, 1);
	assert_true(file_holds(r, 0, 65536, 0xab));
	assert_true(file_holds(r, 65536, 4096, 0));
	assert_true(file_holds(r, 131072, 4096, 0));
}

static void test_nbd_watch_cuts_at_a_write_in_flight(void **state)
{
	struct rig *r = *state;
	const char *cmds[] = { "write -P 0xab 0 4k", "write -P 0xcd 4k 4k", "write -P 0xef 8k 4k",
			       "sleep 20000", NULL };
	struct watch w = { .op = FLASH_OP_WRITE, .cut_at = 2 };
	flash_set_watch(r->flash, on_request_watch, &w);
	start_qemu_io(r, cmds);
	serve_until_watch_cuts(r, &w);
	struct flash_cut_report rep;
	struct flash_stats st;
	/* durable keeps every pending write: the one in flight is among them,
	 * the one after it never arrived. */
	cut(r, FLASH_CUT_DURABLE, &rep, &st);
	assert_int_equal(st.writes, 2);
	assert_int_equal(rep.pending_writes, 2);
	assert_true(file_holds(r, 0, 4096, 0xab));
	assert_true(file_holds(r, 4096, 4096, 0xcd));
	assert_true(file_holds(r, 8192, 4096, 0));
}

static void test_nbd_durable_cut_keeps_the_unflushed_write(void **state)
{
	struct rig *r = *state;
	const char *cmds[] = { "write -P 0xcd 4096 8k", "sleep 20000", NULL };
	start_qemu_io(r, cmds);
	serve_until(r, 1);
	assert_true(file_holds(r, 4096, 8192, 0));
	struct flash_cut_report rep;
	cut(r, FLASH_CUT_DURABLE, &rep, NULL);
	assert_int_equal(rep.survived_writes, 1);
	assert_true(file_holds(r, 4096, 8192, 0xcd));
	assert_true(file_holds(r, 0, 4096, 0));
}

static void test_nbd_fua_write_is_in_the_file_before_any_flush(void **state)
{
	struct rig *r = *state;
	const char *cmds[] = { "write -P 0x11 0 4k", "write -f -P 0x22 8192 4k",
			       "write -P 0x33 16384 4k", "sleep 20000", NULL };
	start_qemu_io(r, cmds);
	serve_until(r, 3);
	struct flash_cut_report rep;
	struct flash_stats st;
	cut(r, FLASH_CUT_VOLATILE, &rep, &st);
	assert_int_equal(st.fua_writes, 1);
	assert_int_equal(st.flushes, 0);
	assert_true(file_holds(r, 0, 4096, 0x11)); /* before the FUA write */
	assert_true(file_holds(r, 8192, 4096, 0x22));
	assert_true(file_holds(r, 16384, 4096, 0));
}

static void test_nbd_client_that_exits_leaves_everything_in_the_file(void **state)
{
	struct rig *r = *state;
	/* 1 MiB each way in one request: more than a socket buffer, so reads and
	 * replies are partial and must be resumed. */
	const char *cmds[] = { "write -P 0x5a 0 1m", "read -P 0x5a 0 1m", NULL };
	start_qemu_io(r, cmds);
	serve_until(r, -1);
	assert_false(output_has(r, "Pattern verification failed"));
	assert_true(output_has(r, "read 1048576/1048576"));
	char err[256];
	assert_int_equal(flash_close(r->flash, err, sizeof(err)), 0);
	r->flash = NULL;
	assert_true(file_holds(r, 0, 1048576, 0x5a));
}

static void test_nbd_read_sees_the_unflushed_write(void **state)
{
	struct rig *r = *state;
	/* The read comes before qemu-io's flush at exit, while the file still
	 * holds zeroes: only the model's pending write can give 0xcd. */
	const char *cmds[] = { "write -P 0xcd 512 3k", "read -P 0xcd 512 3k", "read -P 0 0 512",
			       NULL };
	start_qemu_io(r, cmds);
	serve_until(r, -1);
	assert_true(output_has(r, "read 3072/3072"));
	assert_true(output_has(r, "read 512/512"));
	assert_false(output_has(r, "Pattern verification failed"));
	struct flash_stats st;
	flash_get_stats(r->flash, &st);
	assert_int_equal(st.reads, 2);
}

static void test_nbd_out_of_bounds_write_is_refused(void **state)
{
	struct rig *r = *state;
	const char *cmds[] = { "write -P 0x77 1020k 8k", NULL };
	start_qemu_io(r, cmds);
	for (int turn = 0; turn < 2000; turn++) {
		ev_run_once(r->loop, 10);
		int status;
		if (child_reap(&r->qemu_io, &status))
			break;
	}
	assert_false(output_has(r, "wrote"));
	struct flash_stats st;
	flash_get_stats(r->flash, &st);
	assert_int_equal(st.writes, 0);
}

static void close_flash(struct rig *r)
{
	char err[256];
	assert_int_equal(flash_close(r->flash, err, sizeof(err)), 0);
	r->flash = NULL;
}

static void test_nbd_injected_write_error_reaches_qemu_io_and_changes_nothing(void **state)
{
	struct rig *r = *state;
	struct flash_fault_rule rule = { .op = FLASH_OP_WRITE,
					 .error = EIO,
					 .armed = true,
					 .count = 1,
					 .has_range = true,
					 .offset = 8192,
					 .length = 4096 };
	flash_faults_add(&r->faults, &rule);
	use_faults(r);
	const char *cmds[] = { "write -P 0x11 0 4k", "write -P 0x22 8192 4k",
			       "write -P 0x33 16384 4k", "write -P 0x44 8192 512", NULL };
	start_qemu_io(r, cmds);
	serve_until(r, SERVE_EXIT_FAILED);
	assert_true(output_has(r, "write failed: Input/output error"));
	assert_int_equal(r->nreports, 1);
	assert_int_equal(r->reports[0].op, FLASH_OP_WRITE);
	assert_int_equal(r->reports[0].offset, 8192);
	assert_int_equal(r->reports[0].len, 4096);
	assert_int_equal(r->reports[0].error, EIO);
	assert_int_equal(r->reports[0].rule, 0);
	struct flash_stats st;
	flash_get_stats(r->flash, &st);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.writes, 3);
	close_flash(r);
	assert_true(file_holds(r, 0, 4096, 0x11));
	/* The failed write left no trace; the one after it (count = 1) landed. */
	assert_true(file_holds(r, 8192, 512, 0x44));
	assert_true(file_holds(r, 8192 + 512, 4096 - 512, 0));
	assert_true(file_holds(r, 16384, 4096, 0x33));
}

static void test_nbd_injected_read_and_flush_errors_reach_qemu_io(void **state)
{
	struct rig *r = *state;
	struct flash_fault_rule rd = {
		.op = FLASH_OP_READ, .error = EIO, .armed = true, .count = 1
	};
	struct flash_fault_rule fl = {
		.op = FLASH_OP_FLUSH, .error = EIO, .armed = true, .count = 1
	};
	flash_faults_add(&r->faults, &rd);
	flash_faults_add(&r->faults, &fl);
	use_faults(r);
	const char *cmds[] = { "read 0 4k", "read 0 4k", "write 0 4k", "flush", NULL };
	start_qemu_io(r, cmds);
	serve_until(r, SERVE_EXIT_FAILED);
	assert_true(output_has(r, "read failed: Input/output error"));
	assert_true(output_has(r, "read 4096/4096"));
	/* qemu-io's flush prints nothing either way: the report says it failed. */
	assert_int_equal(r->nreports, 2);
	assert_int_equal(r->reports[0].op, FLASH_OP_READ);
	assert_int_equal(r->reports[1].op, FLASH_OP_FLUSH);
	struct flash_stats st;
	flash_get_stats(r->flash, &st);
	assert_int_equal(st.failed, 2);
	/* The failed flush made nothing durable; qemu-io's flush at exit did. */
	assert_int_equal(st.flushes, 1);
}

static void test_nbd_slow_flash_answers_late_without_blocking_the_loop(void **state)
{
	struct rig *r = *state;
	r->faults.write_latency_us = 200000;
	r->faults.bandwidth = 1024 * 1024; /* a 64 KiB write: +62.5 ms */
	use_faults(r);
	const char *cmds[] = { "write -P 0x55 0 64k", "write -P 0x66 64k 64k", "flush", NULL };
	double t0 = mono_s();
	start_qemu_io(r, cmds);
	serve_until(r, -1);
	double took = mono_s() - t0;
	assert_true(took >= 2 * 0.2625);
	assert_true(output_has(r, "wrote 65536/65536"));
	struct flash_stats st;
	flash_get_stats(r->flash, &st);
	assert_true(st.delayed >= 2);
	/* The loop waited on timers, never in a request. */
	assert_true(ev_busiest_turn_us(r->loop) < 100000);
	close_flash(r);
	assert_true(file_holds(r, 0, 65536, 0x55));
	assert_true(file_holds(r, 65536, 65536, 0x66));
}

static void test_nbd_worn_out_flash_refuses_writes_reads_still_work(void **state)
{
	struct rig *r = *state;
	r->faults.wear_out_after = 2;
	use_faults(r);
	const char *cmds[] = { "write -P 0x11 0 4k", "write -P 0x22 4k 4k", "write -P 0x33 8k 4k",
			       "read -P 0x22 4k 4k", NULL };
	start_qemu_io(r, cmds);
	serve_until(r, SERVE_EXIT_FAILED);
	assert_true(output_has(r, "write failed: Input/output error"));
	assert_true(output_has(r, "read 4096/4096"));
	assert_false(output_has(r, "Pattern verification failed"));
	assert_int_equal(r->nreports, 1);
	assert_int_equal(r->reports[0].rule, -1);
	close_flash(r);
	assert_true(file_holds(r, 0, 4096, 0x11));
	assert_true(file_holds(r, 4096, 4096, 0x22));
	assert_true(file_holds(r, 8192, 4096, 0));
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_nbd_flushed_write_reaches_the_file_unflushed_is_lost_at_volatile_cut,
			rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_nbd_watch_cuts_at_a_flush_before_it_completes,
						rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_nbd_watch_cuts_at_a_write_in_flight, rig_setup,
						rig_teardown),
		cmocka_unit_test_setup_teardown(test_nbd_durable_cut_keeps_the_unflushed_write,
						rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_nbd_fua_write_is_in_the_file_before_any_flush,
						rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(
			test_nbd_client_that_exits_leaves_everything_in_the_file, rig_setup,
			rig_teardown),
		cmocka_unit_test_setup_teardown(test_nbd_read_sees_the_unflushed_write, rig_setup,
						rig_teardown),
		cmocka_unit_test_setup_teardown(
			test_nbd_injected_write_error_reaches_qemu_io_and_changes_nothing,
			rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(
			test_nbd_injected_read_and_flush_errors_reach_qemu_io, rig_setup,
			rig_teardown),
		cmocka_unit_test_setup_teardown(
			test_nbd_slow_flash_answers_late_without_blocking_the_loop, rig_setup,
			rig_teardown),
		cmocka_unit_test_setup_teardown(
			test_nbd_worn_out_flash_refuses_writes_reads_still_work, rig_setup,
			rig_teardown),
		cmocka_unit_test_setup_teardown(test_nbd_out_of_bounds_write_is_refused, rig_setup,
						rig_teardown),
	};
	return vh_run_tests(tests, NULL, NULL);
}
