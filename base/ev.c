#include "ev.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

struct ev_fd {
	ev_fd_fn fn;
	void *arg;
	uint32_t events;
	uint32_t generation; /* told apart from an earlier owner of the same fd number */
	unsigned comp;
	bool used;
};

struct ev_timer {
	uint64_t id;
	uint64_t due_ms;
	ev_timer_fn fn;
	void *arg;
	unsigned comp;
	struct ev_timer *next; /* sorted by due_ms, then id: few timers exist at once */
};

struct ev_defer {
	uint64_t id;
	ev_defer_fn fn;
	void *arg;
	unsigned comp;
	struct ev_defer *next;
};

struct ev_loop {
	int epfd;
	struct ev_fd *fds;
	int nfds;
	uint32_t next_generation;
	struct ev_timer *timers;
	int full_batches; /* turns in a row whose epoll_wait filled the batch */
	struct ev_defer *deferred, **deferred_tail; /* FIFO */
	uint64_t next_defer_id;
	uint64_t next_timer_id;
	uint64_t start_us; /* start in microseconds */
	uint64_t busiest_turn_us;
	uint64_t busiest_turn_cpu_us;
	bool stop;
	/* CPU by component: wall time of this part of the turn per component,
	 * the one running and since when. */
	unsigned ncomp, comp;
	uint64_t comp_since_us;
	bool in_part;		 /* inside a part of a turn: split by wall time */
	uint64_t seg_cpu_us;	 /* inside: the CPU clock where this segment began */
	uint64_t outside_cpu_us; /* outside: the thread's CPU clock at the last switch */
	const char *comp_name[EV_COMPONENTS_MAX];
	uint64_t comp_cpu_us[EV_COMPONENTS_MAX], comp_wall_us[EV_COMPONENTS_MAX];
};

static uint64_t clock_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The loop thread's CPU time: a syscall here (1.5 us), read twice a turn
 * and at a callback's own ev_charge. */
static uint64_t cpu_us(void);
static void switch_to(struct ev_loop *loop, unsigned comp);

uint64_t ev_clock_ms(void)
{
	return clock_us() / 1000u;
}

struct ev_loop *ev_loop_new(void)
{
	struct ev_loop *loop = calloc(1, sizeof(*loop));
	if (!loop)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		free(loop);
		return NULL;
	}
	loop->next_timer_id = 1;
	loop->next_defer_id = 1;
	loop->deferred_tail = &loop->deferred;
	loop->start_us = clock_us();
	loop->comp_name[0] = "loop";
	loop->ncomp = 1;
	loop->outside_cpu_us = cpu_us();
	return loop;
}

void ev_loop_free(struct ev_loop *loop)
{
	if (!loop)
		return;
	while (loop->timers) {
		struct ev_timer *t = loop->timers;
		loop->timers = t->next;
		free(t);
	}
	while (loop->deferred) {
		struct ev_defer *d = loop->deferred;
		loop->deferred = d->next;
		free(d);
	}
	close(loop->epfd);
	free(loop->fds);
	free(loop);
}

int ev_add_fd(struct ev_loop *loop, int fd, uint32_t epoll_events, ev_fd_fn fn, void *arg)
{
	if (fd < 0)
		return -EBADF;
	if (fd >= loop->nfds) {
		int n = fd + 16;
		struct ev_fd *grown = realloc(loop->fds, (size_t)n * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		memset(grown + loop->nfds, 0, (size_t)(n - loop->nfds) * sizeof(*grown));
		loop->fds = grown;
		loop->nfds = n;
	}
	/* An fd closed and reused within one batch of ready events must not get
	 * its predecessor's event: the generation travels with the event. */
	uint32_t gen = loop->fds[fd].used ? loop->fds[fd].generation : ++loop->next_generation;
	struct epoll_event ee = { .events = epoll_events,
				  .data.u64 = (uint64_t)gen << 32 | (uint32_t)fd };
	int op = loop->fds[fd].used ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(loop->epfd, op, fd, &ee) < 0)
		return -errno;
	unsigned comp = loop->fds[fd].used ? loop->fds[fd].comp : loop->comp;
	loop->fds[fd] = (struct ev_fd){ .fn = fn,
					.arg = arg,
					.events = epoll_events,
					.generation = gen,
					.comp = comp,
					.used = true };
	return 0;
}

void ev_del_fd(struct ev_loop *loop, int fd)
{
	if (fd < 0 || fd >= loop->nfds || !loop->fds[fd].used)
		return;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	loop->fds[fd].used = false;
}

uint64_t ev_add_timer(struct ev_loop *loop, uint64_t after_ms, ev_timer_fn fn, void *arg)
{
	struct ev_timer *t = calloc(1, sizeof(*t));
	if (!t)
		abort(); /* a lost timer would hang a scenario forever */
	t->id = loop->next_timer_id++;
	/* From the next whole millisecond: the loop compares due_ms with the
	 * truncated clock, so counting from this one could fire up to 1 ms early. */
	t->due_ms = (clock_us() + 999u) / 1000u + after_ms;
	t->fn = fn;
	t->arg = arg;
	t->comp = loop->comp;
	struct ev_timer **p = &loop->timers;
	while (*p && (*p)->due_ms <= t->due_ms)
		p = &(*p)->next;
	t->next = *p;
	*p = t;
	return t->id;
}

