/* Unit tests for the OTA update server (harness/ota/update_server.c) on
 * 127.0.0.1: the ev loop and the non-blocking test clients share this one
 * thread, as they share the harness's thread in a run; curl (when
 * installed) runs in a child process while this thread drives the loop. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "bundle.h"
#include "ev.h"
#include "rollout.h"
#include "test_files.h"
#include "test_skip.h"
#include "update_server.h"

/* ---- fixture ---- */

#define MAX_EVENTS 256

struct fixture {
	struct ev_loop *loop;
	struct update_server *s;
	uint16_t port;
	char dir[64];
	char bundle[128]; /* version 2.0.0 */
	uint8_t *bundle_bytes;
	size_t bundle_len;
	char sha[65];
	char *events[MAX_EVENTS];
	int nevents;
};

static void on_event(void *ctx, const char *event, const char *const *kv)
{
	struct fixture *f = ctx;
	char line[1024];
	size_t n = (size_t)snprintf(line, sizeof(line), "%s", event);
	for (; kv[0] && kv[1] && n < sizeof(line); kv += 2)
		n += (size_t)snprintf(line + n, sizeof(line) - n, " %s=%s", kv[0], kv[1]);
	if (f->nevents < MAX_EVENTS)
		f->events[f->nevents++] = strdup(line);
}

/* Index of the first event containing all of the given substrings, or -1. */
static int find_event(struct fixture *f, const char *a, const char *b, const char *c)
{
	for (int i = 0; i < f->nevents; i++)
		if (strstr(f->events[i], a) && (!b || strstr(f->events[i], b)) &&
		    (!c || strstr(f->events[i], c)))
			return i;
	return -1;
}

static void dump_events(struct fixture *f)
{
	for (int i = 0; i < f->nevents; i++)
		print_message("  event: %s\n", f->events[i]);
}

static uint8_t *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	uint8_t *buf = malloc((size_t)st.st_size + 1);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/vh-test-us-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	char k[128], i[128], err[256];
	snprintf(k, sizeof(k), "%s/k", f->dir);
	snprintf(i, sizeof(i), "%s/i", f->dir);
	snprintf(f->bundle, sizeof(f->bundle), "%s/fw-2.0.0.bundle", f->dir);
	/* 300 KB: several MHD blocks, so downloads take more than one read */
	size_t klen = 200000, ilen = 100000;
	uint8_t *data = malloc(klen + ilen);
	uint32_t x = 7;
	for (size_t n = 0; n < klen + ilen; n++) {
		x = x * 1103515245u + 12345u;
		data[n] = (uint8_t)(x >> 16);
	}
	write_file(k, data, klen);
	write_file(i, data + klen, ilen);
	free(data);
	struct bundle_header h;
	assert_int_equal(bundle_write(f->bundle, "2.0.0", "no-backoff", k, i, &h, err, sizeof(err)),
			 0);
	memcpy(f->sha, h.sha256, sizeof(f->sha));
	f->bundle_bytes = read_file(f->bundle, &f->bundle_len);

	f->loop = ev_loop_new();
	assert_non_null(f->loop);
	int rc = update_server_new(f->loop, "127.0.0.1", 0, on_event, f, &f->s, err, sizeof(err));
	if (rc)
		fail_msg("update_server_new: %s", err);
	f->port = update_server_port(f->s);
	assert_true(f->port != 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	update_server_free(f->s);
	ev_loop_free(f->loop);
	for (int i = 0; i < f->nevents; i++)
		free(f->events[i]);
	free(f->bundle_bytes);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	int rc = system(cmd);
	free(f);
	return rc == 0 ? 0 : -1;
}

/* ---- a tiny non-blocking HTTP client ---- */

struct client {
	int fd;
	uint8_t *buf;
	size_t len, cap;
	bool eof;
};

static int client_connect(struct client *c, uint16_t port)
{
	memset(c, 0, sizeof(*c));
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c->fd >= 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* a blocking connect to a local listener completes in the kernel
	 * without the server's help; only then go non-blocking */
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(c->fd);
		c->fd = -1;
		return -e;
	}
	fcntl(c->fd, F_SETFL, O_NONBLOCK);
	return 0;
}

