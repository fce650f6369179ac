/* OTA update server on libmicrohttpd in external-epoll mode; see
 * update_server.h for the protocol and the events.
 *
 * Threading: none. MHD's epoll fd is one fd in the harness loop; MHD_run is
 * called when it is readable and from a timer set to MHD_get_timeout after
 * every run. A check-in response is a chunked callback response whose reader
 * suspends the connection when it has no line to send; queueing a line
 * resumes it, and MHD's inter-thread channel (in its epoll set) makes the fd
 * readable so the loop runs MHD again. */
#include "update_server.h"
#include "errf.h"

#include "bundle.h"
#include "checkin.h"
#include "ev.h"
#include "rollout.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define US_FILE_BLOCK (64u * 1024u)
#define US_SERVED_MAX 16
#define US_SERVED_URL_MAX 128
/* a stalled download is closed after this long without progress */
#define US_CONNECTION_TIMEOUT_S 60u

enum us_kind { US_PLAIN, US_CHECKIN, US_FILE };

/* Per TCP connection (MHD socket context). */
struct us_conn {
	uint64_t id;
	char peer[64];
};

/* Per request; referenced by MHD's request context and, for callback
 * responses, by the response (freed when both are done with it). */
struct us_req {
	struct update_server *s;
	struct MHD_Connection *conn;
	struct us_conn *c;
	unsigned refs;
	bool done; /* completion reported; the reader must not run again */
	enum us_kind kind;
	bool started;	   /* the access handler has seen the headers */
	char target[1024]; /* the request target as sent, query included */
	bool target_cut;   /* longer than target */
	char method[16];
	char path[256];
	char range[64];
	unsigned status;
	uint64_t bytes;
	/* file */
	int fd;
	uint64_t file_first, file_len;
	/* check-in */
	struct checkin_request who;
	char *out;
	size_t out_len, out_cap;
	bool suspended, closing, peer_gone;
	int watch_fd; /* the socket, watched for hang-up while parked, or -1 */
	uint64_t hb_timer, hb_seq;
	struct us_req *prev, *next;
};

struct update_server {
	struct ev_loop *loop;
	struct MHD_Daemon *d;
	int epfd;
	uint64_t timer;
	uint64_t kick; /* pending MHD_run after a resume */
	struct in_addr addr;
	uint16_t port;
	bool down;
	bool stopping;		/* inside us_stop: closes are the server's doing */
	unsigned in_mhd;	/* > 0 while inside MHD_run / MHD_stop_daemon */
	uint64_t deferred_down; /* timer for a set_down(true) from a callback */
	update_server_event_fn on_event;
	void *ctx;
	uint64_t next_conn_id;
	struct us_req *checkins; /* open check-in requests */
	/* the publication */
	bool published;
	char pub_version[BUNDLE_VERSION_MAX];
	char pub_sha256[65];
	uint64_t pub_size;
	char *pub_path;
	unsigned pub_percent; /* the staged rollout's share (rollout.h) */
	/* files served as they are (update_server_serve) */
	struct us_served {
		char url[US_SERVED_URL_MAX];
		char *path;
	} served[US_SERVED_MAX];
};

/* Calls on_event with a NULL-terminated key/value list. */
static void us_emit(struct update_server *s, const char *event, const char *const *kv)
{
	if (s->on_event)
		s->on_event(s->ctx, event, kv);
}

/* ---- pure helpers ---- */

static bool us_parse_u64(const char **pp, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;
	int n = 0;
	while (*p >= '0' && *p <= '9') {
		if (++n > 19)
			return false;
		v = v * 10u + (uint64_t)(*p - '0');
		p++;
	}
	if (n == 0)
		return false;
	*pp = p;
	*out = v;
	return true;
}

