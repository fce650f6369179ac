/* The user datapath between a fake QEMU and a real tap on a real bridge. Each test
 * forks a child that enters its own network namespace (sandbox_enter), makes bridge
 * vhb0 (10.99.0.1/24) and tap vht0 on it, and runs a datapath between the tap and a
 * socketpair standing in for QEMU's -netdev stream socket: QEMU's framing is the one
 * fake here. The bridge side is checked with an AF_PACKET socket on vhb0 and with
 * the kernel's own ARP replies. Tests skip when namespaces are unavailable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "datapath.h"
#include "ev.h"
#include "impair_engine.h"
#include "link.h"
#include "netem_dist.h"
#include "netem_spec.h"
#include "sandbox.h"

#include "child_check.h"
#include "sandboxed.h"

#define ETH_TEST 0x88b5 /* IEEE local experimental ethertype */
#define MAGIC "VHDP"

static const uint8_t mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t mac_dev[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t mac_host[6] = { 0x02, 0, 0, 0, 0, 0x01 };

struct fx {
	struct link_ctx *ctx;
	struct ev_loop *loop;
	struct datapath *dp;
	int fake; /* QEMU's end of the socketpair */
	int pkt;  /* AF_PACKET on the bridge */
	int br_ifindex;
	uint8_t rbuf[1 << 17]; /* framed bytes read from the datapath, not yet taken */
	size_t rlen;
	int closed_calls;
	char closed_why[160];
	/* Since fx_clock_start: when the test last ran the loop (or started the clock or
	 * looked), and the longest stretch between two such moments, in which no frame
	 * could leave the datapath or be seen by the test. */
	uint64_t turn_at, stall_ns;
};

#define MS UINT64_C(1000000) /* in ns */

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Marks a moment the test was running (see struct fx). */
static void fx_note(struct fx *f)
{
	uint64_t now = mono_ns();
	if (f->turn_at && now - f->turn_at > f->stall_ns)
		f->stall_ns = now - f->turn_at;
	f->turn_at = now;
}

/* Every loop turn of the test goes through here, to measure its stalls. */
static void fx_turn(struct fx *f, int max_wait_ms)
{
	fx_note(f);
	ev_run_once(f->loop, max_wait_ms);
}

static uint64_t fx_clock_start(struct fx *f)
{
	f->turn_at = mono_ns();
	f->stall_ns = 0;
	return f->turn_at;
}

static void on_closed(struct datapath *dp, const char *why, void *arg)
{
	(void)dp;
	struct fx *f = arg;
	f->closed_calls++;
	snprintf(f->closed_why, sizeof f->closed_why, "%s", why);
}

/* The bridge's own stack sends frames to the tap that nobody asked for: IPv6 router
 * solicitations and MLD reports, and, since a bridge snoops multicast by default, an
 * IGMPv3 report for the all-snoopers group 224.0.0.106 (RFC 4286) at a random moment
 * in the first second or so after it comes up. Each is one more to_device frame, and
 * under `slot` one that draws a slot a test frame may then share. Off before the
 * bridge exists: fewer stray frames to filter out, and timed tests see only theirs. */
static void quiet_bridge_stack(void)
{
	const char *knobs[][2] = {
		{ "/proc/sys/net/ipv6/conf/all/disable_ipv6", "1\n" },
		{ "/proc/sys/net/ipv6/conf/default/disable_ipv6", "1\n" },
		{ "/proc/sys/net/ipv4/igmp_link_local_mcast_reports", "0\n" },
	};
	for (size_t i = 0; i < sizeof knobs / sizeof knobs[0]; i++) {
		FILE *fp = fopen(knobs[i][0], "w");
		if (fp) {
			fputs(knobs[i][1], fp);
			fclose(fp);
		}
	}
}

static int fx_wait_forwarding(struct fx *f, bool stream);

static int fx_open(struct fx *f, const char *spec_both, int sock_type)
{
	char err[256] = "";
	memset(f, 0, sizeof *f);
	f->fake = f->pkt = -1;
	quiet_bridge_stack();
	f->ctx = link_ctx_new(err, sizeof err);
	CHECK(f->ctx);
	CHECK_OK(link_lo_up(f->ctx, err, sizeof err));
	uint32_t addr;
	inet_pton(AF_INET, "10.99.0.1", &addr);
	f->br_ifindex = link_bridge_create(f->ctx, "vhb0", addr, 24, err, sizeof err);
	CHECK_OK(f->br_ifindex);
	CHECK_OK(link_tap_create(f->ctx, "vht0", f->br_ifindex, err, sizeof err));
	int tap = link_tap_open("vht0", err, sizeof err);
	CHECK_OK(tap);

	f->pkt = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
	CHECK(f->pkt >= 0);
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = f->br_ifindex };
	CHECK(bind(f->pkt, (struct sockaddr *)&sll, sizeof sll) == 0);
	/* Promiscuous: the bridge then hands every frame up, even one whose
	 * destination a corruption changed. */
	struct packet_mreq mr = { .mr_ifindex = f->br_ifindex, .mr_type = PACKET_MR_PROMISC };
	CHECK(setsockopt(f->pkt, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) == 0);

	int sv[2];
	CHECK(socketpair(AF_UNIX, sock_type | SOCK_CLOEXEC, 0, sv) == 0);
	f->fake = sv[1];
	fcntl(f->fake, F_SETFL, O_NONBLOCK);
	f->loop = ev_loop_new();
	CHECK(f->loop);
	struct datapath_config cfg = {
		.loop = f->loop,
		.tap_fd = tap,
		.qemu_fd = sv[0],
		.framing = sock_type == SOCK_STREAM ? DATAPATH_STREAM : DATAPATH_DGRAM,
		.seed = 42,
		.link_id = 7,
		.on_closed = on_closed,
		.closed_arg = f,
	};
	CHECK_OK(datapath_new(&cfg, &f->dp, err, sizeof err));
	CHECK(fx_wait_forwarding(f, sock_type == SOCK_STREAM) == 0);
	if (spec_both) {
		struct netem_spec spec;
		CHECK(netem_spec_parse(spec_both, &spec, NULL) == 0);
		CHECK_OK(datapath_set_spec(f->dp, DATAPATH_TO_DEVICE, &spec, err, sizeof err));
		CHECK_OK(datapath_set_spec(f->dp, DATAPATH_FROM_DEVICE, &spec, err, sizeof err));
	}
	return 0;
}

