/* Unit tests for the event loop (base/ev.c): fd events, timers, stop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "ev.h"
#include "test_skip.h"

struct fixture {
	struct ev_loop *loop;
	int pipe_fd[2];
};

static int setup(void **state)
{
	static struct fixture f;
	f.loop = ev_loop_new();
	if (!f.loop || pipe(f.pipe_fd) < 0)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	ev_loop_free(f->loop);
	close(f->pipe_fd[0]);
	close(f->pipe_fd[1]);
	return 0;
}

/* Runs turns until pred(arg) holds or limit_ms passes; false on timeout. */
static bool run_until(struct ev_loop *loop, bool (*pred)(void *), void *arg, uint64_t limit_ms)
{
	uint64_t end = ev_clock_ms() + limit_ms;
	while (!pred(arg)) {
		if (ev_clock_ms() > end)
			return false;
		assert_true(ev_run_once(loop, 10) >= 0);
	}
	return true;
}

struct fd_record {
	int calls;
	int fd;
	uint32_t events;
	char byte;
	bool del_self;
};

static void on_readable(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct fd_record *r = arg;
	r->calls++;
	r->fd = fd;
	r->events = events;
	assert_int_equal(read(fd, &r->byte, 1), 1);
	if (r->del_self)
		ev_del_fd(loop, fd);
}

static void test_ev_fd_callback_fires_when_pipe_is_readable(void **state)
{
	struct fixture *f = *state;
	struct fd_record r = { 0 };
	assert_int_equal(ev_add_fd(f->loop, f->pipe_fd[0], EPOLLIN, on_readable, &r), 0);
	/* Nothing written: a short turn runs nothing. */
	assert_int_equal(ev_run_once(f->loop, 0), 0);
	assert_int_equal(r.calls, 0);
	assert_int_equal(write(f->pipe_fd[1], "x", 1), 1);
	assert_int_equal(ev_run_once(f->loop, 1000), 1);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.fd, f->pipe_fd[0]);
	assert_true(r.events & EPOLLIN);
	assert_int_equal(r.byte, 'x');
	ev_del_fd(f->loop, f->pipe_fd[0]);
}

static void test_ev_add_fd_rejects_negative_fd(void **state)
{
	struct fixture *f = *state;
	struct fd_record r = { 0 };
	assert_int_equal(ev_add_fd(f->loop, -1, EPOLLIN, on_readable, &r), -EBADF);
}

static void on_readable_other(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	(void)loop, (void)events;
	int *calls = arg;
	char c;
	assert_int_equal(read(fd, &c, 1), 1);
	(*calls)++;
}

static void test_ev_add_fd_again_replaces_callback(void **state)
{
	struct fixture *f = *state;
	struct fd_record r = { 0 };
	int other = 0;
	assert_int_equal(ev_add_fd(f->loop, f->pipe_fd[0], EPOLLIN, on_readable, &r), 0);
	assert_int_equal(ev_add_fd(f->loop, f->pipe_fd[0], EPOLLIN, on_readable_other, &other), 0);
	assert_int_equal(write(f->pipe_fd[1], "y", 1), 1);
	assert_int_equal(ev_run_once(f->loop, 1000), 1);
	assert_int_equal(r.calls, 0);
	assert_int_equal(other, 1);
	ev_del_fd(f->loop, f->pipe_fd[0]);
}

static void test_ev_del_fd_inside_its_own_callback_stops_further_calls(void **state)
{
	struct fixture *f = *state;
	struct fd_record r = { .del_self = true };
	assert_int_equal(ev_add_fd(f->loop, f->pipe_fd[0], EPOLLIN, on_readable, &r), 0);
	assert_int_equal(write(f->pipe_fd[1], "ab", 2), 2);
	assert_int_equal(ev_run_once(f->loop, 1000), 1);
	assert_int_equal(r.calls, 1);
	/* One byte is still unread, but the fd is no longer watched. */
	assert_int_equal(ev_run_once(f->loop, 20), 0);
	assert_int_equal(r.calls, 1);
	/* Deleting again, or an fd never watched, is harmless. */
	ev_del_fd(f->loop, f->pipe_fd[0]);
	ev_del_fd(f->loop, 999);
}

