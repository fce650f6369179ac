/* Work off the loop: see work.h. */
#include "work.h"

#include "ev.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct work {
	struct ev_loop *loop;
	pthread_t thread;
	int efd; /* written when fn has returned */
	void (*fn)(void *arg);
	void (*done)(void *arg);
	void *arg;
};

static void *work_main(void *p)
{
	struct work *w = p;
	w->fn(w->arg);
	uint64_t one = 1;
	ssize_t ignored = write(w->efd, &one, sizeof(one));
	(void)ignored;
	return NULL;
}

static void finish(struct work *w)
{
	ev_del_fd(w->loop, w->efd);
	pthread_join(w->thread, NULL);
	close(w->efd);
}

static void on_done(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	(void)loop, (void)fd, (void)events;
	struct work *w = arg;
	void (*done)(void *) = w->done;
	void *done_arg = w->arg;
	finish(w);
	free(w);
	done(done_arg);
}

struct work *work_start(struct ev_loop *loop, void (*fn)(void *arg), void (*done)(void *arg),
			void *arg)
{
	struct work *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	*w = (struct work){ .loop = loop, .fn = fn, .done = done, .arg = arg };
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->efd < 0) {
		free(w);
		return NULL;
	}
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int r = pthread_create(&w->thread, NULL, work_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		close(w->efd);
		free(w);
		return NULL;
	}
	ev_add_fd(loop, w->efd, EPOLLIN, on_done, w);
	return w;
}

void work_cancel(struct work *w)
{
	if (!w)
		return;
	finish(w);
	free(w);
}
