/* Fuzz target: the guest agent's HTTP/1.1 response parser and body decoder
 * (guest-agent/agent_http.h).
 *
 * Input: byte 0 picks the mode and, with byte 1, seeds the chunking; the
 * rest is either
 *   (bit 0 clear) a raw response, head and body, as received from a socket:
 *     - the head parses to 0 (need more) or -1 for every prefix of a head
 *       that parses, and to the same length and fields given more bytes;
 *     - the fields keep their documented ranges (status 100..599, a
 *       Content-Range with first <= last < total);
 *     - the body decodes to the same bytes and verdict whether it arrives in
 *       one piece or in chunks of 1..16 bytes;
 *   (bit 0 set) a payload: the target writes it as a chunked body (random
 *     chunk sizes, hex case, extensions, bare LF or CRLF, trailers) behind a
 *     real head and checks that the decoder, fed in chunks, returns exactly
 *     the payload and reports completion exactly at the end.
 * The first line of a raw response is also tried as a request path for
 * agent_http_format_get, which must refuse anything that would forge a
 * second request line or header. */
#include "agent_http.h"
#include "fuzz.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_HTTP_CHUNK_MAX 16

static void check_head(const struct agent_http_head *h)
{
	FUZZ_CHECK(h->status >= 100 && h->status <= 599, "status %d accepted", h->status);
	FUZZ_CHECK(h->content_length >= -1, "content length %lld", h->content_length);
	if (!h->has_content_range)
		return;
	if (h->range_first < 0)
		FUZZ_CHECK(h->range_first == -1 && h->range_last == -1 && h->range_total >= 0,
			   "unsatisfied range */%lld", h->range_total);
	else
		FUZZ_CHECK(h->range_first <= h->range_last &&
				   (h->range_total == -1 || h->range_last < h->range_total),
			   "range %lld-%lld/%lld accepted", h->range_first, h->range_last,
			   h->range_total);
}

/* Decodes body[0..len) (copied, the decoder works in place) in rng-sized
 * pieces, stopping at completion or the first error. The decoded bytes go to
 * out (len bytes at most); returns the last verdict. */
static int decode_pieces(const struct agent_http_head *head, const uint8_t *body, size_t len,
			 struct fuzz_rng *rng, uint8_t *out, size_t *out_len,
			 struct agent_http_body *state)
{
	uint8_t piece[FUZZ_HTTP_CHUNK_MAX];
	int rc = 0;

	agent_http_body_init(state, head);
	*out_len = 0;
	for (size_t off = 0; off < len;) {
		size_t k = fuzz_rng_chunk(rng, FUZZ_HTTP_CHUNK_MAX);
		size_t n;

		if (k > len - off)
			k = len - off;
		memcpy(piece, body + off, k);
		rc = agent_http_body_decode(state, piece, k, &n);
		FUZZ_CHECK(rc >= -1 && rc <= 1, "decode returned %d", rc);
		if (rc < 0)
			return rc;
		FUZZ_CHECK(n <= k, "decoded %zu bytes out of %zu", n, k);
		memcpy(out + *out_len, piece, n);
		*out_len += n;
		off += k;
		if (rc == 1)
			break;
	}
	if (len == 0)
		rc = state->done ? 1 : 0;
	return rc;
}

static void check_raw(const uint8_t *data, size_t size, struct fuzz_rng *rng)
{
	const char *buf = (const char *)data;
	struct agent_http_head head, again;
	struct agent_http_body one, pieces;
	int n = agent_http_head_parse(buf, size, &head);

	FUZZ_CHECK(n >= -1 && (n <= 0 || (size_t)n <= size), "head length %d of %zu", n, size);
	if (n == 0)
		FUZZ_CHECK(size < AGENT_HTTP_HEAD_MAX, "need more after %zu bytes", size);
	if (n <= 0)
		return;
	check_head(&head);
	FUZZ_CHECK(n <= AGENT_HTTP_HEAD_MAX, "head of %d bytes", n);
	/* The head alone, and every shorter prefix: complete, then not yet. */
	FUZZ_CHECK(agent_http_head_parse(buf, (size_t)n, &again) == n &&
			   memcmp(&head, &again, sizeof(head)) == 0,
		   "the head alone parses differently");
	for (size_t cut = 0; cut < (size_t)n; cut += 1 + cut / 4) {
		int m = agent_http_head_parse(buf, cut, &again);

		FUZZ_CHECK(m == 0, "a %zu-byte prefix of a %d-byte head gave %d", cut, n, m);
	}

	/* The body: in one piece, then in rng-sized pieces. */
	size_t body_len = size - (size_t)n;
	uint8_t *whole = malloc(body_len + 1), *out = malloc(body_len + 1);
	size_t whole_len = 0, out_len = 0;
	FUZZ_CHECK(whole && out, "out of memory");
	memcpy(whole, data + n, body_len);
	agent_http_body_init(&one, &head);
	int rc_one = agent_http_body_decode(&one, whole, body_len, &whole_len);
	FUZZ_CHECK(rc_one >= -1 && rc_one <= 1, "decode returned %d", rc_one);
	FUZZ_CHECK(whole_len <= body_len, "decoded %zu of %zu bytes", whole_len, body_len);
	int rc_pieces = decode_pieces(&head, data + n, body_len, rng, out, &out_len, &pieces);
	FUZZ_CHECK(rc_one == rc_pieces, "one piece gives %d, pieces %d", rc_one, rc_pieces);
	if (rc_one >= 0) {
		FUZZ_CHECK(whole_len == out_len && memcmp(whole, out, out_len) == 0,
			   "one piece decodes %zu bytes, pieces %zu (or other bytes)", whole_len,
			   out_len);
		FUZZ_CHECK(agent_http_body_eof_ok(&one) == agent_http_body_eof_ok(&pieces),
			   "whether EOF ends the body depends on the split");
		/* What each framing promises, independent of the split. */
		agent_http_body_init(&pieces, &head);
		if (pieces.done) {
			FUZZ_CHECK(rc_one == 1 && whole_len == 0,
				   "a bodiless response gave %zu bytes", whole_len);
		} else if (one.mode == AGENT_HTTP_BODY_LENGTH) {
			size_t want = body_len < (unsigned long long)head.content_length
					      ? body_len
					      : (size_t)head.content_length;

			FUZZ_CHECK(whole_len == want &&
					   rc_one == (want == (size_t)head.content_length),
				   "Content-Length %lld gave %zu of %zu bytes (verdict %d)",
				   head.content_length, whole_len, body_len, rc_one);
		} else if (one.mode == AGENT_HTTP_BODY_CLOSE) {
			FUZZ_CHECK(whole_len == body_len && rc_one == 0,
				   "a read-until-close body gave %zu of %zu bytes", whole_len,
				   body_len);
		}
	}
	free(whole);
	free(out);
}

