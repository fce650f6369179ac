#include "datapath.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "ev.h"
#include "netem_dist.h"

/* Frames waiting for a slow destination: above PAUSE the source is no longer read
 * (backpressure, as QEMU's tap backend stops reading when the guest ring is full);
 * at MAX, frames released by the delay queue are dropped (dropped_overflow). */
#define DP_OUTQ_PAUSE 64u
#define DP_OUTQ_MAX 1024u
/* Reads per fd callback, so one busy link does not starve the rest of the loop. */
#define DP_READS_PER_CALL 32
/* The stream reader's buffer: one largest frame with its prefix, plus room to take
 * many small frames in one read. */
#define DP_RBUF_SIZE (4u + DATAPATH_FRAME_MAX + 65536u)

struct dp_frame {
	struct dp_frame *next; /* output FIFO */
	uint64_t depart_ns;
	uint64_t seq; /* ties on depart_ns leave in arrival order */
	uint32_t len;
	uint8_t data[];
};

struct dp_dir {
	struct datapath *dp;
	enum datapath_dir dir;

	bool has_spec;
	struct netem_spec spec;
	struct impair_engine *engine;	    /* NULL without a spec */
	struct netem_dist_table *dist;	    /* owned, when the spec names a table */
	struct netem_dist_table *slot_dist; /* owned, for `slot distribution NAME` */

	/* Delayed frames: min-heap on (depart_ns, seq); one ev timer for the head. */
	struct dp_frame **heap;
	size_t heap_len, heap_cap;
	uint64_t timer_id; /* 0 = none */
	uint64_t timer_due_ns;
	uint64_t seq;

	/* Frames the destination could not take yet; out_off bytes of the head are
	 * written (stream framing counts the 4-byte prefix). */
	struct dp_frame *outq_head, *outq_tail;
	uint32_t outq_len;
	size_t out_off;

	struct datapath_stats st;
};

struct datapath {
	struct ev_loop *loop;
	int tap_fd, qemu_fd;
	enum datapath_framing framing;
	uint32_t tap_events, qemu_events; /* as registered with the loop */
	bool tap_failed;		  /* read or poll error: the tap is no longer watched */
	bool blocked;
	/* Group partition: the network's MAC -> group map (borrowed) and this
	 * device's group; NULL when the network is whole. */
	const struct peer_filter *peers;
	uint32_t own_group;
	uint64_t seed;
	uint32_t link_id;
	enum impair_corr_mode corr_mode;
	char *dist_dir;
	datapath_closed_fn on_closed;
	void *closed_arg;
	uint64_t notify_timer; /* pending on_closed report, 0 = none */
	char closed_why[160];
	struct capture *cap;

	struct dp_dir d[2]; /* indexed by enum datapath_dir */

	uint8_t *rbuf; /* stream bytes from QEMU not yet parsed */
	size_t rlen;
	uint8_t *fbuf; /* one frame read from the tap or a datagram */
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

const char *datapath_dir_name(enum datapath_dir dir)
{
	return dir == DATAPATH_TO_DEVICE ? "to_device" : "from_device";
}

/* ---- frames and the delay heap ---- */

static struct dp_frame *frame_new(const uint8_t *data, uint32_t len)
{
	struct dp_frame *f = malloc(sizeof *f + len);
	if (!f)
		return NULL;
	f->next = NULL;
	f->depart_ns = 0;
	f->seq = 0;
	f->len = len;
	memcpy(f->data, data, len);
	return f;
}

static bool frame_before(const struct dp_frame *a, const struct dp_frame *b)
{
	return a->depart_ns < b->depart_ns || (a->depart_ns == b->depart_ns && a->seq < b->seq);
}

static bool heap_push(struct dp_dir *d, struct dp_frame *f)
{
	if (d->heap_len == d->heap_cap) {
		size_t cap = d->heap_cap ? d->heap_cap * 2 : 64;
		struct dp_frame **grown = realloc(d->heap, cap * sizeof *grown);
		if (!grown)
			return false;
		d->heap = grown;
		d->heap_cap = cap;
	}
	size_t i = d->heap_len++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!frame_before(f, d->heap[parent]))
			break;
		d->heap[i] = d->heap[parent];
		i = parent;
	}
	d->heap[i] = f;
	return true;
}

