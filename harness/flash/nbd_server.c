/* An NBD server for one export on the event loop: see nbd_server.h. */
#include "nbd_server.h"

#include "ev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* The protocol's numbers (NetworkBlockDevice/nbd doc/proto.md). */
#define NBDMAGIC 0x4e42444d41474943ull
#define IHAVEOPT 0x49484156454f5054ull
#define REPLY_MAGIC_OPT 0x3e889045565a9ull
#define REQUEST_MAGIC 0x25609513u
#define SIMPLE_REPLY_MAGIC 0x67446698u

#define FLAG_FIXED_NEWSTYLE 1u
#define FLAG_NO_ZEROES 2u

#define OPT_EXPORT_NAME 1u
#define OPT_ABORT 2u
#define OPT_LIST 3u
#define OPT_INFO 6u
#define OPT_GO 7u

#define REP_ACK 1u
#define REP_SERVER 2u
#define REP_INFO 3u
#define REP_ERR_UNSUP 0x80000001u
#define REP_ERR_INVALID 0x80000003u
#define REP_ERR_UNKNOWN 0x80000006u

#define INFO_EXPORT 0u
#define INFO_BLOCK_SIZE 3u

#define TFLAG_HAS_FLAGS 1u
#define TFLAG_READ_ONLY 2u
#define TFLAG_SEND_FLUSH 4u
#define TFLAG_SEND_FUA 8u

/* An option longer than this is not one QEMU sends: the session ends. */
#define MAX_OPTION_LEN 4096u
/* Replies queued beyond this stop reading until the client catches up. */
#define OUT_HIGH_WATER (4u * 1024u * 1024u)

enum phase { PH_CLIENT_FLAGS, PH_OPTIONS, PH_TRANSMISSION };

struct buf {
	uint8_t *data;
	size_t start, len, cap; /* bytes [start, start + len) are live */
};

struct nbd_server {
	struct ev_loop *loop;
	struct nbd_export ex;
	char *name;
	char path[108]; /* filesystem path to remove, or "" */
	struct nbd_server_ops ops;
	void *ctx;
	int listen_fd;
	int fd; /* the client, or -1 */
	uint32_t watched;
	enum phase phase;
	bool no_zeroes;
	struct buf in, out;
	/* A write whose payload is still arriving: received straight into its
	 * own buffer (the model keeps it), not copied through in. */
	uint8_t head[28];
	uint8_t *payload;
	size_t payload_len, payload_have;
};

static void buf_reserve(struct buf *b, size_t more)
{
	if (b->start + b->len + more <= b->cap)
		return;
	if (b->start) {
		memmove(b->data, b->data + b->start, b->len);
		b->start = 0;
	}
	if (b->len + more <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64 * 1024;
	while (cap < b->len + more)
		cap *= 2;
	b->data = realloc(b->data, cap);
	if (!b->data)
		abort();
	b->cap = cap;
}

static void buf_put(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->data + b->start + b->len, p, n);
	b->len += n;
}

static void buf_consume(struct buf *b, size_t n)
{
	b->start += n;
	b->len -= n;
	if (!b->len)
		b->start = 0;
}

