/* Fuzz target: the firmware bundle header (docs/ota-protocol.md), the one
 * codec the harness and the guest agent share (wire/bundle_header.h).
 *
 * Input: the first bytes of a bundle file. Properties:
 *   - "need more" only below BUNDLE_HEADER_MAX; on success the header ends in
 *     a blank line within the input and the fields are what the header's
 *     comment promises (valid version and bugs, lowercase sha256);
 *   - prefixes: the header alone parses the same; one byte less needs more;
 *   - bundle_header_format of the result parses back to the same fields.
 * (Before wire/ the harness and the agent had a parser each; this target
 * compared them and found the six ways they disagreed, now pinned in
 * tests/unit/test_wire_bundle.c.) */
#include "fuzz.h"

#include "bundle_header.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum verdict { VERDICT_OK, VERDICT_MORE, VERDICT_BAD };

static const char *const verdict_names[] = { "ok", "need more", "malformed" };

/* One parser's answer, in one shape for both sides. */
struct side {
	enum verdict verdict;
	char version[BUNDLE_VERSION_MAX];
	char bugs[BUNDLE_BUGS_MAX];
	uint64_t kernel_size, initrd_size;
	char sha256[65];
	size_t header_len;
};

static void parse_side(const uint8_t *buf, size_t len, struct side *out, struct bundle_header *h)
{
	char err[256];
	int rc = bundle_header_parse(buf, len, h, err, sizeof(err));

	memset(out, 0, sizeof(*out));
	FUZZ_CHECK(rc == 0 || rc == -ENODATA || rc == -EINVAL, "parser returned %d", rc);
	out->verdict = rc == 0 ? VERDICT_OK : rc == -ENODATA ? VERDICT_MORE : VERDICT_BAD;
	if (rc != 0) {
		FUZZ_CHECK(err[0] != '\0', "parser failed without a message");
		return;
	}
	/* As strings: after a repeated key the bytes past the NUL are stale. */
	snprintf(out->version, sizeof(out->version), "%s", h->version);
	snprintf(out->bugs, sizeof(out->bugs), "%s", h->bugs);
	out->kernel_size = h->kernel_size;
	out->initrd_size = h->initrd_size;
	snprintf(out->sha256, sizeof(out->sha256), "%s", h->sha256);
	out->header_len = h->header_size;
}

static void check_header(const uint8_t *buf, size_t len)
{
	struct bundle_header h, again;
	struct side s, t;
	char text[BUNDLE_HEADER_MAX + 1];

	parse_side(buf, len, &s, &h);
	if (s.verdict == VERDICT_MORE)
		FUZZ_CHECK(len < BUNDLE_HEADER_MAX, "need more after %zu bytes", len);
	if (s.verdict != VERDICT_OK)
		return;
	FUZZ_CHECK(s.header_len <= len && s.header_len <= BUNDLE_HEADER_MAX,
		   "header of %zu bytes in %zu", s.header_len, len);
	FUZZ_CHECK(s.header_len >= 8 && memcmp(buf + s.header_len - 2, "\n\n", 2) == 0,
		   "header does not end in a blank line");
	FUZZ_CHECK(bundle_version_valid(h.version), "accepted version \"%s\"", h.version);
	FUZZ_CHECK(bundle_bugs_valid(h.bugs), "accepted bugs \"%s\"", h.bugs);
	FUZZ_CHECK(strlen(h.sha256) == 64 && strspn(h.sha256, "0123456789abcdef") == 64,
		   "accepted sha256 \"%s\"", h.sha256);
	FUZZ_CHECK(bundle_total_size(&h) >= h.header_size, "total size wrapped");

	parse_side(buf, s.header_len, &t, &again);
	FUZZ_CHECK(t.verdict == VERDICT_OK && memcmp(&s, &t, sizeof(s)) == 0,
		   "the header alone parses differently");
	parse_side(buf, s.header_len - 1, &t, &again);
	FUZZ_CHECK(t.verdict == VERDICT_MORE, "one byte short of the header: %s",
		   verdict_names[t.verdict]);

	int n = bundle_header_format(&h, text, sizeof(text));
	FUZZ_CHECK(n > 0, "formatting an accepted header failed: %d", n);
	parse_side((const uint8_t *)text, (size_t)n, &t, &again);
	FUZZ_CHECK(t.verdict == VERDICT_OK, "formatted header does not parse: %s",
		   verdict_names[t.verdict]);
	FUZZ_CHECK(t.header_len == (size_t)n, "formatted header is %d bytes, parsed %zu", n,
		   t.header_len);
	t.header_len = s.header_len;
	FUZZ_CHECK(memcmp(&s, &t, sizeof(s)) == 0, "format -> parse changed the fields");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_header(data, size);
	return 0;
}
