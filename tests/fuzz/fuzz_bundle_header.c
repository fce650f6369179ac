/* Fuzz target: the firmware bundle header (docs/ota-protocol.md), parsed by
 * the harness (harness/ota/bundle.h, bundle_parse_header) and by the guest
 * agent (guest-agent/agent_bundle.h, agent_bundle_parse).
 *
 * Input: the first bytes of a bundle file. Properties of the harness parser:
 *   - "need more" only below BUNDLE_HEADER_MAX; on success the header ends in
 *     a blank line within the input and the fields are what the header's
 *     comment promises (valid version and bugs, lowercase sha256);
 *   - prefixes: the header alone parses the same; one byte less needs more;
 *   - bundle_format_header of the result parses back to the same fields.
 * The agent parser gets the same prefix checks. Then the two are compared
 * (differential): the same verdict (ok / need more / malformed) and, when
 * both accept, the same fields. The two disagree on purpose-less details
 * today; each class is listed in known_differences() and tolerated, so the
 * fuzzer goes on looking for new ones. Any other disagreement aborts.
 *
 * The harness parser is reached only through the include and the
 * FUZZ_BUNDLE_PARSE line below. When wire/bundle_header.h replaces both
 * parsers, the include names it instead (one line, if the codec keeps
 * bundle_parse_header's signature and struct; else FUZZ_BUNDLE_PARSE and
 * harness_side() adapt it). The agent side compiles only while
 * guest-agent/agent_bundle.h exists (tests/fuzz/CMakeLists.txt adds its
 * source the same way), so the differential retires itself with it. */
#include "fuzz.h"

#include "bundle.h"
#define FUZZ_BUNDLE_PARSE(buf, len, h, err, errlen) bundle_parse_header(buf, len, h, err, errlen)

#if defined(__has_include)
#if __has_include("agent_bundle.h")
#include "agent_bundle.h"
#define FUZZ_BUNDLE_AGENT 1
#endif
#endif

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum verdict { VERDICT_OK, VERDICT_MORE, VERDICT_BAD };

static const char *const verdict_names[] = {"ok", "need more", "malformed"};

/* One parser's answer, in one shape for both sides. */
struct side {
	enum verdict verdict;
	char version[BUNDLE_VERSION_MAX];
	char bugs[BUNDLE_BUGS_MAX];
	uint64_t kernel_size, initrd_size;
	char sha256[65];
	size_t header_len;
};