int update_server_parse_range(const char *value, uint64_t size, uint64_t *first, uint64_t *last)
{
	if (!value)
		return 0;
	const char *p = value;
	while (*p == ' ' || *p == '\t')
		p++;
	/* RFC 9110 §14.2: a server may ignore Range; we do for other units and
	 * for multipart (several ranges), which the contract does not need */
	if (strncasecmp(p, "bytes=", 6) != 0)
		return 0;
	p += 6;
	if (strchr(p, ','))
		return 0;
	while (*p == ' ' || *p == '\t')
		p++;
	uint64_t a = 0, b = 0;
	bool have_b = false, suffix = false;
	if (*p == '-') {
		p++;
		if (!us_parse_u64(&p, &b))
			return -1;
		suffix = true;
	} else {
		if (!us_parse_u64(&p, &a) || *p != '-')
			return -1;
		p++;
		if (*p >= '0' && *p <= '9') {
			if (!us_parse_u64(&p, &b))
				return -1;
			have_b = true;
		}
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '\0')
		return -1;
	if (suffix) {
		/* bytes=-N: the last N bytes */
		if (b == 0 || size == 0)
			return -1;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return 1;
	}
	if (a >= size || (have_b && b < a))
		return -1;
	*first = a;
	*last = have_b && b < size - 1 ? b : size - 1;
	return 1;
}

/* ---- loop glue ---- */

static void us_reschedule(struct update_server *s);

/* Runs MHD once and re-arms the timeout timer. */
static void us_run(struct update_server *s)
{
	if (!s->d)
		return;
	s->in_mhd++;
	MHD_run(s->d);
	s->in_mhd--;
	us_reschedule(s);
}

static void us_on_fd(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	(void)loop;
	(void)fd;
	(void)events;
	us_run(arg);
}

static void us_on_timer(struct ev_loop *loop, uint64_t id, void *arg)
{
	(void)loop;
	(void)id;
	struct update_server *s = arg;
	s->timer = 0;
	us_run(s);
}

static void us_on_kick(struct ev_loop *loop, uint64_t id, void *arg)
{
	(void)loop;
	(void)id;
	struct update_server *s = arg;
	s->kick = 0;
	us_run(s);
}

/* Resumes a parked connection. MHD does not wake its epoll fd for a resume
 * in external mode, and it must not be re-entered from its own callbacks, so
 * an immediate timer runs it once the current callback returns. */
static void us_unwatch(struct us_req *r)
{
	if (r->watch_fd >= 0)
		ev_del_fd(r->s->loop, r->watch_fd);
	r->watch_fd = -1;
}

static void us_resume(struct us_req *r)
{
	struct update_server *s = r->s;
	us_unwatch(r);
	r->suspended = false;
	MHD_resume_connection(r->conn);
	if (!s->kick)
		s->kick = ev_add_timer(s->loop, 0, us_on_kick, s);
}

static void us_reschedule(struct update_server *s)
{
	if (s->timer) {
		ev_del_timer(s->loop, s->timer);
		s->timer = 0;
	}
	MHD_UNSIGNED_LONG_LONG ms;
	if (s->d && MHD_get_timeout(s->d, &ms) == MHD_YES)
		s->timer = ev_add_timer(s->loop, ms, us_on_timer, s);
}

/* ---- requests ---- */

static void us_req_release(struct us_req *r)
{
	if (--r->refs > 0)
		return;
	if (r->fd >= 0)
		close(r->fd);
	free(r->out);
	free(r);
}

static void us_response_free(void *cls)
{
	us_req_release(cls);
}

/* Appends a line to a check-in's stream and wakes its connection. */
static void us_checkin_queue(struct us_req *r, const char *line)
{
	if (r->closing || r->done)
		return;
	size_t n = strlen(line);
	if (r->out_len + n > r->out_cap) {
		size_t cap = r->out_cap ? r->out_cap * 2 : 256;
		while (cap < r->out_len + n)
			cap *= 2;
		char *p = realloc(r->out, cap);
		if (!p)
			return; /* a lost line looks like network loss: the agent copes */
		r->out = p;
		r->out_cap = cap;
	}
	memcpy(r->out + r->out_len, line, n);
	r->out_len += n;
	if (r->suspended)
		us_resume(r);
}

static void us_checkin_offer(struct us_req *r)
{
	struct update_server *s = r->s;
	if (!s->published || strcmp(s->pub_version, r->who.version) == 0)
		return;
	char line[CHECKIN_LINE_MAX], size[24], id[24], bucket[8];
	snprintf(id, sizeof(id), "%" PRIu64, r->c ? r->c->id : 0);
	snprintf(bucket, sizeof(bucket), "%u", rollout_bucket(r->who.device, s->pub_version));
	if (!rollout_includes(r->who.device, s->pub_version, s->pub_percent)) {
		const char *kv[] = { "conn",	     id,       "device", r->who.device, "version",
				     s->pub_version, "bucket", bucket,	 NULL };
		us_emit(s, "held_back", kv);
		return;
	}
	/* publish checked the header by the same rules, so this fits */
	int n = checkin_format_offer(line, sizeof(line), s->pub_version, s->pub_size,
				     s->pub_sha256);
	if (n < 0)
		return;
	us_checkin_queue(r, line);
	snprintf(size, sizeof(size), "%" PRIu64, s->pub_size);
	const char *kv[] = { "conn", id,   "device", r->who.device, "version", s->pub_version,
			     "size", size, "bucket", bucket,	    NULL };
	us_emit(s, "offer", kv);
}

