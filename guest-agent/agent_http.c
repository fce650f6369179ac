/* agent_http: HTTP/1.1 response parsing for the agent, no I/O. */
#include "agent_http.h"

#include "fields.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int agent_http_format_get(char *buf, size_t cap, const char *host, const char *path,
			  long long range_from, bool keep_alive)
{
	char range[64] = "";
	int n;

	/* The path goes into the request line verbatim: a space or CR/LF
	 * there would forge another request. */
	if (path[0] != '/' || strpbrk(path, " \r\n\t") != NULL)
		return -1;
	if (range_from > 0)
		snprintf(range, sizeof(range), "Range: bytes=%lld-\r\n", range_from);
	n = snprintf(buf, cap, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: vh-agent\r\n%s%s\r\n",
		     path, host, range, keep_alive ? "" : "Connection: close\r\n");
	if (n < 0 || (size_t)n >= cap)
		return -1;
	return n;
}

/* Parses a non-negative decimal that must fill [p, end). */
static int agent_http_parse_ll(const char *p, const char *end, long long *out)
{
	long long v = 0;

	if (p >= end)
		return -1;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9' || v > (0x7fffffffffffffffll - 9) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	*out = v;
	return 0;
}

int agent_http_parse_content_range(const char *value, long long *first, long long *last,
				   long long *total)
{
	const char *p = value, *dash, *slash, *end;

	if (strncasecmp(p, "bytes ", 6) != 0)
		return -1;
	p += 6;
	while (*p == ' ')
		p++;
	end = p + strlen(p);
	while (end > p && end[-1] == ' ')
		end--;
	slash = memchr(p, '/', (size_t)(end - p));
	if (slash == NULL)
		return -1;
	if (slash == end - 1)
		return -1;
	if (end - slash == 2 && slash[1] == '*')
		*total = -1;
	else if (agent_http_parse_ll(slash + 1, end, total) != 0)
		return -1;
	if (slash - p == 1 && *p == '*') {
		/* "bytes * /T": the form of a 416, which needs the total. */
		if (*total < 0)
			return -1;
		*first = *last = -1;
		return 0;
	}
	dash = memchr(p, '-', (size_t)(slash - p));
	if (dash == NULL || agent_http_parse_ll(p, dash, first) != 0 ||
	    agent_http_parse_ll(dash + 1, slash, last) != 0)
		return -1;
	if (*first > *last || (*total >= 0 && *last >= *total))
		return -1;
	return 0;
}

/* Applies one "Name: value" header line [p, end). */
static int agent_http_header(const char *p, const char *end, struct agent_http_head *head)
{
	char value[256];
	const char *colon = memchr(p, ':', (size_t)(end - p));
	size_t name_len, value_len;
	const char *v;

	if (colon == NULL || colon == p)
		return -1;
	name_len = (size_t)(colon - p);
	v = colon + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	value_len = (size_t)(end - v);
	if (value_len >= sizeof(value))
		return 0; /* none of the headers we read is that long */
	memcpy(value, v, value_len);
	value[value_len] = '\0';

	if (name_len == 14 && strncasecmp(p, "Content-Length", 14) == 0)
		return agent_http_parse_ll(value, value + value_len, &head->content_length);
	if (name_len == 17 && strncasecmp(p, "Transfer-Encoding", 17) == 0) {
		/* Only "chunked" (last) matters to us; gzip etc. we never ask for. */
		if (value_len >= 7 && strcasecmp(value + value_len - 7, "chunked") == 0)
			head->chunked = true;
		return 0;
	}
	if (name_len == 13 && strncasecmp(p, "Content-Range", 13) == 0) {
		if (agent_http_parse_content_range(value, &head->range_first, &head->range_last,
						   &head->range_total) != 0)
			return -1;
		head->has_content_range = true;
		return 0;
	}
	return 0;
}

int agent_http_head_parse(const char *buf, size_t len, struct agent_http_head *head)
{
	const char *p = buf, *end = buf + len;
	bool first = true;

	memset(head, 0, sizeof(*head));
	head->content_length = -1;
	head->range_first = head->range_last = head->range_total = -1;
	for (;;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end;

		if (nl == NULL)
			return len < AGENT_HTTP_HEAD_MAX ? 0 : -1;
		if (nl + 1 - buf > AGENT_HTTP_HEAD_MAX)
			return -1;
		line_end = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
		if (first) {
			/* "HTTP/1.x NNN reason": the reason may be empty. */
			if (line_end - p < 12 || strncmp(p, "HTTP/1.", 7) != 0 ||
			    !isdigit((unsigned char)p[7]) || p[8] != ' ' ||
			    !isdigit((unsigned char)p[9]) || !isdigit((unsigned char)p[10]) ||
			    !isdigit((unsigned char)p[11]) || (line_end - p > 12 && p[12] != ' '))
				return -1;
			head->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
			/* RFC 9110 15: codes outside 100..599 are invalid. */
			if (head->status < 100 || head->status > 599)
				return -1;
			first = false;
		} else if (line_end == p) {
			return (int)(nl + 1 - buf);
		} else if (agent_http_header(p, line_end, head) != 0) {
			return -1;
		}
		p = nl + 1;
	}
}

