/* Unit tests for agent_http: request text, response heads, Content-Range and
 * the body decoder fed at every split point. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "agent_http.h"
#include "test_skip.h"

static void test_get_request_carries_host_and_range(void **state)
{
	char buf[256];

	(void)state;
	assert_true(agent_http_format_get(buf, sizeof(buf), "10.0.0.1:8080", "/firmware/2.bundle",
					  4096, false) > 0);
	assert_string_equal(
		buf, "GET /firmware/2.bundle HTTP/1.1\r\nHost: 10.0.0.1:8080\r\n"
		     "User-Agent: vh-agent\r\nRange: bytes=4096-\r\nConnection: close\r\n\r\n");
	assert_true(agent_http_format_get(buf, sizeof(buf), "h", "/checkin?a=b", 0, true) > 0);
	assert_null(strstr(buf, "Range"));
	assert_null(strstr(buf, "Connection"));
}

static void test_get_request_rejects_bad_paths_and_small_buffers(void **state)
{
	char buf[256];

	(void)state;
	assert_int_equal(agent_http_format_get(buf, sizeof(buf), "h", "nope", 0, true), -1);
	assert_int_equal(agent_http_format_get(buf, sizeof(buf), "h", "/a b", 0, true), -1);
	assert_int_equal(agent_http_format_get(buf, sizeof(buf), "h", "/a\r\nX: y", 0, true), -1);
	assert_int_equal(agent_http_format_get(buf, 20, "h", "/a", 0, true), -1);
}

static void test_head_parses_status_and_known_headers(void **state)
{
	static const char resp[] = "HTTP/1.1 206 Partial Content\r\ncontent-length: 100\r\n"
				   "Content-Range: bytes 100-199/1000\r\nX-Other: 1\r\n\r\nBODY";
	struct agent_http_head h;

	(void)state;
	assert_int_equal(agent_http_head_parse(resp, sizeof(resp) - 1, &h),
			 (int)(sizeof(resp) - 5));
	assert_int_equal(h.status, 206);
	assert_int_equal(h.content_length, 100);
	assert_false(h.chunked);
	assert_true(h.has_content_range);
	assert_int_equal(h.range_first, 100);
	assert_int_equal(h.range_last, 199);
	assert_int_equal(h.range_total, 1000);
}

static void test_head_accepts_bare_lf_and_empty_reason_and_chunked(void **state)
{
	static const char resp[] = "HTTP/1.0 200\nTransfer-Encoding: gzip, chunked\n\n";
	struct agent_http_head h;

	(void)state;
	assert_int_equal(agent_http_head_parse(resp, sizeof(resp) - 1, &h),
			 (int)(sizeof(resp) - 1));
	assert_int_equal(h.status, 200);
	assert_true(h.chunked);
	assert_int_equal(h.content_length, -1);
	assert_false(h.has_content_range);
}

static void test_head_incomplete_then_complete_at_every_split(void **state)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
	struct agent_http_head h;

	(void)state;
	for (size_t i = 0; i < sizeof(resp) - 1; i++)
		assert_int_equal(agent_http_head_parse(resp, i, &h), 0);
	assert_int_equal(agent_http_head_parse(resp, sizeof(resp) - 1, &h),
			 (int)(sizeof(resp) - 1));
}

static void test_head_rejects_malformed(void **state)
{
	static const char *bad[] = {
		"HTTP/2 200 OK\r\n\r\n",
		"HTTP/1.1 20 OK\r\n\r\n",
		"HTTP/1.1 200OK\r\n\r\n",
		"HTTP/1.1 099 x\r\n\r\n",
		"ICY 200 OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
		"HTTP/1.1 200 OK\r\n: v\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
		"HTTP/1.1 206 OK\r\nContent-Range: bytes 5-4/10\r\n\r\n",
	};
	struct agent_http_head h;
	char big[AGENT_HTTP_HEAD_MAX + 10];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(agent_http_head_parse(bad[i], strlen(bad[i]), &h), -1);
	memset(big, 'x', sizeof(big));
	memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
	assert_int_equal(agent_http_head_parse(big, sizeof(big), &h), -1);
}

static void test_content_range_forms(void **state)
{
	long long f, l, t;

	(void)state;
	assert_int_equal(agent_http_parse_content_range("bytes 0-0/1", &f, &l, &t), 0);
	assert_int_equal(f, 0);
	assert_int_equal(l, 0);
	assert_int_equal(t, 1);
	assert_int_equal(agent_http_parse_content_range("bytes 10-19/*", &f, &l, &t), 0);
	assert_int_equal(t, -1);
	assert_int_equal(agent_http_parse_content_range("bytes */1000", &f, &l, &t), 0);
	assert_int_equal(f, -1);
	assert_int_equal(t, 1000);
	static const char *bad[] = { "bytes",
				     "items 0-1/2",
				     "bytes 0-1",
				     "bytes 0-1/",
				     "bytes */*",
				     "bytes 1-0/5",
				     "bytes 0-5/5",
				     "bytes -1/5",
				     "bytes 0-/5",
				     "bytes a-1/5",
				     "bytes 0-1/99999999999999999999" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(agent_http_parse_content_range(bad[i], &f, &l, &t), -1);
}