static void harness_side(const uint8_t *buf, size_t len, struct side *out, struct bundle_header *h)
{
	char err[256];
	int rc = FUZZ_BUNDLE_PARSE(buf, len, h, err, sizeof(err));

	memset(out, 0, sizeof(*out));
	FUZZ_CHECK(rc == 0 || rc == -ENODATA || rc == -EINVAL, "harness parser returned %d", rc);
	out->verdict = rc == 0 ? VERDICT_OK : rc == -ENODATA ? VERDICT_MORE : VERDICT_BAD;
	if (rc != 0) {
		FUZZ_CHECK(err[0] != '\0', "harness parser failed without a message");
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

static void check_harness(const uint8_t *buf, size_t len)
{
	struct bundle_header h, again;
	struct side s, t;
	char text[BUNDLE_HEADER_MAX + 1];

	harness_side(buf, len, &s, &h);
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

	harness_side(buf, s.header_len, &t, &again);
	FUZZ_CHECK(t.verdict == VERDICT_OK && memcmp(&s, &t, sizeof(s)) == 0,
		   "the header alone parses differently");
	harness_side(buf, s.header_len - 1, &t, &again);
	FUZZ_CHECK(t.verdict == VERDICT_MORE, "one byte short of the header: %s",
		   verdict_names[t.verdict]);

	int n = bundle_format_header(&h, text, sizeof(text));
	FUZZ_CHECK(n > 0, "formatting an accepted header failed: %d", n);
	harness_side((const uint8_t *)text, (size_t)n, &t, &again);
	FUZZ_CHECK(t.verdict == VERDICT_OK, "formatted header does not parse: %s",
		   verdict_names[t.verdict]);
	FUZZ_CHECK(t.header_len == (size_t)n, "formatted header is %d bytes, parsed %zu", n,
		   t.header_len);
	t.header_len = s.header_len;
	FUZZ_CHECK(memcmp(&s, &t, sizeof(s)) == 0, "format -> parse changed the fields");
}

#ifdef FUZZ_BUNDLE_AGENT
static void agent_side(const uint8_t *buf, size_t len, struct side *out)
{
	struct agent_bundle b;
	int rc = agent_bundle_parse(buf, len, &b);

	memset(out, 0, sizeof(*out));
	FUZZ_CHECK(rc == 0 || rc == 1 || rc == -1, "agent parser returned %d", rc);
	out->verdict = rc == 0 ? VERDICT_OK : rc == 1 ? VERDICT_MORE : VERDICT_BAD;
	if (rc != 0)
		return;
	/* The agent's fields are smaller than the harness's; both hold strings. */
	snprintf(out->version, sizeof(out->version), "%s", b.version);
	snprintf(out->bugs, sizeof(out->bugs), "%s", b.bugs);
	out->kernel_size = b.kernel_size;
	out->initrd_size = b.initrd_size;
	snprintf(out->sha256, sizeof(out->sha256), "%s", b.sha256);
	out->header_len = b.header_len;
}

static void check_agent(const uint8_t *buf, size_t len, struct side *s)
{
	struct side t;

	agent_side(buf, len, s);
	if (s->verdict == VERDICT_MORE)
		FUZZ_CHECK(len < AGENT_BUNDLE_HEADER_MAX, "agent needs more after %zu bytes", len);
	if (s->verdict != VERDICT_OK)
		return;
	FUZZ_CHECK(s->header_len <= len && s->header_len <= AGENT_BUNDLE_HEADER_MAX,
		   "agent: header of %zu bytes in %zu", s->header_len, len);
	agent_side(buf, s->header_len, &t);
	FUZZ_CHECK(t.verdict == VERDICT_OK && memcmp(s, &t, sizeof(t)) == 0,
		   "agent: the header alone parses differently");
	agent_side(buf, s->header_len - 1, &t);
	FUZZ_CHECK(t.verdict == VERDICT_MORE, "agent: one byte short of the header: %s",
		   verdict_names[t.verdict]);
}

/* Known, deliberate-or-not differences between the two parsers (reported to
 * the owner of the codec that replaces both). Looks at every complete line of
 * the header region and returns which classes occur there:
 *   NUL      a NUL byte in a line: the harness refuses, the agent keeps it;
 *   VERSION  a version outside [A-Za-z0-9._+-] or with "..": the agent takes
 *            any bytes;
 *   BUGS     a bugs list outside [a-z0-9_,-]: the agent takes any bytes;
 *   BUGSLEN  a bugs list of 256..511 bytes: the harness accepts and writes
 *            them (bundle_format_header), the agent refuses the header;
 *   UPPER    uppercase hex in sha256: the agent folds it, the harness refuses;
 *   SIZE19   a 19-digit size: the harness accepts up to UINT64_MAX / 4, the
 *            agent stops at 18 digits. */
enum known_difference {
	KNOWN_NUL = 1 << 0,
	KNOWN_VERSION = 1 << 1,
	KNOWN_BUGS = 1 << 2,
	KNOWN_BUGSLEN = 1 << 3,
	KNOWN_UPPER = 1 << 4,
	KNOWN_SIZE19 = 1 << 5,
};

static bool value_is(const char *line, size_t line_len, const char *key, const char **val,
		     size_t *val_len)
{
	size_t k = strlen(key);

	if (line_len <= k || memcmp(line, key, k) != 0 || line[k] != '=')
		return false;
	*val = line + k + 1;
	*val_len = line_len - k - 1;
	return true;
}

static unsigned known_differences(const uint8_t *buf, size_t len)
{
	size_t limit = len < BUNDLE_HEADER_MAX ? len : BUNDLE_HEADER_MAX;
	size_t pos = sizeof(BUNDLE_MAGIC) - 1;
	unsigned found = 0;

	while (pos < limit) {
		const char *line = (const char *)buf + pos;
		const char *nl = memchr(line, '\n', limit - pos);
		const char *val;
		size_t line_len, val_len;
		char s[BUNDLE_BUGS_MAX];

		if (!nl)
			break;
		line_len = (size_t)(nl - line);
		pos += line_len + 1;
		if (line_len == 0)
			break;
		if (memchr(line, '\0', line_len)) {
			found |= KNOWN_NUL;
			continue;
		}
		if (value_is(line, line_len, "version", &val, &val_len) && val_len > 0 &&
		    val_len < BUNDLE_VERSION_MAX) {
			memcpy(s, val, val_len);
			s[val_len] = '\0';
			if (!bundle_version_valid(s))
				found |= KNOWN_VERSION;
		} else if (value_is(line, line_len, "bugs", &val, &val_len)) {
			if (val_len >= sizeof(((struct agent_bundle *)0)->bugs) &&
			    val_len < BUNDLE_BUGS_MAX)
				found |= KNOWN_BUGSLEN;
			if (val_len < BUNDLE_BUGS_MAX) {
				memcpy(s, val, val_len);
				s[val_len] = '\0';
				if (!bundle_bugs_valid(s))
					found |= KNOWN_BUGS;
			}
		} else if (value_is(line, line_len, "sha256", &val, &val_len)) {
			for (size_t i = 0; i < val_len; i++)
				if (val[i] >= 'A' && val[i] <= 'F')
					found |= KNOWN_UPPER;
		} else if (value_is(line, line_len, "kernel_size", &val, &val_len) ||
			   value_is(line, line_len, "initrd_size", &val, &val_len)) {
			if (val_len == 19)
				found |= KNOWN_SIZE19;
		}
	}
	return found;
}

static void compare(const uint8_t *buf, size_t len, const struct side *agent, bool strict)
{
	struct bundle_header h;
	struct side harness;

	harness_side(buf, len, &harness, &h);
	if (harness.verdict == agent->verdict) {
		if (harness.verdict != VERDICT_OK)
			return;
		FUZZ_CHECK(harness.header_len == agent->header_len,
			   "header length: harness %zu, agent %zu", harness.header_len,
			   agent->header_len);
		FUZZ_CHECK(strcmp(harness.version, agent->version) == 0,
			   "version: harness \"%s\", agent \"%s\"", harness.version,
			   agent->version);
		FUZZ_CHECK(strcmp(harness.bugs, agent->bugs) == 0,
			   "bugs: harness \"%s\", agent \"%s\"", harness.bugs, agent->bugs);
		FUZZ_CHECK(harness.kernel_size == agent->kernel_size &&
				   harness.initrd_size == agent->initrd_size,
			   "sizes differ");
		FUZZ_CHECK(strcmp(harness.sha256, agent->sha256) == 0, "sha256 differs");
		return;
	}
	unsigned known = known_differences(buf, len);

	FUZZ_CHECK(known != 0, "verdicts differ for no known reason: harness %s, agent %s",
		   verdict_names[harness.verdict], verdict_names[agent->verdict]);
	/* VH_FUZZ_BUNDLE_STRICT=1 stops at the known ones too, to collect an
	 * example of each for the codec's owner. */
	FUZZ_CHECK(!strict, "known difference 0x%x: harness %s, agent %s", known,
		   verdict_names[harness.verdict], verdict_names[agent->verdict]);
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_harness(data, size);
#ifdef FUZZ_BUNDLE_AGENT
	struct side agent;

	static int strict = -1;

	if (strict < 0)
		strict = getenv("VH_FUZZ_BUNDLE_STRICT") != NULL;
	check_agent(data, size, &agent);
	compare(data, size, &agent, strict);
#endif
	return 0;
}
