/* Child processes: see child.h. */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Only async-signal-safe calls from here on: the parent may have threads. */
static void report_and_exit(int report_fd, int err)
{
	ssize_t ignored = write(report_fd, &err, sizeof(err));
	(void)ignored;
	_exit(127);
}

static void move_fd(int from, int to, int report_fd)
{
	if (from == to) {
		/* Already in place: only make sure exec keeps it. */
		int flags = fcntl(to, F_GETFD);
		if (flags < 0 || fcntl(to, F_SETFD, flags & ~FD_CLOEXEC) < 0)
			report_and_exit(report_fd, errno);
		return;
	}
	if (dup2(from, to) < 0)
		report_and_exit(report_fd, errno);
}

static void in_child(const struct child_spec *spec, pid_t parent, int report_fd)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127); /* the harness died before prctl took effect */
	if (spec->own_process_group)
		setpgid(0, 0);
	if (spec->nice) {
		int ignored = nice(spec->nice); /* at the limit it is all one can do */
		(void)ignored;
	}
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL); /* the harness ignores it; exec would keep that */

	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		report_and_exit(report_fd, errno);
	int out = spec->stdout_fd >= 0 ? spec->stdout_fd : null;
	int errfd = spec->stderr_fd >= 0 ? spec->stderr_fd : null;
	if (spec->stderr_path) {
		errfd = open(spec->stderr_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (errfd < 0)
			report_and_exit(report_fd, errno);
	}
	/* stdout before stderr: errfd may be the same fd as out. */
	move_fd(null, 0, report_fd);
	move_fd(out, 1, report_fd);
	move_fd(errfd, 2, report_fd);

	if (spec->fn) {
		close(report_fd); /* nothing to exec: tell the parent all is well */
		_exit(spec->fn(spec->arg));
	}
	execvp(spec->argv[0], (char *const *)spec->argv);
	report_and_exit(report_fd, errno);
}

int child_spawn(const struct child_spec *spec, struct child *c, char *err, size_t errlen)
{
	c->pid = 0;
	c->pidfd = -1;
	const char *what = spec->fn ? "a helper process" : spec->argv[0];
	int report[2];
	if (pipe2(report, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "cannot start %s: pipe: %s", what, strerror(errno));
		return -1;
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		close(report[0]);
		in_child(spec, parent, report[1]);
	}
	close(report[1]);
	if (pid < 0) {
		snprintf(err, errlen, "cannot start %s: fork: %s", what, strerror(errno));
		close(report[0]);
		return -1;
	}
	c->pid = pid;
	/* The pipe closes at exec (or when fn starts); an errno arrives first
	 * when the child could not get that far. */
	int child_errno = 0;
	ssize_t n;
	while ((n = read(report[0], &child_errno, sizeof(child_errno))) < 0 && errno == EINTR)
		;
	close(report[0]);
	if (n == (ssize_t)sizeof(child_errno)) {
		snprintf(err, errlen, "cannot execute %s: %s", what, strerror(child_errno));
		child_wait(c, 1000, NULL);
		return -1;
	}
	c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (c->pidfd < 0) {
		snprintf(err, errlen, "pidfd_open: %s (Linux 5.3 or newer is required)",
			 strerror(errno));
		child_kill(c);
		child_wait(c, 1000, NULL);
		return -1;
	}
	fcntl(c->pidfd, F_SETFD, FD_CLOEXEC);
	return 0;
}

void child_signal(struct child *c, int sig)
{
	/* We are its parent and have not reaped it, so the pid cannot have been
	 * reused by another process. */
	if (c->pid > 0)
		kill(c->pid, sig);
}

void child_kill(struct child *c)
{
	child_signal(c, SIGKILL);
}

static void reaped(struct child *c)
{
	c->pid = 0;
	if (c->pidfd >= 0)
		close(c->pidfd);
	c->pidfd = -1;
}

bool child_reap(struct child *c, int *status)
{
	if (c->pid <= 0) {
		*status = 0;
		return true;
	}
	pid_t r;
	while ((r = waitpid(c->pid, status, WNOHANG)) < 0 && errno == EINTR)
		;
	if (r == 0)
		return false;
	if (r < 0)
		*status = 0; /* not ours to wait for (reaped elsewhere): gone all the same */
	reaped(c);
	return true;
}

int child_wait(struct child *c, int timeout_ms, bool *timed_out)
{
	int status = 0;
	if (timed_out)
		*timed_out = false;
	uint64_t deadline = now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	while (!child_reap(c, &status)) {
		uint64_t now = now_ms();
		if (now >= deadline) {
			if (timed_out)
				*timed_out = true;
			child_kill(c);
			while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
				;
			reaped(c);
			break;
		}
		struct pollfd pfd = { .fd = c->pidfd, .events = POLLIN };
		if (c->pidfd < 0) {
			struct timespec nap = { 0, 5 * 1000 * 1000 };
			nanosleep(&nap, NULL);
		} else {
			poll(&pfd, 1, (int)(deadline - now));
		}
	}
	return status;
}

int child_run(const struct child_spec *spec, int timeout_ms, char *out, size_t outlen,
	      bool *timed_out, char *err, size_t errlen)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	struct child_spec s = *spec;
	s.stdout_fd = s.stderr_fd = pipefd[1];
	s.stderr_path = NULL;
	struct child c;
	if (child_spawn(&s, &c, err, errlen) < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	close(pipefd[1]);
	size_t used = 0;
	if (outlen)
		out[0] = '\0';
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		uint64_t now = now_ms();
		if (now >= deadline)
			break;
		struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
		int r = poll(&pfd, 1, (int)(deadline - now));
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		char buf[1024];
		ssize_t n = read(pipefd[0], buf, sizeof(buf));
		if (n == 0)
			break; /* every writer is gone: the child ended or closed its output */
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			break;
		}
		size_t keep = outlen > used + 1 ? outlen - used - 1 : 0;
		if (keep > (size_t)n)
			keep = (size_t)n;
		memcpy(out + used, buf, keep);
		used += keep;
		if (outlen)
			out[used] = '\0';
	}
	close(pipefd[0]);
	uint64_t now = now_ms();
	return child_wait(&c, now < deadline ? (int)(deadline - now) : 0, timed_out);
}

const char *child_status_text(int status, char *buf, size_t len)
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

bool child_status_ok(int status)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

void child_file_tail(const char *path, char *buf, size_t len, int max_lines)
{
	if (!len)
		return;
	buf[0] = '\0';
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	char data[8192];
	off_t size = lseek(fd, 0, SEEK_END);
	off_t from = size > (off_t)sizeof(data) - 1 ? size - (off_t)sizeof(data) + 1 : 0;
	ssize_t n = pread(fd, data, sizeof(data) - 1, from);
	close(fd);
	if (n <= 0)
		return;
	data[n] = '\0';
	while (n > 0 && data[n - 1] == '\n')
		data[--n] = '\0';
	const char *start = data;
	int lines = 0;
	for (ssize_t i = n; i > 0; i--) {
		if (data[i - 1] == '\n' && ++lines == max_lines) {
			start = data + i;
			break;
		}
	}
	snprintf(buf, len, "%s", start);
}
