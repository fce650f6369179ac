#include "qemu.h"

#include "ev.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

enum { QEMU_CONNECT_TIMEOUT_MS = 10000, QMP_TIMEOUT_MS = 5000 };

/* Abstract sockets belong to the network namespace and vanish with their
 * last fd: nothing is left on disk when the harness is killed. */
static int listen_abstract(const char *name)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
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

static int pidfd_open_compat(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

const char *qemu_status_describe(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)%s", WTERMSIG(status),
			 strsignal(WTERMSIG(status)), WCOREDUMP(status) ? ", core dumped" : "");
	else
		snprintf(buf, len, "ended with wait status 0x%x", status);
	return buf;
}

void qemu_stderr_tail(const struct qemu_proc *p, char *buf, size_t len, int max_lines)
{
	buf[0] = '\0';
	FILE *f = fopen(p->stderr_path, "r");
	if (!f)
		return;
	char data[8192];
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	long from = size > (long)sizeof(data) - 1 ? size - (long)sizeof(data) + 1 : 0;
	fseek(f, from, SEEK_SET);
	size_t n = fread(data, 1, sizeof(data) - 1, f);
	fclose(f);
	data[n] = '\0';
	while (n > 0 && data[n - 1] == '\n')
		data[--n] = '\0';
	const char *start = data;
	int lines = 0;
	for (size_t i = n; i > 0; i--) {
		if (data[i - 1] == '\n' && ++lines == max_lines) {
			start = data + i;
			break;
		}
	}
	snprintf(buf, len, "%s", start);
}

static void child_exec(const struct qemu_argv *a, const char *stderr_path, pid_t parent)
{
	/* Dies with the harness, however the harness dies. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	/* Out of the terminal's process group: Ctrl-C reaches the harness, which
	 * stops its guests in order, instead of reaching QEMU directly. */
	setpgid(0, 0);
	int null = open("/dev/null", O_RDWR);
	int errfd = open(stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
	}
	if (errfd >= 0)
		dup2(errfd, 2);
	/* Signals the harness blocks (for its signalfd) must not stay blocked in QEMU. */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL); /* the harness ignores it; exec would keep that */
	execvp(a->argv[0], a->argv);
	fprintf(stderr, "cannot execute %s: %s\n", a->argv[0], strerror(errno));
	_exit(127);
}

/* Accepts on listen_fd while watching the child; -1 if the child dies or time runs out. */
static int accept_while_alive(int listen_fd, int pidfd, uint64_t deadline_ms)
{
	for (;;) {
		uint64_t now = ev_clock_ms();
		if (now >= deadline_ms) {
			errno = ETIMEDOUT;
			return -1;
		}
		struct pollfd pfd[2] = { { .fd = listen_fd, .events = POLLIN },
					 { .fd = pidfd, .events = POLLIN } };
		int r = poll(pfd, 2, (int)(deadline_ms - now));
		if (r < 0 && errno != EINTR)
			return -1;
		if (pfd[0].revents & POLLIN)
			return accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (pfd[1].revents & POLLIN) {
			errno = ECHILD;
			return -1;
		}
	}
}

static void describe_early_death(struct qemu_proc *p, const char *what, char *err, size_t errlen)
{
	char tail[1024], st[128];
	int status = qemu_reap(p);
	qemu_stderr_tail(p, tail, sizeof(tail), 5);
	snprintf(err, errlen, "QEMU %s before %s%s%s", qemu_status_describe(status, st, sizeof(st)),
		 what, tail[0] ? ": " : "", tail);
}

