/* agent_event: one event line, one write(). */
#include "agent_event.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define AGENT_EVENT_PREFIX "vh-agent: "

int agent_event(int fd, const char *fmt, ...)
{
	char line[512];
	size_t prefix_len = sizeof(AGENT_EVENT_PREFIX) - 1;
	size_t len;
	va_list ap;
	int n;
	ssize_t w;

	memcpy(line, AGENT_EVENT_PREFIX, prefix_len);
	va_start(ap, fmt);
	/* Leave room for the newline so truncation never produces a line that
	 * runs into whatever the console prints next. */
	n = vsnprintf(line + prefix_len, sizeof(line) - prefix_len - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	len = prefix_len + (size_t)n;
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	do {
		w = write(fd, line, len);
	} while (w < 0 && errno == EINTR);
	return w == (ssize_t)len ? 0 : -1;
}
