/* agent_event: the agent's serial event lines ("vh-agent: <event> k=v ...",
 * DESIGN.md section 5). Each line leaves in one write() so that lines from
 * the agent, the kernel and the shell never interleave inside a line. */
#ifndef VH_AGENT_EVENT_H
#define VH_AGENT_EVENT_H

/* Formats "vh-agent: " + fmt + "\n" and writes it to fd with a single write()
 * (retried on EINTR). Lines longer than 511 bytes are truncated, keeping the
 * newline. Returns 0, or -1 when the write failed; the caller carries on
 * either way, since a lost console must not stop the agent. */
int agent_event(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
