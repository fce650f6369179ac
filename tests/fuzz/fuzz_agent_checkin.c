/* Fuzz target: the check-in channel's lines (guest-agent/agent_checkin.h):
 * agent_lines_push splitting the decoded body, agent_checkin_parse_line
 * reading each line.
 *
 * Input: byte 0 seeds the chunking; the rest is the check-in body as the
 * update server streams it ("heartbeat seq=N\n", "offer ... url=PATH\n").
 * Properties:
 *   - splitting: fed in chunks of 1..16 bytes, agent_lines_push yields the
 *     lines a plain split on '\n' gives (without "\n" or "\r\n", cut to
 *     AGENT_CHECKIN_LINE_MAX - 1 bytes with overflow set), and *used never
 *     passes the line's newline;
 *   - parsing: an accepted offer has what the header promises (a version
 *     without spaces, size > 0, 64 lowercase hex digits, a url starting with
 *     '/'), and writing an accepted heartbeat or offer back as the server
 *     does (harness/ota/update_server.c) parses to the same message;
 *   - only heartbeat and offer lines (and the empty line) are refused.
 *
 * Switching to wire/checkin.h: the include below names it instead, and if
 * its functions are named differently, the two macros after it say so
 * (tests/fuzz/CMakeLists.txt drops agent_checkin.c once it is gone). */
#include "fuzz.h"

#include "agent_checkin.h"
#define FUZZ_LINES_PUSH agent_lines_push
#define FUZZ_CHECKIN_PARSE agent_checkin_parse_line

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static void check_message(const char *line, const struct agent_checkin_msg *msg, int rc)
{
	size_t type_len = strcspn(line, " ");
	bool heartbeat = type_len == 9 && strncmp(line, "heartbeat", 9) == 0;
	bool offer = type_len == 5 && strncmp(line, "offer", 5) == 0;
	char again_text[AGENT_CHECKIN_LINE_MAX * 2];
	struct agent_checkin_msg again;

	if (rc != 0) {
		FUZZ_CHECK(rc == -1, "parse returned %d", rc);
		FUZZ_CHECK(heartbeat || offer || type_len == 0,
			   "refused a line of another kind: %s", line);
		return;
	}
	FUZZ_CHECK(type_len > 0, "accepted a line starting with a space");
	switch (msg->type) {
	case AGENT_CHECKIN_HEARTBEAT:
		FUZZ_CHECK(heartbeat, "heartbeat from \"%s\"", line);
		snprintf(again_text, sizeof(again_text), "heartbeat seq=%llu", msg->seq);
		break;
	case AGENT_CHECKIN_OFFER:
		FUZZ_CHECK(offer, "offer from \"%s\"", line);
		FUZZ_CHECK(msg->version[0] != '\0' && strchr(msg->version, ' ') == NULL,
			   "offer version \"%s\"", msg->version);
		FUZZ_CHECK(msg->size > 0, "offer of size 0");
		FUZZ_CHECK(strlen(msg->sha256) == 64 &&
				   strspn(msg->sha256, "0123456789abcdef") == 64,
			   "offer sha256 \"%s\"", msg->sha256);
		FUZZ_CHECK(msg->url[0] == '/' && strchr(msg->url, ' ') == NULL, "offer url \"%s\"",
			   msg->url);
		/* The update server's own format. */
		snprintf(again_text, sizeof(again_text),
			 "offer version=%s size=%llu sha256=%s url=%s", msg->version, msg->size,
			 msg->sha256, msg->url);
		break;
	case AGENT_CHECKIN_OTHER:
		FUZZ_CHECK(!heartbeat && !offer, "\"%s\" parsed as another kind", line);
		return;
	default:
		FUZZ_CHECK(false, "type %d", (int)msg->type);
	}
	rc = FUZZ_CHECKIN_PARSE(again_text, &again);
	FUZZ_CHECK(rc == 0 && memcmp(msg, &again, sizeof(again)) == 0,
		   "\"%s\" written back as \"%s\" parses differently (%d)", line, again_text, rc);
}

/* The line a plain split gives for the bytes before one newline. */
static void check_line(const struct agent_lines *lines, const char *raw, size_t raw_len)
{
	size_t want = raw_len < AGENT_CHECKIN_LINE_MAX - 1 ? raw_len : AGENT_CHECKIN_LINE_MAX - 1;

	if (want > 0 && raw[want - 1] == '\r')
		want--;
	FUZZ_CHECK(lines->overflow == (raw_len > AGENT_CHECKIN_LINE_MAX - 1),
		   "overflow %d for a %zu-byte line", lines->overflow, raw_len);
	FUZZ_CHECK(lines->len == want && memcmp(lines->buf, raw, want) == 0 &&
			   lines->buf[want] == '\0',
		   "line of %zu bytes split as %zu, want %zu", raw_len, lines->len, want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_lines lines;
	struct agent_checkin_msg msg;
	struct fuzz_rng rng;
	const char *body;
	size_t len, line_start = 0;

	if (size < 1)
		return 0;
	rng.state = data[0];
	body = (const char *)data + 1;
	len = size - 1;
	agent_lines_init(&lines);
	for (size_t off = 0; off < len;) {
		size_t k = fuzz_rng_chunk(&rng, 16), used;

		if (k > len - off)
			k = len - off;
		bool complete = FUZZ_LINES_PUSH(&lines, body + off, k, &used);
		const char *nl = memchr(body + off, '\n', k);

		FUZZ_CHECK(used >= 1 && used <= k, "used %zu of %zu", used, k);
		FUZZ_CHECK(complete == (nl != NULL), "complete %d, newline %s", complete,
			   nl ? "present" : "absent");
		if (complete)
			FUZZ_CHECK(body + off + used == nl + 1, "used does not end at the newline");
		off += used;
		if (!complete)
			continue;
		check_line(&lines, body + line_start, off - 1 - line_start);
		line_start = off;
		check_message(lines.buf, &msg, FUZZ_CHECKIN_PARSE(lines.buf, &msg));
	}
	return 0;
}