/* Queues the next heartbeat line (seq 0 first). */
static void us_heartbeat_line(struct us_req *r)
{
	char line[CHECKIN_LINE_MAX];
	if (checkin_format_heartbeat(line, sizeof(line), r->hb_seq++) > 0)
		us_checkin_queue(r, line);
}

static void us_heartbeat(struct ev_loop *loop, uint64_t id, void *arg)
{
	(void)id;
	struct us_req *r = arg;
	us_heartbeat_line(r);
	r->hb_timer = ev_add_timer(loop, UPDATE_SERVER_HEARTBEAT_MS, us_heartbeat, r);
}

/* A parked check-in's peer hung up: MHD cannot see it while the connection
 * is suspended, so wake it to end the stream now rather than at the next
 * heartbeat (whose write may even succeed once). */
static void us_on_hangup(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	(void)loop;
	(void)fd;
	(void)events;
	struct us_req *r = arg;
	r->peer_gone = true;
	r->closing = true;
	if (r->suspended)
		us_resume(r);
	else
		us_unwatch(r);
}

static ssize_t us_checkin_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct us_req *r = cls;
	if (r->closing || r->done)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (r->out_len == 0) {
		/* nothing due: park the connection until us_checkin_queue */
		r->suspended = true;
		MHD_suspend_connection(r->conn);
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		/* a second epoll watch on MHD's socket, for hang-ups only */
		if (ci && ci->connect_fd >= 0 &&
		    ev_add_fd(r->s->loop, ci->connect_fd, EPOLLRDHUP, us_on_hangup, r) == 0) {
			r->watch_fd = ci->connect_fd;
			ev_fd_component(r->s->loop, r->watch_fd,
					ev_component(r->s->loop, "update_server"));
		}
		return 0;
	}
	size_t n = r->out_len < max ? r->out_len : max;
	memcpy(buf, r->out, n);
	memmove(r->out, r->out + n, r->out_len - n);
	r->out_len -= n;
	r->bytes += n;
	return (ssize_t)n;
}

static ssize_t us_file_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct us_req *r = cls;
	if (r->done || pos >= r->file_len)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	uint64_t left = r->file_len - pos;
	size_t want = left < max ? (size_t)left : max;
	ssize_t n;
	do
		n = pread(r->fd, buf, want, (off_t)(r->file_first + pos));
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	r->bytes += (uint64_t)n;
	return n;
}

