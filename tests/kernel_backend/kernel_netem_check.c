/* vh-kernel-netem-check: proves the kernel impairment backend (netem/kernel_netem.c)
 * against a kernel that has sch_netem. It runs inside a guest booted with the
 * Debian kernel and the image-tc initramfs (tests/kernel_backend/kernel_netem.lua
 * boots it), because this project's CI host kernel has no sch_netem.
 *
 * The veth end vk0 plays the tap: frames it transmits go to the "device", a
 * network namespace holding vk1 (10.99.0.2); frames from the device arrive on
 * vk0's ingress. It applies specs through the same calls the harness makes and
 * checks the kernel's qdisc dump and the ping RTT, step for step as the user
 * backend's end-to-end test (tests/integration/scenarios/impair.lua) does.
 * Prints one "kn-check:" line per check and ends with "kn-check: PASS" or
 * "kn-check: FAIL"; exit 0 or 1. */
#include "impairment.h"
#include "kernel_netem.h"
#include "netem_spec.h"

#include <errno.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TAP "vk0"
#define PEER "vk1"
#define IFB "vk0-ifb"
#define DEVICE_IP "10.99.0.2"

static int failures, checks;

static void check(int ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("kn-check: %s ", ok ? "ok  " : "FAIL");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	checks++;
	failures += !ok;
}

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("kn-check: FAIL ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	printf("kn-check: FAIL (%d checks, aborted)\n", checks + 1);
	exit(1);
}