/* Two fds ready in the same turn: whichever callback runs first removes
 * the other fd, which then must not run although epoll reported it. */
struct remover {
	int other_fd;
	int *calls;
};

static void on_readable_removes_other(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	(void)events;
	struct remover *r = arg;
	char c;
	assert_int_equal(read(fd, &c, 1), 1);
	(*r->calls)++;
	ev_del_fd(loop, r->other_fd);
}

static void test_ev_fd_removed_by_earlier_callback_in_same_turn_does_not_run(void **state)
{
	struct fixture *f = *state;
	int q[2];
	int calls = 0;
	assert_int_equal(pipe(q), 0);
	struct remover ra = { q[0], &calls }, rb = { f->pipe_fd[0], &calls };
	assert_int_equal(ev_add_fd(f->loop, f->pipe_fd[0], EPOLLIN, on_readable_removes_other, &ra),
			 0);
	assert_int_equal(ev_add_fd(f->loop, q[0], EPOLLIN, on_readable_removes_other, &rb), 0);
	assert_int_equal(write(f->pipe_fd[1], "1", 1), 1);
	assert_int_equal(write(q[1], "2", 1), 1);
	assert_int_equal(ev_run_once(f->loop, 1000), 1);
	assert_int_equal(calls, 1);
	ev_del_fd(f->loop, f->pipe_fd[0]);
	ev_del_fd(f->loop, q[0]);
	close(q[0]);
	close(q[1]);
}

#define MAX_FIRED 8

struct timer_log {
	uint64_t ids[MAX_FIRED];
	int tags[MAX_FIRED];
	int n;
	int want; /* for run_until(fired_enough) */
	uint64_t added_id;
};

struct timer_arg {
	struct timer_log *log;
	int tag;
};

static void on_timer(struct ev_loop *loop, uint64_t id, void *arg)
{
	(void)loop;
	struct timer_arg *t = arg;
	assert_true(t->log->n < MAX_FIRED);
	t->log->ids[t->log->n] = id;
	t->log->tags[t->log->n++] = t->tag;
}

static bool fired_enough(void *arg)
{
	struct timer_log *log = arg;
	return log->n >= log->want;
}

/* A timer is due at ev_clock_ms() when it was added plus its delay (ties go in
 * insertion order). Added 30, 10 and 20 ms, they are due 10, 20, 30 only if the
 * clock moved less than 10 ms (the smallest gap) while adding them: a process that
 * lost its CPU in between would rightly see another order. So that is checked, and
 * the adds are done again if it did not hold. */
static void test_ev_timers_fire_in_due_order_not_insertion_order(void **state)
{
	struct fixture *f = *state;
	struct timer_log log = { 0 };
	struct timer_arg late = { &log, 30 }, early = { &log, 10 }, mid = { &log, 20 };
	uint64_t id_late, id_early, id_mid, start;
	for (int tries = 0;; tries++) {
		assert_true(tries < 10);
		start = ev_clock_ms();
		id_late = ev_add_timer(f->loop, 30, on_timer, &late);
		id_early = ev_add_timer(f->loop, 10, on_timer, &early);
		id_mid = ev_add_timer(f->loop, 20, on_timer, &mid);
		if (ev_clock_ms() - start < 10)
			break;
		ev_del_timer(f->loop, id_late);
		ev_del_timer(f->loop, id_early);
		ev_del_timer(f->loop, id_mid);
	}
	assert_true(id_late != 0 && id_early != 0 && id_mid != 0);
	assert_true(id_late != id_early && id_early != id_mid && id_late != id_mid);
	log.want = 3;
	assert_true(run_until(f->loop, fired_enough, &log, 2000));
	assert_int_equal(log.n, 3);
	assert_int_equal(log.tags[0], 10);
	assert_int_equal(log.tags[1], 20);
	assert_int_equal(log.tags[2], 30);
	assert_true(log.ids[0] == id_early && log.ids[1] == id_mid && log.ids[2] == id_late);
	/* The last one did not fire before it was due: added at or after start. */
	assert_true(ev_clock_ms() - start >= 30);
}

