/* agent_ota: the OTA loop's I/O: sockets, the slot partition, the env, reboot.
 *
 * One thread, blocking in poll() with deadlines. The check-in connection
 * stays open (unread) while an offered bundle downloads, as a real device's
 * management channel would; the server's heartbeats just queue up.
 *
 * The download is written straight into the inactive slot as it arrives (no
 * copy in RAM: the guest has 96 MB and a bundle is ~17 MB, and writing as it
 * lands is what makes the power-cut scenarios meaningful). Writes go through
 * O_DIRECT in 64 KiB blocks, so what the agent counts as written has left the
 * guest's page cache; a broken connection resumes from the last whole block
 * written, the partly filled block being fetched again. */
#include "agent_ota.h"

#include "agent_backoff.h"
#include "agent_event.h"
#include "agent_http.h"
#include "agent_update.h"
#include "bundle_header.h"
#include "checkin.h"
#include "lines.h"
#include "sha256.h"
#include "ubootenv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define AGENT_OTA_HEARTBEAT_MS 3000
#define AGENT_OTA_CONNECT_MS 3000
/* No byte of the bundle for this long: the download connection is dead. */
#define AGENT_OTA_STALL_MS 5000
/* Consecutive download failures without a byte of progress before the agent
 * drops the offer and checks in again (which brings the offer back). */
#define AGENT_OTA_DOWNLOAD_TRIES 5
#define AGENT_OTA_BLOCK 65536
#define AGENT_OTA_DISK_WAIT_MS 10000

#define AGENT_OTA_OUT STDOUT_FILENO

struct agent_ota {
	const struct agent_config *cfg;
	bool firmware;
	char server[32]; /* "IP:PORT", for Host: and event lines */
	struct agent_rng rng;
	struct agent_trial trial;
	struct agent_download_state dl;
	bool write_failed; /* the last download ended on a slot write error */
	char failed_sha256[SHA256_HEX_SIZE];
};

/* One HTTP response being read. */
struct agent_ota_conn {
	int fd;
	struct agent_http_head head;
	struct agent_http_body body;
	uint8_t pending[AGENT_HTTP_HEAD_MAX]; /* body bytes read along with the head */
	size_t pending_off, pending_len;
	int body_rc; /* last agent_http_body_decode result */
};

/* The slot write buffer: O_DIRECT wants block-aligned memory. */
static _Alignas(4096) uint8_t agent_ota_block[AGENT_OTA_BLOCK];

unsigned long long agent_ota_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000u + (unsigned long long)ts.tv_nsec / 1000000u;
}

static void agent_ota_sleep_ms(unsigned long long ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000),
			       .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

static const char *agent_ota_errno_reason(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return "refused";
	case ETIMEDOUT:
		return "timeout";
	case ECONNRESET:
		return "reset";
	case EPIPE:
		return "eof";
	case EHOSTUNREACH:
		return "host_unreachable";
	case ENETUNREACH:
		return "net_unreachable";
	case EPROTO:
		return "protocol";
	default:
		return "error";
	}
}

static uint64_t agent_ota_seed(void)
{
	uint64_t seed = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, &seed, sizeof(seed)) != (ssize_t)sizeof(seed))
			seed = 0;
		close(fd);
	}
	/* No urandom: the clock still differs between devices booted apart. */
	if (seed == 0) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid();
	}
	return seed;
}

/* Waits for fd to become ready for events within timeout_ms. Returns 0, or
 * -ETIMEDOUT. */
static int agent_ota_wait(int fd, short events, long long timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int rc;

	if (timeout_ms < 0)
		timeout_ms = 0;
	do {
		rc = poll(&pfd, 1, (int)timeout_ms);
	} while (rc < 0 && errno == EINTR);
	return rc > 0 ? 0 : -ETIMEDOUT;
}

