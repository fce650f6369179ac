/* The harness's one event loop (after redis' ae): file events, timers and
 * deferred calls on epoll. Single-threaded; callbacks run on the loop's thread
 * and may add or remove any event, including their own.
 *
 * One turn (ev_run_once) runs, in order: the deferred calls queued before the
 * turn began, the fd callbacks that are ready, and the timers that are due.
 * Nothing a callback adds runs in the same turn, so a callback can never be
 * re-entered through something it scheduled. */
#ifndef VH_EV_H
#define VH_EV_H

#include <stdbool.h>
#include <stdint.h>

struct ev_loop;

typedef void (*ev_fd_fn)(struct ev_loop *loop, int fd, uint32_t epoll_events, void *arg);
typedef void (*ev_timer_fn)(struct ev_loop *loop, uint64_t timer_id, void *arg);
typedef void (*ev_defer_fn)(struct ev_loop *loop, void *arg);

/* Creates a loop; its clock starts now. NULL on failure (errno set). */
struct ev_loop *ev_loop_new(void);
/* Frees the loop; registered fds are not closed (their owners close them). */
void ev_loop_free(struct ev_loop *loop);

/* Watches fd for epoll_events (EPOLLIN, ...). One registration per fd;
 * registering a watched fd again replaces its callback. 0 or -errno. */
int ev_add_fd(struct ev_loop *loop, int fd, uint32_t epoll_events, ev_fd_fn fn, void *arg);
/* Stops watching fd. Safe to call from fd's own callback and for unwatched fds. */
void ev_del_fd(struct ev_loop *loop, int fd);

/* Calls fn once, after_ms milliseconds from now. Returns an id (never 0). */
uint64_t ev_add_timer(struct ev_loop *loop, uint64_t after_ms, ev_timer_fn fn, void *arg);
/* Cancels a pending timer; unknown or fired ids are ignored. */
void ev_del_timer(struct ev_loop *loop, uint64_t timer_id);

/* Calls fn once at the start of the next turn, after the calls deferred
 * before it: "later, but before anything else happens". For completing a
 * request from inside the code that started it, so callers always see their
 * callbacks run from the loop. Returns an id (never 0). */
uint64_t ev_defer(struct ev_loop *loop, ev_defer_fn fn, void *arg);
/* Cancels a deferred call that has not run; unknown or ran ids are ignored. */
void ev_cancel_defer(struct ev_loop *loop, uint64_t defer_id);

/* Runs callbacks for events ready within max_wait_ms (-1 = until one is).
 * Returns the number of callbacks run, or -errno. */
int ev_run_once(struct ev_loop *loop, int max_wait_ms);

/* Runs until ev_stop() is called; a stop requested before it starts holds. */
void ev_run(struct ev_loop *loop);
void ev_stop(struct ev_loop *loop);
bool ev_stopped(const struct ev_loop *loop);

/* The longest a turn has spent in callbacks (not waiting) so far, in
 * microseconds: how long the loop was deaf at worst. */
uint64_t ev_busiest_turn_us(const struct ev_loop *loop);
/* The same in CPU time of the loop's thread: what the harness itself spent,
 * whatever else the machine was doing meanwhile. */
uint64_t ev_busiest_turn_cpu_us(const struct ev_loop *loop);

/* CPU by component: what the console reader, the datapath, the update
 * server... each cost the harness, for benches at fleet scale. Each
 * callback is charged to a component: an fd's is the one named for it with
 * ev_fd_component (else the one current when it was first registered); a
 * timer's or deferred call's is the one current when it was added. A turn's
 * CPU time is split between its callbacks by their share of its wall time
 * (the thread CPU clock costs a syscall, the monotonic clock does not).
 * Component 0 is "loop": the loop's own work and whatever is not named. */
enum { EV_COMPONENTS_MAX = 16 };
/* The component called name (a string that outlives the loop), made on first
 * use. Past EV_COMPONENTS_MAX names, new ones share the last ("other"). */
unsigned ev_component(struct ev_loop *loop, const char *name);
/* Charges fd's callbacks to comp from now on, also after fd is registered
 * again. Ignored for unwatched fds. */
void ev_fd_component(struct ev_loop *loop, int fd, unsigned comp);
/* Charges what the running callback does from here on to comp (a callback
 * that runs another component's code: the scenario's coroutines). Returns
 * the component charged until now, to switch back to. Outside the turns (a
 * scenario's first steps, before the loop runs) it reads the CPU clock
 * itself, so that work is charged too. */
unsigned ev_charge(struct ev_loop *loop, unsigned comp);
unsigned ev_component_count(const struct ev_loop *loop);
const char *ev_component_name(const struct ev_loop *loop, unsigned comp);
/* CPU time charged to comp so far, in microseconds. */
uint64_t ev_component_cpu_us(const struct ev_loop *loop, unsigned comp);

/* Seconds since the loop was created, on the monotonic clock. */
double ev_now(const struct ev_loop *loop);
/* Milliseconds on the monotonic clock (absolute). */
uint64_t ev_clock_ms(void);

#endif