static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int status = system(cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Output of a command, whole. */
static void capture(char *out, size_t len, const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	out[0] = '\0';
	FILE *p = popen(cmd, "r");
	if (!p)
		return;
	size_t n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	pclose(p);
}

static void qdisc_dump(const char *ifname, char *out, size_t len)
{
	capture(out, len, "/usr/sbin/tc qdisc show dev %s root", ifname);
	out[strcspn(out, "\n")] = '\0';
}

/* The options part of a netem qdisc's dump: what follows "refcnt N". */
static const char *netem_options(const char *dump)
{
	const char *p = strstr(dump, "refcnt ");
	if (!p)
		return dump;
	p += 7;
	while (*p && *p != ' ')
		p++;
	return p;
}

/* Average RTT in ms over n pings, how many came back, and the smallest RTT
 * (NULL: not wanted). */
static double ping_rtt(int n, int *received, double *min_ms)
{
	char out[1024];
	capture(out, sizeof(out), "ping -c %d -i 0.2 -W 2 -q " DEVICE_IP " 2>&1", n);
	*received = 0;
	const char *r = strstr(out, "transmitted, ");
	if (r)
		*received = atoi(r + 13);
	const char *avg = strstr(out, "min/avg/max = ");
	double mn, av, mx;
	if (!avg || sscanf(avg + 14, "%lf/%lf/%lf", &mn, &av, &mx) != 3)
		return -1;
	if (min_ms)
		*min_ms = mn;
	return av;
}

static double ping_avg(int n, int *received)
{
	return ping_rtt(n, received, NULL);
}

static struct netem_spec spec_of(const char *text)
{
	struct netem_spec s;
	struct netem_error e;
	if (netem_spec_parse(text, &s, &e) < 0)
		die("spec \"%s\" does not parse: %s", text, e.message);
	return s;
}

static void set(struct kernel_netem *kn, enum kernel_netem_dir dir, const char *text)
{
	char err[512];
	struct netem_spec s;
	if (text)
		s = spec_of(text);
	if (kernel_netem_set_spec(kn, dir, text ? &s : NULL, err, sizeof(err)) < 0)
		die("set %s \"%s\": %s",
		    dir == KERNEL_NETEM_TO_DEVICE ? "to_device" : "from_device",
		    text ? text : "(clear)", err);
}

static void expect_rtt(const char *what, double want_ms)
{
	int got;
	double min = -1;
	double avg = ping_rtt(5, &got, &min);
	/* netem is never early, so even the fastest reply took the configured sum;
	 * and the fastest is within 10% above it. Only the fastest: a host whose
	 * cores are busy stretches the others (measured: an average of 255.9 ms
	 * for 200 ms at load 10). */
	check(got == 5 && min >= want_ms && min < want_ms * 1.1 + 5,
	      "%s: rtt min %.1f avg %.1f ms (%d/5 replies), want %.0f ms +10%%", what, min, avg,
	      got, want_ms);
}

static void expect_dump(const char *ifname, const char *want, int present)
{
	char dump[1024];
	qdisc_dump(ifname, dump, sizeof(dump));
	int has = strstr(dump, want) != NULL;
	check(has == present, "%s dump %s \"%s\": %s", ifname, present ? "has" : "lacks", want,
	      dump);
}

/* A namespace for the device side: a child that unshares its network and waits. */
static pid_t device_namespace(void)
{
	int ready[2];
	if (pipe(ready) < 0)
		die("pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid == 0) {
		close(ready[0]);
		if (unshare(CLONE_NEWNET) < 0)
			_exit(1);
		(void)!write(ready[1], "x", 1);
		for (;;)
			pause();
	}
	close(ready[1]);
	char c;
	if (pid < 0 || read(ready[0], &c, 1) != 1)
		die("device namespace: %s", strerror(errno));
	close(ready[0]);
	return pid;
}

static void topology(pid_t device)
{
	struct nl_sock *sock = nl_socket_alloc();
	if (!sock || nl_connect(sock, NETLINK_ROUTE) < 0)
		die("rtnetlink");
	int rc = rtnl_link_veth_add(sock, TAP, PEER, device);
	if (rc < 0)
		die("veth " TAP "/" PEER ": %s", nl_geterror(rc));
	nl_socket_free(sock);
	if (sh("ip addr add 10.99.0.1/24 dev " TAP " && ip link set " TAP " up") != 0 ||
	    sh("nsenter -t %d -n sh -c 'ip link set lo up && ip addr add " DEVICE_IP "/24 dev " PEER
	       " && ip link set " PEER " up'",
	       (int)device) != 0)
		die("addresses on the veth pair");
}

/* libnl and tc must leave the same qdisc in the kernel for a spec libnl covers. */
static void same_through_both_paths(const char *text)
{
	struct netem_spec s = spec_of(text);
	char err[512], via_libnl[1024], via_tc[1024];
	check(kernel_netem_libnl_covers(&s), "libnl covers \"%s\"", text);
	/* From scratch each time: the kernel will not graft a duplicating netem
	 * in place of another netem. */
	sh("/usr/sbin/tc qdisc del dev " TAP " root 2>/dev/null");
	if (kernel_netem_apply(TAP, 0x20, &s, KERNEL_NETEM_LIBNL, err, sizeof(err)) < 0)
		die("libnl apply \"%s\": %s", text, err);
	qdisc_dump(TAP, via_libnl, sizeof(via_libnl));
	sh("/usr/sbin/tc qdisc del dev " TAP " root");
	if (kernel_netem_apply(TAP, 0x21, &s, KERNEL_NETEM_TC, err, sizeof(err)) < 0)
		die("tc apply \"%s\": %s", text, err);
	qdisc_dump(TAP, via_tc, sizeof(via_tc));
	check(strstr(via_libnl, "qdisc netem 20:") && strstr(via_tc, "qdisc netem 21:") &&
		      !strcmp(netem_options(via_libnl), netem_options(via_tc)),
	      "\"%s\" via libnl == via tc:%s", text, netem_options(via_tc));
}

/* `apply libnl|tc IFNAME SPEC`: one spec through one path, for looking into a
 * failure by hand in the guest. */
static int apply_one(char **argv)
{
	char err[512];
	struct netem_spec s = spec_of(argv[3]);
	enum kernel_netem_path path =
		!strcmp(argv[1], "libnl") ? KERNEL_NETEM_LIBNL : KERNEL_NETEM_TC;
	if (kernel_netem_apply(argv[2], 0x30, &s, path, err, sizeof(err)) < 0) {
		printf("kn-apply: %s\n", err);
		return 1;
	}
	printf("kn-apply: ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && (!strcmp(argv[1], "libnl") || !strcmp(argv[1], "tc")))
		return apply_one(argv);
	if (argc != 1) {
		fprintf(stderr, "usage: vh-kernel-netem-check [libnl|tc IFNAME SPEC]\n");
		return 2;
	}
	char why[256], err[512];
	int probed = kernel_netem_probe(why, sizeof(why));
	check(probed == 0, "probe: sch_netem usable%s%s", probed ? ": " : "", probed ? why : "");
	/* What `vharness run --backend auto` decides on a kernel like this one. */
	enum impairment_backend backend;
	int resolved = impairment_resolve("auto", &backend, why, sizeof(why), err, sizeof(err));
	check(resolved == 0 && backend == IMPAIRMENT_KERNEL, "--backend auto picks %s (%s)",
	      resolved == 0 ? impairment_backend_name(backend) : "nothing",
	      resolved == 0 ? why : err);
	pid_t device = device_namespace();
	topology(device);

	struct kernel_netem *kn = kernel_netem_attach(TAP, IFB, err, sizeof(err));
	if (!kn)
		die("attach: %s", err);
	char filters[2048];
	capture(filters, sizeof(filters), "/usr/sbin/tc filter show dev " TAP " ingress");
	check(strstr(filters, "mirred") && strstr(filters, IFB),
	      "ingress of " TAP " redirected to " IFB);

	int got;
	double base = ping_avg(5, &got);
	check(got == 5 && base >= 0 && base < 50, "no impairment: rtt %.1f ms", base);

	set(kn, KERNEL_NETEM_TO_DEVICE, "delay 100ms");
	set(kn, KERNEL_NETEM_FROM_DEVICE, "delay 100ms");
	check(kernel_netem_last_path(kn, KERNEL_NETEM_TO_DEVICE) == KERNEL_NETEM_LIBNL,
	      "delay 100ms went through libnl");
	expect_dump(TAP, "delay 100ms", 1);
	expect_dump(IFB, "delay 100ms", 1);
	expect_rtt("delay 100ms both ways", 200);

	set(kn, KERNEL_NETEM_TO_DEVICE, "delay 50ms");
	expect_dump(TAP, "delay 50ms", 1);
	expect_rtt("to_device 50ms, from_device 100ms", 150);

	if (kernel_netem_set_blocked(kn, true, err, sizeof(err)) < 0)
		die("partition: %s", err);
	expect_dump(TAP, "loss 100%", 1);
	expect_dump(IFB, "loss 100%", 1);
	ping_avg(3, &got);
	check(got == 0, "partition: %d/3 replies", got);
	if (kernel_netem_set_blocked(kn, false, err, sizeof(err)) < 0)
		die("heal: %s", err);
	expect_dump(TAP, "delay 50ms", 1);
	expect_dump(IFB, "delay 100ms", 1);
	expect_rtt("heal restores 50ms + 100ms", 150);

	/* Fields libnl cannot express go through tc, and a later spec without
	 * them must not inherit them (the qdisc is replaced, not changed). */
	set(kn, KERNEL_NETEM_FROM_DEVICE, "delay 10ms rate 1mbit slot 1ms 2ms");
	check(kernel_netem_last_path(kn, KERNEL_NETEM_FROM_DEVICE) == KERNEL_NETEM_TC,
	      "rate and slot went through tc");
	expect_dump(IFB, "rate 1Mbit", 1);
	expect_dump(IFB, "slot", 1);
	set(kn, KERNEL_NETEM_FROM_DEVICE, "delay 20ms");
	expect_dump(IFB, "delay 20ms", 1);
	expect_dump(IFB, "rate", 0);
	expect_dump(IFB, "slot", 0);
	set(kn, KERNEL_NETEM_FROM_DEVICE,
	    "delay 30ms 10ms distribution normal loss gemodel 1% 10% ecn");
	check(kernel_netem_last_path(kn, KERNEL_NETEM_FROM_DEVICE) == KERNEL_NETEM_TC,
	      "distribution, gemodel, ecn went through tc");
	expect_dump(IFB, "loss gemodel", 1);
	expect_dump(IFB, "ecn", 1);

	/* Into and out of a duplicating spec: the kernel refuses to graft these. */
	set(kn, KERNEL_NETEM_TO_DEVICE, "delay 10ms duplicate 50%");
	expect_dump(TAP, "duplicate 50%", 1);
	set(kn, KERNEL_NETEM_TO_DEVICE, "delay 10ms rate 8mbit");
	expect_dump(TAP, "duplicate", 0);

	set(kn, KERNEL_NETEM_TO_DEVICE, NULL);
	set(kn, KERNEL_NETEM_FROM_DEVICE, NULL);
	expect_dump(TAP, "netem", 0);
	expect_dump(IFB, "netem", 0);
	double cleared = ping_avg(5, &got);
	check(got == 5 && cleared < 50, "clear: rtt %.1f ms", cleared);

	same_through_both_paths("delay 100ms");
	same_through_both_paths("limit 500 delay 20ms 5ms 25% loss 2% 30% duplicate 1% 10% corrupt "
				"0.5% 5% reorder 10% 20% gap 3");
	sh("/usr/sbin/tc qdisc del dev " TAP " root");

	kernel_netem_detach(kn);
	check(sh("ip link show " IFB " >/dev/null 2>&1") != 0, "detach removed " IFB);
	capture(filters, sizeof(filters), "/usr/sbin/tc qdisc show dev " TAP " ingress");
	check(!strstr(filters, "ingress"), "detach removed the ingress qdisc");

	kill(device, SIGKILL);
	waitpid(device, NULL, 0);
	printf("kn-check: %s (%d checks, %d failed)\n", failures ? "FAIL" : "PASS", checks,
	       failures);
	return failures ? 1 : 0;
}
