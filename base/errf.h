/* One-line error messages into a caller's buffer, shared by the harness and
 * the agent's libc-only code. */
#ifndef VH_ERRF_H
#define VH_ERRF_H

#include <stddef.h>

/* printf into err (always NUL-terminated); does nothing when err is NULL or
 * errlen is 0, so callers may pass (NULL, 0) when they do not care why. */
void errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
