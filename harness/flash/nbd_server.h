/* An NBD server for one export on the event loop: how QEMU reaches a
 * device's flash (-blockdev driver=nbd over a unix socket), so the harness
 * sees every read, write and flush the guest makes, in order.
 *
 * The protocol is NBD's (NetworkBlockDevice/nbd doc/proto.md): fixed
 * newstyle handshake with NBD_OPT_GO / NBD_OPT_INFO (and the older
 * NBD_OPT_EXPORT_NAME, NBD_OPT_LIST, NBD_OPT_ABORT); every other option is
 * answered NBD_REP_ERR_UNSUP, so replies are always simple ones. In
 * transmission it takes READ, WRITE (with FUA), FLUSH and DISC; TRIM and
 * WRITE_ZEROES are not advertised and get EINVAL. One client at a time (a
 * second is turned away while the first is connected).
 *
 * The server parses and frames; what a request does is its owner's: each
 * request goes to ops->request, which answers with nbd_server_reply now or
 * later (replies may go out in any order). Nothing blocks: the sockets are
 * non-blocking, partial reads wait in a buffer for the rest, replies queue
 * until the client takes them, and reading stops while too much is queued. */
#ifndef VH_NBD_SERVER_H
#define VH_NBD_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ev_loop;
struct nbd_server;

enum nbd_cmd {
	NBD_CMD_READ = 0,
	NBD_CMD_WRITE = 1,
	NBD_CMD_DISC = 2,
	NBD_CMD_FLUSH = 3,
	NBD_CMD_TRIM = 4,
	NBD_CMD_WRITE_ZEROES = 6,
};
#define NBD_CMD_FLAG_FUA 1u

/* The errors a reply may carry (the protocol's numbers, Linux's too). */
enum nbd_errno {
	NBD_OK = 0,
	NBD_EPERM = 1,
	NBD_EIO = 5,
	NBD_ENOMEM = 12,
	NBD_EINVAL = 22,
	NBD_ENOSPC = 28,
	NBD_EOVERFLOW = 75,
	NBD_ENOTSUP = 95,
	NBD_ESHUTDOWN = 108,
};

/* Largest request the server announces (NBD_INFO_BLOCK_SIZE): QEMU splits
 * bigger guest requests, so one reply is never a long copy. A client that
 * ignores it may send up to NBD_SERVER_MAX_REQUEST; more ends the session. */
#define NBD_SERVER_MAX_BLOCK (1024u * 1024u)
#define NBD_SERVER_MAX_REQUEST (32u * 1024u * 1024u)

struct nbd_request {
	uint16_t type;	 /* enum nbd_cmd */
	uint16_t flags;	 /* NBD_CMD_FLAG_* */
	uint64_t handle; /* for nbd_server_reply */
	uint64_t offset;
	uint32_t len;
	/* NBD_CMD_WRITE: the payload (malloc'd). The callee may take it by
	 * setting it to NULL; else the server frees it after the call. */
	uint8_t *data;
};

struct nbd_server_ops {
	/* A request within the export's bounds. Answer with nbd_server_reply. */
	void (*request)(void *ctx, struct nbd_request *rq);
	/* The client is gone: it sent NBD_CMD_DISC (why NULL) or the
	 * connection broke (why says how). Replies still owed are dropped. */
	void (*closed)(void *ctx, const char *why);
};

struct nbd_export {
	const char *name; /* what NBD_OPT_GO must ask for ("" also works) */
	uint64_t size;
	bool read_only;
};

/* Listens on socket: "@name" for an abstract unix socket (gone with its
 * last fd, nothing left on disk), else a filesystem path (replaced if it
 * exists, removed by nbd_server_free). NULL with err. */
struct nbd_server *nbd_server_new(struct ev_loop *loop, const char *socket,
				  const struct nbd_export *ex, const struct nbd_server_ops *ops,
				  void *ctx, char *err, size_t errlen);
/* Closes the listener and the client; unread requests and unsent replies
 * are dropped, no callback is called. NULL is ignored. */
void nbd_server_free(struct nbd_server *s);

/* Answers request handle with error (NBD_OK or enum nbd_errno) and, for a
 * read that succeeded, its len bytes of data (malloc'd: taken). Dropped
 * when the client that asked is gone. */
void nbd_server_reply(struct nbd_server *s, uint64_t handle, uint32_t error, uint8_t *data,
		      size_t len);

/* Reads what the client has sent so far, without waiting, and hands every
 * complete request to ops->request now: what had reached the flash when
 * the power died (or when the client exited). A request cut short stays
 * unhandled. Calls ops->closed when the client turns out to be gone. */
void nbd_server_take_sent(struct nbd_server *s);

/* Hangs up on the client now (a power cut): what it sent and was not
 * handled is dropped, no callback is called. */
void nbd_server_disconnect(struct nbd_server *s);

/* Whether a client is connected (past or in its handshake). */
bool nbd_server_connected(const struct nbd_server *s);

/* The NBD error for an errno value (EIO for any the protocol lacks). */
uint32_t nbd_error_from_errno(int err);

#endif