static void fx_close(struct fx *f)
{
	datapath_free(f->dp);
	ev_loop_free(f->loop);
	if (f->fake >= 0)
		close(f->fake);
	if (f->pkt >= 0)
		close(f->pkt);
	link_ctx_free(f->ctx);
}

/* Runs the loop for ms, at least once: a process that lost its CPU for longer still
 * lets the datapath read what is waiting. */
static void pump(struct fx *f, int ms)
{
	uint64_t end = mono_ns() + (uint64_t)ms * MS;
	do
		fx_turn(f, 1);
	while (mono_ns() < end);
}

/* Waiting for something to happen, rather than for a while in which it should: */

/* Runs the loop until dir's counter at offset field (STAT(name)) reaches at_least;
 * false if it does not within timeout_ms. */
#define STAT(name) offsetof(struct datapath_stats, name)
static bool pump_until_stat(struct fx *f, enum datapath_dir dir, size_t field, uint64_t at_least,
			    int timeout_ms)
{
	uint64_t end = mono_ns() + (uint64_t)timeout_ms * MS;
	for (;;) {
		struct datapath_stats st;
		datapath_stats(f->dp, dir, &st);
		uint64_t v;
		memcpy(&v, (const char *)&st + field, sizeof v);
		if (v >= at_least)
			return true;
		if (mono_ns() >= end)
			return false;
		fx_turn(f, 1);
	}
}

/* Runs the loop until on_closed has been called `calls` times in all. */
static bool pump_until_closed(struct fx *f, int calls, int timeout_ms)
{
	uint64_t end = mono_ns() + (uint64_t)timeout_ms * MS;
	while (f->closed_calls < calls) {
		if (mono_ns() >= end)
			return false;
		fx_turn(f, 1);
	}
	return true;
}

static int set_spec(struct fx *f, enum datapath_dir dir, const char *text)
{
	char err[256] = "";
	struct netem_spec spec;
	CHECK(netem_spec_parse(text, &spec, NULL) == 0);
	CHECK_OK(datapath_set_spec(f->dp, dir, &spec, err, sizeof err));
	return 0;
}

/* A test frame: broadcast, ethertype ETH_TEST, MAGIC, a sequence number, filler. */
static size_t test_frame(uint8_t *buf, size_t len, const uint8_t src[6], uint32_t seq)
{
	memcpy(buf, mac_bcast, 6);
	memcpy(buf + 6, src, 6);
	buf[12] = ETH_TEST >> 8;
	buf[13] = ETH_TEST & 0xff;
	memcpy(buf + 14, MAGIC, 4);
	buf[18] = (uint8_t)(seq >> 24);
	buf[19] = (uint8_t)(seq >> 16);
	buf[20] = (uint8_t)(seq >> 8);
	buf[21] = (uint8_t)seq;
	for (size_t i = 22; i < len; i++)
		buf[i] = (uint8_t)(i ^ seq);
	return len;
}

static bool is_test_frame(const uint8_t *buf, size_t len, uint32_t *seq)
{
	if (len < 22 || buf[12] != (ETH_TEST >> 8) || buf[13] != (ETH_TEST & 0xff) ||
	    memcmp(buf + 14, MAGIC, 4) != 0)
		return false;
	*seq = (uint32_t)buf[18] << 24 | (uint32_t)buf[19] << 16 | (uint32_t)buf[20] << 8 | buf[21];
	return true;
}

/* Writes all of buf to the fake QEMU end, pumping the loop while the socket is full. */
static int fake_write_all(struct fx *f, const uint8_t *buf, size_t len)
{
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(f->fake, buf + off, len - off);
		if (n < 0 && errno == EAGAIN) {
			fx_turn(f, 1);
			continue;
		}
		CHECK(n > 0);
		off += (size_t)n;
	}
	return 0;
}

/* QEMU sends one frame (stream framing, or one datagram). */
static int fake_send(struct fx *f, const uint8_t *frame, size_t len, bool stream)
{
	uint8_t buf[4 + 2048];
	if (!stream)
		return fake_write_all(f, frame, len);
	buf[0] = (uint8_t)(len >> 24);
	buf[1] = (uint8_t)(len >> 16);
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	memcpy(buf + 4, frame, len);
	return fake_write_all(f, buf, 4 + len);
}

/* The next frame the datapath sent to QEMU within timeout_ms: 1 with it in out/len,
 * 0 on timeout, -1 on broken framing. Runs the loop while waiting. */
static int fake_recv(struct fx *f, uint8_t *out, size_t *len, int timeout_ms, bool stream)
{
	uint64_t end = mono_ns() + (uint64_t)timeout_ms * 1000000u;
	for (;;) {
		if (!stream) {
			ssize_t n = recv(f->fake, out, 2048, MSG_DONTWAIT);
			if (n > 0) {
				*len = (size_t)n;
				return 1;
			}
		} else {
			if (f->rlen >= 4) {
				uint32_t l = (uint32_t)f->rbuf[0] << 24 |
					     (uint32_t)f->rbuf[1] << 16 |
					     (uint32_t)f->rbuf[2] << 8 | f->rbuf[3];
				if (l < 14 || l > 2048) {
					fprintf(stderr, "bad frame length %u from the datapath\n",
						l);
					return -1;
				}
				if (f->rlen >= 4 + l) {
					memcpy(out, f->rbuf + 4, l);
					*len = l;
					memmove(f->rbuf, f->rbuf + 4 + l, f->rlen - 4 - l);
					f->rlen -= 4 + l;
					return 1;
				}
			}
			ssize_t n = recv(f->fake, f->rbuf + f->rlen, sizeof f->rbuf - f->rlen,
					 MSG_DONTWAIT);
			if (n > 0) {
				f->rlen += (size_t)n;
				continue;
			}
		}
		if (mono_ns() >= end)
			return 0;
		fx_turn(f, 1);
	}
}

