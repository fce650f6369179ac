/* The run's private network namespace.
 *
 * sandbox_enter() moves the calling process into a new network namespace
 * (and first a new user namespace, mapping the caller to root, when the
 * caller is not root). Everything created afterwards (bridges, taps, qdiscs,
 * sockets) lives and dies with the process; the host's namespace is never
 * changed. Must be called before any thread is started. */
#ifndef VH_SANDBOX_H
#define VH_SANDBOX_H

#include <stddef.h>
#include <stdbool.h>

/* Returns 0, or -1 with a one-line reason in err (e.g. user namespaces disabled). */
int sandbox_enter(char *err, size_t errlen);

/* True when unprivileged user namespaces can be created here (for `doctor`);
 * tests in a child process, never changes the caller. */
bool sandbox_userns_available(void);

#endif
