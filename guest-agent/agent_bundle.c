/* agent_bundle: bundle header parser. */
#include "agent_bundle.h"

#include <stdlib.h>
#include <string.h>

static int agent_bundle_ull(const char *p, size_t len, unsigned long long *out)
{
	unsigned long long v = 0;

	if (len == 0 || len > 18)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (unsigned long long)(p[i] - '0');
	}
	*out = v;
	return 0;
}

static int agent_bundle_str(const char *p, size_t len, char *out, size_t cap)
{
	if (len >= cap)
		return -1;
	memcpy(out, p, len);
	out[len] = '\0';
	return 0;
}

int agent_bundle_parse(const uint8_t *buf, size_t len, struct agent_bundle *b)
{
	const char *text = (const char *)buf;
	size_t limit = len < AGENT_BUNDLE_HEADER_MAX ? len : AGENT_BUNDLE_HEADER_MAX;
	size_t pos = 6;
	unsigned seen = 0;

	memset(b, 0, sizeof(*b));
	if (len < 6)
		return memcmp(text, "VHFW1\n", len) == 0 ? 1 : -1;
	if (memcmp(text, "VHFW1\n", 6) != 0)
		return -1;
	for (;;) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', limit - pos);
		const char *eq;
		size_t line_len, klen, vlen;
		int rc = 0;

		if (nl == NULL)
			return len < AGENT_BUNDLE_HEADER_MAX ? 1 : -1;
		line_len = (size_t)(nl - line);
		pos += line_len + 1;
		if (line_len == 0)
			break;
		eq = memchr(line, '=', line_len);
		if (eq == NULL)
			return -1;
		klen = (size_t)(eq - line);
		vlen = line_len - klen - 1;
#define AGENT_BUNDLE_KEY(k) (klen == sizeof(k) - 1 && memcmp(line, k, klen) == 0)
		if (AGENT_BUNDLE_KEY("version")) {
			rc = vlen == 0 ? -1 : agent_bundle_str(eq + 1, vlen, b->version, sizeof(b->version));
			seen |= 1;
		} else if (AGENT_BUNDLE_KEY("bugs")) {
			rc = agent_bundle_str(eq + 1, vlen, b->bugs, sizeof(b->bugs));
		} else if (AGENT_BUNDLE_KEY("kernel_size")) {
			rc = agent_bundle_ull(eq + 1, vlen, &b->kernel_size);
			seen |= 2;
		} else if (AGENT_BUNDLE_KEY("initrd_size")) {
			rc = agent_bundle_ull(eq + 1, vlen, &b->initrd_size);
			seen |= 4;
		} else if (AGENT_BUNDLE_KEY("sha256")) {
			rc = vlen == 64 ? agent_bundle_str(eq + 1, vlen, b->sha256, sizeof(b->sha256)) : -1;
			for (size_t i = 0; rc == 0 && i < 64; i++) {
				char c = b->sha256[i];

				if (c >= 'A' && c <= 'F')
					b->sha256[i] = (char)(c - 'A' + 'a');
				else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
					rc = -1;
			}
			seen |= 8;
		}
#undef AGENT_BUNDLE_KEY
		if (rc != 0)
			return -1;
	}
	if (seen != 15)
		return -1;
	b->header_len = pos;
	return 0;
}

unsigned long long agent_bundle_size(const struct agent_bundle *b)
{
	return b->header_len + b->kernel_size + b->initrd_size;
}
