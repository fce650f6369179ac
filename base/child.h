/* Child processes of the harness: the one way the harness starts a program
 * (QEMU, tc, the KVM probe) or a forked helper (doctor's namespace probe).
 *
 * Every child, after QEMU's qtest:
 *   - dies with the harness however the harness dies (PR_SET_PDEATHSIG
 *     SIGKILL, checked against the parent's pid, so a parent that died
 *     between fork and prctl is noticed);
 *   - starts with no signal blocked and SIGPIPE at its default, whatever the
 *     harness blocks or ignores for itself;
 *   - reads /dev/null and writes where the spec says (else /dev/null);
 *   - gets a pidfd in the parent, so its end is an event on the loop.
 * A program that cannot be executed is reported by child_spawn itself (the
 * exec error travels back over a close-on-exec pipe), not as a mysterious
 * exit status 127 later. */
#ifndef VH_CHILD_H
#define VH_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct child_spec {
	/* The program: argv (NULL-terminated, argv[0] looked up on PATH), or
	 * fn run in the forked child, whose return value is its exit status. */
	const char *const *argv;
	int (*fn)(void *arg);
	void *arg;
	int stdout_fd;		 /* duplicated onto 1; -1: /dev/null */
	int stderr_fd;		 /* duplicated onto 2; -1: /dev/null */
	const char *stderr_path; /* if set, 2 goes to this file (created, truncated) */
	/* Its own process group: a terminal's Ctrl-C then reaches only the
	 * harness, which stops its children in order. */
	bool own_process_group;
	/* Added to the child's niceness (0: the parent's). */
	int nice;
};

struct child {
	pid_t pid; /* 0 once reaped */
	int pidfd; /* readable when the child has ended; -1 once reaped */
};

/* Starts the child. Returns 0 with *c filled, or -1 with a one-line reason in
 * err (fork failed, the program cannot be executed, no pidfd) and nothing
 * left running. The caller owns *c until child_reap says it has ended. */
int child_spawn(const struct child_spec *spec, struct child *c, char *err, size_t errlen);

/* Sends SIGKILL now; the child is still to be reaped. Idempotent, and safe
 * on a child already reaped. */
void child_kill(struct child *c);

/* Sends sig now (e.g. SIGTERM for a graceful end). */
void child_signal(struct child *c, int sig);

/* Reaps the child if it has ended, without waiting: returns true with its
 * wait status in *status, closing the pidfd; false while it runs. */
bool child_reap(struct child *c, int *status);

/* Waits up to timeout_ms for the child to end, then SIGKILLs it and waits
 * for that. Returns the wait status; *timed_out (may be NULL) says whether
 * it had to be killed. For the harness's own short-lived helpers, never on
 * the event loop's path while guests run. */
int child_wait(struct child *c, int timeout_ms, bool *timed_out);

/* Runs spec to completion within timeout_ms, collecting what it writes to
 * stdout and stderr (both; spec's own stdout/stderr are ignored) into out
 * (NUL-terminated, truncated to outlen - 1). Returns its wait status, or -1
 * with err when it could not be started. *timed_out as for child_wait. */
int child_run(const struct child_spec *spec, int timeout_ms, char *out, size_t outlen,
	      bool *timed_out, char *err, size_t errlen);

/* Describes a wait status: "exited with status 1", "killed by signal 9
 * (Killed), core dumped". Returns buf. */
const char *child_status_text(int status, char *buf, size_t len);

/* True when the status is a normal exit with status 0. */
bool child_status_ok(int status);

/* The last max_lines lines of the file at path (a child's stderr) into buf,
 * "" when there is none. Trailing newlines are dropped. */
void child_file_tail(const char *path, char *buf, size_t len, int max_lines);

#endif