void ev_del_timer(struct ev_loop *loop, uint64_t timer_id)
{
	for (struct ev_timer **p = &loop->timers; *p; p = &(*p)->next) {
		if ((*p)->id == timer_id) {
			struct ev_timer *t = *p;
			*p = t->next;
			free(t);
			return;
		}
	}
}

uint64_t ev_defer(struct ev_loop *loop, ev_defer_fn fn, void *arg)
{
	struct ev_defer *d = calloc(1, sizeof(*d));
	if (!d)
		abort(); /* a lost completion would hang a scenario forever */
	d->id = loop->next_defer_id++;
	d->fn = fn;
	d->arg = arg;
	d->comp = loop->comp;
	*loop->deferred_tail = d;
	loop->deferred_tail = &d->next;
	return d->id;
}

void ev_cancel_defer(struct ev_loop *loop, uint64_t defer_id)
{
	for (struct ev_defer **p = &loop->deferred; *p; p = &(*p)->next) {
		if ((*p)->id == defer_id) {
			struct ev_defer *d = *p;
			*p = d->next;
			if (loop->deferred_tail == &d->next)
				loop->deferred_tail = p;
			free(d);
			return;
		}
	}
}

/* Runs the calls deferred before this turn; ones they defer wait a turn. */
static int run_deferred(struct ev_loop *loop)
{
	int ran = 0;
	uint64_t last_id = loop->next_defer_id;
	while (loop->deferred && loop->deferred->id < last_id) {
		struct ev_defer *d = loop->deferred;
		loop->deferred = d->next;
		if (!loop->deferred)
			loop->deferred_tail = &loop->deferred;
		ev_defer_fn fn = d->fn;
		void *arg = d->arg;
		switch_to(loop, d->comp);
		free(d);
		fn(loop, arg);
		ran++;
	}
	return ran;
}

static int run_due_timers(struct ev_loop *loop)
{
	int ran = 0;
	uint64_t now = ev_clock_ms();
	/* Only timers due now run; ones added by callbacks wait for the next turn. */
	uint64_t last_id = loop->next_timer_id;
	while (loop->timers && loop->timers->due_ms <= now && loop->timers->id < last_id) {
		struct ev_timer *t = loop->timers;
		loop->timers = t->next;
		ev_timer_fn fn = t->fn;
		void *arg = t->arg;
		uint64_t id = t->id;
		switch_to(loop, t->comp);
		free(t);
		fn(loop, id, arg);
		ran++;
	}
	return ran;
}

static int turn(struct ev_loop *loop, int max_wait_ms);

int ev_run_once(struct ev_loop *loop, int max_wait_ms)
{
	return turn(loop, max_wait_ms);
}

uint64_t ev_busiest_turn_us(const struct ev_loop *loop)
{
	return loop->busiest_turn_us;
}

static uint64_t cpu_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t ev_busiest_turn_cpu_us(const struct ev_loop *loop)
{
	return loop->busiest_turn_cpu_us;
}

unsigned ev_component(struct ev_loop *loop, const char *name)
{
	for (unsigned i = 0; i < loop->ncomp; i++)
		if (!strcmp(loop->comp_name[i], name))
			return i;
	if (loop->ncomp == EV_COMPONENTS_MAX) {
		loop->comp_name[EV_COMPONENTS_MAX - 1] = "other";
		return EV_COMPONENTS_MAX - 1;
	}
	loop->comp_name[loop->ncomp] = name;
	return loop->ncomp++;
}

void ev_fd_component(struct ev_loop *loop, int fd, unsigned comp)
{
	if (fd >= 0 && fd < loop->nfds && loop->fds[fd].used && comp < loop->ncomp)
		loop->fds[fd].comp = comp;
}

/* Ends a segment of a part at the CPU clock cpu_now: its CPU is split
 * between the components by their wall time in it. */
static void close_segment(struct ev_loop *loop, uint64_t cpu_now)
{
	uint64_t cpu = cpu_now - loop->seg_cpu_us, wall = 0;
	loop->seg_cpu_us = cpu_now;
	for (unsigned i = 0; i < loop->ncomp; i++)
		wall += loop->comp_wall_us[i];
	for (unsigned i = 0; i < loop->ncomp; i++) {
		if (wall)
			loop->comp_cpu_us[i] += cpu * loop->comp_wall_us[i] / wall;
		loop->comp_wall_us[i] = 0;
	}
	if (!wall)
		loop->comp_cpu_us[0] += cpu;
}

/* The loop's own switch at each callback: wall time only, since reading the
 * CPU clock per callback would cost more than the datapath's callbacks. */
static void switch_to(struct ev_loop *loop, unsigned comp)
{
	if (loop->in_part) {
		uint64_t now = clock_us();
		loop->comp_wall_us[loop->comp] += now - loop->comp_since_us;
		loop->comp_since_us = now;
	}
	loop->comp = comp < loop->ncomp ? comp : 0;
}