static struct dp_frame *heap_pop(struct dp_dir *d)
{
	struct dp_frame *top = d->heap[0];
	struct dp_frame *last = d->heap[--d->heap_len];
	size_t i = 0, n = d->heap_len;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && frame_before(d->heap[c + 1], d->heap[c]))
			c++;
		if (!frame_before(d->heap[c], last))
			break;
		d->heap[i] = d->heap[c];
		i = c;
	}
	if (n)
		d->heap[i] = last;
	return top;
}

/* ---- capture hooks ---- */

static void note_sent(struct datapath *dp, const uint8_t *data, uint32_t len)
{
	if (dp->cap)
		capture_frame(dp->cap, capture_now_ns(), data, len);
}

static void note_dropped(struct datapath *dp, uint64_t *counter, const uint8_t *data, uint32_t len)
{
	++*counter;
	if (dp->cap)
		capture_dropped(dp->cap, capture_now_ns(), data, len);
}

/* ---- fd registration ---- */

static void qemu_cb(struct ev_loop *loop, int fd, uint32_t events, void *arg);
static void tap_cb(struct ev_loop *loop, int fd, uint32_t events, void *arg);

static bool input_paused(const struct dp_dir *d)
{
	return d->outq_len >= DP_OUTQ_PAUSE;
}

/* Brings the loop's view of both fds in line with the queues: read a source unless
 * its direction's output is backed up, wait for writability while output is queued. */
static void update_events(struct datapath *dp)
{
	const struct dp_dir *to = &dp->d[DATAPATH_TO_DEVICE];
	const struct dp_dir *from = &dp->d[DATAPATH_FROM_DEVICE];
	if (!dp->tap_failed) {
		uint32_t ev = (input_paused(to) ? 0 : EPOLLIN) | (from->outq_len ? EPOLLOUT : 0);
		if (ev != dp->tap_events && ev_add_fd(dp->loop, dp->tap_fd, ev, tap_cb, dp) == 0)
			dp->tap_events = ev;
	}
	if (dp->qemu_fd >= 0) {
		uint32_t ev = (input_paused(from) ? 0 : EPOLLIN) | (to->outq_len ? EPOLLOUT : 0);
		if (ev != dp->qemu_events && ev_add_fd(dp->loop, dp->qemu_fd, ev, qemu_cb, dp) == 0)
			dp->qemu_events = ev;
	}
}

/* ---- losing QEMU ---- */

static void free_outq(struct datapath *dp, struct dp_dir *d, bool count)
{
	while (d->outq_head) {
		struct dp_frame *f = d->outq_head;
		d->outq_head = f->next;
		if (count)
			note_dropped(dp, &d->st.dropped_detached, f->data, f->len);
		free(f);
	}
	d->outq_tail = NULL;
	d->outq_len = 0;
	d->out_off = 0;
}

static void notify_cb(struct ev_loop *loop, uint64_t id, void *arg)
{
	(void)loop;
	(void)id;
	struct datapath *dp = arg;
	dp->notify_timer = 0;
	if (dp->on_closed)
		dp->on_closed(dp, dp->closed_why, dp->closed_arg); /* may free dp */
}

static void close_qemu(struct datapath *dp)
{
	if (dp->qemu_fd < 0)
		return;
	ev_del_fd(dp->loop, dp->qemu_fd);
	close(dp->qemu_fd);
	dp->qemu_fd = -1;
	dp->qemu_events = 0;
	dp->rlen = 0;
}

/* QEMU is gone: stop using its fd at once and report from the loop, never from inside
 * a datapath call, so on_closed may free the datapath. */
static void qemu_lost(struct datapath *dp, const char *why)
{
	close_qemu(dp);
	free_outq(dp, &dp->d[DATAPATH_TO_DEVICE], true);
	snprintf(dp->closed_why, sizeof dp->closed_why, "%s", why);
	if (!dp->notify_timer)
		dp->notify_timer = ev_add_timer(dp->loop, 0, notify_cb, dp);
	update_events(dp);
}