static void test_ev_timers_due_together_fire_in_insertion_order(void **state)
{
	struct fixture *f = *state;
	struct timer_log log = { 0 };
	struct timer_arg a = { &log, 1 }, b = { &log, 2 }, c = { &log, 3 };
	ev_add_timer(f->loop, 0, on_timer, &a);
	ev_add_timer(f->loop, 0, on_timer, &b);
	ev_add_timer(f->loop, 0, on_timer, &c);
	/* Each is due from the next whole millisecond after it was added: on a
	 * slow machine (qemu-user) the clock can cross one between the adds, and
	 * then one turn fires only the first ones. Either way the order holds. */
	log.want = 3;
	assert_true(run_until(f->loop, fired_enough, &log, 2000));
	assert_int_equal(log.n, 3);
	assert_int_equal(log.tags[0], 1);
	assert_int_equal(log.tags[1], 2);
	assert_int_equal(log.tags[2], 3);
}

static void test_ev_timer_does_not_fire_before_due(void **state)
{
	struct fixture *f = *state;
	struct timer_log log = { 0 };
	struct timer_arg a = { &log, 1 };
	/* Long enough that no stall of this process between the two lines makes it due. */
	ev_add_timer(f->loop, 10000, on_timer, &a);
	assert_int_equal(ev_run_once(f->loop, 0), 0);
	assert_int_equal(log.n, 0);
}

static uint64_t test_clock_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void on_always_readable(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	(void)loop, (void)fd, (void)events, (void)arg; /* leaves the byte: ready again */
}

/* "after_ms milliseconds from now" counts from the microsecond the timer was
 * added, not from the start of its millisecond: on a loop kept busy by an fd
 * (as consoles and the datapath keep a run's), a 1 ms timer added late in a
 * millisecond used to fire a few microseconds later, and vh.sleep("500ms")
 * returned after 499.8 ms of vh.now(). */
static void test_ev_timer_never_fires_before_its_whole_delay(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(write(f->pipe_fd[1], "x", 1), 1);
	assert_int_equal(ev_add_fd(f->loop, f->pipe_fd[0], EPOLLIN, on_always_readable, NULL), 0);
	for (int i = 0; i < 50; i++) {
		struct timer_log log = { .want = 1 };
		struct timer_arg a = { &log, 1 };
		uint64_t after_ms = 1 + (uint64_t)(i % 3);
		uint64_t start = test_clock_us();
		ev_add_timer(f->loop, after_ms, on_timer, &a);
		assert_true(run_until(f->loop, fired_enough, &log, 2000));
		uint64_t elapsed = test_clock_us() - start;
		if (elapsed < after_ms * 1000u)
			fail_msg("a %llu ms timer fired after %llu us",
				 (unsigned long long)after_ms, (unsigned long long)elapsed);
	}
	ev_del_fd(f->loop, f->pipe_fd[0]);
}

static void test_ev_cancelled_timer_never_fires(void **state)
{
	struct fixture *f = *state;
	struct timer_log log = { 0 };
	struct timer_arg gone = { &log, 1 }, kept = { &log, 2 };
	uint64_t id = ev_add_timer(f->loop, 5, on_timer, &gone);
	ev_add_timer(f->loop, 15, on_timer, &kept);
	ev_del_timer(f->loop, id);
	/* Unknown and already-cancelled ids are ignored. */
	ev_del_timer(f->loop, id);
	ev_del_timer(f->loop, 0);
	ev_del_timer(f->loop, 123456);
	log.want = 1;
	assert_true(run_until(f->loop, fired_enough, &log, 2000));
	/* Give the cancelled one every chance. */
	ev_run_once(f->loop, 20);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.tags[0], 2);
}