static void buf_free(struct buf *b)
{
	free(b->data);
	*b = (struct buf){ 0 };
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static void put16(struct buf *b, uint16_t v)
{
	uint8_t p[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	buf_put(b, p, 2);
}

static void put32(struct buf *b, uint32_t v)
{
	uint8_t p[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	buf_put(b, p, 4);
}

static void put64(struct buf *b, uint64_t v)
{
	put32(b, (uint32_t)(v >> 32));
	put32(b, (uint32_t)v);
}

uint32_t nbd_error_from_errno(int err)
{
	switch (err) {
	case 0:
		return NBD_OK;
	case EPERM:
	case EIO:
	case ENOMEM:
	case EINVAL:
	case ENOSPC:
	case EOVERFLOW:
	case ENOTSUP:
	case ESHUTDOWN:
		return (uint32_t)err;
	default:
		return NBD_EIO;
	}
}

/* --- the client socket --- */

static void on_client(struct ev_loop *loop, int fd, uint32_t events, void *arg);

static void drop_client(struct nbd_server *s)
{
	if (s->fd < 0)
		return;
	ev_del_fd(s->loop, s->fd);
	close(s->fd);
	s->fd = -1;
	s->watched = 0;
	buf_free(&s->in);
	buf_free(&s->out);
	free(s->payload);
	s->payload = NULL;
}

static void client_gone(struct nbd_server *s, const char *why)
{
	drop_client(s);
	if (s->ops.closed)
		s->ops.closed(s->ctx, why);
}

/* Reads while the queue of replies is short, writes while any is queued. */
static void rewatch(struct nbd_server *s)
{
	if (s->fd < 0)
		return;
	uint32_t want = 0;
	if (s->out.len < OUT_HIGH_WATER)
		want |= EPOLLIN;
	if (s->out.len)
		want |= EPOLLOUT;
	if (want != s->watched) {
		ev_add_fd(s->loop, s->fd, want, on_client, s);
		s->watched = want;
	}
}

/* Writes what the socket takes now. false when the client is gone. */
static bool flush_out(struct nbd_server *s)
{
	while (s->out.len) {
		ssize_t n = send(s->fd, s->out.data + s->out.start, s->out.len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			char why[96];
			snprintf(why, sizeof(why), "send: %s", n < 0 ? strerror(errno) : "closed");
			client_gone(s, why);
			return false;
		}
		buf_consume(&s->out, (size_t)n);
	}
	return true;
}

/* --- the handshake --- */

static void opt_reply(struct nbd_server *s, uint32_t opt, uint32_t type, const void *data,
		      uint32_t len)
{
	put64(&s->out, REPLY_MAGIC_OPT);
	put32(&s->out, opt);
	put32(&s->out, type);
	put32(&s->out, len);
	if (len)
		buf_put(&s->out, data, len);
}

static uint16_t transmission_flags(const struct nbd_server *s)
{
	uint16_t f = TFLAG_HAS_FLAGS | TFLAG_SEND_FLUSH | TFLAG_SEND_FUA;
	if (s->ex.read_only)
		f |= TFLAG_READ_ONLY;
	return f;
}

static bool name_matches(const struct nbd_server *s, const uint8_t *name, uint32_t len)
{
	return len == 0 || (len == strlen(s->name) && !memcmp(name, s->name, len));
}

/* NBD_OPT_INFO and NBD_OPT_GO: the export's size and flags, its block
 * sizes, then ACK. true when the session enters transmission. */
static bool opt_info_go(struct nbd_server *s, uint32_t opt, const uint8_t *d, uint32_t len)
{
	if (len < 6 || get32(d) > len - 6 || 6 + get32(d) + 2u * get16(d + 4 + get32(d)) != len) {
		opt_reply(s, opt, REP_ERR_INVALID, NULL, 0);
		return false;
	}
	uint32_t name_len = get32(d);
	if (!name_matches(s, d + 4, name_len)) {
		static const char msg[] = "no such export";
		opt_reply(s, opt, REP_ERR_UNKNOWN, msg, sizeof(msg) - 1);
		return false;
	}
	uint8_t info[18];
	/* NBD_INFO_EXPORT: type, size, transmission flags. */
	info[0] = 0, info[1] = INFO_EXPORT;
	for (int i = 0; i < 8; i++)
		info[2 + i] = (uint8_t)(s->ex.size >> (56 - 8 * i));
	uint16_t tf = transmission_flags(s);
	info[10] = (uint8_t)(tf >> 8), info[11] = (uint8_t)tf;
	opt_reply(s, opt, REP_INFO, info, 12);
	/* NBD_INFO_BLOCK_SIZE: any alignment, 4 KiB preferred, the cap. */
	struct buf b = { 0 };
	put16(&b, INFO_BLOCK_SIZE);
	put32(&b, 1);
	put32(&b, 4096);
	put32(&b, NBD_SERVER_MAX_BLOCK);
	opt_reply(s, opt, REP_INFO, b.data + b.start, (uint32_t)b.len);
	buf_free(&b);
	opt_reply(s, opt, REP_ACK, NULL, 0);
	return opt == OPT_GO;
}

/* One option. false when the session must end (abort, or a bad request). */
static bool handle_option(struct nbd_server *s, uint32_t opt, const uint8_t *d, uint32_t len)
{
	switch (opt) {
	case OPT_EXPORT_NAME: {
		if (!name_matches(s, d, len))
			return false; /* the protocol's only answer: hang up */
		put64(&s->out, s->ex.size);
		put16(&s->out, transmission_flags(s));
		if (!s->no_zeroes) {
			static const uint8_t zeroes[124];
			buf_put(&s->out, zeroes, sizeof(zeroes));
		}
		s->phase = PH_TRANSMISSION;
		return true;
	}
	case OPT_ABORT:
		opt_reply(s, opt, REP_ACK, NULL, 0);
		return false;
	case OPT_LIST: {
		struct buf b = { 0 };
		put32(&b, (uint32_t)strlen(s->name));
		buf_put(&b, s->name, strlen(s->name));
		opt_reply(s, opt, REP_SERVER, b.data + b.start, (uint32_t)b.len);
		buf_free(&b);
		opt_reply(s, opt, REP_ACK, NULL, 0);
		return true;
	}
	case OPT_INFO:
	case OPT_GO:
		if (opt_info_go(s, opt, d, len))
			s->phase = PH_TRANSMISSION;
		return true;
	default:
		/* Structured replies, meta contexts, TLS: simple replies only. */
		opt_reply(s, opt, REP_ERR_UNSUP, NULL, 0);
		return true;
	}
}

/* --- transmission --- */

static bool bad_request(struct nbd_server *s, const char *what)
{
	char why[128];
	snprintf(why, sizeof(why), "protocol error: %s", what);
	client_gone(s, why);
	return false;
}

/* Handles one request whose header (and payload) is complete at p. */
static void handle_request(struct nbd_server *s, const uint8_t *p, uint8_t *payload)
{
	struct nbd_request rq = {
		.flags = get16(p + 4),
		.type = get16(p + 6),
		.handle = get64(p + 8),
		.offset = get64(p + 16),
		.len = get32(p + 24),
		.data = payload,
	};
	bool rw = rq.type == NBD_CMD_READ || rq.type == NBD_CMD_WRITE;
	if (rw && (rq.offset > s->ex.size || rq.len > s->ex.size - rq.offset))
		nbd_server_reply(s, rq.handle, NBD_EINVAL, NULL, 0);
	else if (rq.type == NBD_CMD_WRITE && s->ex.read_only)
		nbd_server_reply(s, rq.handle, NBD_EPERM, NULL, 0);
	else if (rw || rq.type == NBD_CMD_FLUSH)
		s->ops.request(s->ctx, &rq);
	else
		nbd_server_reply(s, rq.handle, NBD_EINVAL, NULL, 0);
	free(rq.data);
}

/* Handles every complete message in the input. false when the client is
 * gone (closed has been called). */
static bool parse(struct nbd_server *s)
{
	while (s->fd >= 0) {
		const uint8_t *p = s->in.data + s->in.start;
		size_t avail = s->in.len;
		if (s->phase == PH_CLIENT_FLAGS) {
			if (avail < 4)
				return true;
			uint32_t flags = get32(p);
			buf_consume(&s->in, 4);
			if (!(flags & FLAG_FIXED_NEWSTYLE))
				return bad_request(s, "client is not fixed newstyle");
			s->no_zeroes = flags & FLAG_NO_ZEROES;
			s->phase = PH_OPTIONS;
		} else if (s->phase == PH_OPTIONS) {
			if (avail < 16)
				return true;
			if (get64(p) != IHAVEOPT)
				return bad_request(s, "bad option magic");
			uint32_t opt = get32(p + 8), len = get32(p + 12);
			if (len > MAX_OPTION_LEN)
				return bad_request(s, "option too long");
			if (avail < 16u + len)
				return true;
			bool go_on = handle_option(s, opt, p + 16, len);
			buf_consume(&s->in, 16u + len);
			if (!go_on) {
				flush_out(s);
				if (s->fd >= 0)
					client_gone(s, "client ended the handshake");
				return false;
			}
		} else {
			if (avail < 28)
				return true;
			if (get32(p) != REQUEST_MAGIC)
				return bad_request(s, "bad request magic");
			uint16_t type = get16(p + 6);
			uint32_t len = get32(p + 24);
			if (type == NBD_CMD_DISC) {
				client_gone(s, NULL);
				return false;
			}
			size_t payload = type == NBD_CMD_WRITE ? len : 0;
			if (len > NBD_SERVER_MAX_REQUEST)
				return bad_request(s, "request too long");
			if (avail < 28 + payload) {
				if (!payload)
					return true;
				/* The rest of the payload goes straight to its buffer. */
				memcpy(s->head, p, sizeof(s->head));
				s->payload = malloc(payload);
				if (!s->payload)
					abort();
				s->payload_len = payload;
				s->payload_have = avail - 28;
				memcpy(s->payload, p + 28, s->payload_have);
				buf_consume(&s->in, avail);
				return true;
			}
			uint8_t *data = NULL;
			if (payload) {
				data = malloc(payload);
				if (!data)
					abort();
				memcpy(data, p + 28, payload);
			}
			uint8_t head[28];
			memcpy(head, p, sizeof(head));
			buf_consume(&s->in, 28 + payload);
			handle_request(s, head, data);
		}
	}
	return false;
}

/* Reads what is there now: into the payload being received, else into
 * in. A payload completed on the way is handled at once (nothing follows
 * it in in). false when the client is gone. */
static bool read_in(struct nbd_server *s)
{
	for (;;) {
		bool to_payload = s->payload != NULL;
		uint8_t *dst;
		size_t room;
		if (to_payload) {
			dst = s->payload + s->payload_have;
			room = s->payload_len - s->payload_have;
		} else {
			buf_reserve(&s->in, 64 * 1024);
			dst = s->in.data + s->in.start + s->in.len;
			room = s->in.cap - s->in.start - s->in.len;
		}
		ssize_t n = recv(s->fd, dst, room, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n <= 0) {
			/* What arrived before the end still counts. */
			if (parse(s)) {
				char why[96];
				snprintf(why, sizeof(why), "%s",
					 n < 0 ? strerror(errno) : "client closed the connection");
				client_gone(s, why);
			}
			return false;
		}
		if (to_payload) {
			s->payload_have += (size_t)n;
			if (s->payload_have == s->payload_len) {
				uint8_t *data = s->payload;
				s->payload = NULL;
				handle_request(s, s->head, data);
				if (s->fd < 0)
					return false;
				continue;
			}
		} else {
			s->in.len += (size_t)n;
		}
		if ((size_t)n < room)
			return true;
	}
}

static void on_client(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	(void)loop, (void)fd;
	struct nbd_server *s = arg;
	if ((events & EPOLLOUT) && !flush_out(s))
		return;
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		if (!read_in(s))
			return;
		if (!parse(s))
			return;
		if (!flush_out(s))
			return;
	}
	rewatch(s);
}

static void on_accept(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	(void)loop, (void)events;
	struct nbd_server *s = arg;
	int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (c < 0)
		return;
	if (s->fd >= 0) {
		close(c); /* one client at a time */
		return;
	}
	s->fd = c;
	s->phase = PH_CLIENT_FLAGS;
	s->no_zeroes = false;
	put64(&s->out, NBDMAGIC);
	put64(&s->out, IHAVEOPT);
	put16(&s->out, FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES);
	if (flush_out(s))
		rewatch(s);
}

/* --- the public face --- */

struct nbd_server *nbd_server_new(struct ev_loop *loop, const char *socket_name,
				  const struct nbd_export *ex, const struct nbd_server_ops *ops,
				  void *ctx, char *err, size_t errlen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	bool abstract = socket_name[0] == '@';
	size_t n = strlen(socket_name);
	if (n >= sizeof(a.sun_path)) {
		snprintf(err, errlen, "NBD socket name too long: %s", socket_name);
		return NULL;
	}
	memcpy(a.sun_path, socket_name, n);
	if (abstract)
		a.sun_path[0] = '\0';
	socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "NBD socket: %s", strerror(errno));
		return NULL;
	}
	if (!abstract)
		unlink(socket_name);
	if (bind(fd, (struct sockaddr *)&a, alen) < 0 || listen(fd, 4) < 0) {
		snprintf(err, errlen, "NBD socket %s: %s", socket_name, strerror(errno));
		close(fd);
		return NULL;
	}
	struct nbd_server *s = calloc(1, sizeof(*s));
	if (!s)
		abort();
	*s = (struct nbd_server){
		.loop = loop, .ex = *ex, .ops = *ops, .ctx = ctx, .listen_fd = fd, .fd = -1
	};
	s->name = strdup(ex->name ? ex->name : "");
	if (!s->name)
		abort();
	s->ex.name = s->name;
	if (!abstract)
		snprintf(s->path, sizeof(s->path), "%s", socket_name);
	ev_add_fd(loop, fd, EPOLLIN, on_accept, s);
	/* its connection's fd, added in on_accept, is charged the same */
	ev_fd_component(loop, fd, ev_component(loop, "flash"));
	return s;
}

void nbd_server_free(struct nbd_server *s)
{
	if (!s)
		return;
	drop_client(s);
	ev_del_fd(s->loop, s->listen_fd);
	close(s->listen_fd);
	if (s->path[0])
		unlink(s->path);
	free(s->name);
	free(s);
}

void nbd_server_reply(struct nbd_server *s, uint64_t handle, uint32_t error, uint8_t *data,
		      size_t len)
{
	if (s->fd < 0) {
		free(data);
		return;
	}
	put32(&s->out, SIMPLE_REPLY_MAGIC);
	put32(&s->out, error);
	put64(&s->out, handle);
	if (!error && data)
		buf_put(&s->out, data, len);
	free(data);
	/* Sent when the loop's turn for this client ends, or by the next
	 * EPOLLOUT: a reply made outside a callback of ours needs a watch. */
	rewatch(s);
}

void nbd_server_take_sent(struct nbd_server *s)
{
	if (s->fd < 0)
		return;
	if (read_in(s))
		parse(s);
}

void nbd_server_disconnect(struct nbd_server *s)
{
	drop_client(s);
}

bool nbd_server_connected(const struct nbd_server *s)
{
	return s->fd >= 0;
}