/* ---- output ---- */

/* Writes what is left of one frame to its destination. Returns the bytes written
 * (maybe partial on a stream), 0 for "try later", or -errno. */
static ssize_t write_frame(struct datapath *dp, enum datapath_dir dir, const uint8_t *data,
			   uint32_t len, size_t off)
{
	ssize_t n;
	if (dir == DATAPATH_FROM_DEVICE) {
		n = write(dp->tap_fd, data, len);
	} else if (dp->framing == DATAPATH_STREAM) {
		uint8_t hdr[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
				   (uint8_t)len };
		struct iovec iov[2];
		int niov = 0;
		if (off < 4)
			iov[niov++] = (struct iovec){ .iov_base = hdr + off, .iov_len = 4 - off };
		size_t doff = off > 4 ? off - 4 : 0;
		iov[niov++] =
			(struct iovec){ .iov_base = (void *)(data + doff), .iov_len = len - doff };
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)niov };
		/* MSG_NOSIGNAL: a QEMU that died must give EPIPE, not kill the harness. */
		n = sendmsg(dp->qemu_fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	} else {
		n = send(dp->qemu_fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ENOBUFS)
		return 0;
	return -errno;
}

static size_t wire_len(const struct datapath *dp, enum datapath_dir dir, uint32_t len)
{
	return dir == DATAPATH_TO_DEVICE && dp->framing == DATAPATH_STREAM ? 4u + len : len;
}

/* The destination refused a frame for good. Returns false when that ended the QEMU
 * side (the caller must stop). */
static bool write_failed(struct datapath *dp, struct dp_dir *d, const uint8_t *data, uint32_t len,
			 int error)
{
	if (d->dir == DATAPATH_TO_DEVICE && error != -EMSGSIZE && error != -EINVAL) {
		char why[128];
		snprintf(why, sizeof why, "%s: %s",
			 error == -EPIPE || error == -ECONNRESET || error == -ECONNREFUSED
				 ? "QEMU closed the socket"
				 : "write to QEMU failed",
			 strerror(-error));
		qemu_lost(dp, why);
		return false;
	}
	/* The tap (or a datagram socket) rejected this frame only, e.g. a runt. */
	note_dropped(dp, &d->st.dropped_error, data, len);
	return true;
}

/* Writes queued frames until the destination is full. */
static void flush_out(struct datapath *dp, struct dp_dir *d)
{
	while (d->outq_head) {
		struct dp_frame *f = d->outq_head;
		if (d->dir == DATAPATH_TO_DEVICE && dp->qemu_fd < 0)
			break;
		ssize_t n = write_frame(dp, d->dir, f->data, f->len, d->out_off);
		if (n < 0) {
			if (!write_failed(dp, d, f->data, f->len, (int)n))
				return; /* the queue went with QEMU */
		} else if (n == 0) {
			break;
		} else {
			d->out_off += (size_t)n;
			if (d->out_off < wire_len(dp, d->dir, f->len))
				break;
			d->st.frames_out++;
			d->st.bytes_out += f->len;
			note_sent(dp, f->data, f->len);
		}
		d->outq_head = f->next;
		if (!d->outq_head)
			d->outq_tail = NULL;
		d->outq_len--;
		d->out_off = 0;
		free(f);
	}
	update_events(dp);
}

static void outq_append(struct dp_dir *d, struct dp_frame *f, size_t off)
{
	f->next = NULL;
	if (d->outq_tail)
		d->outq_tail->next = f;
	else
		d->outq_head = f;
	d->outq_tail = f;
	d->outq_len++;
	if (d->outq_len == 1)
		d->out_off = off;
}

/* A partition drops the frame: the device alone (blocked), or its island
 * does not hold the frame's peer. Checked again when a delayed frame comes
 * due, as the partition may have begun meanwhile. */
static bool cut_off(const struct datapath *dp, const struct dp_dir *d, const uint8_t *data,
		    uint32_t len)
{
	if (dp->blocked)
		return true;
	return dp->peers &&
	       !peer_filter_pass(dp->peers, dp->own_group, d->dir == DATAPATH_TO_DEVICE, data, len);
}