static void on_timer_adds_timer(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct timer_arg *t = arg;
	on_timer(loop, id, arg);
	static struct timer_arg child;
	child = (struct timer_arg){ t->log, 99 };
	t->log->added_id = ev_add_timer(loop, 0, on_timer, &child);
}

static void test_ev_timer_added_from_timer_callback_waits_for_next_turn(void **state)
{
	struct fixture *f = *state;
	struct timer_log log = { 0 };
	struct timer_arg parent = { &log, 1 };
	ev_add_timer(f->loop, 0, on_timer_adds_timer, &parent);
	assert_int_equal(ev_run_once(f->loop, 100), 1);
	assert_int_equal(log.n, 1);
	assert_true(log.added_id != 0);
	assert_int_equal(ev_run_once(f->loop, 100), 1);
	assert_int_equal(log.n, 2);
	assert_int_equal(log.tags[1], 99);
	assert_true(log.ids[1] == log.added_id);
}

static void on_timer_cancels_other(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct timer_arg *t = arg;
	on_timer(loop, id, arg);
	ev_del_timer(loop, t->log->added_id);
}

static void test_ev_timer_cancelled_by_earlier_timer_in_same_turn_does_not_fire(void **state)
{
	struct fixture *f = *state;
	struct timer_log log = { 0 };
	struct timer_arg first = { &log, 1 }, second = { &log, 2 };
	ev_add_timer(f->loop, 0, on_timer_cancels_other, &first);
	log.added_id = ev_add_timer(f->loop, 0, on_timer, &second);
	assert_int_equal(ev_run_once(f->loop, 100), 1);
	ev_run_once(f->loop, 10);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.tags[0], 1);
}

static void on_timer_stops(struct ev_loop *loop, uint64_t id, void *arg)
{
	on_timer(loop, id, arg);
	ev_stop(loop);
}

static void test_ev_stop_from_callback_ends_ev_run(void **state)
{
	struct fixture *f = *state;
	struct timer_log log = { 0 };
	struct timer_arg a = { &log, 1 };
	ev_add_timer(f->loop, 5, on_timer_stops, &a);
	assert_false(ev_stopped(f->loop));
	ev_run(f->loop);
	assert_int_equal(log.n, 1);
	assert_true(ev_stopped(f->loop));
}

static void test_ev_stop_before_run_returns_at_once(void **state)
{
	struct fixture *f = *state;
	struct timer_log log = { 0 };
	struct timer_arg a = { &log, 1 };
	/* Were ev_run to start, it would wait 10 s for this timer (and with nothing else
	 * watched, block for good after it). Returning in under half that is "at once"
	 * with room for any stall of this process. */
	ev_add_timer(f->loop, 10000, on_timer, &a);
	ev_stop(f->loop);
	assert_true(ev_stopped(f->loop));
	uint64_t start = ev_clock_ms();
	ev_run(f->loop);
	assert_true(ev_clock_ms() - start < 5000);
	assert_int_equal(log.n, 0);
}

static void test_ev_now_starts_near_zero_and_increases(void **state)
{
	struct fixture *f = *state;
	double t0 = ev_now(f->loop);
	assert_true(t0 >= 0.0);
	assert_true(t0 < 1.0);
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	double t1 = ev_now(f->loop);
	assert_true(t1 > t0);
	assert_true(t1 - t0 >= 0.004);
	uint64_t c0 = ev_clock_ms();
	nanosleep(&ts, NULL);
	assert_true(ev_clock_ms() >= c0 + 4);
}

struct defer_record {
	int order[8];
	int n;
	struct ev_loop *loop;
	uint64_t to_cancel;
};

static void on_defer_a(struct ev_loop *loop, void *arg)
{
	(void)loop;
	struct defer_record *r = arg;
	r->order[r->n++] = 1;
}