/* The next test frame QEMU receives (other frames skipped): 1, or 0 on timeout. */
static int fake_recv_test(struct fx *f, uint8_t *out, size_t *len, uint32_t *seq, int timeout_ms,
			  bool stream)
{
	uint64_t end = mono_ns() + (uint64_t)timeout_ms * 1000000u;
	for (;;) {
		int64_t left = (int64_t)(end - mono_ns()) / 1000000;
		int rc = fake_recv(f, out, len, left > 0 ? (int)left : 0, stream);
		if (rc <= 0)
			return rc;
		if (is_test_frame(out, *len, seq))
			return 1;
	}
}

static int bridge_send(struct fx *f, const uint8_t *frame, size_t len)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET,
				  .sll_ifindex = f->br_ifindex,
				  .sll_halen = 6 };
	memcpy(to.sll_addr, frame, 6);
	CHECK(sendto(f->pkt, frame, len, 0, (struct sockaddr *)&to, sizeof to) == (ssize_t)len);
	return 0;
}

/* The next frame arriving on the bridge from the tap and matching want_len (0 = a
 * test frame) within timeout_ms: 1, or 0. Frames the socket itself sent are skipped. */
static int bridge_recv(struct fx *f, uint8_t *out, size_t *len, size_t want_len, int timeout_ms)
{
	uint64_t end = mono_ns() + (uint64_t)timeout_ms * 1000000u;
	for (;;) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof from;
		ssize_t n =
			recvfrom(f->pkt, out, 2048, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		uint32_t seq;
		if (n > 0 && from.sll_pkttype != PACKET_OUTGOING &&
		    (want_len ? (size_t)n == want_len : is_test_frame(out, (size_t)n, &seq))) {
			*len = (size_t)n;
			return 1;
		}
		if (n > 0)
			continue;
		if (mono_ns() >= end)
			return 0;
		fx_turn(f, 1);
	}
}

/* The bridge port forwards only once the tap's carrier is seen (linkwatch may take up
 * to a second): until then frames are silently lost. Waits for a frame to get through. */
static int fx_wait_forwarding(struct fx *f, bool stream)
{
	uint8_t buf[2048], got[2048];
	size_t len, glen;
	uint32_t seq;
	for (int i = 0; i < 50; i++) {
		len = test_frame(buf, 64, mac_host, UINT32_MAX);
		CHECK(bridge_send(f, buf, len) == 0);
		if (fake_recv_test(f, got, &glen, &seq, 100, stream) == 1 && seq == UINT32_MAX) {
			while (fake_recv_test(f, got, &glen, &seq, 20, stream) == 1)
				;
			return 0;
		}
	}
	fprintf(stderr, "the bridge never forwarded to the tap\n");
	return 1;
}

/* An ARP request for 10.99.0.1 from the device (10.99.0.2, mac_dev). */
static size_t arp_request(uint8_t *b)
{
	memcpy(b, mac_bcast, 6);
	memcpy(b + 6, mac_dev, 6);
	const uint8_t arp[] = { 0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01 };
	memcpy(b + 12, arp, sizeof arp);
	memcpy(b + 22, mac_dev, 6);
	const uint8_t spa[4] = { 10, 99, 0, 2 }, tpa[4] = { 10, 99, 0, 1 };
	memcpy(b + 28, spa, 4);
	memset(b + 32, 0, 6);
	memcpy(b + 38, tpa, 4);
	memset(b + 42, 0, 18); /* pad to the 60-byte minimum */
	return 60;
}

/* ---- the tests, each run in a sandboxed child ---- */

static int child_frames_flow_both_ways(void)
{
	struct fx *f = calloc(1, sizeof *f);
	CHECK(f && fx_open(f, NULL, SOCK_STREAM) == 0);
	uint8_t buf[2048], got[2048];
	size_t len, glen;

	/* A real kernel reply: the bridge's own stack answers the device's ARP request. The
	 * port may take a moment to forward after the tap's carrier comes up: retry. */
	bool replied = false;
	for (int i = 0; i < 30 && !replied; i++) {
		len = arp_request(buf);
		CHECK(fake_send(f, buf, len, true) == 0);
		uint64_t end = mono_ns() + 100000000u;
		while (!replied && mono_ns() < end) {
			int rc = fake_recv(f, got, &glen, 10, true);
			CHECK(rc >= 0);
			replied = rc == 1 && glen >= 42 && got[12] == 0x08 && got[13] == 0x06 &&
				  got[21] == 2 /* reply */ && memcmp(got, mac_dev, 6) == 0;
		}
	}
	CHECK(replied);
	const uint8_t tpa[4] = { 10, 99, 0, 1 };
	CHECK(memcmp(got + 28, tpa, 4) == 0); /* sender IP: the bridge */

	/* from_device: a framed frame appears on the bridge byte for byte. */
	len = test_frame(buf, 200, mac_dev, 1);
	CHECK(fake_send(f, buf, len, true) == 0);
	CHECK(bridge_recv(f, got, &glen, 0, 2000) == 1);
	CHECK(glen == len && memcmp(got, buf, len) == 0);

	/* to_device: a frame injected into the bridge comes out framed. */
	len = test_frame(buf, 300, mac_host, 2);
	CHECK(bridge_send(f, buf, len) == 0);
	uint32_t seq;
	CHECK(fake_recv_test(f, got, &glen, &seq, 2000, true) == 1);
	CHECK(seq == 2 && glen == len && memcmp(got, buf, len) == 0);

	/* Partial reads: a frame trickling in a byte at a time arrives whole. */
	uint8_t framed[4 + 128];
	len = test_frame(framed + 4, 128, mac_dev, 3);
	framed[0] = framed[1] = framed[2] = 0;
	framed[3] = 128;
	for (size_t i = 0; i < sizeof framed; i++) {
		CHECK(fake_write_all(f, framed + i, 1) == 0);
		pump(f, 1);
	}
	CHECK(bridge_recv(f, got, &glen, 0, 2000) == 1);
	CHECK(glen == 128 && memcmp(got, framed + 4, 128) == 0);

	/* Several frames in one write all arrive, in order. */
	uint8_t many[3 * (4 + 100)];
	for (uint32_t i = 0; i < 3; i++) {
		uint8_t *p = many + i * 104;
		p[0] = p[1] = p[2] = 0;
		p[3] = 100;
		test_frame(p + 4, 100, mac_dev, 10 + i);
	}
	CHECK(fake_write_all(f, many, sizeof many) == 0);
	for (uint32_t i = 0; i < 3; i++) {
		CHECK(bridge_recv(f, got, &glen, 0, 2000) == 1);
		CHECK(is_test_frame(got, glen, &seq) && seq == 10 + i);
	}

	struct datapath_stats st;
	datapath_stats(f->dp, DATAPATH_FROM_DEVICE, &st);
	CHECK(st.frames_in == st.frames_out && st.frames_in >= 6);
	CHECK(st.dropped_loss == 0 && st.dropped_error == 0 && st.queued == 0);
	datapath_stats(f->dp, DATAPATH_TO_DEVICE, &st);
	CHECK(st.frames_out >= 2);
	fx_close(f);
	free(f);
	return 0;
}

