/* bundle_header: the firmware bundle header codec (rules in the header). */
#include "bundle_header.h"

#include "errf.h"
#include "fields.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

uint64_t bundle_total_size(const struct bundle_header *h)
{
	return (uint64_t)h->header_size + h->kernel_size + h->initrd_size;
}

bool bundle_version_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= BUNDLE_VERSION_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '+' || c == '-';

		if (!ok)
			return false;
	}
	/* ".." would make /firmware/V.bundle climb out of the path space */
	return strstr(s, "..") == NULL;
}

bool bundle_bugs_valid(const char *s)
{
	size_t n = strlen(s);

	if (n >= BUNDLE_BUGS_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
			  c == ',' || c == '-';

		if (!ok)
			return false;
	}
	return true;
}

/* Applies one key=value line. Returns 0, or -EINVAL with err set. */
static int bundle_header_field(struct bundle_header *h, const char *key, size_t key_len,
			       const char *val, size_t val_len, unsigned *seen, char *err,
			       size_t errlen)
{
#define KEY_IS(k) (key_len == sizeof(k) - 1 && memcmp(key, k, key_len) == 0)
	if (KEY_IS("version")) {
		*seen |= 1;
		if (!wire_copy_value(h->version, sizeof(h->version), val, val_len) ||
		    !bundle_version_valid(h->version)) {
			errf(err, errlen, "bad bundle version '%.*s'",
			     (int)(val_len > 64 ? 64 : val_len), val);
			return -EINVAL;
		}
	} else if (KEY_IS("bugs")) {
		if (!wire_copy_value(h->bugs, sizeof(h->bugs), val, val_len) ||
		    !bundle_bugs_valid(h->bugs)) {
			errf(err, errlen, "bad bundle bugs list");
			return -EINVAL;
		}
	} else if (KEY_IS("kernel_size")) {
		*seen |= 2;
		if (!wire_decimal_u64(val, val_len, &h->kernel_size)) {
			errf(err, errlen, "bad kernel_size");
			return -EINVAL;
		}
	} else if (KEY_IS("initrd_size")) {
		*seen |= 4;
		if (!wire_decimal_u64(val, val_len, &h->initrd_size)) {
			errf(err, errlen, "bad initrd_size");
			return -EINVAL;
		}
	} else if (KEY_IS("sha256")) {
		*seen |= 8;
		if (!wire_sha256_valid(val, val_len)) {
			errf(err, errlen, "bad sha256 (want 64 lowercase hex digits)");
			return -EINVAL;
		}
		memcpy(h->sha256, val, 64);
		h->sha256[64] = '\0';
	}
#undef KEY_IS
	return 0;
}

int bundle_header_parse(const uint8_t *buf, size_t len, struct bundle_header *h, char *err,
			size_t errlen)
{
	const size_t magic_len = sizeof(BUNDLE_MAGIC) - 1;
	const char *text = (const char *)buf;
	size_t limit = len < BUNDLE_HEADER_MAX ? len : BUNDLE_HEADER_MAX;
	size_t pos = magic_len;
	unsigned seen = 0;

	memset(h, 0, sizeof(*h));
	if (memcmp(text, BUNDLE_MAGIC, limit < magic_len ? limit : magic_len) != 0) {
		errf(err, errlen, "not a bundle (bad magic)");
		return -EINVAL;
	}
	if (len < magic_len) {
		errf(err, errlen, "bundle header truncated");
		return -ENODATA;
	}
	for (;;) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', limit - pos);
		const char *eq;
		size_t line_len, key_len;
		int rc;

		/* also in an unfinished line: more bytes cannot make it valid */
		if (memchr(line, '\0', nl ? (size_t)(nl - line) : limit - pos)) {
			errf(err, errlen, "bundle header contains a NUL byte");
			return -EINVAL;
		}
		if (!nl) {
			if (len < BUNDLE_HEADER_MAX) {
				errf(err, errlen, "bundle header truncated");
				return -ENODATA;
			}
			errf(err, errlen, "bundle header has no end within %u bytes",
			     BUNDLE_HEADER_MAX);
			return -EINVAL;
		}
		line_len = (size_t)(nl - line);
		pos += line_len + 1;
		if (line_len == 0)
			break;
		eq = memchr(line, '=', line_len);
		key_len = eq ? (size_t)(eq - line) : 0;
		if (!eq || !wire_key_valid(line, key_len, false)) {
			errf(err, errlen, "bundle header line is not key=value: %.*s",
			     (int)(line_len > 40 ? 40 : line_len), line);
			return -EINVAL;
		}
		if (wire_field_seen(text + magic_len, (size_t)(line - text) - magic_len, '\n', line,
				    key_len)) {
			errf(err, errlen, "bundle header repeats %.*s=", (int)key_len, line);
			return -EINVAL;
		}
		rc = bundle_header_field(h, line, key_len, eq + 1, line_len - key_len - 1, &seen,
					 err, errlen);
		if (rc < 0)
			return rc;
	}
	if (seen != 15) {
		errf(err, errlen, "bundle header lacks %s",
		     !(seen & 1)   ? "version"
		     : !(seen & 2) ? "kernel_size"
		     : !(seen & 4) ? "initrd_size"
				   : "sha256");
		return -EINVAL;
	}
	h->header_size = pos;
	if (h->kernel_size > (uint64_t)INT64_MAX - pos ||
	    h->initrd_size > (uint64_t)INT64_MAX - pos - h->kernel_size) {
		errf(err, errlen, "bundle sizes out of range");
		return -EINVAL;
	}
	return 0;
}

int bundle_header_format(const struct bundle_header *h, char *out, size_t outlen)
{
	int n;

	if (!bundle_version_valid(h->version) || !bundle_bugs_valid(h->bugs) ||
	    !wire_sha256_valid(h->sha256, strnlen(h->sha256, sizeof(h->sha256))))
		return -EINVAL;
	n = snprintf(out, outlen,
		     BUNDLE_MAGIC "version=%s\nbugs=%s\nkernel_size=%" PRIu64
				  "\ninitrd_size=%" PRIu64 "\nsha256=%s\n\n",
		     h->version, h->bugs, h->kernel_size, h->initrd_size, h->sha256);
	if (n < 0 || (size_t)n >= outlen)
		return -ENOSPC;
	if ((size_t)n > BUNDLE_HEADER_MAX || h->kernel_size > (uint64_t)INT64_MAX - (uint64_t)n ||
	    h->initrd_size > (uint64_t)INT64_MAX - (uint64_t)n - h->kernel_size)
		return -EINVAL;
	return n;
}