static void on_defer_b(struct ev_loop *loop, void *arg)
{
	(void)loop;
	struct defer_record *r = arg;
	r->order[r->n++] = 2;
}

static void on_defer_defers(struct ev_loop *loop, void *arg)
{
	struct defer_record *r = arg;
	r->order[r->n++] = 3;
	ev_defer(loop, on_defer_a, r);
}

static void on_defer_cancels(struct ev_loop *loop, void *arg)
{
	struct defer_record *r = arg;
	r->order[r->n++] = 4;
	ev_cancel_defer(loop, r->to_cancel);
}

static void test_ev_deferred_calls_run_next_turn_in_order(void **state)
{
	struct fixture *f = *state;
	struct defer_record r = { 0 };
	ev_defer(f->loop, on_defer_b, &r);
	ev_defer(f->loop, on_defer_a, &r);
	assert_int_equal(r.n, 0); /* never from inside ev_defer */
	assert_int_equal(ev_run_once(f->loop, 1000), 2);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.order[0], 2);
	assert_int_equal(r.order[1], 1);
}

static void test_ev_deferred_call_does_not_block_in_epoll(void **state)
{
	struct fixture *f = *state;
	struct defer_record r = { 0 };
	ev_defer(f->loop, on_defer_a, &r);
	/* A turn with a deferred call must not sleep for max_wait_ms. */
	uint64_t t0 = ev_clock_ms();
	ev_run_once(f->loop, 2000);
	assert_true(ev_clock_ms() - t0 < 1000);
	assert_int_equal(r.n, 1);
}

static void test_ev_call_deferred_from_deferred_call_waits_for_next_turn(void **state)
{
	struct fixture *f = *state;
	struct defer_record r = { 0 };
	ev_defer(f->loop, on_defer_defers, &r);
	ev_run_once(f->loop, 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.order[0], 3);
	ev_run_once(f->loop, 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.order[1], 1);
}

static void test_ev_cancelled_deferred_call_never_runs(void **state)
{
	struct fixture *f = *state;
	struct defer_record r = { 0 };
	ev_defer(f->loop, on_defer_cancels, &r);
	r.to_cancel = ev_defer(f->loop, on_defer_a, &r);
	ev_defer(f->loop, on_defer_b, &r);
	ev_run_once(f->loop, 0);
	ev_run_once(f->loop, 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.order[0], 4);
	assert_int_equal(r.order[1], 2);
	/* The queue's tail survives cancelling its last entry. */
	r.to_cancel = ev_defer(f->loop, on_defer_a, &r);
	ev_cancel_defer(f->loop, r.to_cancel);
	ev_defer(f->loop, on_defer_b, &r);
	ev_run_once(f->loop, 0);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.order[2], 2);
}

struct reuse {
	struct ev_loop *loop;
	int fds[2][2];
	int first_calls;
	int new_fd;
	int new_calls;
};

static void on_reused(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	(void)loop, (void)fd, (void)events;
	struct reuse *u = arg;
	u->new_calls++;
}

/* Whichever pipe is reported first closes the other and opens a new pipe,
 * which gets the closed fd's number, and registers it. */
static void on_first(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	(void)events;
	struct reuse *u = arg;
	if (u->first_calls++)
		return;
	int other = fd == u->fds[0][0] ? u->fds[1][0] : u->fds[0][0];
	ev_del_fd(loop, other);
	close(other);
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(p[0], other);
	u->new_fd = p[0];
	close(p[1]); /* at EOF: readable from the next epoll_wait on */
	assert_int_equal(ev_add_fd(loop, p[0], EPOLLIN, on_reused, u), 0);
}

