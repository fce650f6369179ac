/* checkin: the check-in channel codec (rules in the header). */
#include "checkin.h"

#include "errf.h"
#include "fields.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define CHECKIN_PREFIX "/checkin?"

static bool checkin_unreserved(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '~' || c == '+' || c == '-';
}

/* Appends value to buf at *n, percent-encoded. */
static int checkin_put_value(char *buf, size_t cap, size_t *n, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len = strlen(value);

	if (len == 0 || len >= CHECKIN_VALUE_MAX)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];

		if (*n + 4 > cap)
			return -ENOSPC;
		if (checkin_unreserved((char)c)) {
			buf[(*n)++] = (char)c;
		} else {
			buf[(*n)++] = '%';
			buf[(*n)++] = hex[c >> 4];
			buf[(*n)++] = hex[c & 15];
		}
	}
	buf[*n] = '\0';
	return 0;
}

/* Appends the literal s to buf at *n. */
static int checkin_put(char *buf, size_t cap, size_t *n, const char *s)
{
	size_t len = strlen(s);

	if (*n + len + 1 > cap)
		return -ENOSPC;
	memcpy(buf + *n, s, len + 1);
	*n += len;
	return 0;
}

int checkin_format_path(char *buf, size_t cap, const char *device, const char *version,
			const char *slot)
{
	size_t n = 0;
	int rc;

	if (cap == 0)
		return -ENOSPC;
	if ((rc = checkin_put(buf, cap, &n, CHECKIN_PREFIX "device=")) < 0 ||
	    (rc = checkin_put_value(buf, cap, &n, device)) < 0 ||
	    (rc = checkin_put(buf, cap, &n, "&version=")) < 0 ||
	    (rc = checkin_put_value(buf, cap, &n, version)) < 0 ||
	    (rc = checkin_put(buf, cap, &n, "&slot=")) < 0 ||
	    (rc = checkin_put_value(buf, cap, &n, slot)) < 0)
		return rc;
	return (int)n;
}

/* Decodes the percent-encoded value s[0..len) into out (CHECKIN_VALUE_MAX
 * bytes). Returns 0 or -EINVAL. */
static int checkin_decode(const char *s, size_t len, char *out)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int hi = i + 2 < len ? wire_hex_digit(s[i + 1]) : -1;
			int lo = hi >= 0 ? wire_hex_digit(s[i + 2]) : -1;

			if (lo < 0)
				return -EINVAL;
			c = hi * 16 + lo;
			i += 2;
		} else if (c <= ' ' || c >= 0x7f || c == '#' || c == '?') {
			/* never raw on a request line */
			return -EINVAL;
		}
		if (c == 0 || n + 1 >= CHECKIN_VALUE_MAX)
			return -EINVAL;
		out[n++] = (char)c;
	}
	if (n == 0)
		return -EINVAL;
	out[n] = '\0';
	return 0;
}

int checkin_parse_path(const char *target, struct checkin_request *req, char *err, size_t errlen)
{
	const size_t prefix_len = sizeof(CHECKIN_PREFIX) - 1;
	const char *query, *p;
	unsigned seen = 0;

	memset(req, 0, sizeof(*req));
	if (strncmp(target, CHECKIN_PREFIX, prefix_len) != 0) {
		errf(err, errlen, "not a check-in path");
		return -EINVAL;
	}
	query = p = target + prefix_len;
	for (;;) {
		size_t pair = strcspn(p, "&");
		const char *eq = memchr(p, '=', pair);
		size_t key_len = eq ? (size_t)(eq - p) : 0;
		char *out = NULL;

		if (!eq || !wire_key_valid(p, key_len, false)) {
			errf(err, errlen, "check-in query part is not key=value: %.*s",
			     (int)(pair > 40 ? 40 : pair), p);
			return -EINVAL;
		}
		if (wire_field_seen(query, (size_t)(p - query), '&', p, key_len)) {
			errf(err, errlen, "check-in query repeats %.*s=", (int)key_len, p);
			return -EINVAL;
		}
		if (key_len == 6 && memcmp(p, "device", 6) == 0) {
			out = req->device;
			seen |= 1;
		} else if (key_len == 7 && memcmp(p, "version", 7) == 0) {
			out = req->version;
			seen |= 2;
		} else if (key_len == 4 && memcmp(p, "slot", 4) == 0) {
			out = req->slot;
			seen |= 4;
		}
		if (out && checkin_decode(eq + 1, pair - key_len - 1, out) < 0) {
			errf(err, errlen, "bad check-in %.*s (empty, too long or badly escaped)",
			     (int)key_len, p);
			return -EINVAL;
		}
		if (p[pair] == '\0')
			break;
		p += pair + 1;
	}
	if (seen != 7) {
		errf(err, errlen, "check-in lacks %s",
		     !(seen & 1)   ? "device"
		     : !(seen & 2) ? "version"
				   : "slot");
		return -EINVAL;
	}
	return 0;
}

