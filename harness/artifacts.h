/* Run artifacts: events.jsonl, junit.xml and timestamped serial logs.
 * All writers flush after each record so a crash of the harness leaves a
 * readable file behind. Timestamps are seconds since the run's start on the
 * monotonic clock. */
#ifndef VH_ARTIFACTS_H
#define VH_ARTIFACTS_H

#include <stdio.h>
#include <stddef.h>

/* Creates dir and its parents (mode 0755). Returns 0 or -errno. */
int artifacts_mkdir_p(const char *dir);

/* events.jsonl: one JSON object per line:
 *   {"t":1.234567,"event":"expect","device":"dut","pattern":"...",...}
 * The writer escapes strings per RFC 8259. */
struct event_log;
struct event_log *event_log_open(const char *path, char *err, size_t errlen);
void event_log_close(struct event_log *log);
/* Writes one event. kv is a NULL-terminated list of key, value string pairs;
 * a value that begins with the byte '\x01' is written as a raw JSON number or
 * literal (the byte is skipped), anything else as a JSON string. */
void event_log_write(struct event_log *log, double t, const char *event, const char *const *kv);
/* JSON-escapes s into out (always NUL-terminated); returns the length needed. */
size_t json_escape(const char *s, char *out, size_t outlen);

/* junit.xml for one or more scenarios (testsuite = vharness, one testcase each). */
struct junit_case {
	const char *name;       /* scenario file name */
	const char *classname;  /* "vharness" */
	double seconds;
	int status;             /* 0 pass, 1 failure, 2 error (config), 3 error (harness) */
	const char *message;    /* short reason, may be NULL when passed */
	const char *details;    /* long text (last serial lines), may be NULL */
};
int junit_write(const char *path, const struct junit_case *cases, size_t n, char *err, size_t errlen);
/* XML-escapes s into out; returns the length needed. */
size_t xml_escape(const char *s, char *out, size_t outlen);

/* serial-<device>.log: each complete line prefixed "[   12.345678] ". */
struct serial_log;
struct serial_log *serial_log_open(const char *path, char *err, size_t errlen);
/* Appends a raw chunk; lines are stamped with t at the time their first byte arrived. */
void serial_log_append(struct serial_log *log, double t, const char *chunk, size_t len);
void serial_log_close(struct serial_log *log);

#endif
