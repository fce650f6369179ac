/* Live capture of a real bridge (netem/capture_live.c): each test forks a child
 * that enters its own network namespace, makes bridge vhb0 (10.99.0.1/24) with
 * tap vht0 on it, writes frames into the tap as a guest would, and reads the
 * pcap file the capture wrote. Tests skip when namespaces are unavailable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "capture_live.h"
#include "ev.h"
#include "link.h"
#include "sandbox.h"

#include "child_check.h"
#include "sandboxed.h"

#define ETH_TEST 0x88b5 /* IEEE local experimental ethertype */
#define MAGIC "VHCL"
#define FRAMES 20

static char pcap_path[64];

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A broadcast test frame from a made-up guest MAC, numbered seq. */
static size_t test_frame(uint8_t *f, uint32_t seq)
{
	static const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	memset(f, 0xff, 6);
	memcpy(f + 6, src, 6);
	f[12] = ETH_TEST >> 8, f[13] = ETH_TEST & 0xff;
	memcpy(f + 14, MAGIC, 4);
	uint32_t be = htonl(seq);
	memcpy(f + 18, &be, 4);
	memset(f + 22, 0, 60 - 22);
	return 60;
}

/* Test frames in the pcap file at path, in order: returns how many, or -1
 * when one is out of order or the file is unreadable. */
static int count_test_frames(const char *path)
{
	char perr[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, perr);
	if (!p) {
		fprintf(stderr, "%s: %s\n", path, perr);
		return -1;
	}
	struct pcap_pkthdr *h;
	const u_char *b;
	int n = 0;
	while (pcap_next_ex(p, &h, &b) == 1) {
		if (h->caplen < 22 || memcmp(b + 14, MAGIC, 4) != 0)
			continue; /* the kernel's own frames, if any */
		uint32_t be;
		memcpy(&be, b + 18, 4);
		if (ntohl(be) != (uint32_t)n) {
			pcap_close(p);
			return -1;
		}
		n++;
	}
	pcap_close(p);
	return n;
}

static int child_captures_frames_a_guest_sends_through_the_bridge(void)
{
	char err[256] = "";
	struct link_ctx *ctx = link_ctx_new(err, sizeof err);
	CHECK(ctx);
	uint32_t addr;
	inet_pton(AF_INET, "10.99.0.1", &addr);
	int br = link_bridge_create(ctx, "vhb0", addr, 24, err, sizeof err);
	CHECK_OK(br);
	CHECK_OK(link_tap_create(ctx, "vht0", br, err, sizeof err));
	int tap = link_tap_open("vht0", err, sizeof err);
	CHECK_OK(tap);
	struct ev_loop *loop = ev_loop_new();
	CHECK(loop);
	struct capture *cap = capture_open(pcap_path, NULL, err, sizeof err);
	CHECK(cap);
	struct capture_live *cl = capture_live_open(loop, "vhb0", cap, err, sizeof err);
	CHECK(cl);

	/* The port forwards once its carrier is seen: resend frame 0 until it
	 * shows, then the rest. */
	uint8_t f[64];
	size_t len = test_frame(f, 0);
	uint64_t end = mono_ms() + 5000;
	while (capture_count(cap) == 0 && mono_ms() < end) {
		CHECK(write(tap, f, len) == (ssize_t)len);
		ev_run_once(loop, 50);
	}
	CHECK(capture_count(cap) > 0);
	/* Only the first copy of frame 0 counts: restart numbering on a new file. */
	capture_live_close(cl);
	CHECK(capture_close(cap) == 0);
	cap = capture_open(pcap_path, NULL, err, sizeof err);
	CHECK(cap);
	cl = capture_live_open(loop, "vhb0", cap, err, sizeof err);
	CHECK(cl);
	for (uint32_t i = 0; i < FRAMES; i++) {
		len = test_frame(f, i);
		CHECK(write(tap, f, len) == (ssize_t)len);
	}
	/* No loop turn: capture_live_close itself takes what the kernel holds. */
	capture_live_close(cl);
	CHECK(capture_close(cap) == 0);
	int n = count_test_frames(pcap_path);
	if (n != FRAMES)
		fprintf(stderr, "captured %d test frames in order, expected %d\n", n, FRAMES);
	CHECK(n == FRAMES);
	close(tap);
	ev_loop_free(loop);
	link_ctx_free(ctx);
	return 0;
}

static int child_open_names_a_missing_link(void)
{
	char err[256] = "";
	struct ev_loop *loop = ev_loop_new();
	CHECK(loop);
	struct capture *cap = capture_open(pcap_path, NULL, err, sizeof err);
	CHECK(cap);
	CHECK(capture_live_open(loop, "vhb-nope", cap, err, sizeof err) == NULL);
	if (!strstr(err, "vhb-nope"))
		fprintf(stderr, "error does not name the link: %s\n", err);
	CHECK(strstr(err, "vhb-nope") != NULL);
	CHECK(capture_close(cap) == 0);
	ev_loop_free(loop);
	return 0;
}

/* ---- runner ---- */

static void run_sandboxed(int (*fn)(void))
{
	snprintf(pcap_path, sizeof pcap_path, "/tmp/vh-capture-live-%d.pcap", (int)getpid());
	sandboxed_run(fn);
	unlink(pcap_path);
}

static void test_capture_live_captures_frames_a_guest_sends_through_the_bridge(void **state)
{
	(void)state;
	run_sandboxed(child_captures_frames_a_guest_sends_through_the_bridge);
}

static void test_capture_live_open_names_a_missing_link(void **state)
{
	(void)state;
	run_sandboxed(child_open_names_a_missing_link);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_capture_live_captures_frames_a_guest_sends_through_the_bridge),
		cmocka_unit_test(test_capture_live_open_names_a_missing_link),
	};
	return vh_run_tests(tests, NULL, NULL);
}