/* How long a test frame was held: from when it was handed to the datapath's input
 * until the test saw it come out, and the longest stall of the test meanwhile. */
struct held {
	uint64_t ns, stall_ns;
};

/* Test frame seq from the device to the bridge.
 *
 * The clock starts once the frame is in the socket and before the loop runs again,
 * so the datapath's arrival time (its clock when it reads the frame) is never
 * earlier; and a delayed frame is released only once its departure has passed
 * (arm_timer rounds up). So held >= the frame's delay as the engine decided it. */
static int frame_from_device(struct fx *f, uint32_t seq, struct held *h)
{
	uint8_t buf[2048], got[2048];
	size_t len, glen;
	uint32_t got_seq;
	len = test_frame(buf, 100, mac_dev, seq);
	CHECK(fake_send(f, buf, len, true) == 0);
	uint64_t t0 = fx_clock_start(f);
	CHECK(bridge_recv(f, got, &glen, 0, 1000) == 1);
	fx_note(f);
	h->ns = f->turn_at - t0;
	h->stall_ns = f->stall_ns;
	CHECK(is_test_frame(got, glen, &got_seq) && got_seq == seq);
	return 0;
}

/* Test frame seq from the bridge to the device. The bridge hands it to the tap
 * inside sendto(), before the clock starts: held >= its delay, as above. */
static int frame_to_device(struct fx *f, uint32_t seq, struct held *h)
{
	uint8_t buf[2048], got[2048];
	size_t len, glen;
	uint32_t got_seq;
	len = test_frame(buf, 100, mac_host, seq);
	CHECK(bridge_send(f, buf, len) == 0);
	uint64_t t0 = fx_clock_start(f);
	CHECK(fake_recv_test(f, got, &glen, &got_seq, 1000, true) == 1);
	fx_note(f);
	h->ns = f->turn_at - t0;
	h->stall_ns = f->stall_ns;
	CHECK(got_seq == seq);
	return 0;
}

/* Whether a frame whose delay the engine drew in [lo, hi) was held that long, and
 * not longer than a datapath that sends it on time and this test's own stalls
 * explain: the datapath reads it by the end of the test's first loop turn (2 stalls
 * after the clock started), its timer is due within 1 ms of its departure (whole
 * ms, rounded up), and the turn that runs that timer, or the one after, ends within
 * 2 stalls of that. So held < hi + 1 ms + 4 stalls; 10 ms more for what this does
 * not count (clock reads, epoll's own lateness). On a quiet machine a stall is
 * about a millisecond (a turn waits at most 1 ms); under load it is what it was.
 * Says which bound failed, and by how much, on stderr. */
static bool held_within(const char *what, const struct held *h, uint64_t lo, uint64_t hi)
{
	uint64_t late = 11 * MS + 4 * h->stall_ns;
	if (h->ns >= lo && h->ns < hi + late)
		return true;
	fprintf(stderr, "%s: held %.3f ms, want [%.3f, %.3f) ms (longest stall %.3f ms)\n", what,
		(double)h->ns / 1e6, (double)lo / 1e6, (double)(hi + late) / 1e6,
		(double)h->stall_ns / 1e6);
	return false;
}

/* Frame i from the device to the bridge, then 100+i back. */
static int one_frame_each_way(struct fx *f, uint32_t i, struct held *from_dev, struct held *to_dev)
{
	CHECK(frame_from_device(f, i, from_dev) == 0);
	CHECK(frame_to_device(f, 100 + i, to_dev) == 0);
	return 0;
}

static int child_delay_holds_frames_never_early(void)
{
	struct fx *f = calloc(1, sizeof *f);
	CHECK(f && fx_open(f, "delay 50ms", SOCK_STREAM) == 0);
	uint8_t buf[2048], got[2048];
	size_t len, glen;
	uint32_t seq;
	/* A plain delay is per frame: no other frame (a stray one included) changes it. */
	for (uint32_t i = 0; i < 5; i++) {
		struct held from_dev, to_dev;
		CHECK(one_frame_each_way(f, i, &from_dev, &to_dev) == 0);
		CHECK(held_within("from_device", &from_dev, 50 * MS, 50 * MS));
		CHECK(held_within("to_device", &to_dev, 50 * MS, 50 * MS));
	}
	/* Queued frames leave in order, each held its full delay: sent[i] is taken before
	 * the loop reads frame i, and equal delays keep arrival order. */
	uint64_t sent[20];
	for (uint32_t i = 0; i < 20; i++) {
		len = test_frame(buf, 100, mac_dev, 200 + i);
		CHECK(fake_send(f, buf, len, true) == 0);
		sent[i] = mono_ns();
		pump(f, 2);
	}
	for (uint32_t i = 0; i < 20; i++) {
		CHECK(bridge_recv(f, got, &glen, 0, 1000) == 1);
		CHECK(is_test_frame(got, glen, &seq) && seq == 200 + i);
		CHECK(mono_ns() - sent[i] >= 50 * MS);
	}
	fx_close(f);
	free(f);
	return 0;
}

/* slot, both forms, through the real datapath, with sch_netem's semantics (the
 * engine's slot_depart(), the kernel's get_slot_next() and netem_dequeue()): a frame
 * that finds no slot pending when it arrives draws one, one interval from its
 * arrival, and leaves when it opens; a frame that arrives while a slot drawn for an
 * earlier frame is still pending leaves when that one opens, which may be at once.
 * So "held at least the shortest interval" holds only for a frame that drew its own
 * slot, while "held at most the longest interval" holds for every frame. */
