/* QEMU process supervision (after QEMU's qtest and labgrid): sockets are
 * bound before QEMU starts, QEMU starts stopped (-S) with PDEATHSIG so it
 * cannot outlive the harness, and it is resumed only once the serial console
 * is connected. */
#ifndef VH_QEMU_H
#define VH_QEMU_H

#include "qemu_argv.h"
#include "qmp.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct qemu_proc {
	pid_t pid;      /* 0 when not running */
	int pidfd;      /* readable when the process exits */
	int serial_fd;  /* connected console, non-blocking */
	int net_fd;     /* connected -netdev stream socket, or -1; the caller takes it */
	struct qmp qmp; /* connected monitor, non-blocking */
	char stderr_path[512];
};

/* Starts QEMU for l, waits (bounded) until it has connected its serial and
 * QMP sockets and QMP is negotiated; the guest is still stopped. QEMU's
 * stderr goes to stderr_path. On failure nothing is left running and err
 * holds QEMU's own last words when it died early. */
int qemu_spawn(const struct qemu_launch *l, const char *stderr_path, struct qemu_proc *p,
	       char *err, size_t errlen);

/* Resumes the stopped guest (QMP cont). */
int qemu_resume(struct qemu_proc *p, char *err, size_t errlen);

/* Power cut: SIGKILL now, no flush and no shutdown, then reaps. Idempotent. */
void qemu_kill(struct qemu_proc *p);

/* Asks QEMU to quit over QMP, waits up to grace_ms, then SIGKILLs. Reaps. */
void qemu_stop(struct qemu_proc *p, int grace_ms);

/* After pidfd became readable: reaps and closes everything. Returns the
 * wait status (as from waitpid). */
int qemu_reap(struct qemu_proc *p);

/* Describes a wait status: "exited with status 1", "killed by signal 9 (core dumped)". */
const char *qemu_status_describe(int status, char *buf, size_t len);

/* Copies the last max_lines lines of QEMU's stderr file into buf ("" if none). */
void qemu_stderr_tail(const struct qemu_proc *p, char *buf, size_t len, int max_lines);

#endif
