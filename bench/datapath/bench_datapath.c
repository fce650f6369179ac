/* Benchmark of the user datapath (netem/datapath.c), not run by ctest.
 *
 * In its own network namespace (sandbox_enter) it builds bridge vhbb0 with taps, and
 * pushes test frames from a "QEMU" stream (the generator writes length-prefixed
 * frames into a socket) through an impairment hop into a tap; the sink is an
 * AF_PACKET socket on the bridge. Paths compared on the same traffic:
 *   datapath    generator -> socketpair -> datapath (own process, ev loop) -> tap
 *   relay       the same with a minimal blocking relay instead (no ev, no engine):
 *               the floor for any user-space hop
 *   wirefilter  generator -> vde_plug (stdin) -> vde_switch -> wirefilter ->
 *               vde_switch -t tap (Debian vde2), when installed
 * It prints frames/s with no impairment and with a mixed spec
 * (`delay 10ms 2ms loss 1% duplicate 1% reorder 5%`; wirefilter: -d 10+2 -l 1 -D 1
 * -N, it has no reorder knob), and the latency added by the hop at zero impairment
 * (p50/p99 over paced frames). Each figure is the median of 5 repetitions.
 * Usage: bench_datapath [frames-per-throughput-run] (default 50000). Needs root or
 * user namespaces. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "datapath.h"
#include "ev.h"
#include "link.h"
#include "netem_spec.h"
#include "sandbox.h"

#define REPS 5
#define FRAME_LEN 256
#define ETH_TEST 0x88b5
#define MIXED_SPEC "delay 10ms 2ms loss 1% duplicate 1% reorder 5%"
#define LAT_FRAMES 2000
#define LAT_GAP_US 500

static int br_ifindex;

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "bench_datapath: %s: %s\n", what, detail);
	exit(1);
}

/* A test frame: broadcast, ETH_TEST, a run tag, sequence number and send time. */
static void make_frame(uint8_t *b, uint32_t tag, uint32_t seq, uint64_t t_ns)
{
	memset(b, 0xff, 6);
	const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	memcpy(b + 6, src, 6);
	b[12] = ETH_TEST >> 8;
	b[13] = ETH_TEST & 0xff;
	memcpy(b + 14, &tag, 4);
	memcpy(b + 18, &seq, 4);
	memcpy(b + 22, &t_ns, 8);
	memset(b + 30, 0x5a, FRAME_LEN - 30);
}

/* ---- the hops under test, each in its own process ---- */

static pid_t spawn(void)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		die("fork", strerror(errno));
	if (pid == 0)
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	return pid;
}

static void stop_child(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* The datapath on its own ev loop until killed. */
static pid_t start_datapath(const char *tap, int qemu_fd, const char *spec_text)
{
	pid_t pid = spawn();
	if (pid)
		return pid;
	char err[256];
	int tap_fd = link_tap_open(tap, err, sizeof err);
	if (tap_fd < 0)
		die("link_tap_open", err);
	struct ev_loop *loop = ev_loop_new();
	struct datapath_config cfg = { .loop = loop, .tap_fd = tap_fd, .qemu_fd = qemu_fd,
				       .framing = DATAPATH_STREAM, .seed = 1, .link_id = 1 };
	struct datapath *dp;
	if (datapath_new(&cfg, &dp, err, sizeof err) < 0)
		die("datapath_new", err);
	if (spec_text) {
		struct netem_spec spec;
		if (netem_spec_parse(spec_text, &spec, NULL) < 0)
			die("spec", spec_text);
		if (datapath_set_spec(dp, DATAPATH_FROM_DEVICE, &spec, err, sizeof err) < 0)
			die("datapath_set_spec", err);
	}
	ev_run(loop);
	_exit(0);
}

/* The floor: read framed frames, write each to the tap, nothing else. */
static pid_t start_relay(const char *tap, int qemu_fd)
{
	pid_t pid = spawn();
	if (pid)
		return pid;
	char err[256];
	int tap_fd = link_tap_open(tap, err, sizeof err);
	if (tap_fd < 0)
		die("link_tap_open", err);
	fcntl(tap_fd, F_SETFL, 0);
	static uint8_t buf[1 << 18];
	size_t len = 0;
	for (;;) {
		ssize_t n = read(qemu_fd, buf + len, sizeof buf - len);
		if (n <= 0)
			_exit(0);
		len += (size_t)n;
		size_t pos = 0;
		while (len - pos >= 4) {
			uint32_t l = (uint32_t)buf[pos] << 24 | (uint32_t)buf[pos + 1] << 16 |
				     (uint32_t)buf[pos + 2] << 8 | buf[pos + 3];
			if (len - pos - 4 < l)
				break;
			if (write(tap_fd, buf + pos + 4, l) < 0)
				_exit(1);
			pos += 4 + l;
		}
		memmove(buf, buf + pos, len - pos);
		len -= pos;
	}
}

/* Runs argv with stdin_fd as its stdin, or when -1 a pipe kept open in *hold: a
 * vde_switch reads its console from stdin and exits at EOF. */
static pid_t start_exec(char *const argv[], int stdin_fd, int *hold)
{
	int pp[2] = { -1, -1 };
	if (stdin_fd < 0 && pipe(pp) < 0)
		die("pipe", strerror(errno));
	pid_t pid = spawn();
	if (pid) {
		if (pp[0] >= 0) {
			close(pp[0]);
			*hold = pp[1];
		}
		return pid;
	}
	dup2(stdin_fd >= 0 ? stdin_fd : pp[0], 0);
	int devnull = open("/dev/null", O_RDWR);
	int log = open("/tmp/vh-bench-vde.log", O_WRONLY | O_CREAT | O_APPEND, 0644);
	dup2(devnull, 1);
	dup2(log >= 0 ? log : devnull, 2);
	execvp(argv[0], argv);
	_exit(127);
}

/* ---- generator and sink ---- */

static int open_sink(void)
{
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_TEST));
	if (s < 0)
		die("AF_PACKET", strerror(errno));
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_TEST),
				   .sll_ifindex = br_ifindex };
	if (bind(s, (struct sockaddr *)&sll, sizeof sll) < 0)
		die("bind sink", strerror(errno));
	int big = 64 << 20;
	setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
	return s;
}