static void client_send(struct client *c, const char *req)
{
	size_t len = strlen(req);
	assert_int_equal(send(c->fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
}

static void client_read(struct client *c)
{
	if (c->fd < 0 || c->eof)
		return;
	for (;;) {
		if (c->cap - c->len < 65536) {
			c->cap = c->cap ? c->cap * 2 : 131072;
			c->buf = realloc(c->buf, c->cap + 1);
		}
		ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (n > 0) {
			c->len += (size_t)n;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			c->eof = true;
		break;
	}
	c->buf[c->len] = '\0';
}

static void client_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* Pumps until an event containing the given substrings (as find_event) was
 * recorded, at most timeout_ms: waiting for what should happen, not for a while in
 * which it should, so a process that lost its CPU for a moment still sees it. */
static bool pump_until_event(struct fixture *f, const char *a, const char *b, const char *c,
			     uint64_t timeout_ms)
{
	uint64_t end = ev_clock_ms() + timeout_ms;
	while (find_event(f, a, b, c) < 0 && ev_clock_ms() < end)
		ev_run_once(f->loop, 5);
	return find_event(f, a, b, c) >= 0;
}

/* Pumps until the client saw EOF (at most timeout_ms). */
static bool pump_until_eof(struct fixture *f, struct client *c, uint64_t timeout_ms)
{
	uint64_t end = ev_clock_ms() + timeout_ms;
	while (!c->eof && ev_clock_ms() < end) {
		ev_run_once(f->loop, 5);
		client_read(c);
	}
	return c->eof;
}

struct http_resp {
	int status;
	char headers[2048];
	const uint8_t *body;
	size_t body_len;
};

/* Splits what the client received into status, headers and body. */
static bool parse_resp(const struct client *c, struct http_resp *r)
{
	memset(r, 0, sizeof(*r));
	const uint8_t *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
	if (!end || sscanf((const char *)c->buf, "HTTP/1.%*d %d", &r->status) != 1)
		return false;
	size_t hl = (size_t)(end - c->buf);
	if (hl >= sizeof(r->headers))
		hl = sizeof(r->headers) - 1;
	memcpy(r->headers, c->buf, hl);
	r->body = end + 4;
	r->body_len = c->len - (size_t)(end + 4 - c->buf);
	return true;
}

/* Decodes a chunked body's complete chunks into out (NUL-terminated). */
static size_t dechunk(const uint8_t *p, size_t len, char *out, size_t outlen)
{
	size_t o = 0, i = 0;
	while (i < len) {
		const uint8_t *crlf = memmem(p + i, len - i, "\r\n", 2);
		if (!crlf)
			break;
		unsigned long n = strtoul((const char *)p + i, NULL, 16);
		size_t data = (size_t)(crlf - p) + 2;
		if (n == 0 || data + n + 2 > len)
			break;
		if (o + n < outlen) {
			memcpy(out + o, p + data, n);
			o += n;
		}
		i = data + n + 2;
	}
	out[o] = '\0';
	return o;
}

/* One GET with "Connection: close", pumped to completion. */
static void get(struct fixture *f, const char *path, const char *extra, struct client *c,
		struct http_resp *r)
{
	char req[512];
	assert_int_equal(client_connect(c, f->port), 0);
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n",
		 path, extra ? extra : "");
	client_send(c, req);
	if (!pump_until_eof(f, c, 5000))
		fail_msg("no EOF for %s", path);
	assert_true(parse_resp(c, r));
}

/* ---- tests ---- */

static void test_parse_range(void **state)
{
	(void)state;
	uint64_t a = 0, b = 0;
	assert_int_equal(update_server_parse_range(NULL, 1000, &a, &b), 0);
	assert_int_equal(update_server_parse_range("bytes=100-", 1000, &a, &b), 1);
	assert_true(a == 100 && b == 999);
	assert_int_equal(update_server_parse_range("bytes=100-199", 1000, &a, &b), 1);
	assert_true(a == 100 && b == 199);
	assert_int_equal(update_server_parse_range("bytes=0-0", 1000, &a, &b), 1);
	assert_true(a == 0 && b == 0);
	assert_int_equal(update_server_parse_range("bytes=999-", 1000, &a, &b), 1);
	assert_true(a == 999 && b == 999);
	/* an end past the body is clamped (RFC 9110 §14.1.2) */
	assert_int_equal(update_server_parse_range("bytes=900-5000", 1000, &a, &b), 1);
	assert_true(a == 900 && b == 999);
	assert_int_equal(update_server_parse_range("bytes=-10", 1000, &a, &b), 1);
	assert_true(a == 990 && b == 999);
	assert_int_equal(update_server_parse_range("bytes=-5000", 1000, &a, &b), 1);
	assert_true(a == 0 && b == 999);
	assert_int_equal(update_server_parse_range("Bytes= 5-6 ", 1000, &a, &b), 1);
	/* unsatisfiable or malformed: 416 */
	assert_int_equal(update_server_parse_range("bytes=1000-", 1000, &a, &b), -1);
	assert_int_equal(update_server_parse_range("bytes=2000-3000", 1000, &a, &b), -1);
	assert_int_equal(update_server_parse_range("bytes=200-100", 1000, &a, &b), -1);
	assert_int_equal(update_server_parse_range("bytes=-0", 1000, &a, &b), -1);
	assert_int_equal(update_server_parse_range("bytes=abc", 1000, &a, &b), -1);
	assert_int_equal(update_server_parse_range("bytes=1-2x", 1000, &a, &b), -1);
	assert_int_equal(update_server_parse_range("bytes=-", 1000, &a, &b), -1);
	assert_int_equal(update_server_parse_range("bytes=0-", 0, &a, &b), -1);
	assert_int_equal(update_server_parse_range("bytes=99999999999999999999-", 1000, &a, &b),
			 -1);
	/* forms we may ignore: whole body */
	assert_int_equal(update_server_parse_range("items=1-2", 1000, &a, &b), 0);
	assert_int_equal(update_server_parse_range("bytes=1-2,5-6", 1000, &a, &b), 0);
}

static void test_full_download_and_events(void **state)
{
	struct fixture *f = *state;
	char err[256];
	assert_int_equal(
		update_server_publish(f->s, "2.0.0", f->bundle, ROLLOUT_ALL, err, sizeof(err)), 0);
	struct client c;
	struct http_resp r;
	get(f, "/firmware/2.0.0.bundle", NULL, &c, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, f->bundle_len);
	assert_memory_equal(r.body, f->bundle_bytes, f->bundle_len);
	char cl[64];
	snprintf(cl, sizeof(cl), "Content-Length: %zu", f->bundle_len);
	assert_non_null(strcasestr(r.headers, cl));
	assert_non_null(strcasestr(r.headers, "Accept-Ranges: bytes"));
	client_close(&c);
	pump_until_event(f, "http_disconnect conn=1", NULL, NULL, 2000);
	char bytes[64];
	snprintf(bytes, sizeof(bytes), "bytes=%zu ", f->bundle_len);
	if (find_event(f, "http_connect conn=1 peer=127.0.0.1:", NULL, NULL) < 0 ||
	    find_event(f, "http_request conn=1",
		       "method=GET path=/firmware/2.0.0.bundle range= status=200", bytes) < 0 ||
	    find_event(f, "http_request", "result=ok", NULL) < 0 ||
	    find_event(f, "http_disconnect conn=1", NULL, NULL) < 0) {
		dump_events(f);
		fail_msg("events missing");
	}
	/* connect < request < disconnect */
	assert_true(find_event(f, "http_connect", NULL, NULL) <
		    find_event(f, "http_request", NULL, NULL));
	assert_true(find_event(f, "http_request", NULL, NULL) <
		    find_event(f, "http_disconnect", NULL, NULL));

	/* HEAD: headers only */
	assert_int_equal(client_connect(&c, f->port), 0);
	client_send(&c,
		    "HEAD /firmware/2.0.0.bundle HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_true(pump_until_eof(f, &c, 5000));
	assert_true(parse_resp(&c, &r));
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 0);
	client_close(&c);
}

/* GET path with "Range: bytes=from-[to]" (to < 0: to the end): a 206 with
 * exactly those bytes of the bundle and the Content-Range that says so. */
static void expect_range(struct fixture *f, const char *path, size_t from, long to)
{
	struct client c;
	struct http_resp r;
	char range[64], want[128];
	size_t last = to < 0 ? f->bundle_len - 1 : (size_t)to;
	if (to < 0)
		snprintf(range, sizeof(range), "Range: bytes=%zu-\r\n", from);
	else
		snprintf(range, sizeof(range), "Range: bytes=%zu-%zu\r\n", from, last);
	get(f, path, range, &c, &r);
	assert_int_equal(r.status, 206);
	assert_int_equal(r.body_len, last + 1 - from);
	assert_memory_equal(r.body, f->bundle_bytes + from, last + 1 - from);
	snprintf(want, sizeof(want), "Content-Range: bytes %zu-%zu/%zu", from, last, f->bundle_len);
	assert_non_null(strcasestr(r.headers, want));
	client_close(&c);
}

static void test_range_requests_give_exact_bytes(void **state)
{
	struct fixture *f = *state;
	char err[256], want[128];
	assert_int_equal(
		update_server_publish(f->s, "2.0.0", f->bundle, ROLLOUT_ALL, err, sizeof(err)), 0);
	struct client c;
	struct http_resp r;

	expect_range(f, "/firmware/2.0.0.bundle", 100, -1);
	expect_range(f, "/firmware/2.0.0.bundle", 100, 199);

	char range[64];
	snprintf(range, sizeof(range), "Range: bytes=%zu-\r\n", f->bundle_len);
	get(f, "/firmware/2.0.0.bundle", range, &c, &r);
	assert_int_equal(r.status, 416);
	snprintf(want, sizeof(want), "Content-Range: bytes */%zu", f->bundle_len);
	assert_non_null(strcasestr(r.headers, want));
	client_close(&c);
	pump_until_event(f, "http_request", "status=416", NULL, 2000);
	if (find_event(f, "http_request", "range=bytes=100-199 status=206 bytes=100 ", NULL) < 0 ||
	    find_event(f, "http_request", "status=416", NULL) < 0) {
		dump_events(f);
		fail_msg("range events missing");
	}
}

/* ota:serve: any file at any path, with the bundle's Range rules, read as it
 * is at request time, and gone once withdrawn. */
static void test_served_file_honours_range(void **state)
{
	struct fixture *f = *state;
	char err[256], want[128], range[64];
	struct client c;
	struct http_resp r;
	/* no bundle published: served files do not depend on a publication */
	assert_int_equal(update_server_serve(f->s, "/r2.mender", f->bundle, err, sizeof(err)), 0);

	get(f, "/r2.mender", NULL, &c, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, f->bundle_len);
	assert_memory_equal(r.body, f->bundle_bytes, f->bundle_len);
	assert_non_null(strcasestr(r.headers, "Accept-Ranges: bytes"));
	client_close(&c);

	expect_range(f, "/r2.mender", 100, 199);
	/* a resumed download: from an offset to the end */
	expect_range(f, "/r2.mender", 1000, -1);

	snprintf(range, sizeof(range), "Range: bytes=%zu-\r\n", f->bundle_len);
	get(f, "/r2.mender", range, &c, &r);
	assert_int_equal(r.status, 416);
	snprintf(want, sizeof(want), "Content-Range: bytes */%zu", f->bundle_len);
	assert_non_null(strcasestr(r.headers, want));
	client_close(&c);
	get(f, "/r2.mender", "Range: bytes=300-200\r\n", &c, &r);
	assert_int_equal(r.status, 416);
	client_close(&c);
	assert_true(pump_until_event(f, "http_request", "path=/r2.mender", "status=416", 2000));

	/* read at request time: a rewritten file is served with its new size */
	char text[160];
	snprintf(text, sizeof(text), "%s/release", f->dir);
	FILE *fp = fopen(text, "w");
	assert_non_null(fp);
	fputs("release-2 /r2.mender\n", fp);
	fclose(fp);
	assert_int_equal(update_server_serve(f->s, "/release", text, err, sizeof(err)), 0);
	get(f, "/release", NULL, &c, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, strlen("release-2 /r2.mender\n"));
	assert_memory_equal(r.body, "release-2 /r2.mender\n", r.body_len);
	client_close(&c);

	/* withdrawn, or the file gone: 404 */
	assert_int_equal(update_server_serve(f->s, "/r2.mender", NULL, err, sizeof(err)), 0);
	get(f, "/r2.mender", NULL, &c, &r);
	assert_int_equal(r.status, 404);
	client_close(&c);
	assert_int_equal(unlink(text), 0);
	get(f, "/release", NULL, &c, &r);
	assert_int_equal(r.status, 404);
	client_close(&c);

	/* what cannot be served is refused with a reason */
	assert_int_equal(update_server_serve(f->s, "r2.mender", f->bundle, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "must start with '/'"));
	assert_int_equal(update_server_serve(f->s, "/checkin", f->bundle, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(update_server_serve(f->s, "/x", "/nonexistent/file", err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/file"));
	assert_int_equal(update_server_serve(f->s, "/x", f->dir, err, sizeof(err)), -EINVAL);
}

static void test_unknown_paths_and_versions_are_404(void **state)
{
	struct fixture *f = *state;
	char err[256];
	struct client c;
	struct http_resp r;
	/* nothing published yet */
	get(f, "/firmware/2.0.0.bundle", NULL, &c, &r);
	assert_int_equal(r.status, 404);
	client_close(&c);
	assert_int_equal(
		update_server_publish(f->s, "2.0.0", f->bundle, ROLLOUT_ALL, err, sizeof(err)), 0);
	const char *paths[] = { "/firmware/1.0.0.bundle",
				"/firmware/2.0.0",
				"/firmware/2.0.0.bundlex",
				"/firmware/",
				"/",
				"/nope",
				"/firmware/../fw-2.0.0.bundle" };
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		get(f, paths[i], NULL, &c, &r);
		if (r.status != 404)
			fail_msg("%s: status %d", paths[i], r.status);
		client_close(&c);
	}
	update_server_unpublish(f->s);
	get(f, "/firmware/2.0.0.bundle", NULL, &c, &r);
	assert_int_equal(r.status, 404);
	client_close(&c);
	/* a method we do not serve */
	assert_int_equal(client_connect(&c, f->port), 0);
	client_send(
		&c,
		"DELETE /firmware/2.0.0.bundle HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_true(pump_until_eof(f, &c, 5000));
	assert_true(parse_resp(&c, &r));
	assert_int_equal(r.status, 405);
	client_close(&c);
	/* publishing a version the bundle does not hold, or a non-bundle */
	assert_int_equal(
		update_server_publish(f->s, "3.0.0", f->bundle, ROLLOUT_ALL, err, sizeof(err)),
		-EINVAL);
	assert_int_equal(
		update_server_publish(f->s, "2.0.0", "/nonexistent", ROLLOUT_ALL, err, sizeof(err)),
		-ENOENT);
}

/* Lines of the check-in stream so far, with the time the client saw each. */
struct line_log {
	char text[32][160];
	uint64_t at_ms[32];
	int n;
	size_t seen;
};

static void collect_lines(struct client *c, struct line_log *log)
{
	struct http_resp r;
	if (!parse_resp(c, &r))
		return;
	char body[8192];
	size_t n = dechunk(r.body, r.body_len, body, sizeof(body));
	while (log->seen < n && log->n < 32) {
		char *nl = strchr(body + log->seen, '\n');
		if (!nl)
			break;
		size_t len = (size_t)(nl - (body + log->seen));
		snprintf(log->text[log->n], sizeof(log->text[0]), "%.*s", (int)len,
			 body + log->seen);
		log->at_ms[log->n++] = ev_clock_ms();
		log->seen += len + 1;
	}
}

static void pump_lines(struct fixture *f, struct client *c, struct line_log *log, uint64_t ms)
{
	uint64_t end = ev_clock_ms() + ms;
	while (ev_clock_ms() < end) {
		ev_run_once(f->loop, 5);
		client_read(c);
		collect_lines(c, log);
	}
}

/* Pumps until log has n lines, at most timeout_ms: heartbeat seq=0 comes at once,
 * but "at once" is whenever this process next runs. */
static bool pump_lines_until(struct fixture *f, struct client *c, struct line_log *log, int n,
			     uint64_t timeout_ms)
{
	uint64_t end = ev_clock_ms() + timeout_ms;
	while (log->n < n && ev_clock_ms() < end) {
		ev_run_once(f->loop, 5);
		client_read(c);
		collect_lines(c, log);
	}
	return log->n >= n;
}

static void checkin(struct fixture *f, struct client *c, const char *device, const char *version)
{
	char req[256];
	assert_int_equal(client_connect(c, f->port), 0);
	snprintf(req, sizeof(req),
		 "GET /checkin?device=%s&version=%s&slot=a HTTP/1.1\r\nHost: x\r\n\r\n", device,
		 version);
	client_send(c, req);
}

static void test_checkin_heartbeats_then_offer_on_publish(void **state)
{
	struct fixture *f = *state;
	struct client c;
	struct line_log log = { 0 };
	uint64_t t0 = ev_clock_ms();
	checkin(f, &c, "dut", "1.0.0");
	/* Long enough for the bounds checked below: 300 ms, then 3 gaps of <= 1250. */
	pump_lines(f, &c, &log, 300 + 3 * 1250);
	struct http_resp r;
	assert_true(parse_resp(&c, &r));
	assert_int_equal(r.status, 200);
	assert_non_null(strcasestr(r.headers, "Transfer-Encoding: chunked"));
	/* seq=0 at once, then one a second */
	if (log.n < 4) {
		for (int i = 0; i < log.n; i++)
			print_message("line %d: %s\n", i, log.text[i]);
		fail_msg("only %d lines in 4.05 s", log.n);
	}
	for (int i = 0; i < 4; i++) {
		char want[32];
		snprintf(want, sizeof(want), "heartbeat seq=%d", i);
		assert_string_equal(log.text[i], want);
	}
	/* seq=0 is queued as the check-in is read; each later one is armed 1000 ms after
	 * the one before was sent, and the client reads in the same loop turn. So a gap
	 * is 1000 ms plus how late this process ran that timer (for seq=1, less how long
	 * seq=0 waited for a writable socket): the slack is for this process's stalls. */
	assert_true(log.at_ms[0] - t0 < 300);
	for (int i = 1; i < 4; i++) {
		uint64_t gap = log.at_ms[i] - log.at_ms[i - 1];
		if (gap < 850 || gap > 1250)
			fail_msg("heartbeat %d came %llu ms after the previous", i,
				 (unsigned long long)gap);
	}
	int before = log.n;
	char err[256];
	uint64_t t_pub = ev_clock_ms();
	assert_int_equal(
		update_server_publish(f->s, "2.0.0", f->bundle, ROLLOUT_ALL, err, sizeof(err)), 0);
	while (log.n == before && ev_clock_ms() - t_pub < 2000)
		pump_lines(f, &c, &log, 5);
	assert_true(log.n > before);
	assert_true(log.at_ms[before] - t_pub < 200); /* offered to parked check-ins at once */
	char want[256];
	snprintf(want, sizeof(want),
		 "offer version=2.0.0 size=%zu sha256=%s url=/firmware/2.0.0.bundle", f->bundle_len,
		 f->sha);
	assert_string_equal(log.text[before], want);
	if (find_event(f, "checkin", "device=dut version=1.0.0 slot=a", NULL) < 0 ||
	    find_event(f, "offer", "device=dut version=2.0.0", NULL) < 0) {
		dump_events(f);
		fail_msg("checkin/offer events missing");
	}
	client_close(&c);
}

static int offers(const struct line_log *log)
{
	int n = 0;
	for (int i = 0; i < log->n; i++)
		n += strncmp(log->text[i], "offer ", 6) == 0;
	return n;
}

/* Pumps both check-ins until old has want_old offers and cur at least one line (at
 * most 2 s), then quiet_ms more, for lines that should not come. Counting offers,
 * not lines: a heartbeat may come in between if this process stalled for a second. */
static void pump_two(struct fixture *f, struct client *old, struct line_log *lo, struct client *cur,
		     struct line_log *lc, int want_old, uint64_t quiet_ms)
{
	uint64_t end = ev_clock_ms() + 2000;
	bool quiet = false;
	while (ev_clock_ms() < end) {
		if (!quiet && offers(lo) >= want_old && lc->n >= 1) {
			end = ev_clock_ms() + quiet_ms;
			quiet = true;
		}
		ev_run_once(f->loop, 5);
		client_read(old);
		client_read(cur);
		collect_lines(old, lo);
		collect_lines(cur, lc);
	}
}

static void test_fresh_checkin_gets_offer_unless_current(void **state)
{
	struct fixture *f = *state;
	char err[256];
	assert_int_equal(
		update_server_publish(f->s, "2.0.0", f->bundle, ROLLOUT_ALL, err, sizeof(err)), 0);
	struct client old, cur;
	struct line_log lo = { 0 }, lc = { 0 };
	checkin(f, &old, "d1", "1.0.0");
	checkin(f, &cur, "d2", "2.0.0");
	pump_two(f, &old, &lo, &cur, &lc, 1, 100);
	assert_true(lo.n >= 2 && lc.n >= 1);
	assert_string_equal(lo.text[0], "heartbeat seq=0");
	assert_non_null(strstr(lo.text[1], "offer version=2.0.0 "));
	assert_int_equal(offers(&lo), 1);
	assert_string_equal(lc.text[0], "heartbeat seq=0");
	assert_int_equal(offers(&lc), 0);
	/* a re-publish offers again to the outdated device only */
	assert_int_equal(
		update_server_publish(f->s, "2.0.0", f->bundle, ROLLOUT_ALL, err, sizeof(err)), 0);
	pump_two(f, &old, &lo, &cur, &lc, 2, 100);
	assert_int_equal(offers(&lo), 2);
	assert_non_null(strstr(lo.text[lo.n - 1], "offer version=2.0.0 "));
	assert_int_equal(offers(&lc), 0);
	/* unpublish: no more offers to new check-ins */
	update_server_unpublish(f->s);
	struct client late;
	struct line_log ll = { 0 };
	checkin(f, &late, "d3", "1.0.0");
	assert_true(pump_lines_until(f, &late, &ll, 1, 2000));
	pump_lines(f, &late, &ll, 100);
	assert_string_equal(ll.text[0], "heartbeat seq=0");
	assert_int_equal(offers(&ll), 0);
	client_close(&old);
	client_close(&cur);
	client_close(&late);
}

/* A staged rollout: a device outside the share gets heartbeats and no
 * offer (a held_back event says so); widening past its bucket offers it the
 * release on its open check-in at once, and only once; a device already in
 * is not offered again by the widening. */
static void test_staged_rollout_offers_by_bucket_and_widens(void **state)
{
	struct fixture *f = *state;
	char err[256];
	/* two devices on either side of a share: find names with low / high
	 * buckets (the hash is fixed, rollout.c) */
	char in_name[16] = "", out_name[16] = "";
	for (int i = 0; i < 100 && (!*in_name || !*out_name); i++) {
		char n[16];
		snprintf(n, sizeof(n), "d%03d", i);
		unsigned b = rollout_bucket(n, "2.0.0");
		if (b < 20 && !*in_name)
			snprintf(in_name, sizeof(in_name), "%s", n);
		if (b >= 60 && !*out_name)
			snprintf(out_name, sizeof(out_name), "%s", n);
	}
	assert_true(*in_name && *out_name);
	unsigned out_bucket = rollout_bucket(out_name, "2.0.0");

	assert_int_equal(update_server_publish(f->s, "2.0.0", f->bundle, 20, err, sizeof(err)), 0);
	struct client in, out;
	struct line_log li = { 0 }, lo = { 0 };
	checkin(f, &in, in_name, "1.0.0");
	checkin(f, &out, out_name, "1.0.0");
	pump_two(f, &in, &li, &out, &lo, 1, 200);
	assert_int_equal(offers(&li), 1);
	assert_int_equal(offers(&lo), 0);
	assert_string_equal(lo.text[0], "heartbeat seq=0");
	char want[64];
	snprintf(want, sizeof(want), "device=%s version=2.0.0", out_name);
	if (find_event(f, "held_back", want, NULL) < 0) {
		dump_events(f);
		fail_msg("no held_back event for %s", out_name);
	}

	/* widening to just below its bucket still holds it back */
	assert_int_equal(update_server_set_rollout(f->s, out_bucket, err, sizeof(err)), 0);
	pump_two(f, &in, &li, &out, &lo, 1, 200);
	assert_int_equal(offers(&lo), 0);
	/* one more percent takes it in: the offer comes on the open check-in */
	assert_int_equal(update_server_set_rollout(f->s, out_bucket + 1, err, sizeof(err)), 0);
	pump_two(f, &out, &lo, &in, &li, 1, 200);
	assert_int_equal(offers(&lo), 1);
	assert_int_equal(offers(&li), 1);
	assert_int_equal(update_server_set_rollout(f->s, ROLLOUT_ALL, err, sizeof(err)), 0);
	pump_two(f, &in, &li, &out, &lo, 1, 200);
	assert_int_equal(offers(&lo), 1);
	assert_int_equal(offers(&li), 1);
	snprintf(want, sizeof(want), "device=%s version=2.0.0 size=", out_name);
	if (find_event(f, "offer", want, "bucket=") < 0) {
		dump_events(f);
		fail_msg("no offer event with its bucket for %s", out_name);
	}

	/* bad shares and nothing published are refused */
	assert_int_equal(update_server_set_rollout(f->s, 101, err, sizeof(err)), -EINVAL);
	assert_int_equal(update_server_publish(f->s, "2.0.0", f->bundle, 101, err, sizeof(err)),
			 -EINVAL);
	update_server_unpublish(f->s);
	assert_int_equal(update_server_set_rollout(f->s, 50, err, sizeof(err)), -ENOENT);
	client_close(&in);
	client_close(&out);
}

static void test_checkin_query_is_read_by_the_wire_codec(void **state)
{
	struct fixture *f = *state;
	struct client c;
	struct http_resp r;
	struct line_log log = { 0 };
	/* an escaped device name arrives decoded, '+' stays a '+' */
	checkin(f, &c, "a%26b", "1.0+x");
	pump_lines(f, &c, &log, 200);
	assert_int_equal(log.n, 1);
	client_close(&c);
	if (find_event(f, "checkin", "device=a&b version=1.0+x slot=a", NULL) < 0) {
		dump_events(f);
		fail_msg("decoded check-in event missing");
	}
	/* what the codec refuses gets 400, no stream and no check-in event */
	const char *bad[] = { "/checkin?device=d&version=1", "/checkin?device=d%4&version=1&slot=a",
			      "/checkin?device=d&device=e&version=1&slot=a", "/checkin" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		get(f, bad[i], NULL, &c, &r);
		if (r.status != 400)
			fail_msg("%s: status %d", bad[i], r.status);
		client_close(&c);
	}
	pump_until_event(f, "http_request", "path=/checkin", "status=400", 2000);
	if (find_event(f, "checkin", "device=d ", NULL) >= 0 ||
	    find_event(f, "http_request", "path=/checkin", "status=400") < 0) {
		dump_events(f);
		fail_msg("a refused check-in was recorded as a check-in, or not at all");
	}
}

static void test_client_disconnect_is_recorded(void **state)
{
	struct fixture *f = *state;
	struct client c;
	struct line_log log = { 0 };
	checkin(f, &c, "dut", "1.0.0");
	assert_true(pump_lines_until(f, &c, &log, 1, 2000));
	assert_string_equal(log.text[0], "heartbeat seq=0");
	client_close(&c);
	/* a parked check-in notices at its next heartbeat write at the latest, a second
	 * from now plus however late this process gets to run that timer */
	pump_until_event(f, "http_request", "path=/checkin", "result=client_gone", 5000);
	pump_until_event(f, "http_disconnect conn=1", NULL, NULL, 2000);
	if (find_event(f, "http_request", "path=/checkin", "result=client_gone") < 0 ||
	    find_event(f, "http_disconnect conn=1", NULL, NULL) < 0) {
		dump_events(f);
		fail_msg("disconnect not recorded");
	}
}

static void test_set_down_closes_and_refuses_then_comes_back(void **state)
{
	struct fixture *f = *state;
	char err[256];
	struct client c;
	struct line_log log = { 0 };
	checkin(f, &c, "dut", "1.0.0");
	assert_true(pump_lines_until(f, &c, &log, 1, 2000));
	assert_string_equal(log.text[0], "heartbeat seq=0");
	assert_int_equal(update_server_set_down(f->s, true, err, sizeof(err)), 0);
	assert_true(update_server_is_down(f->s));
	assert_true(pump_until_eof(f, &c, 2000));
	client_close(&c);
	assert_int_equal(client_connect(&c, f->port), -ECONNREFUSED);
	if (find_event(f, "http_request", "path=/checkin", "result=server_down") < 0 ||
	    find_event(f, "http_disconnect", NULL, NULL) < 0) {
		dump_events(f);
		fail_msg("down not recorded");
	}
	/* idempotent, and back on the same port */
	assert_int_equal(update_server_set_down(f->s, true, err, sizeof(err)), 0);
	assert_int_equal(update_server_set_down(f->s, false, err, sizeof(err)), 0);
	assert_false(update_server_is_down(f->s));
	assert_int_equal(update_server_set_down(f->s, false, err, sizeof(err)), 0);
	log = (struct line_log){ 0 };
	checkin(f, &c, "dut", "1.0.0");
	assert_true(pump_lines_until(f, &c, &log, 1, 2000));
	assert_string_equal(log.text[0], "heartbeat seq=0");
	/* the check-in stays parked server-side: teardown's free resumes it */
	client_close(&c);
}

static void down_from_event(void *ctx, const char *event, const char *const *kv)
{
	struct fixture *f = ctx;
	on_event(ctx, event, kv);
	if (strcmp(event, "checkin") == 0)
		assert_int_equal(update_server_set_down(f->s, true, NULL, 0), 0);
}

static void test_set_down_from_an_event_callback_is_deferred(void **state)
{
	struct fixture *f = *state;
	char err[256];
	update_server_free(f->s);
	assert_int_equal(update_server_new(f->loop, "127.0.0.1", f->port, down_from_event, f, &f->s,
					   err, sizeof(err)),
			 0);
	struct client c;
	checkin(f, &c, "dut", "1.0.0");
	assert_true(pump_until_eof(f, &c, 2000));
	client_close(&c);
	assert_true(update_server_is_down(f->s));
	assert_int_equal(client_connect(&c, f->port), -ECONNREFUSED);
}

static void test_bind_errors(void **state)
{
	struct fixture *f = *state;
	char err[256];
	struct update_server *s2 = NULL;
	assert_int_equal(
		update_server_new(f->loop, "127.0.0.1", f->port, NULL, NULL, &s2, err, sizeof(err)),
		-EADDRINUSE);
	assert_null(s2);
	assert_non_null(strstr(err, "127.0.0.1"));
	assert_int_equal(
		update_server_new(f->loop, "not-an-ip", 0, NULL, NULL, &s2, err, sizeof(err)),
		-EINVAL);
	/* an address no interface here has */
	assert_int_equal(
		update_server_new(f->loop, "192.0.2.1", 0, NULL, NULL, &s2, err, sizeof(err)),
		-EADDRNOTAVAIL);
}

/* Runs argv in a child while this thread drives the loop; returns its exit
 * status. */
static int run_child(struct fixture *f, char *const argv[])
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);
		dup2(devnull, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	int status = 0;
	uint64_t end = ev_clock_ms() + 10000;
	while (ev_clock_ms() < end) {
		ev_run_once(f->loop, 5);
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	fail_msg("%s timed out", argv[0]);
	return -1;
}

static void test_curl_downloads_ranges_and_streams_checkin(void **state)
{
	struct fixture *f = *state;
	if (system("command -v curl >/dev/null 2>&1") != 0)
		vh_skip("no curl in PATH");
	char err[256], url[128], out[128], chk[128];
	assert_int_equal(
		update_server_publish(f->s, "2.0.0", f->bundle, ROLLOUT_ALL, err, sizeof(err)), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/firmware/2.0.0.bundle", f->port);
	snprintf(out, sizeof(out), "%s/curl.out", f->dir);

	char *full[] = { "curl", "-sf", "-o", out, url, NULL };
	assert_int_equal(run_child(f, full), 0);
	size_t n;
	uint8_t *got = read_file(out, &n);
	assert_int_equal(n, f->bundle_len);
	assert_memory_equal(got, f->bundle_bytes, n);
	free(got);

	char *part[] = { "curl", "-sf", "-r", "100-199", "-o", out, url, NULL };
	assert_int_equal(run_child(f, part), 0);
	got = read_file(out, &n);
	assert_int_equal(n, 100);
	assert_memory_equal(got, f->bundle_bytes + 100, 100);
	free(got);

	/* resume a partial file the way the agent does: curl -C - */
	write_file(out, f->bundle_bytes, 12345);
	char *resume[] = { "curl", "-sf", "-C", "-", "-o", out, url, NULL };
	assert_int_equal(run_child(f, resume), 0);
	got = read_file(out, &n);
	assert_int_equal(n, f->bundle_len);
	assert_memory_equal(got, f->bundle_bytes, n);
	free(got);

	/* the check-in channel as a stream: curl stops after 2.5 s (exit 28) */
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/checkin?device=c&version=1.0.0&slot=a",
		 f->port);
	snprintf(chk, sizeof(chk), "%s/checkin.out", f->dir);
	char *stream[] = { "curl", "-sN", "--max-time", "2.5", "-o", chk, url, NULL };
	assert_int_equal(run_child(f, stream), 28);
	got = read_file(chk, &n);
	got[n] = '\0';
	/* Heartbeat k leaves k seconds after the check-in reached the server, which is
	 * curl's start-up later than the start of its 2.5 s: seq=3 never makes it, seq=1
	 * always (start-up under 1.5 s), seq=2 when start-up took under 0.5 s. */
	char want[256];
	snprintf(want, sizeof(want),
		 "heartbeat seq=0\noffer version=2.0.0 size=%zu sha256=%s "
		 "url=/firmware/2.0.0.bundle\nheartbeat seq=1\n",
		 f->bundle_len, f->sha);
	if (strcmp((char *)got, want) != 0) {
		strcat(want, "heartbeat seq=2\n");
		assert_string_equal((char *)got, want);
	}
	free(got);
	/* curl has gone: the next heartbeat write, within a second, finds out */
	assert_true(
		pump_until_event(f, "http_request", "path=/checkin", "result=client_gone", 5000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_range),
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_full_download_and_events),
		T(test_range_requests_give_exact_bytes),
		T(test_unknown_paths_and_versions_are_404),
		T(test_served_file_honours_range),
		T(test_checkin_heartbeats_then_offer_on_publish),
		T(test_fresh_checkin_gets_offer_unless_current),
		T(test_staged_rollout_offers_by_bucket_and_widens),
		T(test_checkin_query_is_read_by_the_wire_codec),
		T(test_client_disconnect_is_recorded),
		T(test_set_down_closes_and_refuses_then_comes_back),
		T(test_set_down_from_an_event_callback_is_deferred),
		T(test_bind_errors),
		T(test_curl_downloads_ranges_and_streams_checkin),
#undef T
	};
	return vh_run_tests(tests, NULL, NULL);
}
