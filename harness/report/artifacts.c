/* Run artifacts: see artifacts.h for the contract. */
#include "artifacts.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void artifacts_set_err(char *err, size_t errlen, const char *what, const char *path, int e)
{
	if (err && errlen > 0)
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(e));
}

int artifacts_mkdir_p(const char *dir)
{
	size_t len = dir ? strlen(dir) : 0;
	char *buf;
	size_t i;
	struct stat st;
	int rc = 0;

	if (len == 0)
		return -ENOENT;
	buf = malloc(len + 1);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, dir, len + 1);
	/* Start at 1 so an absolute path does not try mkdir(""). */
	for (i = 1; i <= len && rc == 0; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			rc = -errno;
		buf[i] = dir[i];
	}
	free(buf);
	if (rc != 0)
		return rc;
	/* EEXIST above may have been a file of that name. */
	if (stat(dir, &st) != 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* Escaped output goes either to a FILE or to a caller's fixed buffer; the
 * buffer variant stops at the first unit that does not fit so that it never
 * holds half an escape sequence, but keeps counting the length needed. */
struct artifacts_sink {
	FILE *f;
	char *out;
	size_t cap, written, needed;
	bool full;
};

static void artifacts_sink_put(struct artifacts_sink *k, const char *p, size_t n)
{
	k->needed += n;
	if (k->f) {
		fwrite(p, 1, n, k->f);
		return;
	}
	if (k->full || k->written + n >= k->cap) {
		k->full = true;
		return;
	}
	memcpy(k->out + k->written, p, n);
	k->written += n;
}

static void artifacts_sink_puts(struct artifacts_sink *k, const char *s)
{
	artifacts_sink_put(k, s, strlen(s));
}

static size_t artifacts_sink_finish(struct artifacts_sink *k)
{
	if (!k->f && k->cap > 0)
		k->out[k->written] = '\0';
	return k->needed;
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, nothing past U+10FFFF), or 0 if s does not start one. s is
 * NUL-terminated, and NUL is never a continuation byte, so reads stop there. */
static size_t artifacts_utf8_len(const unsigned char *s, unsigned long *cp)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xBF;
	size_t n, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		*cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		*cp = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		*cp = c & 0x07;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		unsigned char d = s[i];

		if (d < (i == 1 ? lo : 0x80) || d > (i == 1 ? hi : 0xBF))
			return 0;
		*cp = (*cp << 6) | (d & 0x3F);
	}
	return n;
}

/* RFC 8259 string contents. Serial text is not guaranteed to be UTF-8, and
 * JSON text must be, so a byte that starts no valid sequence becomes U+FFFD. */
static void artifacts_json_escape_to(struct artifacts_sink *k, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	char u[8];

	while (*s) {
		unsigned long cp;
		size_t n = artifacts_utf8_len(s, &cp);

		if (n == 0) {
			artifacts_sink_puts(k, "\\ufffd");
			s++;
			continue;
		}
		if (n > 1) {
			artifacts_sink_put(k, (const char *)s, n);
			s += n;
			continue;
		}
		switch (*s) {
		case '"':
			artifacts_sink_puts(k, "\\\"");
			break;
		case '\\':
			artifacts_sink_puts(k, "\\\\");
			break;
		case '\b':
			artifacts_sink_puts(k, "\\b");
			break;
		case '\f':
			artifacts_sink_puts(k, "\\f");
			break;
		case '\n':
			artifacts_sink_puts(k, "\\n");
			break;
		case '\r':
			artifacts_sink_puts(k, "\\r");
			break;
		case '\t':
			artifacts_sink_puts(k, "\\t");
			break;
		default:
			if (*s < 0x20 || *s == 0x7F) {
				snprintf(u, sizeof(u), "\\u%04x", *s);
				artifacts_sink_puts(k, u);
			} else {
				artifacts_sink_put(k, (const char *)s, 1);
			}
		}
		s++;
	}
}