static enum MHD_Result us_queue_text(struct us_req *r, unsigned status, const char *text)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
	r->status = status;
	r->bytes = strcmp(r->method, "HEAD") == 0 ? 0 : strlen(text);
	enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result us_handle_checkin(struct us_req *r)
{
	struct update_server *s = r->s;
	char why[160];
	/* the request target as sent: the codec, not MHD, reads the query */
	if (r->target_cut || checkin_parse_path(r->target, &r->who, why, sizeof(why)) < 0) {
		static const char text[] = "bad check-in request\n";
		return us_queue_text(r, MHD_HTTP_BAD_REQUEST, text);
	}
	r->kind = US_CHECKIN;

	struct MHD_Response *resp = MHD_create_response_from_callback(
		MHD_SIZE_UNKNOWN, 1024, us_checkin_reader, r, us_response_free);
	if (!resp)
		return MHD_NO;
	r->refs++;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	r->status = MHD_HTTP_OK;
	enum MHD_Result ret = MHD_queue_response(r->conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	if (ret != MHD_YES)
		return ret;

	r->next = s->checkins;
	if (s->checkins)
		s->checkins->prev = r;
	s->checkins = r;
	char id[24];
	snprintf(id, sizeof(id), "%" PRIu64, r->c ? r->c->id : 0);
	const char *kv[] = { "conn",	     id,     "device",	  r->who.device, "version",
			     r->who.version, "slot", r->who.slot, NULL };
	us_emit(s, "checkin", kv);
	/* a first line at once tells the device the channel is live */
	us_heartbeat_line(r);
	us_checkin_offer(r);
	r->hb_timer = ev_add_timer(s->loop, UPDATE_SERVER_HEARTBEAT_MS, us_heartbeat, r);
	return MHD_YES;
}

/* Answers with the first size bytes of the file at path, honouring Range. */
static enum MHD_Result us_send_file(struct us_req *r, const char *path, uint64_t size)
{
	r->kind = US_FILE;
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0)
		return us_queue_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "file unreadable\n");
	uint64_t first = 0, last = size ? size - 1 : 0;
	const char *range =
		MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE);
	snprintf(r->range, sizeof(r->range), "%s", range ? range : "");
	int pr = update_server_parse_range(range, size, &first, &last);
	char cr[80];
	if (pr < 0) {
		struct MHD_Response *resp =
			MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
		if (!resp)
			return MHD_NO;
		snprintf(cr, sizeof(cr), "bytes */%" PRIu64, size);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
		r->status = MHD_HTTP_RANGE_NOT_SATISFIABLE;
		enum MHD_Result ret =
			MHD_queue_response(r->conn, MHD_HTTP_RANGE_NOT_SATISFIABLE, resp);
		MHD_destroy_response(resp);
		return ret;
	}
	r->file_first = pr ? first : 0;
	r->file_len = pr ? last - first + 1 : size;
	struct MHD_Response *resp = MHD_create_response_from_callback(
		r->file_len, US_FILE_BLOCK, us_file_reader, r, us_response_free);
	if (!resp)
		return MHD_NO;
	r->refs++;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	if (pr) {
		snprintf(cr, sizeof(cr), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, first, last,
			 size);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
	}
	r->status = pr ? MHD_HTTP_PARTIAL_CONTENT : MHD_HTTP_OK;
	enum MHD_Result ret = MHD_queue_response(r->conn, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result us_handle_firmware(struct us_req *r, const char *url)
{
	struct update_server *s = r->s;
	char served[CHECKIN_URL_MAX];
	if (!s->published ||
	    checkin_format_firmware_path(served, sizeof(served), s->pub_version) < 0 ||
	    strcmp(url, served) != 0)
		return us_queue_text(r, MHD_HTTP_NOT_FOUND, "not found\n");
	return us_send_file(r, s->pub_path, s->pub_size);
}

static struct us_served *us_find_served(struct update_server *s, const char *url)
{
	for (size_t i = 0; i < US_SERVED_MAX; i++)
		if (s->served[i].path && strcmp(s->served[i].url, url) == 0)
			return &s->served[i];
	return NULL;
}

/* A served file is read as it is at request time: its size too, so a file
 * the scenario rewrites between requests is served whole. */
static enum MHD_Result us_handle_served(struct us_req *r, const struct us_served *f)
{
	struct stat st;
	if (stat(f->path, &st) < 0 || !S_ISREG(st.st_mode))
		return us_queue_text(r, MHD_HTTP_NOT_FOUND, "not found\n");
	return us_send_file(r, f->path, (uint64_t)st.st_size);
}

static struct us_req *us_req_new(struct update_server *s, struct MHD_Connection *conn)
{
	struct us_req *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->s = s;
	r->conn = conn;
	r->refs = 1;
	r->fd = -1;
	r->watch_fd = -1;
	r->target_cut = true; /* until us_uri_log says otherwise */
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	r->c = ci ? ci->socket_context : NULL;
	return r;
}

/* MHD's URI log hook: the only place the request target comes whole, before
 * MHD splits and unescapes the query. It creates the request (MHD then
 * reports its completion even if the access handler never runs). */
static void *us_uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct us_req *r = us_req_new(cls, conn);
	if (r) {
		size_t n = strlen(uri);
		r->target_cut = n >= sizeof(r->target);
		if (!r->target_cut)
			memcpy(r->target, uri, n + 1);
		/* for the record if MHD refuses the request before us_access */
		snprintf(r->path, sizeof(r->path), "%.*s", (int)strcspn(uri, "?"), uri);
	}
	return r;
}