unsigned ev_charge(struct ev_loop *loop, unsigned comp)
{
	unsigned was = loop->comp;
	if (loop->in_part) {
		/* A callback's own switch (a coroutine resumed, and back) is rare:
		 * reading the CPU clock here makes its split exact, whatever the
		 * scheduler did to the wall times around it. */
		switch_to(loop, was);
		close_segment(loop, cpu_us());
	} else {
		/* Outside the turns (a scenario's first steps, before the loop
		 * runs) no turn measures the CPU: read the clock at each switch. */
		uint64_t now = cpu_us();
		loop->comp_cpu_us[was] += now - loop->outside_cpu_us;
		loop->outside_cpu_us = now;
	}
	loop->comp = comp < loop->ncomp ? comp : 0;
	return was;
}

unsigned ev_component_count(const struct ev_loop *loop)
{
	return loop->ncomp;
}

const char *ev_component_name(const struct ev_loop *loop, unsigned comp)
{
	return comp < loop->ncomp ? loop->comp_name[comp] : NULL;
}

uint64_t ev_component_cpu_us(const struct ev_loop *loop, unsigned comp)
{
	return comp < loop->ncomp ? loop->comp_cpu_us[comp] : 0;
}

/* Starts a part of a turn (the deferred calls, or the fds and timers):
 * the loop's own work until a callback runs. */
static void start_part(struct ev_loop *loop, uint64_t now_us, uint64_t cpu_now_us)
{
	/* What ran between turns (a scenario started before the loop) is not
	 * in this part's CPU time. */
	memset(loop->comp_wall_us, 0, sizeof(loop->comp_wall_us));
	loop->comp = 0;
	loop->comp_since_us = now_us;
	loop->seg_cpu_us = cpu_now_us;
	loop->in_part = true;
}

/* Ends a part: the busiest-turn records, and its CPU split between the
 * components by their share of its wall time. */
static void note_busy(struct ev_loop *loop, uint64_t since_us, uint64_t since_cpu_us)
{
	switch_to(loop, 0);
	loop->in_part = false;
	uint64_t cpu_now = cpu_us();
	uint64_t busy = clock_us() - since_us, cpu = cpu_now - since_cpu_us;
	loop->outside_cpu_us = cpu_now;
	if (busy > loop->busiest_turn_us)
		loop->busiest_turn_us = busy;
	if (cpu > loop->busiest_turn_cpu_us)
		loop->busiest_turn_cpu_us = cpu;
	close_segment(loop, cpu_now);
}

enum { EV_BATCH = 256 };

static int turn(struct ev_loop *loop, int max_wait_ms)
{
	uint64_t t0 = clock_us(), c0 = cpu_us();
	start_part(loop, t0, c0);
	int ran = run_deferred(loop);
	note_busy(loop, t0, c0);
	/* Deferred calls were work: look at fds without sleeping. */
	int wait_ms = ran || loop->deferred ? 0 : max_wait_ms;
	if (loop->timers) {
		uint64_t now = ev_clock_ms();
		int until = loop->timers->due_ms <= now ? 0 : (int)(loop->timers->due_ms - now);
		if (wait_ms < 0 || until < wait_ms)
			wait_ms = until;
	}
	struct epoll_event ready[EV_BATCH];
	int n = epoll_wait(loop->epfd, ready, EV_BATCH, wait_ms);
	if (n < 0) {
		if (errno == EINTR)
			return ran;
		return -errno;
	}
	t0 = clock_us();
	c0 = cpu_us();
	start_part(loop, t0, c0);
	for (int i = 0; i < n; i++) {
		int fd = (int)(uint32_t)ready[i].data.u64;
		uint32_t gen = (uint32_t)(ready[i].data.u64 >> 32);
		/* An earlier callback in this batch may have removed this fd, or
		 * removed it and registered a new file that got the same number. */
		if (fd >= loop->nfds || !loop->fds[fd].used || loop->fds[fd].generation != gen)
			continue;
		struct ev_fd e = loop->fds[fd];
		switch_to(loop, e.comp);
		e.fn(loop, fd, ready[i].events, e.arg);
		ran++;
	}
	/* A full batch may have left ready fds for the next turn: a timeout
	 * run now could fire while its answer waits unread in a socket (100
	 * devices booting have hundreds of fds ready at once). The next turn
	 * does not sleep (the timers are due) and reads the rest first; after
	 * a few full batches in a row the timers run anyway. */
	loop->full_batches = n == EV_BATCH ? loop->full_batches + 1 : 0;
	if (loop->full_batches == 0 || loop->full_batches > 4)
		ran += run_due_timers(loop);
	note_busy(loop, t0, c0);
	return ran;
}

void ev_run(struct ev_loop *loop)
{
	while (!loop->stop)
		if (ev_run_once(loop, -1) < 0)
			break;
}

void ev_stop(struct ev_loop *loop)
{
	loop->stop = true;
}

bool ev_stopped(const struct ev_loop *loop)
{
	return loop->stop;
}

double ev_now(const struct ev_loop *loop)
{
	return (double)(clock_us() - loop->start_us) / 1e6;
}
