/* Starting QEMU on the event loop: see qemu.h. */
#include "qemu.h"

#include "ev.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

enum { SOCK_SERIAL, SOCK_QMP, SOCK_NET, N_SOCKS };
/* How far below the harness QEMU runs (the weight ratio is about 3:1). */
enum { QEMU_NICE = 5 };
static const char *const sock_names[N_SOCKS] = { "console", "QMP socket", "network socket" };

struct qemu_start {
	struct ev_loop *loop;
	struct qemu_proc proc;
	int listen_fd[N_SOCKS]; /* -1 once accepted (or not wanted) */
	int *conn_fd[N_SOCKS];	/* where each accepted socket goes in proc */
	uint64_t timeout_ms;
	uint64_t timer;
	uint64_t defer;
	char why[1024];
	qemu_started_fn fn;
	void *arg;
};

/* Abstract sockets belong to the network namespace and vanish with their
 * last fd: nothing is left on disk when the harness is killed. */
static int listen_abstract(const char *name)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(name);
	if (n + 1 > sizeof(sa.sun_path)) {
		close(fd);
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path + 1, name, n);
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
	if (bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, 1) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

void qemu_proc_close_sockets(struct qemu_proc *p)
{
	int *fds[] = { &p->serial_fd, &p->qmp_fd, &p->net_fd };
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

static void close_listeners(struct qemu_start *s)
{
	for (int i = 0; i < N_SOCKS; i++) {
		if (s->listen_fd[i] >= 0) {
			ev_del_fd(s->loop, s->listen_fd[i]);
			close(s->listen_fd[i]);
			s->listen_fd[i] = -1;
		}
	}
}

/* Stops watching and lets go of everything but proc's sockets and child. */
static void stop_watching(struct qemu_start *s)
{
	close_listeners(s);
	if (s->proc.child.pidfd >= 0)
		ev_del_fd(s->loop, s->proc.child.pidfd);
	if (s->timer)
		ev_del_timer(s->loop, s->timer);
	if (s->defer)
		ev_cancel_defer(s->loop, s->defer);
	s->timer = s->defer = 0;
}

static void kill_and_reap(struct qemu_start *s)
{
	child_kill(&s->proc.child);
	child_wait(&s->proc.child, 2000, NULL); /* SIGKILLed: gone in milliseconds */
	qemu_proc_close_sockets(&s->proc);
}

static void finish(struct qemu_start *s, bool ok)
{
	stop_watching(s);
	qemu_started_fn fn = s->fn;
	void *arg = s->arg;
	if (ok) {
		struct qemu_proc p = s->proc;
		free(s);
		fn(arg, &p, NULL);
		return;
	}
	char why[sizeof(s->why)];
	snprintf(why, sizeof(why), "%s", s->why);
	free(s);
	fn(arg, NULL, why);
}

/* QEMU ended before it connected: its stderr says why. */
static void on_early_exit(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	(void)loop, (void)fd, (void)events;
	struct qemu_start *s = arg;
	int status = 0;
	/* Unwatched before the reap closes it: the number may be reused at once. */
	ev_del_fd(s->loop, fd);
	if (!child_reap(&s->proc.child, &status)) {
		ev_add_fd(s->loop, fd, EPOLLIN, on_early_exit, s);
		return;
	}
	qemu_proc_close_sockets(&s->proc);
	const char *what = "connecting its console";
	for (int i = 0; i < N_SOCKS; i++) {
		if (s->listen_fd[i] >= 0) {
			what = sock_names[i];
			break;
		}
	}
	char st[128], tail[800];
	child_file_tail(s->proc.stderr_path, tail, sizeof(tail), 5);
	snprintf(s->why, sizeof(s->why), "QEMU %s before connecting its %s%s%s",
		 child_status_text(status, st, sizeof(st)), what, tail[0] ? ": " : "", tail);
	finish(s, false);
}

static void on_start_timeout(struct ev_loop *loop, uint64_t id, void *arg)
{
	(void)loop, (void)id;
	struct qemu_start *s = arg;
	s->timer = 0;
	const char *what = "console";
	for (int i = 0; i < N_SOCKS; i++) {
		if (s->listen_fd[i] >= 0) {
			what = sock_names[i];
			break;
		}
	}
	char tail[600];
	child_file_tail(s->proc.stderr_path, tail, sizeof(tail), 3);
	snprintf(s->why, sizeof(s->why), "QEMU did not connect its %s within %llu ms%s%s", what,
		 (unsigned long long)s->timeout_ms, tail[0] ? ": " : "", tail);
	stop_watching(s);
	kill_and_reap(s);
	finish(s, false);
}

static bool all_connected(const struct qemu_start *s)
{
	for (int i = 0; i < N_SOCKS; i++)
		if (s->listen_fd[i] >= 0)
			return false;
	return true;
}

static void on_connect(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	(void)events;
	struct qemu_start *s = arg;
	int i = 0;
	while (i < N_SOCKS && s->listen_fd[i] != fd)
		i++;
	if (i == N_SOCKS)
		return;
	int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (conn < 0)
		return; /* spurious wakeup; EAGAIN: wait for the next one */
	*s->conn_fd[i] = conn;
	ev_del_fd(loop, fd);
	close(fd);
	s->listen_fd[i] = -1;
	if (all_connected(s))
		finish(s, true);
}

struct qemu_start *qemu_start(struct ev_loop *loop, const struct qemu_launch *l,
			      const char *stderr_path, uint64_t timeout_ms, qemu_started_fn fn,
			      void *arg, char *err, size_t errlen)
{
	struct qemu_argv a;
	if (qemu_argv_build(l, &a, err, errlen) < 0)
		return NULL;
	struct qemu_start *s = calloc(1, sizeof(*s));
	if (!s)
		abort();
	s->loop = loop;
	s->fn = fn;
	s->arg = arg;
	s->timeout_ms = timeout_ms;
	s->proc.serial_fd = s->proc.qmp_fd = s->proc.net_fd = -1;
	s->proc.child.pidfd = -1;
	snprintf(s->proc.stderr_path, sizeof(s->proc.stderr_path), "%s", stderr_path);
	s->conn_fd[SOCK_SERIAL] = &s->proc.serial_fd;
	s->conn_fd[SOCK_QMP] = &s->proc.qmp_fd;
	s->conn_fd[SOCK_NET] = &s->proc.net_fd;
	const char *names[N_SOCKS] = { l->serial_socket, l->qmp_socket, l->net_socket };
	for (int i = 0; i < N_SOCKS; i++) {
		s->listen_fd[i] = -1;
		if (!names[i])
			continue;
		s->listen_fd[i] = listen_abstract(names[i]);
		if (s->listen_fd[i] < 0) {
			snprintf(err, errlen, "cannot listen on socket @%s: %s", names[i],
				 strerror(errno));
			close_listeners(s);
			qemu_argv_free(&a);
			free(s);
			return NULL;
		}
	}
	struct child_spec spec = {
		.argv = (const char *const *)a.argv,
		.stdout_fd = -1,
		.stderr_fd = -1,
		.stderr_path = stderr_path,
		/* Ctrl-C reaches the harness, which stops its guests in order,
		 * instead of reaching QEMU directly. */
		.own_process_group = true,
		/* Below the harness: with many guests booting, the harness's loop
		 * (QMP replies, consoles, the datapath) must not wait for a core
		 * behind them, or its timeouts fire for answers it has not read. */
		.nice = QEMU_NICE,
	};
	int r = child_spawn(&spec, &s->proc.child, err, errlen);
	qemu_argv_free(&a);
	if (r < 0) {
		close_listeners(s);
		free(s);
		return NULL;
	}
	for (int i = 0; i < N_SOCKS; i++)
		if (s->listen_fd[i] >= 0)
			ev_add_fd(loop, s->listen_fd[i], EPOLLIN, on_connect, s);
	ev_add_fd(loop, s->proc.child.pidfd, EPOLLIN, on_early_exit, s);
	unsigned qemu = ev_component(loop, "qemu");
	for (int i = 0; i < N_SOCKS; i++)
		ev_fd_component(loop, s->listen_fd[i], qemu);
	ev_fd_component(loop, s->proc.child.pidfd, qemu);
	s->timer = ev_add_timer(loop, timeout_ms, on_start_timeout, s);
	return s;
}

void qemu_start_cancel(struct qemu_start *s)
{
	if (!s)
		return;
	stop_watching(s);
	kill_and_reap(s);
	free(s);
}