/* Drains the sink; counts frames tagged `tag` and records latencies when lat. */
static unsigned sink_drain(int sink, uint32_t tag, uint64_t *last_ns, double *lat, unsigned *nlat)
{
	unsigned got = 0;
	uint8_t b[2048];
	for (;;) {
		ssize_t n = recv(sink, b, sizeof b, 0);
		if (n < 0)
			return got;
		uint32_t t;
		memcpy(&t, b + 14, 4);
		if (n < 30 || t != tag)
			continue;
		uint64_t now = mono_ns();
		*last_ns = now;
		got++;
		if (lat && *nlat < LAT_FRAMES * 2) {
			uint64_t sent;
			memcpy(&sent, b + 22, 8);
			lat[(*nlat)++] = (double)(now - sent) / 1000.0;
		}
	}
}

/* Writes framed frames (prefix 4 or 2 bytes, big-endian) to w; n frames, paced
 * gap_us apart (0 = as fast as w takes them). Returns frames received at the sink
 * and, via rate, frames/s from the first send to the last arrival. */
static unsigned run_traffic(int w, int prefix, int sink, uint32_t tag, unsigned n,
			    unsigned gap_us, double *rate, double *lat, unsigned *nlat,
			    double *in_rate)
{
	enum { BATCH = 64 };
	static uint8_t buf[BATCH * (4 + FRAME_LEN)];
	size_t blen = 0, boff = 0;
	unsigned sent = 0, got = 0;
	uint64_t t0 = mono_ns(), last = t0, next_send = t0;
	fcntl(w, F_SETFL, O_NONBLOCK);
	while (sent < n || boff < blen) {
		if (boff == blen && sent < n) {
			unsigned k = gap_us ? 1 : BATCH;
			if (gap_us && mono_ns() < next_send) {
				got += sink_drain(sink, tag, &last, lat, nlat);
				continue;
			}
			blen = boff = 0;
			for (unsigned i = 0; i < k && sent < n; i++, sent++) {
				uint8_t *p = buf + blen;
				if (prefix == 4) {
					p[0] = 0;
					p[1] = 0;
				}
				p[prefix - 2] = FRAME_LEN >> 8;
				p[prefix - 1] = FRAME_LEN & 0xff;
				make_frame(p + prefix, tag, sent, mono_ns());
				blen += (size_t)prefix + FRAME_LEN;
			}
			next_send += (uint64_t)gap_us * 1000u;
		}
		ssize_t m = write(w, buf + boff, blen - boff);
		if (m > 0)
			boff += (size_t)m;
		else if (m < 0 && errno != EAGAIN)
			die("write", strerror(errno));
		got += sink_drain(sink, tag, &last, lat, nlat);
		if (m < 0) {
			struct pollfd pf[2] = { { .fd = w, .events = POLLOUT },
						{ .fd = sink, .events = POLLIN } };
			poll(pf, 2, 1);
		}
	}
	if (in_rate)
		*in_rate = (double)n / ((double)(mono_ns() - t0) / 1e9);
	/* Wait for stragglers: until all arrived or 300 ms without one. */
	while (got < n) {
		struct pollfd pf = { .fd = sink, .events = POLLIN };
		uint64_t before = last;
		poll(&pf, 1, 300);
		got += sink_drain(sink, tag, &last, lat, nlat);
		if (last == before)
			break;
	}
	*rate = got ? (double)got / ((double)(last - t0) / 1e9) : 0;
	return got;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- one path = how to start its hop and get a writer fd ---- */

enum path { P_DATAPATH, P_RELAY, P_WIREFILTER };

struct hop {
	pid_t pids[4];
	int npids;
	int holds[4]; /* stdin pipes of the switches */
	int writer;
	int prefix;
};

static char vde_dir[64];

static bool have_wirefilter(void)
{
	return system("command -v wirefilter >/dev/null 2>&1 && command -v vde_switch >/dev/null "
		      "2>&1 && command -v vde_plug >/dev/null 2>&1") == 0;
}

static void hop_start(struct hop *h, enum path p, bool mixed)
{
	memset(h, 0, sizeof *h);
	if (p == P_DATAPATH || p == P_RELAY) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
			die("socketpair", strerror(errno));
		h->pids[h->npids++] = p == P_DATAPATH
					      ? start_datapath("vhbd0", sv[0], mixed ? MIXED_SPEC : NULL)
					      : start_relay("vhbd0", sv[0]);
		close(sv[0]);
		h->writer = sv[1];
		h->prefix = 4;
		return;
	}
	char s1[128], s2[128];
	snprintf(s1, sizeof s1, "%s/sw1", vde_dir);
	snprintf(s2, sizeof s2, "%s/sw2", vde_dir);
	char *sw1[] = { "vde_switch", "-s", s1, NULL };
	char *sw2[] = { "vde_switch", "-s", s2, "-t", "vhbw0", NULL };
	h->pids[h->npids++] = start_exec(sw1, -1, &h->holds[0]);
	h->pids[h->npids++] = start_exec(sw2, -1, &h->holds[1]);
	usleep(300000);
	char plugs[300];
	snprintf(plugs, sizeof plugs, "%s:%s", s1, s2);
	char *wf_plain[] = { "wirefilter", "-v", plugs, NULL };
	char *wf_mixed[] = { "wirefilter", "-v", plugs, "-d", "10+2", "-l", "1", "-D", "1", "-N", NULL };
	h->pids[h->npids++] = start_exec(mixed ? wf_mixed : wf_plain, -1, &h->holds[2]);
	int pp[2];
	if (pipe(pp) < 0)
		die("pipe", strerror(errno));
	char *plug[] = { "vde_plug", s1, NULL };
	h->pids[h->npids++] = start_exec(plug, pp[0], NULL);
	close(pp[0]);
	h->writer = pp[1];
	h->prefix = 2;
	usleep(300000);
}