/* Hands one frame to its destination now, or queues it behind earlier ones. owned
 * is the frame as a heap copy when the caller has one (it is then consumed), else
 * data/len are copied only if the frame must wait. */
static void deliver(struct datapath *dp, struct dp_dir *d, const uint8_t *data, uint32_t len,
		    struct dp_frame *owned)
{
	if (cut_off(dp, d, data, len)) {
		note_dropped(dp, &d->st.dropped_blocked, data, len);
		free(owned);
		return;
	}
	if (d->dir == DATAPATH_TO_DEVICE && dp->qemu_fd < 0) {
		note_dropped(dp, &d->st.dropped_detached, data, len);
		free(owned);
		return;
	}
	size_t off = 0;
	if (!d->outq_head) {
		ssize_t n = write_frame(dp, d->dir, data, len, 0);
		if (n < 0) {
			write_failed(dp, d, data, len, (int)n);
			free(owned);
			return;
		}
		if ((size_t)n == wire_len(dp, d->dir, len)) {
			d->st.frames_out++;
			d->st.bytes_out += len;
			note_sent(dp, data, len);
			free(owned);
			return;
		}
		off = (size_t)n;
	} else if (d->outq_len >= DP_OUTQ_MAX) {
		note_dropped(dp, &d->st.dropped_overflow, data, len);
		free(owned);
		return;
	}
	struct dp_frame *f = owned ? owned : frame_new(data, len);
	if (!f) {
		/* A partly written frame cannot be dropped on a stream without breaking the
		 * framing; out of memory there is the end of the QEMU side. */
		if (off)
			qemu_lost(dp, "out of memory");
		else
			note_dropped(dp, &d->st.dropped_overflow, data, len);
		return;
	}
	outq_append(d, f, off);
	update_events(dp);
}

/* ---- the delay queue ---- */

static void timer_cb(struct ev_loop *loop, uint64_t id, void *arg);

/* Releases every delayed frame that is due at now, earliest first. */
static void release_due(struct datapath *dp, struct dp_dir *d, uint64_t now)
{
	while (d->heap_len && d->heap[0]->depart_ns <= now) {
		struct dp_frame *f = heap_pop(d);
		deliver(dp, d, f->data, f->len, f);
	}
}

/* Keeps one timer on the earliest departure. ev timers count whole
 * milliseconds, so the wait is rounded up; timer_cb releases what is due by
 * then and re-arms here for the rest. */
static void arm_timer(struct datapath *dp, struct dp_dir *d, uint64_t now)
{
	if (!d->heap_len) {
		if (d->timer_id) {
			ev_del_timer(dp->loop, d->timer_id);
			d->timer_id = 0;
		}
		return;
	}
	uint64_t due = d->heap[0]->depart_ns;
	if (d->timer_id && d->timer_due_ns <= due)
		return;
	if (d->timer_id)
		ev_del_timer(dp->loop, d->timer_id);
	uint64_t wait_ns = due > now ? due - now : 0;
	d->timer_id = ev_add_timer(dp->loop, (wait_ns + 999999u) / 1000000u, timer_cb, d);
	d->timer_due_ns = due;
}

static void timer_cb(struct ev_loop *loop, uint64_t id, void *arg)
{
	(void)loop;
	(void)id;
	struct dp_dir *d = arg;
	d->timer_id = 0;
	uint64_t now = now_ns();
	release_due(d->dp, d, now);
	arm_timer(d->dp, d, now);
}

/* ---- input ---- */

/* Sets CE on an ECN-capable IPv4/IPv6 frame (one VLAN tag allowed), fixing the IPv4
 * header checksum incrementally (RFC 1624). False when the frame is not ECN-capable
 * IP: sch_netem then drops it. */