static int child_slot_holds_frames_until_a_slot_opens(void)
{
	struct fx *f = calloc(1, sizeof *f);
	CHECK(f && fx_open(f, "slot 30ms 40ms", SOCK_STREAM) == 0);

	/* from_device, uniform: each interval is 30 ms + (10 ms * rnd >> 32), in
	 * [30, 40) ms. Only this test writes to QEMU's socket, and each frame goes after
	 * the one before it has left, i.e. after its slot opened: no slot is pending, so
	 * every frame draws its own. */
	for (uint32_t i = 0; i < 3; i++) {
		struct held held;
		CHECK(frame_from_device(f, i, &held) == 0);
		CHECK(held_within("from_device", &held, 30 * MS, 40 * MS));
	}

	/* to_device, normal table: an interval is tabledist(30 ms, 1 ms) over the table's
	 * values, so its range is the table's (Debian's normal.dist spans -4 to +3.52
	 * sigma: 26 to 33.52 ms). Computed with the engine's own arithmetic. */
	struct netem_dist_table *table = malloc(sizeof *table);
	char err[256];
	CHECK(table);
	CHECK_OK(netem_dist_load(NULL, "normal", table, err, sizeof err));
	int64_t shortest = INT64_MAX, longest = 0;
	for (uint32_t i = 0; i < table->size; i++) {
		int64_t v = netem_dist_sample(table, 30 * (int64_t)MS, 1 * (int64_t)MS, i);
		shortest = v < shortest ? v : shortest;
		longest = v > longest ? v : longest;
	}
	free(table);
	CHECK(shortest > 0);

	/* The tap also carries what the bridge's own stack sends (quiet_bridge_stack
	 * silences what we know of); such a frame draws a slot that ours may share. So
	 * each sample starts a fresh engine, with no slot pending, and the lower bound is
	 * checked only when the direction read no frame but ours until ours was
	 * delivered; otherwise the sample is taken again. */
	unsigned own_slot = 0;
	for (uint32_t tries = 0; tries < 10 && own_slot < 3; tries++) {
		CHECK(set_spec(f, DATAPATH_TO_DEVICE, "slot distribution normal 30ms 1ms") == 0);
		struct datapath_stats before, after;
		datapath_stats(f->dp, DATAPATH_TO_DEVICE, &before);
		struct held held;
		CHECK(frame_to_device(f, 100 + tries, &held) == 0);
		datapath_stats(f->dp, DATAPATH_TO_DEVICE, &after);
		CHECK(held_within("to_device", &held, 0, (uint64_t)longest));
		if (after.frames_in - before.frames_in != 1)
			continue;
		CHECK(held_within("to_device in its own slot", &held, (uint64_t)shortest,
				  (uint64_t)longest));
		own_slot++;
	}
	CHECK(own_slot == 3);
	fx_close(f);
	free(f);
	return 0;
}

static int child_loss_100_drops_and_counts(void)
{
	char dir[] = "/tmp/vh-dp-XXXXXX", main_path[64], drop_path[64], err[256];
	CHECK(mkdtemp(dir));
	snprintf(main_path, sizeof main_path, "%s/lan.pcap", dir);
	snprintf(drop_path, sizeof drop_path, "%s/lan-dropped.pcap", dir);
	struct capture *cap = capture_open(main_path, drop_path, err, sizeof err);
	CHECK(cap);
	struct fx *f = calloc(1, sizeof *f);
	CHECK(f && fx_open(f, "loss 100%", SOCK_STREAM) == 0);
	datapath_set_capture(f->dp, cap);
	struct datapath_stats warm; /* the warm-up in fx_open */
	datapath_stats(f->dp, DATAPATH_TO_DEVICE, &warm);
	uint8_t buf[2048], got[2048];
	size_t len, glen;
	uint32_t seq;
	for (uint32_t i = 0; i < 20; i++) {
		len = test_frame(buf, 90, mac_dev, i);
		CHECK(fake_send(f, buf, len, true) == 0);
		len = test_frame(buf, 90, mac_host, 100 + i);
		CHECK(bridge_send(f, buf, len) == 0);
	}
	/* Every frame read (and so decided) first; then nothing may come out. */
	CHECK(pump_until_stat(f, DATAPATH_FROM_DEVICE, STAT(frames_in), 20, 2000));
	CHECK(pump_until_stat(f, DATAPATH_TO_DEVICE, STAT(frames_in), warm.frames_in + 20, 2000));
	CHECK(bridge_recv(f, got, &glen, 0, 300) == 0);
	CHECK(fake_recv_test(f, got, &glen, &seq, 100, true) == 0);
	struct datapath_stats st;
	datapath_stats(f->dp, DATAPATH_FROM_DEVICE, &st);
	CHECK(st.frames_in == 20 && st.dropped_loss == 20 && st.frames_out == 0);
	datapath_stats(f->dp, DATAPATH_TO_DEVICE, &st);
	CHECK(st.dropped_loss >= 20 && st.frames_out == warm.frames_out);
	uint64_t dropped_total = st.dropped_loss + 20;
	CHECK(capture_dropped_count(cap) == dropped_total && capture_count(cap) == 0);

	/* Clearing the spec lets frames through again. */
	CHECK(datapath_set_spec(f->dp, DATAPATH_FROM_DEVICE, NULL, err, sizeof err) == 0);
	CHECK(datapath_spec(f->dp, DATAPATH_FROM_DEVICE) == NULL);
	len = test_frame(buf, 90, mac_dev, 50);
	CHECK(fake_send(f, buf, len, true) == 0);
	CHECK(bridge_recv(f, got, &glen, 0, 1000) == 1);
	CHECK(capture_count(cap) == 1);
	fx_close(f);
	free(f);
	CHECK(capture_close(cap) == 0);
	unlink(main_path);
	unlink(drop_path);
	rmdir(dir);
	return 0;
}