static void hop_stop(struct hop *h)
{
	close(h->writer);
	for (int i = h->npids - 1; i >= 0; i--)
		stop_child(h->pids[i]);
	for (int i = 0; i < 4; i++)
		if (h->holds[i] > 0)
			close(h->holds[i]);
	if (vde_dir[0]) {
		char cmd[200];
		snprintf(cmd, sizeof cmd, "rm -rf %s/sw1 %s/sw2", vde_dir, vde_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "bench_datapath: could not clean %s\n", vde_dir);
	}
}

/* Sends until frames get through (bridge ports forward a moment after carrier). */
static bool warm_up(struct hop *h, int sink, uint32_t tag)
{
	for (int i = 0; i < 30; i++) {
		double rate;
		if (run_traffic(h->writer, h->prefix, sink, tag, 5, 0, &rate, NULL, NULL, NULL) > 0)
			return true;
	}
	return false;
}

struct result {
	bool ok;
	double fps_plain, in_mixed, fps_mixed, delivered_mixed, p50_us, p99_us;
};

static struct result measure(enum path p, int sink, unsigned n)
{
	struct result r = { .ok = true };
	double fps[2][REPS], in[REPS], deliv[REPS], p50[REPS], p99[REPS];
	static uint32_t tag = 1000;
	for (int mixed = 0; mixed < (p == P_RELAY ? 1 : 2); mixed++) {
		struct hop h;
		hop_start(&h, p, mixed);
		if (!warm_up(&h, sink, tag++)) {
			hop_stop(&h);
			r.ok = false;
			return r;
		}
		for (int i = 0; i < REPS; i++) {
			unsigned got = run_traffic(h.writer, h.prefix, sink, tag++, n, 0,
						   &fps[mixed][i], NULL, NULL, &in[i]);
			if (mixed)
				deliv[i] = 100.0 * got / n;
		}
		if (!mixed) {
			static double lat[LAT_FRAMES * 2];
			for (int i = 0; i < REPS; i++) {
				unsigned nlat = 0;
				double rate;
				run_traffic(h.writer, h.prefix, sink, tag++, LAT_FRAMES, LAT_GAP_US,
					    &rate, lat, &nlat, NULL);
				qsort(lat, nlat, sizeof *lat, cmp_double);
				p50[i] = nlat ? lat[nlat / 2] : 0;
				p99[i] = nlat ? lat[(size_t)(nlat * 0.99)] : 0;
			}
		}
		hop_stop(&h);
	}
	r.fps_plain = median(fps[0], REPS);
	if (p != P_RELAY) {
		r.in_mixed = median(in, REPS);
		r.fps_mixed = median(fps[1], REPS);
		r.delivered_mixed = median(deliv, REPS);
	}
	r.p50_us = median(p50, REPS);
	r.p99_us = median(p99, REPS);
	return r;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 50000;
	char err[256];
	if (sandbox_enter(err, sizeof err) < 0)
		die("sandbox_enter", err);
	signal(SIGPIPE, SIG_IGN);
	struct link_ctx *ctx = link_ctx_new(err, sizeof err);
	if (!ctx || link_lo_up(ctx, err, sizeof err) < 0)
		die("link", err);
	uint32_t addr;
	inet_pton(AF_INET, "10.98.0.1", &addr);
	br_ifindex = link_bridge_create(ctx, "vhbb0", addr, 24, err, sizeof err);
	if (br_ifindex < 0 || link_tap_create(ctx, "vhbd0", br_ifindex, err, sizeof err) < 0)
		die("link", err);
	bool wf = have_wirefilter();
	if (wf) {
		snprintf(vde_dir, sizeof vde_dir, "/tmp/vh-bench-vde-XXXXXX");
		if (!mkdtemp(vde_dir) || link_tap_create(ctx, "vhbw0", br_ifindex, err, sizeof err) < 0)
			die("wirefilter setup", err);
	}
	int sink = open_sink();