static enum MHD_Result us_access(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version, const char *upload_data,
				 size_t *upload_data_size, void **req_cls)
{
	(void)version;
	(void)upload_data;
	struct update_server *s = cls;
	struct us_req *r = *req_cls;
	if (!r && !(r = *req_cls = us_req_new(s, conn)))
		return MHD_NO;
	if (!r->started) {
		/* first call: headers only; answer on the next call, as MHD wants */
		r->started = true;
		snprintf(r->method, sizeof(r->method), "%s", method);
		snprintf(r->path, sizeof(r->path), "%s", url);
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		*upload_data_size = 0; /* no endpoint takes a body: drop it */
		return MHD_YES;
	}
	bool get = strcmp(method, "GET") == 0, head = strcmp(method, "HEAD") == 0;
	if (!get && !head)
		return us_queue_text(r, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	if (get && strcmp(url, "/checkin") == 0)
		return us_handle_checkin(r);
	const struct us_served *f = us_find_served(s, url);
	if (f)
		return us_handle_served(r, f);
	if (strncmp(url, "/firmware/", 10) == 0)
		return us_handle_firmware(r, url);
	return us_queue_text(r, MHD_HTTP_NOT_FOUND, "not found\n");
}

static void us_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)conn;
	struct update_server *s = cls;
	struct us_req *r = *req_cls;
	if (!r)
		return;
	*req_cls = NULL;
	r->done = true;
	if (r->kind == US_CHECKIN) {
		us_unwatch(r);
		if (r->hb_timer)
			ev_del_timer(s->loop, r->hb_timer);
		r->hb_timer = 0;
		if (r->prev)
			r->prev->next = r->next;
		else if (s->checkins == r)
			s->checkins = r->next;
		if (r->next)
			r->next->prev = r->prev;
		r->prev = r->next = NULL;
	}
	const char *result = s->stopping				     ? "server_down"
			     : r->peer_gone				     ? "client_gone"
			     : toe == MHD_REQUEST_TERMINATED_COMPLETED_OK    ? "ok"
			     : toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? "timeout"
			     : toe == MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN ? "server_down"
			     : toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT ||
					     toe == MHD_REQUEST_TERMINATED_READ_ERROR
				     ? "client_gone"
				     : "error";
	char id[24], status[8], bytes[24];
	snprintf(id, sizeof(id), "%" PRIu64, r->c ? r->c->id : 0);
	snprintf(status, sizeof(status), "%u", r->status);
	snprintf(bytes, sizeof(bytes), "%" PRIu64, r->bytes);
	const char *kv[] = { "conn",   id,	  "peer",   r->c ? r->c->peer : "",
			     "method", r->method, "path",   r->path,
			     "range",  r->range,  "status", status,
			     "bytes",  bytes,	  "result", result,
			     NULL };
	us_emit(s, "http_request", kv);
	us_req_release(r);
}

static void us_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct update_server *s = cls;
	char id[24];
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		struct us_conn *c = calloc(1, sizeof(*c));
		if (!c)
			return;
		c->id = ++s->next_conn_id;
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET) {
			const struct sockaddr_in *sin = (const struct sockaddr_in *)ci->client_addr;
			char ip[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
			snprintf(c->peer, sizeof(c->peer), "%s:%u", ip, ntohs(sin->sin_port));
		}
		*socket_context = c;
		snprintf(id, sizeof(id), "%" PRIu64, c->id);
		const char *kv[] = { "conn", id, "peer", c->peer, NULL };
		us_emit(s, "http_connect", kv);
		return;
	}
	struct us_conn *c = *socket_context;
	if (!c)
		return;
	*socket_context = NULL;
	snprintf(id, sizeof(id), "%" PRIu64, c->id);
	const char *kv[] = { "conn", id, "peer", c->peer, NULL };
	us_emit(s, "http_disconnect", kv);
	free(c);
}

/* ---- daemon lifetime ---- */

static int us_listen_socket(struct update_server *s, char *err, size_t errlen)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int rc = -errno;
		errf(err, errlen, "socket: %s", strerror(errno));
		return rc;
	}
	int one = 1;
	/* restart after set_down while old connections sit in TIME_WAIT */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(s->port),
				  .sin_addr = s->addr };
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &s->addr, ip, sizeof(ip));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
		int rc = -errno;
		errf(err, errlen, "update server %s:%u: %s", ip, s->port, strerror(errno));
		close(fd);
		return rc;
	}
	socklen_t len = sizeof(sa);
	if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		s->port = ntohs(sa.sin_port);
	return fd;
}