static int child_blocked_drops_everything_and_unblock_restores(void)
{
	struct fx *f = calloc(1, sizeof *f);
	CHECK(f && fx_open(f, "delay 100ms", SOCK_STREAM) == 0);
	struct datapath_stats warm; /* frames_out of the warm-up in fx_open */
	datapath_stats(f->dp, DATAPATH_TO_DEVICE, &warm);
	uint8_t buf[2048], got[2048];
	size_t len, glen;
	uint32_t seq;
	/* A frame already delayed when the partition starts is lost with the rest. Once
	 * read it waits in the delay queue, unless this process lost its CPU for the whole
	 * 100 ms between reading it and running its timer in the same iteration: checked,
	 * not assumed. The partition starts before the loop runs again. */
	len = test_frame(buf, 80, mac_dev, 999);
	CHECK(fake_send(f, buf, len, true) == 0);
	CHECK(pump_until_stat(f, DATAPATH_FROM_DEVICE, STAT(frames_in), 1, 2000));
	struct datapath_stats st;
	datapath_stats(f->dp, DATAPATH_FROM_DEVICE, &st);
	CHECK(st.queued == 1 && st.frames_out == 0);
	datapath_set_blocked(f->dp, true);
	CHECK(datapath_blocked(f->dp));
	for (uint32_t i = 0; i < 10; i++) {
		len = test_frame(buf, 80, mac_dev, i);
		CHECK(fake_send(f, buf, len, true) == 0);
		len = test_frame(buf, 80, mac_host, 100 + i);
		CHECK(bridge_send(f, buf, len) == 0);
	}
	/* The ten read and dropped, and frame 999 dropped when it came due. */
	CHECK(pump_until_stat(f, DATAPATH_FROM_DEVICE, STAT(dropped_blocked), 11, 2000));
	CHECK(pump_until_stat(f, DATAPATH_TO_DEVICE, STAT(dropped_blocked), 10, 2000));
	CHECK(bridge_recv(f, got, &glen, 0, 200) == 0);
	CHECK(fake_recv_test(f, got, &glen, &seq, 50, true) == 0);
	datapath_stats(f->dp, DATAPATH_FROM_DEVICE, &st);
	CHECK(st.dropped_blocked == 11 && st.frames_out == 0 && st.queued == 0);
	datapath_stats(f->dp, DATAPATH_TO_DEVICE, &st);
	CHECK(st.dropped_blocked >= 10 && st.frames_out == warm.frames_out);
	CHECK(datapath_spec(f->dp, DATAPATH_FROM_DEVICE) != NULL);

	/* Heal: traffic flows again, still delayed by the kept spec. */
	datapath_set_blocked(f->dp, false);
	len = test_frame(buf, 80, mac_dev, 500);
	CHECK(fake_send(f, buf, len, true) == 0);
	uint64_t t0 = mono_ns();
	CHECK(bridge_recv(f, got, &glen, 0, 1000) == 1);
	CHECK(is_test_frame(got, glen, &seq) && seq == 500);
	CHECK(mono_ns() - t0 >= 100 * MS); /* as in frame_from_device */
	len = test_frame(buf, 80, mac_host, 600);
	CHECK(bridge_send(f, buf, len) == 0);
	t0 = mono_ns();
	CHECK(fake_recv_test(f, got, &glen, &seq, 1000, true) == 1 && seq == 600);
	CHECK(mono_ns() - t0 >= 100 * MS);
	fx_close(f);
	free(f);
	return 0;
}

/* Sends a test frame from the device to dst and waits until the datapath has
 * taken it: how many frames that dropped as blocked (0 or 1), -1 if unseen. */
static int from_device_unicast(struct fx *f, const uint8_t dst[6], uint32_t seq)
{
	uint8_t buf[2048];
	size_t len = test_frame(buf, 80, mac_dev, seq);
	memcpy(buf, dst, 6);
	struct datapath_stats before, now;
	datapath_stats(f->dp, DATAPATH_FROM_DEVICE, &before);
	if (fake_send(f, buf, len, true) != 0)
		return -1;
	for (int i = 0; i < 1000; i++) {
		fx_turn(f, 1);
		datapath_stats(f->dp, DATAPATH_FROM_DEVICE, &now);
		if (now.frames_in > before.frames_in)
			return (int)(now.dropped_blocked - before.dropped_blocked);
	}
	return -1;
}

/* A group partition: the device is in island 1 with one peer; frames from
 * the host's side (group 0) are dropped as blocked, the peer's pass, a
 * broadcast from the device still leaves (the island's ARP), and its unicast
 * leaves only towards the peer. */
static int child_peers_pass_only_the_island(void)
{
	static const uint8_t mac_peer[6] = { 0x02, 0, 0, 0, 0, 0x03 };
	struct peer_filter_entry e[2];
	memcpy(e[0].mac, mac_dev, 6);
	e[0].group = 1;
	memcpy(e[1].mac, mac_peer, 6);
	e[1].group = 1;
	struct peer_filter pf = { .entries = e, .n = 2 };
	struct fx *f = calloc(1, sizeof *f);
	CHECK(f && fx_open(f, NULL, SOCK_STREAM) == 0);
	struct datapath_stats warm;
	datapath_stats(f->dp, DATAPATH_TO_DEVICE, &warm);
	datapath_set_peers(f->dp, &pf, 1);
	uint8_t buf[2048], got[2048];
	size_t len, glen;
	uint32_t seq;
	len = test_frame(buf, 80, mac_host, 10);
	CHECK(bridge_send(f, buf, len) == 0);
	CHECK(fake_recv_test(f, got, &glen, &seq, 100, true) == 0);
	struct datapath_stats st;
	datapath_stats(f->dp, DATAPATH_TO_DEVICE, &st);
	CHECK(st.dropped_blocked == warm.dropped_blocked + 1);
	len = test_frame(buf, 80, mac_peer, 11);
	CHECK(bridge_send(f, buf, len) == 0);
	CHECK(fake_recv_test(f, got, &glen, &seq, 1000, true) == 1 && seq == 11);
	len = test_frame(buf, 80, mac_dev, 12);
	CHECK(fake_send(f, buf, len, true) == 0);
	CHECK(bridge_recv(f, got, &glen, 0, 1000) == 1);
	CHECK(is_test_frame(got, glen, &seq) && seq == 12);
	/* Unicast from the device: to the host's MAC dropped, to the peer's sent. */
	CHECK(from_device_unicast(f, mac_host, 14) == 1);
	CHECK(from_device_unicast(f, mac_peer, 15) == 0);
	/* Whole again: the host's frames reach the device. */
	datapath_set_peers(f->dp, NULL, 0);
	len = test_frame(buf, 80, mac_host, 13);
	CHECK(bridge_send(f, buf, len) == 0);
	CHECK(fake_recv_test(f, got, &glen, &seq, 1000, true) == 1 && seq == 13);
	fx_close(f);
	free(f);
	return 0;
}