static void test_ev_fd_reused_within_a_batch_does_not_get_the_old_event(void **state)
{
	struct fixture *f = *state;
	struct reuse u = { .loop = f->loop, .new_fd = -1 };
	assert_int_equal(pipe(u.fds[0]), 0);
	assert_int_equal(pipe(u.fds[1]), 0);
	assert_int_equal(write(u.fds[0][1], "x", 1), 1);
	assert_int_equal(write(u.fds[1][1], "x", 1), 1);
	assert_int_equal(ev_add_fd(f->loop, u.fds[0][0], EPOLLIN, on_first, &u), 0);
	assert_int_equal(ev_add_fd(f->loop, u.fds[1][0], EPOLLIN, on_first, &u), 0);
	ev_run_once(f->loop, 1000);
	assert_int_equal(u.first_calls, 1);
	/* The new pipe's writer is closed, so it is readable (EOF) from now on:
	 * the stale event of the batch must not have been delivered, but the
	 * next turn reports the new pipe for real. */
	assert_int_equal(u.new_calls, 0);
	ev_run_once(f->loop, 1000);
	assert_int_equal(u.new_calls, 1);
	int kept = u.new_fd == u.fds[0][0] ? u.fds[1][0] : u.fds[0][0];
	ev_del_fd(f->loop, kept);
	ev_del_fd(f->loop, u.new_fd);
	close(kept);
	close(u.new_fd);
	close(u.fds[0][1]);
	close(u.fds[1][1]);
}

enum { MANY_FDS = 300 }; /* more than one epoll_wait batch */

struct many {
	int read, read_before_timer;
	bool timer_fired;
};

static void on_one_of_many(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	(void)events;
	struct many *m = arg;
	char b;
	assert_int_equal(read(fd, &b, 1), 1);
	ev_del_fd(loop, fd);
	m->read++;
	if (!m->timer_fired)
		m->read_before_timer++;
}

static void on_many_timer(struct ev_loop *loop, uint64_t timer_id, void *arg)
{
	(void)loop, (void)timer_id;
	((struct many *)arg)->timer_fired = true;
}

static bool many_done(void *arg)
{
	struct many *m = arg;
	return m->timer_fired && m->read == MANY_FDS;
}

/* A timeout that is due must not fire while ready fds wait unread beyond
 * one epoll batch: its answer may be among them (a fleet booting has
 * hundreds of fds ready at once). */
static void test_ev_due_timer_waits_until_every_ready_fd_was_read(void **state)
{
	struct fixture *f = *state;
	static int fds[MANY_FDS][2];
	struct many m = { 0 };
	for (int i = 0; i < MANY_FDS; i++) {
		assert_int_equal(pipe(fds[i]), 0);
		assert_int_equal(write(fds[i][1], "x", 1), 1);
		assert_int_equal(ev_add_fd(f->loop, fds[i][0], EPOLLIN, on_one_of_many, &m), 0);
	}
	ev_add_timer(f->loop, 0, on_many_timer, &m);
	assert_true(run_until(f->loop, many_done, &m, 5000));
	assert_int_equal(m.read_before_timer, MANY_FDS);
	for (int i = 0; i < MANY_FDS; i++) {
		close(fds[i][0]);
		close(fds[i][1]);
	}
}

