/* Work off the loop: a function that reads, hashes or copies files for
 * longer than a loop turn may take (a firmware slot, a bundle) runs on a
 * thread of its own, and its completion runs on the loop. The function must
 * touch nothing but what it is given and files: no loop, no Lua, no other
 * object of the run. One thread per job, started and joined: jobs are few
 * (a boot, a publish) and each takes milliseconds to a second. */
#ifndef VH_WORK_H
#define VH_WORK_H

#include <stdbool.h>

struct ev_loop;
struct work;

/* Runs fn(arg) on a new thread (with every signal blocked, so signals stay
 * with the loop's thread), then done(arg) on the loop. NULL when no thread
 * could be started (done is then never called). */
struct work *work_start(struct ev_loop *loop, void (*fn)(void *arg), void (*done)(void *arg),
			void *arg);

/* Waits for fn to return and frees the job without calling done: for an
 * owner that goes away while its job runs. NULL is ignored. */
void work_cancel(struct work *w);

#endif
