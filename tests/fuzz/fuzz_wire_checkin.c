/* Fuzz target: the check-in channel (wire/checkin.h) as the agent reads it:
 * base/lines.h splitting the decoded body, checkin_parse_line reading each
 * line; and the check-in request path the update server reads.
 *
 * Input: byte 0 seeds the chunking; the rest is the check-in body as the
 * update server streams it ("heartbeat seq=N\n", "offer ... url=PATH\n").
 * Properties:
 *   - splitting: fed in chunks of 1..16 bytes, lines_push yields the lines a
 *     plain split on '\n' gives (without "\n" or "\r\n", cut to the buffer
 *     with truncated set), and *used never passes the line's newline;
 *   - parsing: an accepted offer has what the header promises (a valid
 *     version, 0 < size <= INT64_MAX, 64 lowercase hex digits, a url
 *     starting with '/'), and formatting an accepted heartbeat or offer as
 *     the server does parses to the same message;
 *   - only heartbeat and offer lines (and the empty line, or one with a NUL)
 *     are refused;
 *   - each line read as a request path: an accepted path formats back to a
 *     path that parses to the same request. */
#include "fuzz.h"

#include "checkin.h"
#include "lines.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

enum { LINE_CAP = CHECKIN_LINE_MAX };

static void check_message(const char *line, size_t len, const struct checkin_msg *msg, int rc)
{
	size_t type_len = 0;
	while (type_len < len && line[type_len] != ' ')
		type_len++;
	bool heartbeat = type_len == 9 && strncmp(line, "heartbeat", 9) == 0;
	bool offer = type_len == 5 && strncmp(line, "offer", 5) == 0;
	char again_text[CHECKIN_LINE_MAX * 2];
	struct checkin_msg again;

	if (rc != 0) {
		FUZZ_CHECK(rc == -EINVAL, "parse returned %d", rc);
		/* Lines of other kinds are taken as CHECKIN_OTHER; a line without a
		 * kind word (it starts with a space) is not a message at all. */
		FUZZ_CHECK(heartbeat || offer || len == 0 || type_len == 0 ||
				   memchr(line, '\0', len),
			   "refused a line of another kind: %.*s", (int)len, line);
		return;
	}
	FUZZ_CHECK(len > 0 && !memchr(line, '\0', len), "accepted an empty line or a NUL");
	int n;
	switch (msg->type) {
	case CHECKIN_HEARTBEAT:
		FUZZ_CHECK(heartbeat, "heartbeat from \"%.*s\"", (int)len, line);
		n = checkin_format_heartbeat(again_text, sizeof(again_text), msg->seq);
		break;
	case CHECKIN_OFFER:
		FUZZ_CHECK(offer, "offer from \"%.*s\"", (int)len, line);
		FUZZ_CHECK(bundle_version_valid(msg->version), "offer version \"%s\"",
			   msg->version);
		FUZZ_CHECK(msg->size > 0 && msg->size <= INT64_MAX, "offer size %" PRIu64,
			   msg->size);
		FUZZ_CHECK(strlen(msg->sha256) == 64 &&
				   strspn(msg->sha256, "0123456789abcdef") == 64,
			   "offer sha256 \"%s\"", msg->sha256);
		FUZZ_CHECK(msg->url[0] == '/' && strchr(msg->url, ' ') == NULL, "offer url \"%s\"",
			   msg->url);
		/* The server always points at its own firmware path: write the
		 * line back with the url it was given. */
		n = snprintf(again_text, sizeof(again_text),
			     "offer version=%s size=%" PRIu64 " sha256=%s url=%s\n", msg->version,
			     msg->size, msg->sha256, msg->url);
		break;
	case CHECKIN_OTHER:
		FUZZ_CHECK(!heartbeat && !offer, "\"%.*s\" parsed as another kind", (int)len, line);
		return;
	default:
		FUZZ_CHECK(false, "type %d", (int)msg->type);
	}
	FUZZ_CHECK(n > 1 && again_text[n - 1] == '\n', "formatting failed: %d", n);
	rc = checkin_parse_line(again_text, (size_t)n - 1, &again);
	FUZZ_CHECK(rc == 0 && memcmp(msg, &again, sizeof(again)) == 0,
		   "\"%.*s\" written back as \"%s\" parses differently (%d)", (int)len, line,
		   again_text, rc);
}

/* Every line also as a request path: what the server accepts round-trips. */
static void check_path(const char *line, size_t len)
{
	char target[CHECKIN_PATH_MAX * 2], again_path[CHECKIN_PATH_MAX];
	if (len >= sizeof(target) || memchr(line, '\0', len))
		return;
	memcpy(target, line, len);
	target[len] = '\0';
	struct checkin_request req, again;
	char err[256];
	if (checkin_parse_path(target, &req, err, sizeof(err)) < 0)
		return;
	int n = checkin_format_path(again_path, sizeof(again_path), req.device, req.version,
				    req.slot);
	FUZZ_CHECK(n > 0, "an accepted request does not format: %d", n);
	FUZZ_CHECK(checkin_parse_path(again_path, &again, err, sizeof(err)) == 0 &&
			   memcmp(&req, &again, sizeof(req)) == 0,
		   "\"%s\" formatted as \"%s\" parses differently", target, again_path);
}

/* The line a plain split gives for the bytes before one newline. */
static void check_line(const struct lines *l, const char *raw, size_t raw_len)
{
	size_t want = raw_len;
	if (want > 0 && raw[want - 1] == '\r')
		want--;
	bool cut = want > LINE_CAP - 1;
	if (cut)
		want = LINE_CAP - 1;
	FUZZ_CHECK(l->truncated == cut, "truncated %d for a %zu-byte line", l->truncated, raw_len);
	FUZZ_CHECK(l->len == want && memcmp(l->buf, raw, want) == 0 && l->buf[want] == '\0',
		   "line of %zu bytes split as %zu, want %zu", raw_len, l->len, want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[LINE_CAP];
	struct lines l;
	struct checkin_msg msg;
	struct fuzz_rng rng;
	size_t line_start = 0;

	if (size < 1)
		return 0;
	rng.state = data[0];
	const char *body = (const char *)data + 1;
	size_t len = size - 1;
	lines_init(&l, buf, sizeof(buf));
	for (size_t off = 0; off < len;) {
		size_t k = fuzz_rng_chunk(&rng, 16), used;
		if (k > len - off)
			k = len - off;
		bool complete = lines_push(&l, body + off, k, &used);
		const char *nl = memchr(body + off, '\n', k);
		FUZZ_CHECK(used >= 1 && used <= k, "used %zu of %zu", used, k);
		FUZZ_CHECK(complete == (nl != NULL), "complete %d, newline %s", complete,
			   nl ? "present" : "absent");
		if (complete)
			FUZZ_CHECK(body + off + used == nl + 1, "used does not end at the newline");
		off += used;
		if (!complete)
			continue;
		check_line(&l, body + line_start, off - 1 - line_start);
		line_start = off;
		if (!l.truncated) {
			check_message(l.buf, l.len, &msg, checkin_parse_line(l.buf, l.len, &msg));
			check_path(l.buf, l.len);
		}
	}
	return 0;
}