/* Spins until the thread has used ms of CPU time. */
static void burn_cpu_ms(unsigned ms)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	uint64_t end = (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u + ms * 1000u;
	for (;;) {
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
		if ((uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u >= end)
			return;
	}
}

static uint64_t cpu_ms(struct ev_loop *loop, const char *name)
{
	return ev_component_cpu_us(loop, ev_component(loop, name)) / 1000u;
}

struct charged {
	unsigned burn_ms, then_ms; /* then_ms: burned after switching to "other_part" */
	bool add_timer;
	int calls;
};

static void on_timer_burns(struct ev_loop *loop, uint64_t id, void *arg)
{
	(void)loop;
	(void)id;
	struct charged *c = arg;
	burn_cpu_ms(c->burn_ms);
	c->calls++;
}

static void on_readable_burns(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	(void)events;
	struct charged *c = arg;
	char b;
	assert_int_equal(read(fd, &b, 1), 1);
	burn_cpu_ms(c->burn_ms);
	if (c->then_ms) {
		unsigned was = ev_charge(loop, ev_component(loop, "other_part"));
		burn_cpu_ms(c->then_ms);
		ev_charge(loop, was);
	}
	if (c->add_timer) {
		static struct charged timer;
		timer = (struct charged){ .burn_ms = 30 };
		ev_add_timer(loop, 0, on_timer_burns, &timer);
	}
	c->calls++;
}

static bool charged_done(void *arg)
{
	return ((struct charged *)arg)->calls > 0;
}

/* A callback's CPU time lands on its fd's component, the one quiet beside
 * it in the same turn gets next to nothing, and a timer the callback adds
 * is charged like the callback (the datapath's release timers). */
static void test_ev_cpu_is_charged_to_the_component_that_used_it(void **state)
{
	struct fixture *f = *state;
	int quiet[2];
	assert_int_equal(pipe(quiet), 0);
	struct charged busy = { .burn_ms = 60, .add_timer = true }, idle = { 0 };
	assert_int_equal(ev_add_fd(f->loop, f->pipe_fd[0], EPOLLIN, on_readable_burns, &busy), 0);
	ev_fd_component(f->loop, f->pipe_fd[0], ev_component(f->loop, "busy"));
	assert_int_equal(ev_add_fd(f->loop, quiet[0], EPOLLIN, on_readable_burns, &idle), 0);
	ev_fd_component(f->loop, quiet[0], ev_component(f->loop, "idle"));
	/* Registered again (new events or callback): still charged to "busy". */
	assert_int_equal(ev_add_fd(f->loop, f->pipe_fd[0], EPOLLIN, on_readable_burns, &busy), 0);
	assert_int_equal(write(f->pipe_fd[1], "x", 1), 1);
	assert_int_equal(write(quiet[1], "x", 1), 1);
	assert_true(run_until(f->loop, charged_done, &busy, 5000));
	assert_true(run_until(f->loop, charged_done, &idle, 5000));
	/* 60 ms, or 90 with the timer's 30: the timer is due from the next
	 * whole millisecond, which may come before this turn runs its timers
	 * (4 runs of 200 under load). */
	assert_in_range(cpu_ms(f->loop, "busy"), 55, 105);
	assert_in_range(cpu_ms(f->loop, "idle"), 0, 4);
	/* The timer runs on this turn or a later one, as "busy". */
	for (int i = 0; i < 5; i++)
		assert_true(ev_run_once(f->loop, 10) >= 0);
	assert_in_range(cpu_ms(f->loop, "busy"), 85, 105);
	assert_in_range(cpu_ms(f->loop, "loop"), 0, 4);
	assert_string_equal(ev_component_name(f->loop, 0), "loop");
	close(quiet[0]);
	close(quiet[1]);
}

/* A callback that runs another component's code (the scenario's coroutine
 * resumed from a console callback) charges it there with ev_charge; what it
 * adds meanwhile is charged there too. Outside callbacks, "loop".
 * ev_charge reads the CPU clock, so the callback's two parts are exact even
 * when another process takes the core mid-burn (their wall times then
 * differ: split by wall time, as the loop's own switches are, this test
 * failed 6 runs of 50 in a flake hunt at -j2). The timer, added outside,
 * may share the last segment with the callback's few instructions after
 * switching back, split by wall time: hence first_part's upper bound. */
static void test_ev_charge_moves_the_rest_of_a_callback_to_another_component(void **state)
{
	struct fixture *f = *state;
	struct charged c = { .burn_ms = 25, .then_ms = 25 }, outside = { .burn_ms = 20 };
	assert_int_equal(ev_add_fd(f->loop, f->pipe_fd[0], EPOLLIN, on_readable_burns, &c), 0);
	ev_fd_component(f->loop, f->pipe_fd[0], ev_component(f->loop, "first_part"));
	ev_add_timer(f->loop, 0, on_timer_burns, &outside);
	assert_int_equal(write(f->pipe_fd[1], "x", 1), 1);
	assert_true(run_until(f->loop, charged_done, &c, 5000));
	assert_true(run_until(f->loop, charged_done, &outside, 5000));
	assert_in_range(cpu_ms(f->loop, "first_part"), 20, 35);
	assert_in_range(cpu_ms(f->loop, "other_part"), 20, 32);
	assert_in_range(cpu_ms(f->loop, "loop"), 12, 27);
}

/* Outside the turns (a scenario's first steps, before the loop runs) a
 * switch reads the CPU clock itself: nothing is lost or double-counted. */
static void test_ev_charge_outside_turns_counts_too(void **state)
{
	struct fixture *f = *state;
	unsigned was = ev_charge(f->loop, ev_component(f->loop, "setup"));
	burn_cpu_ms(30);
	assert_int_equal(ev_charge(f->loop, was), ev_component(f->loop, "setup"));
	assert_in_range(cpu_ms(f->loop, "setup"), 29, 40);
	assert_true(ev_run_once(f->loop, 0) >= 0);
	assert_in_range(cpu_ms(f->loop, "setup"), 29, 40);
}

/* Names are components once each; past the table's size they share
 * "other" instead of failing. */
static void test_ev_component_names_are_interned_and_bounded(void **state)
{
	struct fixture *f = *state;
	static char names[EV_COMPONENTS_MAX + 2][8];
	unsigned first = ev_component(f->loop, "console");
	assert_int_equal(ev_component(f->loop, "console"), first);
	assert_int_equal(ev_component(f->loop, "loop"), 0);
	for (int i = 0; i < EV_COMPONENTS_MAX + 2; i++) {
		snprintf(names[i], sizeof(names[i]), "c%d", i);
		assert_in_range(ev_component(f->loop, names[i]), 1, EV_COMPONENTS_MAX - 1);
	}
	assert_int_equal(ev_component_count(f->loop), EV_COMPONENTS_MAX);
	assert_string_equal(ev_component_name(f->loop, EV_COMPONENTS_MAX - 1), "other");
	assert_null(ev_component_name(f->loop, EV_COMPONENTS_MAX));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ev_fd_callback_fires_when_pipe_is_readable),
		T(test_ev_add_fd_rejects_negative_fd),
		T(test_ev_add_fd_again_replaces_callback),
		T(test_ev_del_fd_inside_its_own_callback_stops_further_calls),
		T(test_ev_fd_removed_by_earlier_callback_in_same_turn_does_not_run),
		T(test_ev_timers_fire_in_due_order_not_insertion_order),
		T(test_ev_timers_due_together_fire_in_insertion_order),
		T(test_ev_timer_does_not_fire_before_due),
		T(test_ev_timer_never_fires_before_its_whole_delay),
		T(test_ev_cancelled_timer_never_fires),
		T(test_ev_timer_added_from_timer_callback_waits_for_next_turn),
		T(test_ev_timer_cancelled_by_earlier_timer_in_same_turn_does_not_fire),
		T(test_ev_stop_from_callback_ends_ev_run),
		T(test_ev_stop_before_run_returns_at_once),
		T(test_ev_now_starts_near_zero_and_increases),
		T(test_ev_deferred_calls_run_next_turn_in_order),
		T(test_ev_deferred_call_does_not_block_in_epoll),
		T(test_ev_call_deferred_from_deferred_call_waits_for_next_turn),
		T(test_ev_cancelled_deferred_call_never_runs),
		T(test_ev_fd_reused_within_a_batch_does_not_get_the_old_event),
		T(test_ev_due_timer_waits_until_every_ready_fd_was_read),
		T(test_ev_cpu_is_charged_to_the_component_that_used_it),
		T(test_ev_charge_moves_the_rest_of_a_callback_to_another_component),
		T(test_ev_charge_outside_turns_counts_too),
		T(test_ev_component_names_are_interned_and_bounded),
	};
	return vh_run_tests(tests, NULL, NULL);
}