/* Which of 200 frames from the device a `loss 30%` datapath with this seed lets
 * through, as a bitmap. Replaces f's datapath with a fresh one on the same tap. */
static int loss_pattern(struct fx *f, uint64_t seed, bool through[200])
{
	char err[256] = "";
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	datapath_free(f->dp); /* closes the tap fd and QEMU's end */
	close(f->fake);
	f->fake = sv[1];
	f->rlen = 0;
	fcntl(f->fake, F_SETFL, O_NONBLOCK);
	int tap = link_tap_open("vht0", err, sizeof err);
	CHECK_OK(tap);
	struct datapath_config cfg = { .loop = f->loop,
				       .tap_fd = tap,
				       .qemu_fd = sv[0],
				       .framing = DATAPATH_STREAM,
				       .seed = seed,
				       .link_id = 7 };
	CHECK_OK(datapath_new(&cfg, &f->dp, err, sizeof err));
	/* Closing the tap's only fd took its carrier down, and reopening brought it back
	 * up; when linkwatch ran in between, the bridge disabled the port, and it drops
	 * what the tap hands it until linkwatch reports the carrier again, possibly a
	 * second later. The datapath counts such frames as sent, so wait until the port
	 * forwards: from then on the carrier stays up while the fd stays open. */
	CHECK(fx_wait_forwarding(f, true) == 0);
	CHECK(set_spec(f, DATAPATH_FROM_DEVICE, "loss 30%") == 0);
	uint8_t buf[2048], got[2048];
	size_t len, glen;
	uint32_t seq;
	memset(through, 0, 200 * sizeof *through);
	for (uint32_t i = 0; i < 200; i++) {
		len = test_frame(buf, 64, mac_dev, i);
		CHECK(fake_send(f, buf, len, true) == 0);
		while (bridge_recv(f, got, &glen, 0, 0) == 1)
			if (is_test_frame(got, glen, &seq) && seq < 200)
				through[seq] = true;
	}
	while (bridge_recv(f, got, &glen, 0, 200) == 1)
		if (is_test_frame(got, glen, &seq) && seq < 200)
			through[seq] = true;
	struct datapath_stats st;
	datapath_stats(f->dp, DATAPATH_FROM_DEVICE, &st);
	unsigned n = 0;
	for (int i = 0; i < 200; i++)
		n += through[i];
	CHECK(st.frames_in == 200 && st.frames_out == n && st.dropped_loss == 200 - n);
	return 0;
}

static int child_same_seed_same_drop_pattern(void)
{
	bool a[200], b[200], c[200];
	struct fx *f = calloc(1, sizeof *f);
	CHECK(f && fx_open(f, NULL, SOCK_STREAM) == 0);
	CHECK(loss_pattern(f, 42, a) == 0);
	CHECK(loss_pattern(f, 42, b) == 0);
	CHECK(loss_pattern(f, 43, c) == 0);
	fx_close(f);
	free(f);
	CHECK(memcmp(a, b, sizeof a) == 0);
	CHECK(memcmp(a, c, sizeof a) != 0);
	unsigned lost = 0;
	for (int i = 0; i < 200; i++)
		lost += !a[i];
	CHECK(lost >= 35 && lost <= 85);

	/* And it is exactly the engine's decision sequence for this link and direction. */
	struct netem_spec spec;
	CHECK(netem_spec_parse("loss 30%", &spec, NULL) == 0);
	struct impair_engine_config ec = {
		.spec = &spec, .seed = 42, .link_id = 7, .direction = IMPAIR_FROM_DEVICE
	};
	struct impair_engine *e;
	char err[128];
	CHECK_OK(impair_engine_new(&ec, &e, err, sizeof err));
	for (int i = 0; i < 200; i++) {
		struct impair_decision d[IMPAIR_MAX_COPIES];
		impair_engine_frame(e, 64, (uint64_t)i * 1000, d);
		CHECK((d[0].verdict == IMPAIR_DELIVER) == a[i]);
	}
	impair_engine_free(e);
	return 0;
}

static int child_corrupt_flips_one_bit_and_duplicate_sends_twice(void)
{
	struct fx *f = calloc(1, sizeof *f);
	CHECK(f && fx_open(f, NULL, SOCK_STREAM) == 0);
	CHECK(set_spec(f, DATAPATH_TO_DEVICE, "corrupt 100%") == 0);
	CHECK(set_spec(f, DATAPATH_FROM_DEVICE, "duplicate 100%") == 0);
	uint8_t buf[2048], got[2048];
	size_t len, glen;
	for (uint32_t i = 0; i < 10; i++) {
		/* A length no stray frame has identifies the frame whatever bit flipped. */
		len = test_frame(buf, 333, mac_host, i);
		CHECK(bridge_send(f, buf, len) == 0);
		int rc;
		do {
			rc = fake_recv(f, got, &glen, 1000, true);
		} while (rc == 1 && glen != 333);
		CHECK(rc == 1);
		unsigned bits = 0;
		for (size_t k = 0; k < len; k++)
			bits += (unsigned)__builtin_popcount(got[k] ^ buf[k]);
		CHECK(bits == 1);
	}
	struct datapath_stats st;
	datapath_stats(f->dp, DATAPATH_TO_DEVICE, &st);
	CHECK(st.corrupted >= 10);

	for (uint32_t i = 0; i < 5; i++) {
		len = test_frame(buf, 77, mac_dev, i);
		CHECK(fake_send(f, buf, len, true) == 0);
		for (int copy = 0; copy < 2; copy++) {
			CHECK(bridge_recv(f, got, &glen, 77, 1000) == 1);
			CHECK(memcmp(got, buf, len) == 0);
		}
	}
	datapath_stats(f->dp, DATAPATH_FROM_DEVICE, &st);
	CHECK(st.duplicated == 5 && st.frames_in == 5 && st.frames_out == 10);
	fx_close(f);
	free(f);
	return 0;
}