static bool ecn_set_ce(uint8_t *f, uint32_t len)
{
	if (len < 14)
		return false;
	size_t off = 14;
	unsigned type = (unsigned)f[12] << 8 | f[13];
	if (type == 0x8100 && len >= 18) {
		type = (unsigned)f[16] << 8 | f[17];
		off = 18;
	}
	uint8_t *ip = f + off;
	if (type == 0x0800 && len >= off + 20 && ip[0] >> 4 == 4) {
		if ((ip[1] & 3) == 0)
			return false;
		unsigned old = (unsigned)ip[0] << 8 | ip[1];
		ip[1] |= 3;
		unsigned upd = (unsigned)ip[0] << 8 | ip[1];
		unsigned hc = (unsigned)ip[10] << 8 | ip[11];
		uint32_t sum = (~hc & 0xffffu) + (~old & 0xffffu) + upd;
		sum = (sum & 0xffffu) + (sum >> 16);
		sum = (sum & 0xffffu) + (sum >> 16);
		hc = ~sum & 0xffffu;
		ip[10] = (uint8_t)(hc >> 8);
		ip[11] = (uint8_t)hc;
		return true;
	}
	if (type == 0x86dd && len >= off + 40 && ip[0] >> 4 == 6) {
		if ((ip[1] & 0x30) == 0)
			return false;
		ip[1] |= 0x30;
		return true;
	}
	return false;
}

/* One frame read from a source: partition, then the engine's decisions. */
static void ingress(struct datapath *dp, struct dp_dir *d, const uint8_t *data, uint32_t len)
{
	d->st.frames_in++;
	d->st.bytes_in += len;
	if (cut_off(dp, d, data, len)) {
		note_dropped(dp, &d->st.dropped_blocked, data, len);
		return;
	}
	if (d->dir == DATAPATH_TO_DEVICE && dp->qemu_fd < 0) {
		note_dropped(dp, &d->st.dropped_detached, data, len);
		return;
	}
	if (!d->engine) {
		deliver(dp, d, data, len, NULL);
		return;
	}
	uint64_t now = now_ns();
	/* Frames that came due while the timer was pending go first, as in netem's tfifo. */
	release_due(dp, d, now);
	struct impair_decision dec[IMPAIR_MAX_COPIES];
	size_t n = impair_engine_frame(d->engine, len, now, dec);
	for (size_t i = 0; i < n; i++) {
		const struct impair_decision *x = &dec[i];
		if (x->verdict == IMPAIR_DROP_LOSS) {
			note_dropped(dp, &d->st.dropped_loss, data, len);
			continue;
		}
		if (x->verdict == IMPAIR_DROP_LIMIT) {
			note_dropped(dp, &d->st.dropped_limit, data, len);
			continue;
		}
		if (x->copy)
			d->st.duplicated++;
		bool later = !x->reorder_now && x->depart_ns > now;
		if (!later && !x->corrupt && x->verdict == IMPAIR_DELIVER) {
			if (x->reorder_now)
				d->st.reordered++;
			deliver(dp, d, data, len, NULL);
			continue;
		}
		struct dp_frame *f = frame_new(data, len);
		if (!f) {
			note_dropped(dp, &d->st.dropped_overflow, data, len);
			continue;
		}
		if (x->corrupt && x->corrupt_byte < len) {
			f->data[x->corrupt_byte] ^= (uint8_t)(1u << x->corrupt_bit);
			d->st.corrupted++;
		}
		if (x->verdict == IMPAIR_MARK_CE) {
			if (!ecn_set_ce(f->data, len)) {
				note_dropped(dp, &d->st.dropped_loss, f->data, len);
				free(f);
				continue;
			}
			d->st.ce_marked++;
		}
		if (!later) {
			if (x->reorder_now)
				d->st.reordered++;
			deliver(dp, d, f->data, len, f);
			continue;
		}
		f->depart_ns = x->depart_ns;
		f->seq = d->seq++;
		if (!heap_push(d, f)) {
			note_dropped(dp, &d->st.dropped_overflow, f->data, len);
			free(f);
		}
	}
	arm_timer(dp, d, now);
}

/* Parses complete frames out of the stream buffer. False when QEMU sent garbage
 * (the QEMU side is then closed). */
