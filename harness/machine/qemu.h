/* Starting a QEMU guest without ever waiting (after QEMU's qtest and
 * labgrid): the sockets are bound before QEMU starts, QEMU starts stopped
 * (-S) as a child of the harness (base/child.h: it dies with the harness),
 * and the start completes on the event loop once QEMU has connected its
 * serial console, QMP and, for the user network backend, its NIC socket.
 * The caller then negotiates QMP (qmp.h) and resumes the guest with "cont"
 * once it reads the console, so no boot output is ever missed. */
#ifndef VH_QEMU_H
#define VH_QEMU_H

#include "child.h"
#include "qemu_argv.h"

#include <stddef.h>
#include <stdint.h>

struct ev_loop;
struct qemu_start;

/* A started QEMU. */
struct qemu_proc {
	struct child child; /* pid and pidfd */
	int serial_fd;	    /* connected console, non-blocking */
	int qmp_fd;	    /* connected monitor, non-blocking: hand it to qmp_new */
	int net_fd;	    /* connected -netdev stream socket, or -1 */
	char stderr_path[512];
};

/* Completes a start: p is the started QEMU (copy it; it is valid during the
 * call) and err is NULL; or p is NULL, nothing is left running, and err says
 * why, with QEMU's own last words when it died early. Called from the loop. */
typedef void (*qemu_started_fn)(void *arg, const struct qemu_proc *p, const char *err);

/* Starts QEMU for l, with its stderr in stderr_path, and gives it timeout_ms
 * to connect. Returns the start in progress, or NULL with err when it could
 * not begin (bad launch, a socket name in use, QEMU not executable); fn is
 * then never called. */
struct qemu_start *qemu_start(struct ev_loop *loop, const struct qemu_launch *l,
			      const char *stderr_path, uint64_t timeout_ms, qemu_started_fn fn,
			      void *arg, char *err, size_t errlen);

/* Abandons a start in progress: QEMU is killed and reaped, fn is not called. */
void qemu_start_cancel(struct qemu_start *s);

/* Closes the sockets of a QEMU that has ended (or is being let go): not the
 * pidfd, which child_reap closes. */
void qemu_proc_close_sockets(struct qemu_proc *p);

#endif