static int us_start(struct update_server *s, char *err, size_t errlen)
{
	int lfd = us_listen_socket(s, err, errlen);
	if (lfd < 0)
		return lfd;
	/* MHD owns lfd from here and closes it in MHD_stop_daemon */
	s->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL, us_access,
				s, MHD_OPTION_LISTEN_SOCKET, lfd, MHD_OPTION_NOTIFY_COMPLETED,
				us_completed, s, MHD_OPTION_NOTIFY_CONNECTION, us_connection, s,
				MHD_OPTION_URI_LOG_CALLBACK, us_uri_log, s,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)US_CONNECTION_TIMEOUT_S,
				MHD_OPTION_END);
	if (!s->d) {
		close(lfd);
		errf(err, errlen, "update server: MHD_start_daemon failed");
		return -EIO;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_EPOLL_FD);
	s->epfd = di ? di->epoll_fd : -1;
	int rc = s->epfd < 0 ? -EIO : ev_add_fd(s->loop, s->epfd, EPOLLIN, us_on_fd, s);
	ev_fd_component(s->loop, s->epfd, ev_component(s->loop, "update_server"));
	if (rc < 0) {
		MHD_stop_daemon(s->d);
		s->d = NULL;
		s->epfd = -1;
		errf(err, errlen, "update server: cannot watch MHD's epoll fd");
		return rc;
	}
	us_reschedule(s);
	return 0;
}

static void us_stop(struct update_server *s)
{
	if (!s->d)
		return;
	/* MHD must not be stopped with suspended connections: wake every
	 * check-in so its reader ends the stream, let MHD take the resumes,
	 * then stop (which reports each close through the callbacks). */
	s->stopping = true;
	for (struct us_req *r = s->checkins; r; r = r->next) {
		r->closing = true;
		us_unwatch(r);
		if (r->suspended) {
			r->suspended = false;
			MHD_resume_connection(r->conn);
		}
	}
	if (s->kick)
		ev_del_timer(s->loop, s->kick);
	s->kick = 0;
	s->in_mhd++;
	MHD_run(s->d);
	ev_del_fd(s->loop, s->epfd);
	if (s->timer)
		ev_del_timer(s->loop, s->timer);
	s->timer = 0;
	MHD_stop_daemon(s->d);
	s->in_mhd--;
	s->stopping = false;
	s->d = NULL;
	s->epfd = -1;
}