static bool parse_stream(struct datapath *dp)
{
	struct dp_dir *d = &dp->d[DATAPATH_FROM_DEVICE];
	size_t pos = 0;
	while (dp->rlen - pos >= 4) {
		const uint8_t *p = dp->rbuf + pos;
		uint32_t len =
			(uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
		if (len > DATAPATH_FRAME_MAX) {
			char why[96];
			snprintf(why, sizeof why, "QEMU sent a frame of %u bytes (max %u)", len,
				 DATAPATH_FRAME_MAX);
			qemu_lost(dp, why);
			return false;
		}
		if (dp->rlen - pos - 4 < len)
			break;
		if (len)
			ingress(dp, d, p + 4, len);
		pos += 4u + len;
	}
	if (pos) {
		memmove(dp->rbuf, dp->rbuf + pos, dp->rlen - pos);
		dp->rlen -= pos;
	}
	return true;
}

static void read_qemu(struct datapath *dp)
{
	struct dp_dir *d = &dp->d[DATAPATH_FROM_DEVICE];
	for (int i = 0; i < DP_READS_PER_CALL && dp->qemu_fd >= 0 && !input_paused(d); i++) {
		ssize_t n;
		if (dp->framing == DATAPATH_STREAM)
			n = recv(dp->qemu_fd, dp->rbuf + dp->rlen, DP_RBUF_SIZE - dp->rlen,
				 MSG_DONTWAIT);
		else
			n = recv(dp->qemu_fd, dp->fbuf, DATAPATH_FRAME_MAX,
				 MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			char why[128];
			/* A reset is how a QEMU that died with our frames unread shows up. */
			snprintf(why, sizeof why, "%s: %s",
				 errno == ECONNRESET ? "QEMU closed the socket"
						     : "read from QEMU failed",
				 strerror(errno));
			qemu_lost(dp, why);
			return;
		}
		if (n == 0 && dp->framing == DATAPATH_STREAM) {
			qemu_lost(dp, dp->rlen ? "QEMU closed the socket mid-frame"
					       : "QEMU closed the socket");
			return;
		}
		if (dp->framing == DATAPATH_STREAM) {
			dp->rlen += (size_t)n;
			if (!parse_stream(dp))
				return;
		} else if ((size_t)n > DATAPATH_FRAME_MAX) {
			note_dropped(dp, &d->st.dropped_error, dp->fbuf, DATAPATH_FRAME_MAX);
		} else if (n > 0) {
			ingress(dp, d, dp->fbuf, (uint32_t)n);
		}
	}
}

static void read_tap(struct datapath *dp)
{
	struct dp_dir *d = &dp->d[DATAPATH_TO_DEVICE];
	for (int i = 0; i < DP_READS_PER_CALL && !input_paused(d); i++) {
		ssize_t n = read(dp->tap_fd, dp->fbuf, DATAPATH_FRAME_MAX);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			/* The tap is gone or broken (e.g. deleted): stop watching it rather
			 * than spin on a level-triggered error. */
			ev_del_fd(dp->loop, dp->tap_fd);
			dp->tap_failed = true;
			dp->tap_events = 0;
			return;
		}
		ingress(dp, d, dp->fbuf, (uint32_t)n);
	}
}

static void qemu_cb(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	(void)loop;
	(void)fd;
	struct datapath *dp = arg;
	if (events & EPOLLOUT)
		flush_out(dp, &dp->d[DATAPATH_TO_DEVICE]);
	if (dp->qemu_fd < 0)
		return;
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		if (input_paused(&dp->d[DATAPATH_FROM_DEVICE]) && (events & (EPOLLHUP | EPOLLERR)))
			qemu_lost(dp, "QEMU closed the socket");
		else
			read_qemu(dp);
	}
	update_events(dp);
}

static void tap_cb(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	(void)loop;
	(void)fd;
	struct datapath *dp = arg;
	if (events & EPOLLOUT)
		flush_out(dp, &dp->d[DATAPATH_FROM_DEVICE]);
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		read_tap(dp);
	update_events(dp);
}

/* ---- public API ---- */

