/* Run artifacts: events.jsonl, junit.xml and timestamped serial logs.
 * All writers flush after each record so a crash of the harness leaves a
 * readable file behind. Timestamps are seconds since the run's start on the
 * monotonic clock. */
#ifndef VH_ARTIFACTS_H
#define VH_ARTIFACTS_H

#include <stddef.h>
#include <stdio.h>

/* Creates dir and its parents (mode 0755). Returns 0 (also when dir already
 * exists), -ENOTDIR if dir exists but is not a directory, or -errno. */
int artifacts_mkdir_p(const char *dir);

/* In a child about to run: stdout and stderr go to dir/output.log (made
 * anew), so runs at once do not interleave. Nothing changes when the file
 * cannot be made (the output then goes where it went). */
void artifacts_redirect_output(const char *dir);

/* Writes path whole or not at all: put(f, arg) writes into path.tmp, which is
 * renamed over path only when put returned >= 0 and every write and the close
 * succeeded, so a reader (a CI page, a later `vharness report`) sees either
 * the old file or the complete new one. Returns 0, or -1 with a message that
 * names the file in err. */
int artifacts_write_whole(const char *path, int (*put)(FILE *f, const void *arg), const void *arg,
			  char *err, size_t errlen);

/* events.jsonl: one JSON object per line:
 *   {"t":1.234567,"event":"expect","device":"dut","pattern":"...",...}
 * The writer escapes strings per RFC 8259. */
struct event_log;
/* Creates (truncates) path, close-on-exec. NULL and a message in err on
 * failure. The caller owns the log and closes it with event_log_close. */
struct event_log *event_log_open(const char *path, char *err, size_t errlen);
/* Closes the file and frees log; NULL is allowed. */
void event_log_close(struct event_log *log);
/* Writes one event and flushes it. kv is a NULL-terminated list of key, value
 * string pairs; a value that begins with the byte '\x01' is written as a raw
 * JSON number or literal (the byte is skipped) if it is one, and as a string
 * otherwise so that the line stays valid JSON; a NULL value is written as
 * null. A non-finite t is written as null. log == NULL does nothing. */
void event_log_write(struct event_log *log, double t, const char *event, const char *const *kv);
/* JSON-escapes s into out (always NUL-terminated when outlen > 0); returns
 * the length needed, excluding the NUL. Control characters become \b, \f,
 * \n, \r, \t or \u00XX; bytes that are not valid UTF-8 become \ufffd. On
 * truncation out holds whole escapes only. */
size_t json_escape(const char *s, char *out, size_t outlen);

/* junit.xml for one or more scenarios (testsuite = vharness, one testcase each). */
struct junit_case {
	const char *name;      /* scenario file name */
	const char *classname; /* "vharness" */
	double seconds;
	int status;	     /* 0 pass, 1 failure, 2 error (config), 3 error (harness),
			      * 128 + signal: error (cancelled), -1 skipped (not run) */
	const char *message; /* short reason, may be NULL when passed */
	const char *details; /* long text (last serial lines), may be NULL */
};
/* Writes the report to path.tmp and renames it over path, so readers see
 * either the old or the complete new file. Status 1 gives <failure>, 2, 3
 * and 128 + signal (anything else non-zero) give <error type="config"|
 * "harness"|"cancelled">: a cancelled run is neither a pass nor the
 * firmware's failure, and never a skip that a CI page would show green. With
 * details as element text; a passed case with details gets <system-out>.
 * Returns 0 or -errno with a message in err. */
int junit_write(const char *path, const struct junit_case *cases, size_t n, char *err,
		size_t errlen);
/* XML-escapes s into out (always NUL-terminated when outlen > 0) for element
 * text or attribute values; returns the length needed, excluding the NUL.
 * Characters XML 1.0 forbids (C0 controls other than tab, newline and
 * carriage return; U+FFFE, U+FFFF) are dropped; invalid UTF-8 becomes U+FFFD. */
size_t xml_escape(const char *s, char *out, size_t outlen);

/* serial-<device>.log: each complete line prefixed "[   12.345678] ". */
struct serial_log;
/* Creates (truncates) path, close-on-exec. NULL and a message in err on failure. */
struct serial_log *serial_log_open(const char *path, char *err, size_t errlen);
/* Appends a raw chunk; lines are stamped with t at the time their first byte
 * arrived. '\r' and NUL are dropped. Flushed whenever a line completes.
 * log == NULL does nothing. */
void serial_log_append(struct serial_log *log, double t, const char *chunk, size_t len);
/* Terminates an unfinished last line with a newline, closes and frees log;
 * NULL is allowed. */
void serial_log_close(struct serial_log *log);

#endif