static int child_reports_qemu_disconnect_and_reattaches(void)
{
	struct fx *f = calloc(1, sizeof *f);
	CHECK(f && fx_open(f, NULL, SOCK_STREAM) == 0);
	uint8_t buf[2048], got[2048];
	size_t len, glen;
	uint32_t seq;
	char err[256] = "";
	close(f->fake);
	f->fake = -1;
	CHECK(pump_until_closed(f, 1, 2000));
	pump(f, 20); /* and not a second time */
	CHECK(f->closed_calls == 1);
	CHECK(strstr(f->closed_why, "closed") != NULL);
	CHECK(!datapath_qemu_attached(f->dp));
	len = test_frame(buf, 70, mac_host, 1);
	CHECK(bridge_send(f, buf, len) == 0);
	CHECK(pump_until_stat(f, DATAPATH_TO_DEVICE, STAT(dropped_detached), 1, 2000));

	/* A new QEMU (power cycle) on the same datapath. */
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	CHECK_OK(datapath_attach_qemu(f->dp, sv[0], DATAPATH_STREAM, err, sizeof err));
	f->fake = sv[1];
	fcntl(f->fake, F_SETFL, O_NONBLOCK);
	f->rlen = 0;
	len = test_frame(buf, 70, mac_host, 2);
	CHECK(bridge_send(f, buf, len) == 0);
	CHECK(fake_recv_test(f, got, &glen, &seq, 1000, true) == 1 && seq == 2);

	/* A frame length beyond QEMU's buffer is a protocol error, reported once. */
	uint8_t bad[4] = { 0xff, 0, 0, 0 };
	CHECK(fake_write_all(f, bad, 4) == 0);
	CHECK(pump_until_closed(f, 2, 2000));
	pump(f, 20);
	CHECK(f->closed_calls == 2 && strstr(f->closed_why, "bytes") != NULL);
	fx_close(f);
	free(f);
	return 0;
}

/* QEMU reading slowly: the datapath must finish half-written frames and keep the
 * stream's framing intact however the socket buffer splits them. */
static int child_slow_qemu_gets_whole_frames_in_order(void)
{
	struct fx *f = calloc(1, sizeof *f);
	CHECK(f && fx_open(f, NULL, SOCK_STREAM) == 0);
	int small = 4096;
	setsockopt(f->fake, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	uint8_t buf[2048], got[2048];
	size_t len, glen;
	uint32_t seq, next = 0;
	const uint32_t n = 300;
	for (uint32_t i = 0; i < n; i++) {
		len = test_frame(buf, 1000 + i % 7, mac_host, i);
		CHECK(bridge_send(f, buf, len) == 0);
		if (i % 50 == 49)
			pump(f, 5); /* let the tap drain into the datapath without reading */
	}
	while (next < n) {
		int rc = fake_recv_test(f, got, &glen, &seq, 2000, true);
		CHECK(rc == 1);
		if (seq != next) {
			struct datapath_stats st;
			datapath_stats(f->dp, DATAPATH_TO_DEVICE, &st);
			fprintf(stderr, "got %u want %u; in %lu out %lu overflow %lu queued %u\n",
				seq, next, (unsigned long)st.frames_in,
				(unsigned long)st.frames_out, (unsigned long)st.dropped_overflow,
				st.queued);
		}
		CHECK(seq == next && glen == 1000 + seq % 7);
		test_frame(buf, glen, mac_host, seq);
		CHECK(memcmp(got, buf, glen) == 0);
		next++;
	}
	struct datapath_stats st;
	datapath_stats(f->dp, DATAPATH_TO_DEVICE, &st);
	CHECK(st.dropped_overflow == 0 && st.queued == 0);
	fx_close(f);
	free(f);
	return 0;
}

static int child_dgram_framing(void)
{
	struct fx *f = calloc(1, sizeof *f);
	CHECK(f && fx_open(f, NULL, SOCK_DGRAM) == 0);
	uint8_t buf[2048], got[2048];
	size_t len, glen;
	uint32_t seq;
	len = test_frame(buf, 150, mac_dev, 1);
	CHECK(fake_send(f, buf, len, false) == 0);
	CHECK(bridge_recv(f, got, &glen, 0, 2000) == 1);
	CHECK(glen == len && memcmp(got, buf, len) == 0);
	len = test_frame(buf, 160, mac_host, 2);
	CHECK(bridge_send(f, buf, len) == 0);
	CHECK(fake_recv_test(f, got, &glen, &seq, 2000, false) == 1);
	CHECK(seq == 2 && glen == len && memcmp(got, buf, len) == 0);
	fx_close(f);
	free(f);
	return 0;
}

/* ---- runner ---- */

static void run_sandboxed(int (*fn)(void))
{
	sandboxed_run(fn);
}

#define SANDBOXED(name)                                                                            \
	static void test_datapath_##name(void **state)                                             \
	{                                                                                          \
		(void)state;                                                                       \
		run_sandboxed(child_##name);                                                       \
	}

SANDBOXED(frames_flow_both_ways)
SANDBOXED(delay_holds_frames_never_early)
SANDBOXED(slot_holds_frames_until_a_slot_opens)
SANDBOXED(loss_100_drops_and_counts)
SANDBOXED(blocked_drops_everything_and_unblock_restores)
SANDBOXED(peers_pass_only_the_island)
SANDBOXED(same_seed_same_drop_pattern)
SANDBOXED(corrupt_flips_one_bit_and_duplicate_sends_twice)
SANDBOXED(reports_qemu_disconnect_and_reattaches)
SANDBOXED(slow_qemu_gets_whole_frames_in_order)
SANDBOXED(dgram_framing)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_datapath_frames_flow_both_ways),
		cmocka_unit_test(test_datapath_delay_holds_frames_never_early),
		cmocka_unit_test(test_datapath_slot_holds_frames_until_a_slot_opens),
		cmocka_unit_test(test_datapath_loss_100_drops_and_counts),
		cmocka_unit_test(test_datapath_blocked_drops_everything_and_unblock_restores),
		cmocka_unit_test(test_datapath_peers_pass_only_the_island),
		cmocka_unit_test(test_datapath_same_seed_same_drop_pattern),
		cmocka_unit_test(test_datapath_corrupt_flips_one_bit_and_duplicate_sends_twice),
		cmocka_unit_test(test_datapath_reports_qemu_disconnect_and_reattaches),
		cmocka_unit_test(test_datapath_slow_qemu_gets_whole_frames_in_order),
		cmocka_unit_test(test_datapath_dgram_framing),
	};
	return vh_run_tests(tests, NULL, NULL);
}