	const char *names[] = { "datapath", "relay (floor)", "wirefilter" };
	printf("bench_datapath: %u frames of %d bytes per run, median of %d runs\n", n, FRAME_LEN,
	       REPS);
	printf("mixed = %s (wirefilter: -d 10+2 -l 1 -D 1 -N)\n", MIXED_SPEC);
	printf("latency: %d frames %d us apart, generator write -> AF_PACKET on the bridge\n\n",
	       LAT_FRAMES, LAT_GAP_US);
	printf("plain: frames/s delivered with no impairment. mixed in: frames/s the hop\n"
	       "accepted; mixed out: delivered frames/s and share (netem's default limit 1000\n"
	       "with a 10 ms delay tail-drops above ~100k frames/s, as the kernel would).\n\n");
	printf("%-14s %11s %11s %11s %7s %8s %8s\n", "path", "plain fr/s", "mixed in", "mixed out",
	       "out %", "p50 us", "p99 us");
	for (int p = 0; p < 3; p++) {
		if (p == P_WIREFILTER && !wf) {
			printf("%-14s (not installed: apt-get install vde2)\n", names[p]);
			continue;
		}
		struct result r = measure((enum path)p, sink, n);
		if (!r.ok) {
			printf("%-14s (no frames got through)\n", names[p]);
			continue;
		}
		if (p == P_RELAY)
			printf("%-14s %11.0f %11s %11s %7s %8.1f %8.1f\n", names[p], r.fps_plain, "-",
			       "-", "-", r.p50_us, r.p99_us);
		else
			printf("%-14s %11.0f %11.0f %11.0f %6.1f%% %8.1f %8.1f\n", names[p],
			       r.fps_plain, r.in_mixed, r.fps_mixed, r.delivered_mixed, r.p50_us,
			       r.p99_us);
		fflush(stdout);
	}
	if (vde_dir[0])
		rmdir(vde_dir);
	close(sink);
	link_ctx_free(ctx);
	return 0;
}
