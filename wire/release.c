/* release: the /etc/vh-release codec (rules in the header). */
#include "release.h"

#include "errf.h"
#include "fields.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

const char *const release_bug_names[] = {
	"flip-env-before-image-complete",
	"commit-before-healthy",
	"no-fsync-before-flip",
	"no-range-resume",
	"no-backoff",
	"single-env-copy",
	"never-healthy",
	"env-write-not-synced",
	"flip-after-write-error",
	NULL,
};

int release_format(const struct release *r, char *buf, size_t cap)
{
	int n;

	if (!bundle_version_valid(r->version) || !bundle_bugs_valid(r->bugs))
		return -EINVAL;
	n = snprintf(buf, cap, "VERSION=%s\nBUGS=%s\n", r->version, r->bugs);
	return n >= 0 && (size_t)n < cap ? n : -ENOSPC;
}

/* Copies a value into a field of cap bytes and checks it with valid. */
static bool release_str(char *out, size_t cap, const char *val, size_t len,
			bool (*valid)(const char *))
{
	return wire_copy_value(out, cap, val, len) && valid(out);
}

int release_parse(const char *text, size_t len, struct release *r, char *err, size_t errlen)
{
	size_t pos = 0;
	bool have_version = false;

	memset(r, 0, sizeof(*r));
	if (len > RELEASE_MAX) {
		errf(err, errlen, "release file longer than %u bytes", RELEASE_MAX);
		return -EINVAL;
	}
	if (memchr(text, '\0', len)) {
		errf(err, errlen, "release file contains a NUL byte");
		return -EINVAL;
	}
	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t line_len = nl ? (size_t)(nl - line) : len - pos;
		const char *eq = memchr(line, '=', line_len);
		size_t key_len = eq ? (size_t)(eq - line) : 0;
		const char *val;
		size_t val_len;

		pos += line_len + 1;
		if (line_len == 0 || line[0] == '#')
			continue;
		if (!eq || !wire_key_valid(line, key_len, true)) {
			errf(err, errlen, "release line is not KEY=value: %.*s",
			     (int)(line_len > 40 ? 40 : line_len), line);
			return -EINVAL;
		}
		val = eq + 1;
		val_len = line_len - key_len - 1;
		if (wire_field_seen(text, (size_t)(line - text), '\n', line, key_len)) {
			errf(err, errlen, "release file repeats %.*s=", (int)key_len, line);
			return -EINVAL;
		}
		if (key_len == 7 && memcmp(line, "VERSION", 7) == 0) {
			if (!release_str(r->version, sizeof(r->version), val, val_len,
					 bundle_version_valid)) {
				errf(err, errlen, "bad VERSION");
				return -EINVAL;
			}
			have_version = true;
		} else if (key_len == 4 && memcmp(line, "BUGS", 4) == 0) {
			if (!release_str(r->bugs, sizeof(r->bugs), val, val_len,
					 bundle_bugs_valid)) {
				errf(err, errlen, "bad BUGS");
				return -EINVAL;
			}
		}
	}
	if (!have_version) {
		errf(err, errlen, "release file lacks VERSION");
		return -EINVAL;
	}
	return 0;
}