int update_server_new(struct ev_loop *loop, const char *bind_ip, uint16_t port,
		      update_server_event_fn on_event, void *ctx, struct update_server **out,
		      char *err, size_t errlen)
{
	*out = NULL;
	struct update_server *s = calloc(1, sizeof(*s));
	if (!s) {
		errf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (!bind_ip || inet_pton(AF_INET, bind_ip, &s->addr) != 1) {
		errf(err, errlen, "update server: bad IPv4 address '%s'", bind_ip ? bind_ip : "");
		free(s);
		return -EINVAL;
	}
	s->loop = loop;
	s->port = port;
	s->epfd = -1;
	s->on_event = on_event;
	s->ctx = ctx;
	int rc = us_start(s, err, errlen);
	if (rc < 0) {
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

uint16_t update_server_port(const struct update_server *s)
{
	return s->port;
}

int update_server_publish(struct update_server *s, const char *version, const char *bundle_path,
			  unsigned percent, char *err, size_t errlen)
{
	if (percent > ROLLOUT_ALL) {
		errf(err, errlen, "rollout of %u%%: at most 100", percent);
		return -EINVAL;
	}
	struct bundle_header h;
	int rc = bundle_read_header(bundle_path, 0, UINT64_MAX, &h, err, errlen);
	if (rc < 0)
		return rc;
	if (strcmp(h.version, version) != 0) {
		errf(err, errlen, "%s holds version %s, not %s", bundle_path, h.version, version);
		return -EINVAL;
	}
	struct stat st;
	if (stat(bundle_path, &st) < 0) {
		rc = -errno;
		errf(err, errlen, "%s: %s", bundle_path, strerror(errno));
		return rc;
	}
	if ((uint64_t)st.st_size < bundle_total_size(&h)) {
		errf(err, errlen, "%s: truncated bundle (%" PRIu64 " of %" PRIu64 " bytes)",
		     bundle_path, (uint64_t)st.st_size, bundle_total_size(&h));
		return -EINVAL;
	}
	char *path = strdup(bundle_path);
	if (!path) {
		errf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	free(s->pub_path);
	s->pub_path = path;
	snprintf(s->pub_version, sizeof(s->pub_version), "%s", h.version);
	snprintf(s->pub_sha256, sizeof(s->pub_sha256), "%s", h.sha256);
	/* serve what the header describes; trailing bytes are not the bundle */
	s->pub_size = bundle_total_size(&h);
	s->pub_percent = percent;
	s->published = true;
	for (struct us_req *r = s->checkins; r; r = r->next)
		us_checkin_offer(r);
	return 0;
}

int update_server_set_rollout(struct update_server *s, unsigned percent, char *err, size_t errlen)
{
	if (!s->published) {
		errf(err, errlen, "nothing is published");
		return -ENOENT;
	}
	if (percent > ROLLOUT_ALL) {
		errf(err, errlen, "rollout of %u%%: at most 100", percent);
		return -EINVAL;
	}
	unsigned was = s->pub_percent;
	s->pub_percent = percent;
	/* Only the devices this widening takes in: the others were offered the
	 * release already (or are still held back). */
	for (struct us_req *r = s->checkins; r; r = r->next)
		if (!rollout_includes(r->who.device, s->pub_version, was) &&
		    rollout_includes(r->who.device, s->pub_version, percent))
			us_checkin_offer(r);
	return 0;
}

void update_server_unpublish(struct update_server *s)
{
	s->published = false;
	free(s->pub_path);
	s->pub_path = NULL;
	s->pub_version[0] = '\0';
}

int update_server_serve(struct update_server *s, const char *url_path, const char *host_path,
			char *err, size_t errlen)
{
	if (url_path[0] != '/' || strlen(url_path) >= US_SERVED_URL_MAX ||
	    strpbrk(url_path, "?# ") || !strcmp(url_path, "/checkin")) {
		errf(err, errlen,
		     "url path '%s' must start with '/', be shorter than %d characters and not "
		     "be /checkin or hold '?', '#' or spaces",
		     url_path, US_SERVED_URL_MAX);
		return -EINVAL;
	}
	struct us_served *f = us_find_served(s, url_path);
	if (!host_path) {
		if (f) {
			free(f->path);
			f->path = NULL;
		}
		return 0;
	}
	struct stat st;
	if (stat(host_path, &st) < 0) {
		int rc = -errno;
		errf(err, errlen, "%s: %s", host_path, strerror(errno));
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		errf(err, errlen, "%s: not a regular file", host_path);
		return -EINVAL;
	}
	for (size_t i = 0; !f && i < US_SERVED_MAX; i++)
		if (!s->served[i].path)
			f = &s->served[i];
	if (!f) {
		errf(err, errlen, "already serving %d files", US_SERVED_MAX);
		return -ENOSPC;
	}
	char *copy = strdup(host_path);
	if (!copy) {
		errf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	free(f->path);
	f->path = copy;
	snprintf(f->url, sizeof(f->url), "%s", url_path);
	return 0;
}

static void us_deferred_down(struct ev_loop *loop, uint64_t id, void *arg)
{
	(void)loop;
	(void)id;
	struct update_server *s = arg;
	s->deferred_down = 0;
	if (s->down)
		us_stop(s);
}

int update_server_set_down(struct update_server *s, bool down, char *err, size_t errlen)
{
	if (down) {
		s->down = true;
		if (s->in_mhd) {
			/* inside an MHD callback: stopping MHD now would free the
			 * connection we are called from */
			if (!s->deferred_down)
				s->deferred_down = ev_add_timer(s->loop, 0, us_deferred_down, s);
			return 0;
		}
		us_stop(s);
		return 0;
	}
	if (s->deferred_down) {
		ev_del_timer(s->loop, s->deferred_down);
		s->deferred_down = 0;
	}
	s->down = false;
	if (s->d)
		return 0;
	int rc = us_start(s, err, errlen);
	if (rc < 0)
		s->down = true;
	return rc;
}

bool update_server_is_down(const struct update_server *s)
{
	return s->down;
}

void update_server_free(struct update_server *s)
{
	if (!s)
		return;
	if (s->deferred_down)
		ev_del_timer(s->loop, s->deferred_down);
	us_stop(s);
	free(s->pub_path);
	for (size_t i = 0; i < US_SERVED_MAX; i++)
		free(s->served[i].path);
	free(s);
}