/* Writes payload as a chunked body into out (cap bytes); returns its length. */
static size_t chunk_encode(const uint8_t *payload, size_t len, struct fuzz_rng *rng, char *out,
			   size_t cap)
{
	size_t o = 0, off = 0;
	uint64_t style = fuzz_rng_next(rng);
	const char *eol = style & 1 ? "\n" : "\r\n";

	for (;;) {
		size_t k = off < len ? fuzz_rng_chunk(rng, 64) : 0;

		if (k > len - off)
			k = len - off;
		o += (size_t)snprintf(out + o, cap - o, (style & 2) ? "%zX" : "%zx", k);
		if (style & 4)
			o += (size_t)snprintf(out + o, cap - o, ";name=\"v\"");
		o += (size_t)snprintf(out + o, cap - o, "%s", eol);
		if (k == 0)
			break;
		memcpy(out + o, payload + off, k);
		o += k;
		off += k;
		o += (size_t)snprintf(out + o, cap - o, "%s", eol);
	}
	if (style & 8)
		o += (size_t)snprintf(out + o, cap - o, "X-Trailer: 1%s", eol);
	o += (size_t)snprintf(out + o, cap - o, "%s", eol);
	return o;
}

static void check_chunked_round_trip(const uint8_t *payload, size_t len, struct fuzz_rng *rng)
{
	static const char head_text[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
	struct agent_http_head head;
	struct agent_http_body body;
	/* Per chunk of >= 1 byte: at most 16 hex digits, the extension, 4 EOLs. */
	size_t cap = len * 40 + 128;
	char *wire = malloc(cap);
	uint8_t *out = malloc(cap);
	size_t wire_len, out_len;

	FUZZ_CHECK(wire && out, "out of memory");
	FUZZ_CHECK(agent_http_head_parse(head_text, sizeof(head_text) - 1, &head) ==
			   (int)sizeof(head_text) - 1,
		   "the chunked head does not parse");
	wire_len = chunk_encode(payload, len, rng, wire, cap);
	FUZZ_CHECK(wire_len < cap, "encoding overflowed");
	int rc = decode_pieces(&head, (const uint8_t *)wire, wire_len, rng, out, &out_len, &body);
	FUZZ_CHECK(rc == 1, "a valid chunked body gave %d", rc);
	FUZZ_CHECK(out_len == len && memcmp(out, payload, len) == 0,
		   "a chunked body of %zu bytes decoded to %zu (or other bytes)", len, out_len);
	FUZZ_CHECK(agent_http_body_eof_ok(&body), "a complete body does not allow EOF");
	/* Stopping one byte early must not complete. */
	rc = decode_pieces(&head, (const uint8_t *)wire, wire_len - 1, rng, out, &out_len, &body);
	FUZZ_CHECK(rc == 0, "a chunked body short of its last byte gave %d", rc);
	free(wire);
	free(out);
}

static void check_request(const uint8_t *data, size_t size)
{
	char path[128], req[512];
	const uint8_t *nl = memchr(data, '\n', size);
	size_t n = nl ? (size_t)(nl - data) : size;

	if (n >= sizeof(path))
		return;
	memcpy(path, data, n);
	path[n] = '\0';
	int len = agent_http_format_get(req, sizeof(req), "10.77.0.1:8080", path, 4096, false);
	if (len < 0)
		return;
	FUZZ_CHECK(path[0] == '/' && strpbrk(path, " \r\n\t") == NULL, "accepted path \"%s\"",
		   path);
	FUZZ_CHECK((size_t)len == strlen(req), "length %d for %zu chars", len, strlen(req));
	char *end_of_head = strstr(req, "\r\n\r\n");
	FUZZ_CHECK(end_of_head && (size_t)(end_of_head - req) == (size_t)len - 4,
		   "the request's head does not end where it should");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_rng rng;

	if (size < 2)
		return 0;
	rng.state = data[0] | (uint64_t)data[1] << 8;
	if (data[0] & 1) {
		check_chunked_round_trip(data + 2, size - 2, &rng);
	} else {
		check_raw(data + 2, size - 2, &rng);
		check_request(data + 2, size - 2);
	}
	return 0;
}
