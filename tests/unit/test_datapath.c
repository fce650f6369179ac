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
	int fake;   /* QEMU's end of the socketpair */
	int pkt;    /* AF_PACKET on the bridge */
	int br_ifindex;
	uint8_t rbuf[1 << 17]; /* framed bytes read from the datapath, not yet taken */
	size_t rlen;
	int closed_calls;
	char closed_why[160];
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void on_closed(struct datapath *dp, const char *why, void *arg)
{
	(void)dp;
	struct fx *f = arg;
	f->closed_calls++;
	snprintf(f->closed_why, sizeof f->closed_why, "%s", why);
}

/* Fewer stray frames (router solicitations, MLD) to filter out on the tap. */
static void disable_ipv6(void)
{
	const char *paths[] = { "/proc/sys/net/ipv6/conf/all/disable_ipv6",
				"/proc/sys/net/ipv6/conf/default/disable_ipv6" };
	for (size_t i = 0; i < 2; i++) {
		FILE *fp = fopen(paths[i], "w");
		if (fp) {
			fputs("1\n", fp);
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
	disable_ipv6();
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

static void pump(struct fx *f, int ms)
{
	uint64_t end = mono_ns() + (uint64_t)ms * 1000000u;
	while (mono_ns() < end)
		ev_run_once(f->loop, 1);
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
			ev_run_once(f->loop, 1);
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
				uint32_t l = (uint32_t)f->rbuf[0] << 24 | (uint32_t)f->rbuf[1] << 16 |
					     (uint32_t)f->rbuf[2] << 8 | f->rbuf[3];
				if (l < 14 || l > 2048) {
					fprintf(stderr, "bad frame length %u from the datapath\n", l);
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
		ev_run_once(f->loop, 1);
	}
}

/* The next test frame QEMU receives (other frames skipped): 1, or 0 on timeout. */
static int fake_recv_test(struct fx *f, uint8_t *out, size_t *len, uint32_t *seq,
			  int timeout_ms, bool stream)
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
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_ifindex = f->br_ifindex,
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
		ssize_t n = recvfrom(f->pkt, out, 2048, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
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
		ev_run_once(f->loop, 1);
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

/* Frame i from the device to the bridge, then 100+i back; how long each was
 * held (ns). */
static int one_frame_each_way(struct fx *f, uint32_t i, uint64_t *from_dev, uint64_t *to_dev)
{
	uint8_t buf[2048], got[2048];
	size_t len, glen;
	uint32_t seq;
	len = test_frame(buf, 100, mac_dev, i);
	CHECK(fake_send(f, buf, len, true) == 0);
	uint64_t t0 = mono_ns();
	CHECK(bridge_recv(f, got, &glen, 0, 1000) == 1);
	*from_dev = mono_ns() - t0;
	CHECK(is_test_frame(got, glen, &seq) && seq == i);

	len = test_frame(buf, 100, mac_host, 100 + i);
	CHECK(bridge_send(f, buf, len) == 0);
	t0 = mono_ns();
	CHECK(fake_recv_test(f, got, &glen, &seq, 1000, true) == 1);
	*to_dev = mono_ns() - t0;
	CHECK(seq == 100 + i);
	return 0;
}

static int child_delay_holds_frames_never_early(void)
{
	struct fx *f = calloc(1, sizeof *f);
	CHECK(f && fx_open(f, "delay 50ms", SOCK_STREAM) == 0);
	uint8_t buf[2048], got[2048];
	size_t len, glen;
	uint32_t seq;
	for (uint32_t i = 0; i < 5; i++) {
		uint64_t from_dev, to_dev;
		CHECK(one_frame_each_way(f, i, &from_dev, &to_dev) == 0);
		CHECK(from_dev >= 50000000u && from_dev < 150000000u);
		CHECK(to_dev >= 50000000u && to_dev < 150000000u);
	}
	/* Queued frames leave in order, each held its full delay. */
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
		CHECK(mono_ns() - sent[i] >= 50000000u);
	}
	fx_close(f);
	free(f);
	return 0;
}

/* slot, both forms, through the real datapath: a frame waits for the next
 * slot, which opens 30-40 ms (uniform) or about 30 ms (normal table) later. */
static int child_slot_holds_frames_until_a_slot_opens(void)
{
	struct fx *f = calloc(1, sizeof *f);
	CHECK(f && fx_open(f, "slot 30ms 40ms", SOCK_STREAM) == 0);
	CHECK(set_spec(f, DATAPATH_TO_DEVICE, "slot distribution normal 30ms 1ms") == 0);
	for (uint32_t i = 0; i < 3; i++) {
		uint64_t from_dev, to_dev;
		CHECK(one_frame_each_way(f, i, &from_dev, &to_dev) == 0);
		CHECK(from_dev >= 30000000u && from_dev < 120000000u);
		CHECK(to_dev >= 25000000u && to_dev < 120000000u);
	}
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
	struct datapath_stats warm; /* frames_out of the warm-up in fx_open */
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
	CHECK(f && fx_open(f, "delay 20ms", SOCK_STREAM) == 0);
	struct datapath_stats warm; /* frames_out of the warm-up in fx_open */
	datapath_stats(f->dp, DATAPATH_TO_DEVICE, &warm);
	uint8_t buf[2048], got[2048];
	size_t len, glen;
	uint32_t seq;
	/* A frame already delayed when the partition starts is lost with the rest. */
	len = test_frame(buf, 80, mac_dev, 999);
	CHECK(fake_send(f, buf, len, true) == 0);
	pump(f, 2);
	datapath_set_blocked(f->dp, true);
	CHECK(datapath_blocked(f->dp));
	for (uint32_t i = 0; i < 10; i++) {
		len = test_frame(buf, 80, mac_dev, i);
		CHECK(fake_send(f, buf, len, true) == 0);
		len = test_frame(buf, 80, mac_host, 100 + i);
		CHECK(bridge_send(f, buf, len) == 0);
	}
	CHECK(bridge_recv(f, got, &glen, 0, 200) == 0);
	CHECK(fake_recv_test(f, got, &glen, &seq, 50, true) == 0);
	struct datapath_stats st;
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
	CHECK(mono_ns() - t0 >= 20000000u);
	len = test_frame(buf, 80, mac_host, 600);
	CHECK(bridge_send(f, buf, len) == 0);
	t0 = mono_ns();
	CHECK(fake_recv_test(f, got, &glen, &seq, 1000, true) == 1 && seq == 600);
	CHECK(mono_ns() - t0 >= 20000000u);
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
	fcntl(f->fake, F_SETFL, O_NONBLOCK);
	int tap = link_tap_open("vht0", err, sizeof err);
	CHECK_OK(tap);
	struct datapath_config cfg = { .loop = f->loop, .tap_fd = tap, .qemu_fd = sv[0],
				       .framing = DATAPATH_STREAM, .seed = seed, .link_id = 7 };
	CHECK_OK(datapath_new(&cfg, &f->dp, err, sizeof err));
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
	struct impair_engine_config ec = { .spec = &spec, .seed = 42, .link_id = 7,
					   .direction = IMPAIR_FROM_DEVICE };
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
	pump(f, 20);
	CHECK(f->closed_calls == 1);
	CHECK(strstr(f->closed_why, "closed") != NULL);
	CHECK(!datapath_qemu_attached(f->dp));
	len = test_frame(buf, 70, mac_host, 1);
	CHECK(bridge_send(f, buf, len) == 0);
	pump(f, 20);
	struct datapath_stats st;
	datapath_stats(f->dp, DATAPATH_TO_DEVICE, &st);
	CHECK(st.dropped_detached >= 1);

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
				seq, next, (unsigned long)st.frames_in, (unsigned long)st.frames_out,
				(unsigned long)st.dropped_overflow, st.queued);
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

#define SANDBOXED(name)                         \
	static void test_datapath_##name(void **state) \
	{                                       \
		(void)state;                    \
		run_sandboxed(child_##name);    \
	}

SANDBOXED(frames_flow_both_ways)
SANDBOXED(delay_holds_frames_never_early)
SANDBOXED(slot_holds_frames_until_a_slot_opens)
SANDBOXED(loss_100_drops_and_counts)
SANDBOXED(blocked_drops_everything_and_unblock_restores)
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
		cmocka_unit_test(test_datapath_same_seed_same_drop_pattern),
		cmocka_unit_test(test_datapath_corrupt_flips_one_bit_and_duplicate_sends_twice),
		cmocka_unit_test(test_datapath_reports_qemu_disconnect_and_reattaches),
		cmocka_unit_test(test_datapath_slow_qemu_gets_whole_frames_in_order),
		cmocka_unit_test(test_datapath_dgram_framing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