int checkin_format_firmware_path(char *buf, size_t cap, const char *version)
{
	int n;

	if (!bundle_version_valid(version))
		return -EINVAL;
	n = snprintf(buf, cap, "/firmware/%s.bundle", version);
	return n >= 0 && (size_t)n < cap ? n : -ENOSPC;
}

int checkin_format_heartbeat(char *buf, size_t cap, uint64_t seq)
{
	int n = snprintf(buf, cap, "heartbeat seq=%" PRIu64 "\n", seq);

	return n >= 0 && (size_t)n < cap ? n : -ENOSPC;
}

int checkin_format_offer(char *buf, size_t cap, const char *version, uint64_t size,
			 const char *sha256)
{
	char url[CHECKIN_URL_MAX];
	int n;

	if (size == 0 || size > (uint64_t)INT64_MAX || !wire_sha256_valid(sha256, strlen(sha256)))
		return -EINVAL;
	if ((n = checkin_format_firmware_path(url, sizeof(url), version)) < 0)
		return n == -ENOSPC ? -EINVAL : n;
	n = snprintf(buf, cap, "offer version=%s size=%" PRIu64 " sha256=%s url=%s\n", version,
		     size, sha256, url);
	return n >= 0 && (size_t)n < cap ? n : -ENOSPC;
}

/* Copies a word's value into out (cap bytes). */
static bool checkin_str(char *out, size_t cap, const char *val, size_t len)
{
	if (len >= cap)
		return false;
	memcpy(out, val, len);
	out[len] = '\0';
	return true;
}

/* Applies one key=value word of a heartbeat or offer; *seen collects the
 * keys found. Returns 0 or -EINVAL. */
static int checkin_word(struct checkin_msg *msg, const char *key, size_t key_len, const char *val,
			size_t val_len, unsigned *seen)
{
#define KEY_IS(k) (key_len == sizeof(k) - 1 && memcmp(key, k, key_len) == 0)
	bool ok = true;

	if (msg->type == CHECKIN_HEARTBEAT && KEY_IS("seq")) {
		*seen |= 1;
		ok = wire_decimal_u64(val, val_len, &msg->seq);
	} else if (msg->type == CHECKIN_OFFER && KEY_IS("version")) {
		*seen |= 1;
		ok = checkin_str(msg->version, sizeof(msg->version), val, val_len) &&
		     bundle_version_valid(msg->version);
	} else if (msg->type == CHECKIN_OFFER && KEY_IS("size")) {
		*seen |= 2;
		ok = wire_decimal_u64(val, val_len, &msg->size) && msg->size > 0 &&
		     msg->size <= (uint64_t)INT64_MAX;
	} else if (msg->type == CHECKIN_OFFER && KEY_IS("sha256")) {
		*seen |= 4;
		ok = wire_sha256_valid(val, val_len) &&
		     checkin_str(msg->sha256, sizeof(msg->sha256), val, val_len);
	} else if (msg->type == CHECKIN_OFFER && KEY_IS("url")) {
		*seen |= 8;
		ok = val_len > 0 && val[0] == '/' &&
		     checkin_str(msg->url, sizeof(msg->url), val, val_len);
	}
#undef KEY_IS
	return ok ? 0 : -EINVAL;
}

int checkin_parse_line(const char *line, size_t len, struct checkin_msg *msg)
{
	size_t type_len = 0, pos;
	unsigned seen = 0, need;

	memset(msg, 0, sizeof(*msg));
	if (len == 0 || memchr(line, '\0', len))
		return -EINVAL;
	while (type_len < len && line[type_len] != ' ')
		type_len++;
	if (type_len == 0)
		return -EINVAL;
	if (type_len == 9 && memcmp(line, "heartbeat", 9) == 0) {
		msg->type = CHECKIN_HEARTBEAT;
		need = 1;
	} else if (type_len == 5 && memcmp(line, "offer", 5) == 0) {
		msg->type = CHECKIN_OFFER;
		need = 15;
	} else {
		msg->type = CHECKIN_OTHER;
		return 0;
	}
	for (pos = type_len; pos < len;) {
		const char *word, *eq;
		size_t word_len = 0, key_len;

		if (line[pos] == ' ') {
			pos++;
			continue;
		}
		word = line + pos;
		while (pos + word_len < len && word[word_len] != ' ')
			word_len++;
		eq = memchr(word, '=', word_len);
		key_len = eq ? (size_t)(eq - word) : 0;
		if (!eq || !wire_key_valid(word, key_len, false) ||
		    wire_field_seen(line, pos, ' ', word, key_len) ||
		    checkin_word(msg, word, key_len, eq + 1, word_len - key_len - 1, &seen) < 0)
			return -EINVAL;
		pos += word_len;
	}
	return seen == need ? 0 : -EINVAL;
}