int qemu_spawn(const struct qemu_launch *l, const char *stderr_path, struct qemu_proc *p,
	       char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->pidfd = p->serial_fd = p->qmp.fd = p->net_fd = -1;
	snprintf(p->stderr_path, sizeof(p->stderr_path), "%s", stderr_path);

	struct qemu_argv a;
	if (qemu_argv_build(l, &a, err, errlen) < 0)
		return -1;
	int serial_listen = listen_abstract(l->serial_socket);
	int qmp_listen = serial_listen < 0 ? -1 : listen_abstract(l->qmp_socket);
	int net_listen = -1;
	if (qmp_listen >= 0 && l->net_socket && (net_listen = listen_abstract(l->net_socket)) < 0) {
		close(qmp_listen);
		qmp_listen = -1;
	}
	if (serial_listen < 0 || qmp_listen < 0) {
		snprintf(err, errlen, "cannot listen on socket @%s: %s", l->serial_socket, strerror(errno));
		if (serial_listen >= 0)
			close(serial_listen);
		qemu_argv_free(&a);
		return -1;
	}

	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0)
		child_exec(&a, stderr_path, parent);
	qemu_argv_free(&a);
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(serial_listen);
		close(qmp_listen);
		if (net_listen >= 0)
			close(net_listen);
		return -1;
	}
	p->pid = pid;
	p->pidfd = pidfd_open_compat(pid);
	if (p->pidfd < 0) {
		snprintf(err, errlen, "pidfd_open: %s (Linux 5.3 or newer is required)", strerror(errno));
		close(serial_listen);
		close(qmp_listen);
		if (net_listen >= 0)
			close(net_listen);
		qemu_kill(p);
		return -1;
	}

	uint64_t deadline = ev_clock_ms() + QEMU_CONNECT_TIMEOUT_MS;
	p->serial_fd = accept_while_alive(serial_listen, p->pidfd, deadline);
	int qmp_fd = p->serial_fd < 0 ? -1 : accept_while_alive(qmp_listen, p->pidfd, deadline);
	/* QEMU connects its netdev while it initialises, before any guest code. */
	if (qmp_fd >= 0 && net_listen >= 0 &&
	    (p->net_fd = accept_while_alive(net_listen, p->pidfd, deadline)) < 0) {
		close(qmp_fd);
		qmp_fd = -1;
	}
	int accept_errno = errno;
	close(serial_listen);
	close(qmp_listen);
	if (net_listen >= 0)
		close(net_listen);
	if (qmp_fd < 0) {
		if (accept_errno == ECHILD) {
			describe_early_death(p, "connecting its console", err, errlen);
		} else {
			snprintf(err, errlen, "QEMU did not connect its console within %d ms: %s",
				 QEMU_CONNECT_TIMEOUT_MS, strerror(accept_errno));
			qemu_kill(p);
		}
		return -1;
	}
	qmp_init(&p->qmp, qmp_fd);
	if (qmp_handshake(&p->qmp, QMP_TIMEOUT_MS, err, errlen) < 0) {
		qemu_kill(p);
		return -1;
	}
	return 0;
}

int qemu_resume(struct qemu_proc *p, char *err, size_t errlen)
{
	return qmp_command(&p->qmp, "{\"execute\":\"cont\"}", QMP_TIMEOUT_MS, err, errlen);
}

int qemu_reap(struct qemu_proc *p)
{
	int status = 0;
	if (p->pid > 0) {
		while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
			;
		p->pid = 0;
	}
	if (p->pidfd >= 0)
		close(p->pidfd);
	if (p->serial_fd >= 0)
		close(p->serial_fd);
	if (p->qmp.fd >= 0)
		close(p->qmp.fd);
	if (p->net_fd >= 0)
		close(p->net_fd);
	p->pidfd = p->serial_fd = p->qmp.fd = p->net_fd = -1;
	return status;
}

void qemu_kill(struct qemu_proc *p)
{
	if (p->pid > 0) {
		/* pidfd_send_signal would be race-free, but we are QEMU's parent and
		 * have not reaped it, so its pid cannot have been reused. */
		kill(p->pid, SIGKILL);
	}
	qemu_reap(p);
}

void qemu_stop(struct qemu_proc *p, int grace_ms)
{
	if (p->pid <= 0) {
		qemu_reap(p);
		return;
	}
	char err[256];
	if (p->qmp.fd >= 0)
		qmp_command(&p->qmp, "{\"execute\":\"quit\"}", grace_ms, err, sizeof(err));
	struct pollfd pfd = { .fd = p->pidfd, .events = POLLIN };
	if (p->pidfd < 0 || poll(&pfd, 1, grace_ms) <= 0)
		kill(p->pid, SIGKILL);
	qemu_reap(p);
}
