/* The run's private network namespace.
 *
 * sandbox_enter() moves the calling process into a new network namespace
 * (and first a new user namespace, mapping the caller to root, when the
 * caller is not root). Everything created afterwards (bridges, taps, qdiscs,
 * sockets) lives and dies with the process; the host's namespace is never
 * changed. Must be called before any thread is started.
 *
 * It also enters a private mount namespace (mounts propagate in from the host,
 * never out) with a fresh sysfs on /sys: without it /sys/class/net keeps
 * showing the host's interfaces, and a root harness writing a sysfs knob
 * there would change the host. Nothing else is remounted. */
#ifndef VH_SANDBOX_H
#define VH_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

/* Enters the sandbox described above. Returns 0, or -1 with a one-line reason
 * in err (e.g. user namespaces disabled, process already has threads); on -1
 * the process may have entered some of the namespaces already and should exit.
 * Root uses a user namespace too when it lacks CAP_SYS_ADMIN (containers). */
int sandbox_enter(char *err, size_t errlen);

/* True when an unprivileged user can enter the sandbox here (for `doctor`):
 * a forked child, running as the caller or as uid 65534 when the caller is
 * root, does what sandbox_enter() does for non-root. Never changes the caller. */
bool sandbox_userns_available(void);

#endif