/* Connects to the server within timeout_ms. Returns the socket, or -errno. */
static int agent_ota_connect(const struct agent_config *cfg, long long timeout_ms)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(cfg->server_port),
				   .sin_addr = cfg->server_ip };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err = 0, one = 1;
	socklen_t len = sizeof(err);

	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		if (errno != EINPROGRESS) {
			err = errno;
			close(fd);
			return -err;
		}
		if (agent_ota_wait(fd, POLLOUT, timeout_ms) != 0) {
			close(fd);
			return -ETIMEDOUT;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			err = errno;
		if (err != 0) {
			close(fd);
			return -err;
		}
	}
	return fd;
}

static int agent_ota_send_all(int fd, const char *buf, size_t len, long long timeout_ms)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN) {
			if (agent_ota_wait(fd, POLLOUT, timeout_ms) != 0)
				return -ETIMEDOUT;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Receives up to cap bytes within timeout_ms. Returns the count, -EPIPE at
 * EOF, -ETIMEDOUT or -errno. */
static ssize_t agent_ota_recv(int fd, void *buf, size_t cap, long long timeout_ms)
{
	for (;;) {
		ssize_t n = recv(fd, buf, cap, 0);

		if (n > 0)
			return n;
		if (n == 0)
			return -EPIPE;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		if (agent_ota_wait(fd, POLLIN, timeout_ms) != 0)
			return -ETIMEDOUT;
	}
}

/* Connects, sends GET path (with a Range from range_from when > 0) and reads
 * the response head within timeout_ms. Returns 0 with *c open, or -errno
 * (-EPROTO for a malformed response) with nothing open. */
static int agent_ota_open(struct agent_ota *ota, struct agent_ota_conn *c, const char *path,
			  unsigned long long range_from, bool keep_alive, long long timeout_ms)
{
	char req[CHECKIN_PATH_MAX + 256];
	uint8_t head[AGENT_HTTP_HEAD_MAX];
	size_t len = 0;
	int n, rc;
	unsigned long long deadline = agent_ota_now_ms() + (unsigned long long)timeout_ms;

	memset(c, 0, sizeof(*c));
	n = agent_http_format_get(req, sizeof(req), ota->server, path, (long long)range_from,
				  keep_alive);
	if (n < 0)
		return -EINVAL;
	c->fd = agent_ota_connect(ota->cfg, timeout_ms);
	if (c->fd < 0)
		return c->fd;
	rc = agent_ota_send_all(c->fd, req, (size_t)n, timeout_ms);
	while (rc == 0) {
		ssize_t got = agent_ota_recv(c->fd, head + len, sizeof(head) - len,
					     (long long)(deadline - agent_ota_now_ms()));
		int head_len;

		if (got < 0) {
			rc = (int)got;
			break;
		}
		len += (size_t)got;
		head_len = agent_http_head_parse((const char *)head, len, &c->head);
		if (head_len < 0) {
			rc = -EPROTO;
		} else if (head_len > 0) {
			agent_http_body_init(&c->body, &c->head);
			c->pending_len = len - (size_t)head_len;
			memcpy(c->pending, head + head_len, c->pending_len);
			c->body_rc = agent_http_body_decode(&c->body, c->pending, c->pending_len,
							    &c->pending_len);
			rc = c->body_rc < 0 ? -EPROTO : 0;
			break;
		}
		if (agent_ota_now_ms() >= deadline)
			rc = -ETIMEDOUT;
	}
	if (rc != 0) {
		close(c->fd);
		c->fd = -1;
	}
	return rc;
}

/* Reads body bytes into buf within timeout_ms. Returns the count (> 0), 0 at
 * the proper end of the body, or -errno (-EPIPE: closed early; -EPROTO: bad
 * framing). */
static ssize_t agent_ota_read(struct agent_ota_conn *c, uint8_t *buf, size_t cap,
			      long long timeout_ms)
{
	for (;;) {
		size_t out;
		ssize_t got;

		if (c->pending_len > 0) {
			size_t n = c->pending_len < cap ? c->pending_len : cap;

			memcpy(buf, c->pending + c->pending_off, n);
			c->pending_off += n;
			c->pending_len -= n;
			return (ssize_t)n;
		}
		if (c->body_rc == 1)
			return 0;
		got = agent_ota_recv(c->fd, buf, cap, timeout_ms);
		if (got == -EPIPE)
			return agent_http_body_eof_ok(&c->body) ? 0 : -EPIPE;
		if (got < 0)
			return got;
		c->body_rc = agent_http_body_decode(&c->body, buf, (size_t)got, &out);
		if (c->body_rc < 0)
			return -EPROTO;
		if (out > 0)
			return (ssize_t)out;
	}
}

static void agent_ota_close(struct agent_ota_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* Waits for a device node the kernel creates when virtio_blk loads, which
 * happens while the agent already runs. */
static int agent_ota_wait_node(const char *path)
{
	unsigned long long deadline = agent_ota_now_ms() + AGENT_OTA_DISK_WAIT_MS;
	struct stat st;

	while (stat(path, &st) != 0) {
		if (agent_ota_now_ms() >= deadline)
			return -ENOENT;
		agent_ota_sleep_ms(20);
	}
	return 0;
}

/* Applies edit to the env on the disk and stores it (redundantly, unless the
 * planted bug single-env-copy). Returns 0 or a negative errno. */
static int agent_ota_env_edit(struct agent_ota *ota, int (*flip)(struct ubootenv *, const char *),
			      const char *slot)
{
	struct ubootenv env;
	char err[256];
	int rc;

	if ((rc = agent_ota_wait_node(ota->cfg->disk)) != 0)
		return rc;
	ubootenv_init(&env);
	/* Planted bug "single-env-copy": read and overwrite copy 0 in place, so
	 * a torn write leaves no valid copy. */
	env.single_copy = (ota->cfg->bugs & AGENT_BUG_SINGLE_ENV_COPY) != 0;
	/* Planted bug "env-write-not-synced": the store never fsyncs, so the
	 * edit sits in the page cache until the reboot's sync(). */
	env.no_sync = (ota->cfg->bugs & AGENT_BUG_ENV_WRITE_NOT_SYNCED) != 0;
	rc = ubootenv_file_load(ota->cfg->disk, &env, err, sizeof(err));
	/* No valid copy: start from an empty env; the edit adds bootlimit. */
	if (rc >= 0 || rc == -ENODATA)
		rc = flip(&env, slot);
	if (rc >= 0)
		rc = ubootenv_file_store(ota->cfg->disk, &env, err, sizeof(err));
	ubootenv_free(&env);
	return rc < 0 ? rc : 0;
}

static int agent_ota_commit_edit(struct ubootenv *env, const char *slot)
{
	(void)slot;
	return agent_update_env_commit(env);
}

/* Prints the reboot line and reboots (firmware) or returns (host run). */
static void agent_ota_reboot(struct agent_ota *ota, const char *reason)
{
	agent_event(AGENT_OTA_OUT, "reboot reason=%s", reason);
	if (!ota->firmware)
		return;
	/* sync() first: reboot(2) itself does not write back the page cache. */
	sync();
	reboot(RB_AUTOBOOT);
	/* Only reached without CAP_SYS_BOOT. */
	agent_event(AGENT_OTA_OUT, "reboot failed errno=%d", errno);
	for (;;)
		pause();
}

static void agent_ota_commit(struct agent_ota *ota)
{
	int rc = ota->firmware ? agent_ota_env_edit(ota, agent_ota_commit_edit, NULL) : -EPERM;

	if (rc == 0)
		agent_event(AGENT_OTA_OUT, "commit slot=%s", ota->cfg->slot);
	else
		agent_event(AGENT_OTA_OUT, "commit failed errno=%d", -rc);
}

/* Writes agent_ota_block[0..len) at offset: through O_DIRECT the length
 * must be a multiple of the block size, so a short last block is padded
 * with zeros (past the bundle's end, inside the slot). */
static int agent_ota_write_block(int fd, size_t len, unsigned long long offset)
{
	size_t padded = (len + 4095) & ~(size_t)4095;
	size_t done = 0;

	memset(agent_ota_block + len, 0, padded - len);
	while (done < padded) {
		ssize_t n =
			pwrite(fd, agent_ota_block + done, padded - done, (off_t)(offset + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

/* Downloads the offered bundle into the slot behind fd, resuming after
 * broken connections. Returns 0 when all offer->size bytes are written, or
 * -errno after AGENT_OTA_DOWNLOAD_TRIES failures in a row without progress. */
static int agent_ota_download(struct agent_ota *ota, const struct checkin_msg *offer, int fd,
			      const char *slot)
{
	struct agent_progress dl_progress, install_progress;
	unsigned failures = 0;
	bool flipped_early = false;
	unsigned long long written = agent_update_resume_offset(&ota->dl, offer, ota->cfg->bugs);
	int rc = 0;

	agent_progress_init(&dl_progress, offer->size);
	agent_progress_init(&install_progress, offer->size);
	while (written < offer->size) {
		struct agent_ota_conn c;
		unsigned long long before = written;
		size_t fill = 0;
		const char *reason = NULL;

		if (failures > 0) {
			unsigned long long ms = agent_backoff_delay_ms(
				failures, agent_rng_next(&ota->rng),
				(ota->cfg->bugs & AGENT_BUG_NO_BACKOFF) != 0);

			agent_ota_sleep_ms(ms);
			written = agent_update_resume_offset(&ota->dl, offer, ota->cfg->bugs);
		}
		if (written > 0)
			agent_event(AGENT_OTA_OUT, "download resumed offset=%llu", written);
		rc = agent_ota_open(ota, &c, offer->url, written, false, AGENT_OTA_CONNECT_MS);
		if (rc == 0) {
			const struct agent_http_head *h = &c.head;

			if (h->status == 206 && h->has_content_range &&
			    h->range_first == (long long)written &&
			    (h->range_total < 0 || h->range_total == (long long)offer->size)) {
				/* the range we asked for */
			} else if (h->status == 200 &&
				   (h->content_length < 0 ||
				    h->content_length == (long long)offer->size)) {
				/* The whole bundle again: start over at 0. */
				written = 0;
				ota->dl.written = 0;
			} else {
				reason = "http_status";
				rc = -EPROTO;
			}
		} else {
			reason = agent_ota_errno_reason(-rc);
		}
		while (rc == 0 && written + fill < offer->size) {
			ssize_t n = agent_ota_read(&c, agent_ota_block + fill,
						   AGENT_OTA_BLOCK - fill, AGENT_OTA_STALL_MS);
			unsigned pct;

			if (n <= 0) {
				rc = n == 0 ? -EPIPE : (int)n;
				reason = n == 0 ? "short_body" : agent_ota_errno_reason((int)-n);
				break;
			}
			if (written + fill + (size_t)n > offer->size)
				n = (ssize_t)(offer->size - written - fill);
			fill += (size_t)n;
			if ((pct = agent_progress_step(&dl_progress, written + fill)) != 0)
				agent_event(AGENT_OTA_OUT, "download progress=%u bytes=%llu", pct,
					    written + fill);
			if (fill < AGENT_OTA_BLOCK && written + fill < offer->size)
				continue;
			if ((rc = agent_ota_write_block(fd, fill, written)) != 0) {
				reason = "write";
				break;
			}
			written += fill;
			ota->dl.written = written;
			fill = 0;
			if ((pct = agent_progress_step(&install_progress, written)) != 0)
				agent_event(AGENT_OTA_OUT, "install slot=%s progress=%u", slot,
					    pct);
			/* Planted bug "flip-env-before-image-complete": point the
			 * bootloader at the slot while it holds a fraction of the image. */
			if ((ota->cfg->bugs & AGENT_BUG_FLIP_ENV_BEFORE_IMAGE_COMPLETE) &&
			    !flipped_early && ota->firmware) {
				flipped_early = true;
				agent_ota_env_edit(ota, agent_update_env_flip, slot);
			}
		}
		if (c.fd >= 0)
			agent_ota_close(&c);
		if (written >= offer->size)
			return 0;
		if (reason == NULL)
			reason = "error";
		agent_event(AGENT_OTA_OUT, "download interrupted reason=%s bytes=%llu", reason,
			    written);
		/* A slot that refuses writes will not get better by retrying. */
		if (strcmp(reason, "write") == 0) {
			ota->write_failed = true;
			return rc;
		}
		/* Progress resets the failure count: a lossy link that keeps
		 * moving forward is not a reason to give up. */
		failures = written > before ? 1 : failures + 1;
		if (failures > AGENT_OTA_DOWNLOAD_TRIES)
			return rc != 0 ? rc : -EPIPE;
	}
	return 0;
}

/* Reads the bundle back from the slot and checks its header against the
 * offer and its payload against the header's sha256. Returns 0, or a short
 * reason word for the event line. */
static const char *agent_ota_verify(int fd, const struct checkin_msg *offer)
{
	struct bundle_header b;
	struct sha256_ctx ctx;
	uint8_t digest[SHA256_DIGEST_SIZE];
	char hex[SHA256_HEX_SIZE];
	unsigned long long off = 0;

	if (pread(fd, agent_ota_block, BUNDLE_HEADER_MAX, 0) != BUNDLE_HEADER_MAX)
		return "read";
	if (bundle_header_parse(agent_ota_block, BUNDLE_HEADER_MAX, &b, NULL, 0) != 0)
		return "bad_header";
	if (bundle_total_size(&b) != offer->size || strcmp(b.sha256, offer->sha256) != 0 ||
	    strcmp(b.version, offer->version) != 0)
		return "header_mismatch";
	sha256_init(&ctx);
	while (off < offer->size) {
		/* Whole blocks only, as O_DIRECT requires; the slot is larger than
		 * the bundle, so reading past its end is fine. */
		ssize_t n = pread(fd, agent_ota_block, AGENT_OTA_BLOCK, (off_t)off);
		unsigned long long end;

		if (n <= 0)
			return "read";
		end = off + (unsigned long long)n < offer->size ? off + (unsigned long long)n
								: offer->size;
		if (end > b.header_size) {
			unsigned long long from = off > b.header_size ? off : b.header_size;

			sha256_update(&ctx, agent_ota_block + (from - off), (size_t)(end - from));
		}
		off += (unsigned long long)n;
	}
	sha256_final(&ctx, digest);
	sha256_to_hex(digest, hex);
	return strcmp(hex, b.sha256) == 0 ? NULL : "sha256";
}

/* Handles an accepted offer: download, verify, sync, flip, reboot. Returns
 * only on failure, with the reason printed. */
static void agent_ota_install(struct agent_ota *ota, const struct checkin_msg *offer,
			      const char *slot, int fd)
{
	const char *bad;
	int rc;

	ota->write_failed = false;
	if ((rc = agent_ota_download(ota, offer, fd, slot)) != 0) {
		/* Planted bug "flip-after-write-error": the error path falls
		 * through to the flip, so the slot that refused a write becomes
		 * the boot slot while it holds part of the image. */
		if ((ota->cfg->bugs & AGENT_BUG_FLIP_AFTER_WRITE_ERROR) && ota->write_failed)
			agent_ota_env_edit(ota, agent_update_env_flip, slot);
		agent_event(AGENT_OTA_OUT, "update failed reason=download errno=%d", -rc);
		return;
	}
	if ((bad = agent_ota_verify(fd, offer)) != NULL) {
		agent_event(AGENT_OTA_OUT, "update failed reason=%s", bad);
		/* The same bytes would fail again: skip this bundle until the
		 * server offers another one. A failed read may be transient. */
		if (strcmp(bad, "read") != 0)
			snprintf(ota->failed_sha256, sizeof(ota->failed_sha256), "%s",
				 offer->sha256);
		ota->dl.written = 0;
		return;
	}
	/* Planted bug "no-fsync-before-flip": the slot was written through the
	 * page cache and is not synced, so a power cut after the flip can
	 * leave the env pointing at a slot whose tail never reached the disk. */
	if (!(ota->cfg->bugs & AGENT_BUG_NO_FSYNC_BEFORE_FLIP) && fsync(fd) != 0) {
		agent_event(AGENT_OTA_OUT, "update failed reason=fsync errno=%d", errno);
		return;
	}
	if ((rc = agent_ota_env_edit(ota, agent_update_env_flip, slot)) != 0) {
		agent_event(AGENT_OTA_OUT, "update failed reason=env errno=%d", -rc);
		return;
	}
	agent_event(AGENT_OTA_OUT, "install complete slot=%s", slot);
	agent_ota_reboot(ota, "update");
}

/* Handles one offer line. Returns true when the check-in should be redone
 * (the download failed: a new check-in brings the offer back). */
static bool agent_ota_offer(struct agent_ota *ota, const struct checkin_msg *offer)
{
	const char *slot = agent_update_other_slot(ota->cfg->slot);
	char part[AGENT_CONFIG_STR_MAX + 8];
	unsigned long long slot_bytes = 0;
	enum agent_offer_verdict v;
	int fd, flags;

	if (strcmp(offer->version, ota->cfg->version) == 0)
		return false;
	agent_event(AGENT_OTA_OUT, "update offered version=%s size=%llu", offer->version,
		    (unsigned long long)offer->size);
	if (!ota->firmware) {
		agent_event(AGENT_OTA_OUT, "update failed reason=not_firmware");
		return false;
	}
	if (slot == NULL ||
	    agent_update_partition_path(part, sizeof(part), ota->cfg->disk, slot) != 0) {
		agent_event(AGENT_OTA_OUT, "update failed reason=bad_slot slot=%s", ota->cfg->slot);
		return false;
	}
	/* Planted bug "no-fsync-before-flip" also writes through the page
	 * cache, where unsynced data really is lost on a power cut. */
	flags = O_RDWR | O_CLOEXEC;
	if (!(ota->cfg->bugs & AGENT_BUG_NO_FSYNC_BEFORE_FLIP))
		flags |= O_DIRECT;
	if (agent_ota_wait_node(part) != 0 || (fd = open(part, flags)) < 0) {
		agent_event(AGENT_OTA_OUT, "update failed reason=open path=%s errno=%d", part,
			    errno);
		return false;
	}
	if (ioctl(fd, BLKGETSIZE64, &slot_bytes) != 0)
		slot_bytes = 0;
	v = agent_update_judge_offer(offer, ota->cfg->version, ota->failed_sha256, slot_bytes);
	if (v != AGENT_OFFER_ACCEPT) {
		agent_event(AGENT_OTA_OUT, "update failed reason=%s",
			    v == AGENT_OFFER_KNOWN_BAD ? "known_bad" : "too_large");
		close(fd);
		return false;
	}
	agent_ota_install(ota, offer, slot, fd);
	close(fd);
	return true;
}

/* Reads the check-in channel until it breaks or an update needs a fresh
 * check-in. Returns the reason word for the disconnected line. */
static const char *agent_ota_channel(struct agent_ota *ota, struct agent_ota_conn *c)
{
	char line[CHECKIN_LINE_MAX];
	struct lines lines;
	unsigned long long last_line = agent_ota_now_ms();
	uint8_t buf[1024];

	lines_init(&lines, line, sizeof(line));
	for (;;) {
		long long left = (long long)(last_line + AGENT_OTA_HEARTBEAT_MS) -
				 (long long)agent_ota_now_ms();
		ssize_t n = agent_ota_read(c, buf, sizeof(buf), left);
		size_t off = 0;

		if (n == 0)
			return "eof";
		if (n == -ETIMEDOUT)
			return "heartbeat_timeout";
		if (n < 0)
			return agent_ota_errno_reason((int)-n);
		while (off < (size_t)n) {
			struct checkin_msg msg;
			size_t used;
			bool done = lines_push(&lines, buf + off, (size_t)n - off, &used);

			off += used;
			if (!done)
				break;
			last_line = agent_ota_now_ms();
			/* A cut line is not what the server said: only a sign of life. */
			if (lines.truncated || checkin_parse_line(lines.buf, lines.len, &msg) != 0)
				continue;
			if (msg.type == CHECKIN_OFFER && agent_ota_offer(ota, &msg))
				return "update_failed";
			/* The download took a while: heartbeats read now are old. */
			last_line = agent_ota_now_ms();
		}
	}
}

void agent_ota_run(const struct agent_config *cfg, bool firmware, unsigned long long start_ms)
{
	struct agent_ota ota;
	char path[CHECKIN_PATH_MAX];
	unsigned attempt = 0, failures = 0;
	char ip[INET_ADDRSTRLEN];

	memset(&ota, 0, sizeof(ota));
	ota.cfg = cfg;
	ota.firmware = firmware;
	inet_ntop(AF_INET, &cfg->server_ip, ip, sizeof(ip));
	snprintf(ota.server, sizeof(ota.server), "%s:%u", ip, cfg->server_port);
	/* Devices restored from one snapshot share the kernel's RNG state, and
	 * so would share their jitter: vh.seed tells them apart. */
	agent_rng_seed(&ota.rng, cfg->has_seed ? agent_ota_seed() ^ cfg->seed : agent_ota_seed());
	agent_trial_init(&ota.trial, cfg->upgrade, cfg->bugs, start_ms);
	if (checkin_format_path(path, sizeof(path), cfg->device, cfg->version, cfg->slot) < 0) {
		agent_event(AGENT_OTA_OUT, "update failed reason=checkin_path");
		return;
	}

	for (;;) {
		struct agent_ota_conn c;
		long long left;
		int rc;

		switch (agent_trial_step(&ota.trial, agent_ota_now_ms(), false)) {
		case AGENT_TRIAL_COMMIT:
			agent_ota_commit(&ota);
			break;
		case AGENT_TRIAL_REBOOT_UNHEALTHY:
			agent_ota_reboot(&ota, "unhealthy");
			return;
		case AGENT_TRIAL_NONE:
			break;
		}
		/* Planted bug "never-healthy": this version never reaches the
		 * server on a trial boot, so it is never committed. */
		if (ota.trial.pending && !ota.trial.may_connect) {
			agent_ota_sleep_ms(100);
			continue;
		}
		if (failures > 0) {
			unsigned long long ms =
				agent_backoff_delay_ms(failures, agent_rng_next(&ota.rng),
						       (cfg->bugs & AGENT_BUG_NO_BACKOFF) != 0);

			/* A trial boot's deadline does not wait for the backoff. */
			if (ota.trial.pending && agent_ota_now_ms() + ms > ota.trial.deadline_ms)
				ms = ota.trial.deadline_ms > agent_ota_now_ms()
					     ? ota.trial.deadline_ms - agent_ota_now_ms()
					     : 0;
			agent_ota_sleep_ms(ms);
			if (ota.trial.pending && agent_ota_now_ms() >= ota.trial.deadline_ms)
				continue;
		}
		attempt++;
		left = AGENT_OTA_CONNECT_MS;
		if (ota.trial.pending &&
		    (long long)(ota.trial.deadline_ms - agent_ota_now_ms()) < left)
			left = (long long)(ota.trial.deadline_ms - agent_ota_now_ms());
		rc = agent_ota_open(&ota, &c, path, 0, true, left);
		if (rc == 0 && c.head.status != 200) {
			agent_ota_close(&c);
			rc = -EPROTO;
		}
		if (rc != 0) {
			failures++;
			agent_event(AGENT_OTA_OUT, "connect failed server=%s attempt=%u reason=%s",
				    ota.server, attempt,
				    rc == -EPROTO ? "http" : agent_ota_errno_reason(-rc));
			continue;
		}
		agent_event(AGENT_OTA_OUT, "connected server=%s attempt=%u", ota.server, attempt);
		if (agent_trial_step(&ota.trial, agent_ota_now_ms(), true) == AGENT_TRIAL_COMMIT)
			agent_ota_commit(&ota);
		agent_event(AGENT_OTA_OUT, "disconnected reason=%s", agent_ota_channel(&ota, &c));
		agent_ota_close(&c);
		/* A lost channel counts as the first failure of a new series. */
		attempt = 0;
		failures = 1;
	}
}