/* The loop must never block on a datapath fd: make sure, whatever the caller did. */
static int make_nonblocking(int fd, const char *what, char *err, size_t errlen)
{
	int fl = fd < 0 ? -1 : fcntl(fd, F_GETFL);
	if (fl < 0 || (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)) {
		snprintf(err, errlen, "%s fd: %s", what, fd < 0 ? "not open" : strerror(errno));
		return -1;
	}
	return 0;
}

int datapath_new(const struct datapath_config *cfg, struct datapath **out, char *err, size_t errlen)
{
	*out = NULL;
	if (!cfg->loop) {
		snprintf(err, errlen, "datapath needs an event loop");
		return -1;
	}
	if (make_nonblocking(cfg->tap_fd, "tap", err, errlen) < 0)
		return -1;
	struct datapath *dp = calloc(1, sizeof *dp);
	if (!dp) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	dp->loop = cfg->loop;
	dp->tap_fd = cfg->tap_fd;
	dp->qemu_fd = -1;
	dp->seed = cfg->seed;
	dp->link_id = cfg->link_id;
	dp->corr_mode = cfg->corr_mode;
	dp->on_closed = cfg->on_closed;
	dp->closed_arg = cfg->closed_arg;
	for (int i = 0; i < 2; i++) {
		dp->d[i].dp = dp;
		dp->d[i].dir = (enum datapath_dir)i;
	}
	dp->rbuf = malloc(DP_RBUF_SIZE);
	dp->fbuf = malloc(DATAPATH_FRAME_MAX);
	if (cfg->dist_dir)
		dp->dist_dir = strdup(cfg->dist_dir);
	if (!dp->rbuf || !dp->fbuf || (cfg->dist_dir && !dp->dist_dir)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	int rc = ev_add_fd(dp->loop, dp->tap_fd, EPOLLIN, tap_cb, dp);
	ev_fd_component(dp->loop, dp->tap_fd, ev_component(dp->loop, "datapath"));
	if (rc < 0) {
		snprintf(err, errlen, "cannot watch the tap fd: %s", strerror(-rc));
		goto fail;
	}
	dp->tap_events = EPOLLIN;
	if (cfg->qemu_fd >= 0 &&
	    datapath_attach_qemu(dp, cfg->qemu_fd, cfg->framing, err, errlen) < 0) {
		ev_del_fd(dp->loop, dp->tap_fd);
		goto fail;
	}
	*out = dp;
	return 0;
fail:
	free(dp->rbuf);
	free(dp->fbuf);
	free(dp->dist_dir);
	free(dp);
	return -1;
}

static void dir_free(struct datapath *dp, struct dp_dir *d)
{
	if (d->timer_id)
		ev_del_timer(dp->loop, d->timer_id);
	d->timer_id = 0;
	while (d->heap_len)
		free(heap_pop(d));
	free(d->heap);
	free_outq(dp, d, false);
	impair_engine_free(d->engine);
	free(d->dist);
	free(d->slot_dist);
}

void datapath_free(struct datapath *dp)
{
	if (!dp)
		return;
	if (dp->notify_timer)
		ev_del_timer(dp->loop, dp->notify_timer);
	close_qemu(dp);
	if (!dp->tap_failed)
		ev_del_fd(dp->loop, dp->tap_fd);
	close(dp->tap_fd);
	for (int i = 0; i < 2; i++)
		dir_free(dp, &dp->d[i]);
	free(dp->rbuf);
	free(dp->fbuf);
	free(dp->dist_dir);
	free(dp);
}

int datapath_attach_qemu(struct datapath *dp, int fd, enum datapath_framing framing, char *err,
			 size_t errlen)
{
	if (make_nonblocking(fd, "QEMU", err, errlen) < 0)
		return -1;
	if (framing != DATAPATH_STREAM && framing != DATAPATH_DGRAM) {
		snprintf(err, errlen, "unknown QEMU framing %d", (int)framing);
		return -1;
	}
	int rc = ev_add_fd(dp->loop, fd, EPOLLIN, qemu_cb, dp);
	ev_fd_component(dp->loop, fd, ev_component(dp->loop, "datapath"));
	if (rc < 0) {
		snprintf(err, errlen, "cannot watch the QEMU fd: %s", strerror(-rc));
		return -1;
	}
	int old = dp->qemu_fd;
	if (old >= 0 && old != fd) {
		ev_del_fd(dp->loop, old);
		close(old);
	}
	/* Output half-written to the old connection would corrupt the new stream. */
	free_outq(dp, &dp->d[DATAPATH_TO_DEVICE], true);
	if (dp->notify_timer) {
		ev_del_timer(dp->loop, dp->notify_timer);
		dp->notify_timer = 0;
	}
	dp->qemu_fd = fd;
	dp->framing = framing;
	dp->qemu_events = EPOLLIN;
	dp->rlen = 0;
	update_events(dp);
	return 0;
}

bool datapath_qemu_attached(const struct datapath *dp)
{
	return dp->qemu_fd >= 0;
}

/* iproute2's table for kind, from the datapath's table directory. */
static int load_dist(struct datapath *dp, enum netem_dist_kind kind, struct netem_dist_table **out,
		     char *err, size_t errlen)
{
	*out = malloc(sizeof **out);
	if (!*out) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (netem_dist_load(dp->dist_dir, netem_dist_kind_name(kind), *out, err, errlen) < 0) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

int datapath_set_spec(struct datapath *dp, enum datapath_dir dir, const struct netem_spec *spec,
		      char *err, size_t errlen)
{
	if (dir != DATAPATH_TO_DEVICE && dir != DATAPATH_FROM_DEVICE) {
		snprintf(err, errlen, "unknown direction %d", (int)dir);
		return -1;
	}
	struct dp_dir *d = &dp->d[dir];
	if (!spec || spec->present == 0) {
		impair_engine_free(d->engine);
		free(d->dist);
		free(d->slot_dist);
		d->engine = NULL;
		d->dist = d->slot_dist = NULL;
		d->has_spec = false;
		return 0;
	}
	struct netem_dist_table *dist = NULL, *slot_dist = NULL;
	if (spec->dist != NETEM_DIST_NONE && spec->dist != NETEM_DIST_UNIFORM &&
	    load_dist(dp, spec->dist, &dist, err, errlen) < 0)
		return -1;
	if ((spec->present & NETEM_HAS_SLOT) && spec->slot_is_dist &&
	    load_dist(dp, spec->slot_dist, &slot_dist, err, errlen) < 0) {
		free(dist);
		return -1;
	}
	struct impair_engine_config ec = {
		.spec = spec,
		.seed = dp->seed,
		.link_id = dp->link_id,
		.direction = (enum impair_direction)dir,
		.corr_mode = dp->corr_mode,
		.dist = dist,
		.slot_dist = slot_dist,
	};
	struct impair_engine *e = NULL;
	if (impair_engine_new(&ec, &e, err, errlen) < 0) {
		free(dist);
		free(slot_dist);
		return -1;
	}
	impair_engine_free(d->engine);
	free(d->dist);
	free(d->slot_dist);
	d->engine = e;
	d->dist = dist;
	d->slot_dist = slot_dist;
	d->spec = *spec;
	d->has_spec = true;
	return 0;
}

const struct netem_spec *datapath_spec(const struct datapath *dp, enum datapath_dir dir)
{
	const struct dp_dir *d = &dp->d[dir];
	return d->has_spec ? &d->spec : NULL;
}

void datapath_set_blocked(struct datapath *dp, bool blocked)
{
	dp->blocked = blocked;
}

void datapath_set_peers(struct datapath *dp, const struct peer_filter *peers, uint32_t own_group)
{
	dp->peers = peers;
	dp->own_group = own_group;
}

bool datapath_blocked(const struct datapath *dp)
{
	return dp->blocked;
}

void datapath_stats(const struct datapath *dp, enum datapath_dir dir, struct datapath_stats *out)
{
	const struct dp_dir *d = &dp->d[dir];
	*out = d->st;
	out->queued = (uint32_t)d->heap_len + d->outq_len;
}

void datapath_set_capture(struct datapath *dp, struct capture *c)
{
	dp->cap = c;
}
