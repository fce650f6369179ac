/* agent_http: the pure half of the agent's HTTP/1.1 client: request text,
 * response head parser, Content-Range parser and an incremental body decoder
 * (Content-Length, chunked, or until close). No I/O: agent_ota feeds it the
 * bytes it reads, so unit tests can split responses at every byte. */
#ifndef VH_AGENT_HTTP_H
#define VH_AGENT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A response head larger than this is refused (ours are ~150 bytes). */
#define AGENT_HTTP_HEAD_MAX 8192

/* Formats "GET path HTTP/1.1" with Host and, when range_from > 0, a
 * "Range: bytes=<range_from>-" header, into buf (cap bytes, NUL-terminated).
 * keep_alive false adds "Connection: close". Returns the length, or -1 when
 * it does not fit or path is not an absolute path without spaces. */
int agent_http_format_get(char *buf, size_t cap, const char *host, const char *path,
			  long long range_from, bool keep_alive);

struct agent_http_head {
	int status;		  /* 100..599 */
	long long content_length; /* -1 when absent */
	bool chunked;		  /* Transfer-Encoding: chunked */
	bool has_content_range;
	long long range_first, range_last; /* -1 in a 416's "bytes STAR/T" */
	long long range_total;		   /* -1 for "bytes A-B/STAR" */
};

/* Parses the response head at buf[0..len): status line, then headers up to
 * the empty line (CRLF or bare LF line ends). Returns the head's length in
 * bytes (the body starts there), 0 when the empty line has not arrived yet
 * (len < AGENT_HTTP_HEAD_MAX), or -1 when malformed or too long. Header
 * names are case-insensitive; unknown headers are ignored. */
int agent_http_head_parse(const char *buf, size_t len, struct agent_http_head *head);

/* Parses a Content-Range value: "bytes A-B/T", "bytes A-B/STAR" (total -1)
 * or "bytes STAR/T" (first = last = -1), STAR being a literal asterisk.
 * Requires A <= B < T when T is known.
 * Returns 0, or -1 when malformed. */
int agent_http_parse_content_range(const char *value, long long *first, long long *last,
				   long long *total);

enum agent_http_body_mode {
	AGENT_HTTP_BODY_LENGTH, /* Content-Length bytes */
	AGENT_HTTP_BODY_CHUNKED,
	AGENT_HTTP_BODY_CLOSE, /* until the server closes */
};

enum agent_http_chunk_state {
	AGENT_HTTP_CHUNK_SIZE,
	AGENT_HTTP_CHUNK_EXT, /* ";ext" after the size, skipped */
	AGENT_HTTP_CHUNK_SIZE_LF,
	AGENT_HTTP_CHUNK_DATA,
	AGENT_HTTP_CHUNK_DATA_CR,
	AGENT_HTTP_CHUNK_DATA_LF,
	AGENT_HTTP_CHUNK_TRAILER, /* at the start of a trailer line */
	AGENT_HTTP_CHUNK_TRAILER_LINE,
	AGENT_HTTP_CHUNK_DONE,
};

struct agent_http_body {
	enum agent_http_body_mode mode;
	long long remaining; /* LENGTH: bytes left; CHUNKED: of this chunk */
	enum agent_http_chunk_state chunk;
	unsigned size_digits;
	bool done;
};

/* Prepares *body for the response described by head (status 204/304 and
 * 1xx have no body). */
void agent_http_body_init(struct agent_http_body *body, const struct agent_http_head *head);

/* Decodes len received bytes in place: the body bytes they carry are moved
 * to the front of buf and counted in *out_len; framing (chunk sizes, CRLFs,
 * trailers) is consumed. Bytes after the end of the body are dropped.
 * Returns 1 when the body is complete, 0 when more is expected, -1 on a
 * framing error (bad chunk size, missing CRLF). */
int agent_http_body_decode(struct agent_http_body *body, uint8_t *buf, size_t len, size_t *out_len);

/* Whether the server closing the connection now ends the body properly
 * (only in CLOSE mode, or when the body is already complete). */
bool agent_http_body_eof_ok(const struct agent_http_body *body);

#endif