size_t json_escape(const char *s, char *out, size_t outlen)
{
	struct artifacts_sink k = { .out = out, .cap = outlen };

	artifacts_json_escape_to(&k, s ? s : "");
	return artifacts_sink_finish(&k);
}

/* XML 1.0 allows no C0 control other than tab, newline and carriage return
 * (not even as &#1;), nor U+FFFE/U+FFFF; serial logs contain them, so they
 * are dropped. In attributes, tab and newline are written as references
 * because parsers would otherwise normalise them to spaces. */
static void artifacts_xml_escape_to(struct artifacts_sink *k, const char *str, bool attr)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		unsigned long cp;
		size_t n = artifacts_utf8_len(s, &cp);

		if (n == 0) {
			artifacts_sink_puts(k, "\xEF\xBF\xBD");
			s++;
			continue;
		}
		if (n > 1) {
			if (cp != 0xFFFE && cp != 0xFFFF)
				artifacts_sink_put(k, (const char *)s, n);
			s += n;
			continue;
		}
		switch (*s) {
		case '&':
			artifacts_sink_puts(k, "&amp;");
			break;
		case '<':
			artifacts_sink_puts(k, "&lt;");
			break;
		case '>':
			artifacts_sink_puts(k, "&gt;");
			break;
		case '"':
			artifacts_sink_puts(k, "&quot;");
			break;
		case '\'':
			artifacts_sink_puts(k, "&apos;");
			break;
		case '\r':
			artifacts_sink_puts(k, "&#13;");
			break;
		case '\t':
			artifacts_sink_puts(k, attr ? "&#9;" : "\t");
			break;
		case '\n':
			artifacts_sink_puts(k, attr ? "&#10;" : "\n");
			break;
		default:
			if (*s >= 0x20)
				artifacts_sink_put(k, (const char *)s, 1);
		}
		s++;
	}
}

size_t xml_escape(const char *s, char *out, size_t outlen)
{
	struct artifacts_sink k = { .out = out, .cap = outlen };

	artifacts_xml_escape_to(&k, s ? s : "", false);
	return artifacts_sink_finish(&k);
}

struct event_log {
	FILE *f; /* first: log_open() fills it */
};
_Static_assert(offsetof(struct event_log, f) == 0, "log_open needs f first");

/* Allocates a log object of size bytes whose first member is its FILE *,
 * opened for writing at path; NULL with err on failure. */
static void *log_open(size_t size, const char *path, char *err, size_t errlen)
{
	FILE **log = calloc(1, size);

	if (!log) {
		artifacts_set_err(err, errlen, "cannot open", path, ENOMEM);
		return NULL;
	}
	/* "e": QEMU and tc children must not inherit the descriptor. */
	*log = fopen(path, "we");
	if (!*log) {
		artifacts_set_err(err, errlen, "cannot open", path, errno);
		free(log);
		return NULL;
	}
	return log;
}

struct event_log *event_log_open(const char *path, char *err, size_t errlen)
{
	return log_open(sizeof(struct event_log), path, err, errlen);
}

void event_log_close(struct event_log *log)
{
	if (!log)
		return;
	fclose(log->f);
	free(log);
}

/* A raw value is written unquoted, so it must be a JSON number or literal;
 * anything else would make the whole line unparsable. */