void agent_http_body_init(struct agent_http_body *body, const struct agent_http_head *head)
{
	memset(body, 0, sizeof(*body));
	body->chunk = AGENT_HTTP_CHUNK_SIZE;
	/* RFC 9112 6.3: chunked wins over Content-Length. */
	if (head->chunked) {
		body->mode = AGENT_HTTP_BODY_CHUNKED;
	} else if (head->content_length >= 0) {
		body->mode = AGENT_HTTP_BODY_LENGTH;
		body->remaining = head->content_length;
	} else {
		body->mode = AGENT_HTTP_BODY_CLOSE;
	}
	if (head->status < 200 || head->status == 204 || head->status == 304 ||
	    (body->mode == AGENT_HTTP_BODY_LENGTH && body->remaining == 0))
		body->done = true;
}

static int agent_http_chunked(struct agent_http_body *b, uint8_t *buf, size_t len, size_t *out_len)
{
	size_t in = 0, out = 0;

	while (in < len && b->chunk != AGENT_HTTP_CHUNK_DONE) {
		int c = buf[in];

		switch (b->chunk) {
		case AGENT_HTTP_CHUNK_SIZE:
			if (wire_hex_digit(c) >= 0) {
				/* 15 hex digits is far beyond any chunk we accept. */
				if (++b->size_digits > 15)
					return -1;
				b->remaining = b->remaining * 16 + wire_hex_digit(c);
				in++;
				break;
			}
			if (b->size_digits == 0)
				return -1;
			if (c == ';' || c == ' ' || c == '\t')
				b->chunk = AGENT_HTTP_CHUNK_EXT;
			else if (c == '\r')
				b->chunk = AGENT_HTTP_CHUNK_SIZE_LF;
			else if (c == '\n')
				b->chunk = b->remaining ? AGENT_HTTP_CHUNK_DATA
							: AGENT_HTTP_CHUNK_TRAILER;
			else
				return -1;
			in++;
			break;
		case AGENT_HTTP_CHUNK_EXT:
			if (c == '\n')
				b->chunk = b->remaining ? AGENT_HTTP_CHUNK_DATA
							: AGENT_HTTP_CHUNK_TRAILER;
			in++;
			break;
		case AGENT_HTTP_CHUNK_SIZE_LF:
			if (c != '\n')
				return -1;
			b->chunk = b->remaining ? AGENT_HTTP_CHUNK_DATA : AGENT_HTTP_CHUNK_TRAILER;
			in++;
			break;
		case AGENT_HTTP_CHUNK_DATA: {
			size_t n = len - in;

			if ((long long)n > b->remaining)
				n = (size_t)b->remaining;
			memmove(buf + out, buf + in, n);
			out += n;
			in += n;
			b->remaining -= (long long)n;
			if (b->remaining == 0)
				b->chunk = AGENT_HTTP_CHUNK_DATA_CR;
			break;
		}
		case AGENT_HTTP_CHUNK_DATA_CR:
			/* Tolerate a bare LF as servers' line ends elsewhere. */
			if (c == '\r')
				b->chunk = AGENT_HTTP_CHUNK_DATA_LF;
			else if (c == '\n') {
				b->chunk = AGENT_HTTP_CHUNK_SIZE;
				b->size_digits = 0;
			} else {
				return -1;
			}
			in++;
			break;
		case AGENT_HTTP_CHUNK_DATA_LF:
			if (c != '\n')
				return -1;
			b->chunk = AGENT_HTTP_CHUNK_SIZE;
			b->size_digits = 0;
			in++;
			break;
		case AGENT_HTTP_CHUNK_TRAILER:
			if (c == '\n')
				b->chunk = AGENT_HTTP_CHUNK_DONE;
			else if (c != '\r')
				b->chunk = AGENT_HTTP_CHUNK_TRAILER_LINE;
			in++;
			break;
		case AGENT_HTTP_CHUNK_TRAILER_LINE:
			if (c == '\n')
				b->chunk = AGENT_HTTP_CHUNK_TRAILER;
			in++;
			break;
		case AGENT_HTTP_CHUNK_DONE:
			break;
		}
	}
	*out_len = out;
	if (b->chunk == AGENT_HTTP_CHUNK_DONE)
		b->done = true;
	return b->done ? 1 : 0;
}

int agent_http_body_decode(struct agent_http_body *body, uint8_t *buf, size_t len, size_t *out_len)
{
	*out_len = 0;
	if (body->done)
		return 1;
	switch (body->mode) {
	case AGENT_HTTP_BODY_LENGTH:
		*out_len = (long long)len < body->remaining ? len : (size_t)body->remaining;
		body->remaining -= (long long)*out_len;
		body->done = body->remaining == 0;
		return body->done ? 1 : 0;
	case AGENT_HTTP_BODY_CHUNKED:
		return agent_http_chunked(body, buf, len, out_len);
	case AGENT_HTTP_BODY_CLOSE:
		*out_len = len;
		return 0;
	}
	return -1;
}

bool agent_http_body_eof_ok(const struct agent_http_body *body)
{
	return body->done || body->mode == AGENT_HTTP_BODY_CLOSE;
}
