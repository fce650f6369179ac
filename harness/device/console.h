/* A device's serial console: read the instant data arrives (QEMU writes a
 * byte at a time and stalls the guest when its socket fills, FACTS.md),
 * logged with the harness's receive time, kept for expects, and watched
 * line by line. Writes are buffered and never block. It outlives each boot:
 * text received before a reboot stays for expects that come after it.
 *
 * Waits:
 *   CONSOLE_EXPECT      consumes the text up to its match; a match that ends
 *                       at the end of an unfinished line counts only once
 *                       the console has been quiet for CONSOLE_QUIET_MS (so
 *                       "ip=(%S+)" never captures half an address, and a
 *                       prompt still matches). fn(ok=true, line) on a match,
 *                       fn(false, reason) on timeout or console_fail_waits.
 *   CONSOLE_EXPECT_NOT  watches complete lines; fn(false, line) when one
 *                       matches, fn(true, NULL) when the time is up.
 *   CONSOLE_WATCH       watches complete lines; fn(true, line) on the first
 *                       match, fn(false, reason) on timeout or failure.
 *   CONSOLE_MARK        watches complete lines for as long as the console
 *                       lives: fn(true, line) on every match, never a
 *                       timeout (timeout_ms is ignored) nor a failure; it
 *                       ends with console_wait_cancel or console_free.
 * fn is called from the console's event handling or a timer: it must not
 * free the console, and may start new waits (they see only newer text). A
 * wait's fn may detach the console (a power cut on a line): the rest of the
 * chunk that carried the line is then dropped unlogged, as the cut came first. */
#ifndef VH_CONSOLE_H
#define VH_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ev_loop;
struct console;
struct console_wait;

/* QEMU writes a line byte by byte, microseconds apart; a pause this long
 * means the line (a prompt, say) is as long as it is going to get. */
#define CONSOLE_QUIET_MS 25
/* Lines kept for failure reports. */
#define CONSOLE_LAST_LINES 20

enum console_wait_kind { CONSOLE_EXPECT, CONSOLE_EXPECT_NOT, CONSOLE_WATCH, CONSOLE_MARK };

/* How a wait recognises its text: true with *end just past the match in
 * s[0..len) (s[len] is '\n' for a complete line, '\0' for the unfinished
 * tail). */
struct console_matcher {
	bool (*match)(void *ctx, const char *s, size_t len, size_t *end);
	void (*free)(void *ctx); /* may be NULL */
	void *ctx;
};

typedef void (*console_wait_fn)(void *arg, bool ok, const char *text);
typedef void (*console_done_fn)(void *arg, bool ok, const char *err);

/* log_path: serial-<device>.log (NULL: no log); echo_fd >= 0 copies the raw
 * console there (-v). NULL with err when the log cannot be created. */
struct console *console_new(struct ev_loop *loop, const char *log_path, int echo_fd, char *err,
			    size_t errlen);
/* Frees everything; waits are dropped without their callbacks. The fd is
 * not closed (its owner closes it). NULL is ignored. */
void console_free(struct console *c);

/* Starts reading fd (connected, non-blocking) on the loop. */
void console_attach(struct console *c, int fd);
/* Stops using the fd (its owner may close it then) and fails pending
 * writes. drain: first read what the fd still holds (QEMU's last words);
 * not after a power cut, whose instant comes before anything unread. */
void console_detach(struct console *c, bool drain);

/* Queues text for the console; never blocks. While no fd is attached (a
 * reboot in progress) it waits for the next one. done (may be NULL) is
 * called from the loop once all of it was written, or with the reason it
 * could not be (the console was detached, nothing written for timeout_ms). */
void console_write(struct console *c, const char *text, size_t len, uint64_t timeout_ms,
		   console_done_fn done, void *arg);

/* Starts a wait (see above); takes the matcher (freed with the wait).
 * timeout_ms 0 is allowed (ends on the next turn). */
struct console_wait *console_wait(struct console *c, enum console_wait_kind kind,
				  struct console_matcher m, uint64_t timeout_ms, console_wait_fn fn,
				  void *arg);
/* Drops a wait without calling it. */
void console_wait_cancel(struct console_wait *w);

/* Tries an expect against the text already received, now: true with the
 * matching line (truncated to cap - 1) and the text consumed up to the
 * match. m stays the caller's. */
bool console_expect_now(struct console *c, struct console_matcher *m, char *line, size_t cap);

/* Ends every wait of the given kinds with fn(false, why): the device lost
 * power, say, so the text they wait for cannot come. */
void console_fail_waits(struct console *c, bool expects, bool watches, const char *why);

/* The last lines received (up to CONSOLE_LAST_LINES), each indented by two
 * spaces and ending in '\n'; malloc'd, the caller frees. */
char *console_last_lines(const struct console *c);

/* Bytes received so far. */
uint64_t console_bytes(const struct console *c);

/* fn(arg, line) for every complete line received (NUL-terminated, no
 * newline), before the line watchers see it: for live progress, which
 * must see a line even when a watcher cuts the power on it. fn must not
 * start or end waits. fn NULL: none. */
void console_on_line(struct console *c, void (*fn)(void *arg, const char *line), void *arg);

#endif