static bool artifacts_is_json_scalar(const char *s)
{
	if (!strcmp(s, "true") || !strcmp(s, "false") || !strcmp(s, "null"))
		return true;
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return false;
	if (*s == '.') {
		s++;
		if (!(*s >= '0' && *s <= '9'))
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!(*s >= '0' && *s <= '9'))
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

static void artifacts_json_string(struct artifacts_sink *k, const char *s)
{
	artifacts_sink_puts(k, "\"");
	artifacts_json_escape_to(k, s);
	artifacts_sink_puts(k, "\"");
}

void event_log_write(struct event_log *log, double t, const char *event, const char *const *kv)
{
	struct artifacts_sink k;
	char num[64];

	if (!log)
		return;
	k = (struct artifacts_sink){ .f = log->f };
	if (isfinite(t))
		snprintf(num, sizeof(num), "{\"t\":%.6f,\"event\":", t);
	else
		snprintf(num, sizeof(num), "{\"t\":null,\"event\":");
	artifacts_sink_puts(&k, num);
	artifacts_json_string(&k, event ? event : "");
	for (; kv && kv[0]; kv += 2) {
		const char *v = kv[1];

		artifacts_sink_puts(&k, ",");
		artifacts_json_string(&k, kv[0]);
		artifacts_sink_puts(&k, ":");
		if (!v)
			artifacts_sink_puts(&k, "null");
		else if (v[0] == '\x01' && artifacts_is_json_scalar(v + 1))
			artifacts_sink_puts(&k, v + 1);
		else
			artifacts_json_string(&k, v[0] == '\x01' ? v + 1 : v);
	}
	artifacts_sink_puts(&k, "}\n");
	fflush(log->f);
}

static const char *junit_default_message(int status)
{
	switch (status) {
	case 1:
		return "scenario failed";
	case 2:
		return "configuration error";
	case 3:
		return "harness fault";
	default:
		return status >= 128 ? "cancelled" : "harness fault";
	}
}

static double junit_seconds(double s)
{
	return isfinite(s) && s > 0 ? s : 0.0;
}

static void junit_write_case(struct artifacts_sink *k, const struct junit_case *c)
{
	char num[64];
	const char *elem = c->status == 1 ? "failure" : "error";

	artifacts_sink_puts(k, "    <testcase name=\"");
	artifacts_xml_escape_to(k, c->name ? c->name : "", true);
	artifacts_sink_puts(k, "\" classname=\"");
	artifacts_xml_escape_to(k, c->classname ? c->classname : "vharness", true);
	snprintf(num, sizeof(num), "\" time=\"%.3f\"", junit_seconds(c->seconds));
	artifacts_sink_puts(k, num);
	if (c->status < 0) {
		artifacts_sink_puts(k, ">\n      <skipped message=\"");
		artifacts_xml_escape_to(k, c->message ? c->message : "not run", true);
		artifacts_sink_puts(k, "\"/>\n    </testcase>\n");
		return;
	}
	if (c->status == 0) {
		if (!c->details) {
			artifacts_sink_puts(k, "/>\n");
			return;
		}
		artifacts_sink_puts(k, ">\n      <system-out>");
		artifacts_xml_escape_to(k, c->details, false);
		artifacts_sink_puts(k, "</system-out>\n    </testcase>\n");
		return;
	}
	artifacts_sink_puts(k, ">\n      <");
	artifacts_sink_puts(k, elem);
	artifacts_sink_puts(k, " message=\"");
	artifacts_xml_escape_to(k, c->message ? c->message : junit_default_message(c->status),
				true);
	artifacts_sink_puts(k, "\" type=\"");
	artifacts_sink_puts(k, c->status == 1	  ? "failure"
			       : c->status == 2	  ? "config"
			       : c->status >= 128 ? "cancelled"
						  : "harness");
	artifacts_sink_puts(k, "\">");
	if (c->details)
		artifacts_xml_escape_to(k, c->details, false);
	artifacts_sink_puts(k, "</");
	artifacts_sink_puts(k, elem);
	artifacts_sink_puts(k, ">\n    </testcase>\n");
}

/* Written to a temporary name and renamed, so a CI job that reads junit.xml
 * after a harness crash sees either the old report or a complete new one. */
int junit_write(const char *path, const struct junit_case *cases, size_t n, char *err,
		size_t errlen)
{
	size_t i, failures = 0, errors = 0, skipped = 0;
	double total = 0.0;
	char *tmp;
	FILE *f;
	struct artifacts_sink k;
	char head[256];
	int e = 0;

	for (i = 0; i < n; i++) {
		if (cases[i].status == 1)
			failures++;
		else if (cases[i].status < 0)
			skipped++;
		else if (cases[i].status != 0)
			errors++;
		total += junit_seconds(cases[i].seconds);
	}
	tmp = malloc(strlen(path) + sizeof(".tmp"));
	if (!tmp) {
		artifacts_set_err(err, errlen, "cannot write", path, ENOMEM);
		return -ENOMEM;
	}
	strcpy(tmp, path);
	strcat(tmp, ".tmp");
	f = fopen(tmp, "we");
	if (!f) {
		e = errno;
		artifacts_set_err(err, errlen, "cannot write", tmp, e);
		free(tmp);
		return -e;
	}
	k = (struct artifacts_sink){ .f = f };
	artifacts_sink_puts(&k, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	snprintf(head, sizeof(head),
		 "<testsuites tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\""
		 " time=\"%.3f\">\n"
		 "  <testsuite name=\"vharness\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\""
		 " skipped=\"%zu\" time=\"%.3f\">\n",
		 n, failures, errors, skipped, total, n, failures, errors, skipped, total);
	artifacts_sink_puts(&k, head);
	for (i = 0; i < n; i++)
		junit_write_case(&k, &cases[i]);
	artifacts_sink_puts(&k, "  </testsuite>\n</testsuites>\n");
	if (fflush(f) != 0 || ferror(f))
		e = errno ? errno : EIO;
	if (fclose(f) != 0 && e == 0)
		e = errno;
	if (e == 0 && rename(tmp, path) != 0)
		e = errno;
	if (e != 0) {
		artifacts_set_err(err, errlen, "cannot write", path, e);
		unlink(tmp);
	}
	free(tmp);
	return -e;
}

/* Lines are streamed rather than assembled in memory: the stamp is written
 * when a line's first byte arrives, so a line of any length costs nothing
 * extra, and stdio holds the bytes until the newline's flush. */
struct serial_log {
	FILE *f; /* first: log_open() fills it */
	bool mid_line;
};
_Static_assert(offsetof(struct serial_log, f) == 0, "log_open needs f first");

struct serial_log *serial_log_open(const char *path, char *err, size_t errlen)
{
	return log_open(sizeof(struct serial_log), path, err, errlen);
}

void serial_log_append(struct serial_log *log, double t, const char *chunk, size_t len)
{
	bool ended_line = false;
	size_t i;

	if (!log)
		return;
	if (!isfinite(t))
		t = 0.0;
	for (i = 0; i < len; i++) {
		char c = chunk[i];

		/* NUL too: one stray NUL makes grep treat the log as binary. */
		if (c == '\r' || c == '\0')
			continue;
		if (!log->mid_line) {
			fprintf(log->f, "[%12.6f] ", t);
			log->mid_line = true;
		}
		putc(c, log->f);
		if (c == '\n') {
			log->mid_line = false;
			ended_line = true;
		}
	}
	if (ended_line)
		fflush(log->f);
}

void serial_log_close(struct serial_log *log)
{
	if (!log)
		return;
	if (log->mid_line)
		putc('\n', log->f);
	fclose(log->f);
	free(log);
}

int artifacts_write_whole(const char *path, int (*put)(FILE *f, const void *arg), const void *arg,
			  char *err, size_t errlen)
{
	char tmp[4200];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		snprintf(err, errlen, "cannot write %s: path too long", path);
		return -1;
	}
	FILE *f = fopen(tmp, "we");
	if (!f) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		return -1;
	}
	int rc = put(f, arg);
	bool bad = rc < 0 || ferror(f) != 0;
	if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", path,
			 errno ? strerror(errno) : "write failed");
		unlink(tmp);
		return -1;
	}
	return 0;
}

void artifacts_redirect_output(const char *dir)
{
	char log[4200];
	snprintf(log, sizeof(log), "%s/output.log", dir);
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	dup2(fd, 1);
	dup2(fd, 2);
	close(fd);
}