/* Feeds wire[] to a fresh decoder in pieces of `step` bytes and collects the
 * body. Returns the last decode result. */
static int decode_in_steps(const struct agent_http_head *h, const char *wire, size_t len,
			   size_t step, char *out, size_t *out_len)
{
	struct agent_http_body b;
	uint8_t buf[512];
	int rc = 0;

	agent_http_body_init(&b, h);
	*out_len = 0;
	for (size_t off = 0; off < len; off += step) {
		size_t n = len - off < step ? len - off : step, got;

		memcpy(buf, wire + off, n);
		rc = agent_http_body_decode(&b, buf, n, &got);
		if (rc < 0)
			return rc;
		memcpy(out + *out_len, buf, got);
		*out_len += got;
	}
	return rc;
}

static void test_chunked_body_decodes_at_every_split(void **state)
{
	static const char wire[] = "5\r\nhello\r\n1;ext=1\r\n \r\nA\r\nheartbeat\n\r\n"
				   "0\r\nTrailer: x\r\n\r\nGARBAGE";
	struct agent_http_head h = { .status = 200, .chunked = true, .content_length = -1 };
	char out[256];
	size_t n;

	(void)state;
	for (size_t step = 1; step <= sizeof(wire); step++) {
		assert_int_equal(decode_in_steps(&h, wire, sizeof(wire) - 1, step, out, &n), 1);
		assert_int_equal(n, 16);
		assert_memory_equal(out, "hello heartbeat\n", 16);
	}
}

static void test_chunked_body_tolerates_bare_lf_and_reports_eof(void **state)
{
	static const char wire[] = "3\nabc\n0\n\n";
	struct agent_http_head h = { .status = 200, .chunked = true, .content_length = -1 };
	struct agent_http_body b;
	char out[64];
	size_t n;

	(void)state;
	assert_int_equal(decode_in_steps(&h, wire, sizeof(wire) - 1, 2, out, &n), 1);
	assert_int_equal(n, 3);
	agent_http_body_init(&b, &h);
	assert_false(agent_http_body_eof_ok(&b));
	/* After completion, further bytes are ignored. */
	uint8_t more[] = "xyz";
	b.done = true;
	assert_int_equal(agent_http_body_decode(&b, more, 3, &n), 1);
	assert_int_equal(n, 0);
	assert_true(agent_http_body_eof_ok(&b));
}

static void test_chunked_body_rejects_bad_framing(void **state)
{
	static const char *bad[] = { "x\r\n",
				     "\r\n",
				     "3\rX",
				     "3\r\nabcX",
				     "3\r\nabc\rX",
				     "1234567890abcdef0\r\n",
				     "3 \r\nabc\r\n0\r\n\r\n!" };
	struct agent_http_head h = { .status = 200, .chunked = true, .content_length = -1 };
	char out[64];
	size_t n;

	(void)state;
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(decode_in_steps(&h, bad[i], strlen(bad[i]), 1, out, &n), -1);
	/* A space before CRLF is an (empty) extension: accepted. */
	assert_int_equal(decode_in_steps(&h, bad[6], strlen(bad[6]), 1, out, &n), 1);
}

static void test_length_and_close_bodies(void **state)
{
	struct agent_http_head len_h = { .status = 206, .content_length = 4 };
	struct agent_http_head close_h = { .status = 200, .content_length = -1 };
	struct agent_http_head empty_h = { .status = 204, .content_length = -1 };
	struct agent_http_head zero_h = { .status = 200, .content_length = 0 };
	struct agent_http_body b;
	char out[64];
	size_t n;

	(void)state;
	assert_int_equal(decode_in_steps(&len_h, "abcdEXTRA", 9, 3, out, &n), 1);
	assert_int_equal(n, 4);
	assert_int_equal(decode_in_steps(&len_h, "ab", 2, 1, out, &n), 0);
	agent_http_body_init(&b, &len_h);
	assert_false(agent_http_body_eof_ok(&b));

	assert_int_equal(decode_in_steps(&close_h, "anything", 8, 3, out, &n), 0);
	assert_int_equal(n, 8);
	agent_http_body_init(&b, &close_h);
	assert_true(agent_http_body_eof_ok(&b));

	agent_http_body_init(&b, &empty_h);
	assert_true(b.done);
	agent_http_body_init(&b, &zero_h);
	assert_true(b.done);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_request_carries_host_and_range),
		cmocka_unit_test(test_get_request_rejects_bad_paths_and_small_buffers),
		cmocka_unit_test(test_head_parses_status_and_known_headers),
		cmocka_unit_test(test_head_accepts_bare_lf_and_empty_reason_and_chunked),
		cmocka_unit_test(test_head_incomplete_then_complete_at_every_split),
		cmocka_unit_test(test_head_rejects_malformed),
		cmocka_unit_test(test_content_range_forms),
		cmocka_unit_test(test_chunked_body_decodes_at_every_split),
		cmocka_unit_test(test_chunked_body_tolerates_bare_lf_and_reports_eof),
		cmocka_unit_test(test_chunked_body_rejects_bad_framing),
		cmocka_unit_test(test_length_and_close_bodies),
	};
	return vh_run_tests(tests, NULL, NULL);
}
