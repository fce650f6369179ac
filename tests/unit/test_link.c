/* Links in a sandbox: each test forks a child that enters its own network
 * namespace (a user namespace too when unprivileged), changes links there and
 * checks them with libnl and the sandbox's own /sys. The host is never touched.
 * Tests skip when this machine cannot create the namespaces at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <linux/ethtool.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "link.h"
#include "sandbox.h"

#include "child_check.h"
#include "test_skip.h"

#define NOBODY 65534
#define CHILD_SKIP 77

static int drop_to_nobody(void)
{
	if (geteuid() != 0)
		return 0; /* already unprivileged */
	if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
		return -1;
	/* setuid clears dumpable; LeakSanitizer needs to ptrace its own process. */
	prctl(PR_SET_DUMPABLE, 1);
	return 0;
}

/* Whether the kernel lets this caller create the namespaces at all, probed
 * without sandbox.c so that a bug there fails the tests instead of skipping them. */
static bool namespaces_available(bool unprivileged)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (unprivileged && drop_to_nobody() < 0)
			_exit(1);
		int flags = CLONE_NEWNET | CLONE_NEWNS | (geteuid() == 0 ? 0 : CLONE_NEWUSER);
		_exit(unshare(flags) == 0 ? 0 : 1);
	}
	int status;
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0;
}

static ino_t netns_inode(void)
{
	struct stat st;
	if (stat("/proc/self/ns/net", &st) < 0)
		abort();
	return st.st_ino;
}

/* Runs fn in a forked child inside a fresh sandbox and asserts it returned 0. */
static void run_sandboxed(int (*fn)(void), bool unprivileged)
{
	ino_t host_netns = netns_inode();
	if (!namespaces_available(unprivileged))
		vh_skip(unprivileged ? "the kernel refuses an unprivileged user the namespaces"
				     : "the kernel refuses the namespaces");
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char err[256];
		if (unprivileged && drop_to_nobody() < 0) {
			perror("drop to nobody");
			exit(2);
		}
		if (sandbox_enter(err, sizeof err) < 0) {
			fprintf(stderr, "sandbox_enter: %s\n", err);
			exit(3);
		}
		/* Never touch links if the sandbox failed to leave the host's namespace. */
		if (netns_inode() == host_netns)
			abort();
		/* exit, not _exit: LeakSanitizer checks the link code here. */
		exit(fn());
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static uint32_t ip4(const char *text)
{
	struct in_addr a;
	if (inet_pton(AF_INET, text, &a) != 1)
		abort();
	return a.s_addr;
}

static struct rtnl_link *get_link(struct nl_sock *sock, const char *name)
{
	struct rtnl_link *link = NULL;
	if (rtnl_link_get_kernel(sock, 0, name, &link) < 0)
		return NULL;
	return link;
}

static bool link_exists(const char *name)
{
	struct nl_sock *sock = nl_socket_alloc();
	if (!sock || nl_connect(sock, NETLINK_ROUTE) < 0)
		abort();
	struct rtnl_link *link = get_link(sock, name);
	bool found = link != NULL;
	rtnl_link_put(link);
	nl_socket_free(sock);
	return found;
}

/* Whether ifindex carries IPv4 address `local`/prefix with the subnet's broadcast. */
static bool has_ipv4(struct nl_sock *sock, int ifindex, const char *local, int prefix,
		     const char *brd)
{
	struct nl_cache *cache = NULL;
	bool found = false;
	if (rtnl_addr_alloc_cache(sock, &cache) < 0)
		return false;
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		char text[64], btext[64];
		if (rtnl_addr_get_ifindex(a) != ifindex || rtnl_addr_get_family(a) != AF_INET)
			continue;
		nl_addr2str(rtnl_addr_get_local(a), text, sizeof text);
		struct nl_addr *b = rtnl_addr_get_broadcast(a);
		nl_addr2str(b, btext, sizeof btext);
		/* nl_addr2str appends "/prefix" only when it differs from the full length. */
		char want[64];
		snprintf(want, sizeof want, "%s/%d", local, prefix);
		if (strcmp(text, want) == 0 && rtnl_addr_get_prefixlen(a) == prefix && b &&
		    strcmp(btext, brd) == 0)
			found = true;
	}
	nl_cache_free(cache);
	return found;
}

/* The master's name as the sandbox's sysfs shows it, or "" without one. */
static void sysfs_master(const char *name, char *out, size_t outlen)
{
	char path[128], target[256];
	snprintf(path, sizeof path, "/sys/class/net/%s/master", name);
	ssize_t n = readlink(path, target, sizeof target - 1);
	out[0] = '\0';
	if (n > 0) {
		target[n] = '\0';
		snprintf(out, outlen, "%s", basename(target));
	}
}

/* Creates bridge vh-lan 10.77.0.1/24 and tap vht-dut-0 on it, as a run does. */
static int make_lan(struct link_ctx **ctx, int *br, int *tap)
{
	char err[256];
	*ctx = link_ctx_new(err, sizeof err);
	CHECK(*ctx != NULL);
	CHECK_OK(link_lo_up(*ctx, err, sizeof err));
	CHECK_OK(*br = link_bridge_create(*ctx, "vh-lan", ip4("10.77.0.1"), 24, err, sizeof err));
	CHECK_OK(*tap = link_tap_create(*ctx, "vht-dut-0", *br, err, sizeof err));
	return 0;
}

/* ---- bridge ---- */

static int child_bridge_is_up_with_address(void)
{
	struct link_ctx *ctx;
	int br, tap;
	CHECK(make_lan(&ctx, &br, &tap) == 0);

	struct nl_sock *sock = nl_socket_alloc();
	CHECK(sock && nl_connect(sock, NETLINK_ROUTE) == 0);
	struct rtnl_link *link = get_link(sock, "vh-lan");
	CHECK(link != NULL);
	CHECK(rtnl_link_get_ifindex(link) == br);
	CHECK(rtnl_link_get_type(link) && strcmp(rtnl_link_get_type(link), "bridge") == 0);
	CHECK(rtnl_link_get_flags(link) & IFF_UP);
	CHECK(has_ipv4(sock, br, "10.77.0.1", 24, "10.77.0.255"));
	rtnl_link_put(link);

	/* The sandbox's sysfs shows the sandbox's bridge. */
	struct stat st;
	CHECK(stat("/sys/class/net/vh-lan/bridge", &st) == 0);

	link = get_link(sock, "lo");
	CHECK(link && (rtnl_link_get_flags(link) & IFF_UP));
	rtnl_link_put(link);
	nl_socket_free(sock);
	link_ctx_free(ctx);
	return 0;
}

static void test_bridge_create_leaves_bridge_up_with_address(void **state)
{
	(void)state;
	run_sandboxed(child_bridge_is_up_with_address, false);
}

static int child_bridge_create_twice(void)
{
	char err[256] = "";
	struct link_ctx *ctx = link_ctx_new(err, sizeof err);
	CHECK(ctx);
	int br = link_bridge_create(ctx, "vh-lan", ip4("10.77.0.1"), 24, err, sizeof err);
	CHECK(br > 0);
	CHECK(link_bridge_create(ctx, "vh-lan", ip4("10.78.0.1"), 24, err, sizeof err) == -1);
	CHECK(strstr(err, "vh-lan") != NULL);
	CHECK(strchr(err, '\n') == NULL);

	/* The failed attempt must not have deleted or readdressed the original. */
	struct nl_sock *sock = nl_socket_alloc();
	CHECK(sock && nl_connect(sock, NETLINK_ROUTE) == 0);
	CHECK(has_ipv4(sock, br, "10.77.0.1", 24, "10.77.0.255"));
	CHECK(!has_ipv4(sock, br, "10.78.0.1", 24, "10.78.0.255"));
	nl_socket_free(sock);
	link_ctx_free(ctx);
	return 0;
}

static void test_bridge_create_fails_when_name_exists(void **state)
{
	(void)state;
	run_sandboxed(child_bridge_create_twice, false);
}

static int child_bridge_bad_name(void)
{
	char err[256] = "";
	struct link_ctx *ctx = link_ctx_new(err, sizeof err);
	CHECK(ctx);
	CHECK(link_bridge_create(ctx, "vh-0123456789abc", ip4("10.77.0.1"), 24, err, sizeof err) ==
	      -1);
	CHECK(strstr(err, "bad link name") != NULL);
	CHECK(link_bridge_create(ctx, "vh-lan", ip4("10.77.0.1"), 33, err, sizeof err) == -1);
	CHECK(!link_exists("vh-lan"));
	link_ctx_free(ctx);
	return 0;
}

static void test_bridge_create_rejects_long_name_and_bad_prefix(void **state)
{
	(void)state;
	run_sandboxed(child_bridge_bad_name, false);
}

/* ---- tap ---- */

static int child_tap_enslaved(void)
{
	struct link_ctx *ctx;
	int br, tap;
	CHECK(make_lan(&ctx, &br, &tap) == 0);

	struct nl_sock *sock = nl_socket_alloc();
	CHECK(sock && nl_connect(sock, NETLINK_ROUTE) == 0);
	struct rtnl_link *link = get_link(sock, "vht-dut-0");
	CHECK(link != NULL);
	CHECK(rtnl_link_get_ifindex(link) == tap);
	CHECK(rtnl_link_get_master(link) == br);
	CHECK(rtnl_link_get_flags(link) & IFF_UP);
	rtnl_link_put(link);
	nl_socket_free(sock);

	char master[64];
	sysfs_master("vht-dut-0", master, sizeof master);
	CHECK(strcmp(master, "vh-lan") == 0);

	/* QEMU's tap backend attaches by name, asking for a vnet header. */
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "vht-dut-0");
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	CHECK(ioctl(fd, TUNSETIFF, &ifr) == 0);
	close(fd);

	/* Persistent: still there after the attacher closed it. */
	CHECK(link_exists("vht-dut-0"));
	link_ctx_free(ctx);
	return 0;
}

static void test_tap_create_enslaves_tap_to_bridge_and_sets_it_up(void **state)
{
	(void)state;
	run_sandboxed(child_tap_enslaved, false);
}

static int child_tap_twice(void)
{
	struct link_ctx *ctx;
	int br, tap;
	char err[256] = "";
	CHECK(make_lan(&ctx, &br, &tap) == 0);
	CHECK(link_tap_create(ctx, "vht-dut-0", br, err, sizeof err) == -1);
	CHECK(strstr(err, "vht-dut-0") != NULL);
	/* The original is untouched, still enslaved. */
	char master[64];
	sysfs_master("vht-dut-0", master, sizeof master);
	CHECK(strcmp(master, "vh-lan") == 0);
	/* Nor can a tap take a bridge's name. */
	CHECK(link_tap_create(ctx, "vh-lan", br, err, sizeof err) == -1);
	link_ctx_free(ctx);
	return 0;
}

static void test_tap_create_fails_when_name_exists(void **state)
{
	(void)state;
	run_sandboxed(child_tap_twice, false);
}

static int child_tap_bad_master(void)
{
	char err[256] = "";
	struct link_ctx *ctx = link_ctx_new(err, sizeof err);
	CHECK(ctx);
	CHECK(link_tap_create(ctx, "vht-dut-0", 4242, err, sizeof err) == -1);
	CHECK(strstr(err, "vht-dut-0") != NULL);
	CHECK(!link_exists("vht-dut-0"));
	link_ctx_free(ctx);
	return 0;
}

static void test_tap_create_with_missing_bridge_leaves_nothing_behind(void **state)
{
	(void)state;
	run_sandboxed(child_tap_bad_master, false);
}

/* ---- delete ---- */

static int child_delete(void)
{
	struct link_ctx *ctx;
	int br, tap;
	char err[256] = "";
	CHECK(make_lan(&ctx, &br, &tap) == 0);
	CHECK_OK(link_delete(ctx, "vht-dut-0", err, sizeof err));
	CHECK(!link_exists("vht-dut-0"));
	CHECK(link_exists("vh-lan"));
	CHECK_OK(link_delete(ctx, "vh-lan", err, sizeof err));
	CHECK(!link_exists("vh-lan"));
	CHECK_OK(link_delete(ctx, "vh-lan", err, sizeof err)); /* missing: fine */
	link_ctx_free(ctx);
	return 0;
}

static void test_delete_removes_links_and_ignores_missing_ones(void **state)
{
	(void)state;
	run_sandboxed(child_delete, false);
}

/* ---- offload ---- */

static int tap_offload(const char *name, bool *csum, bool *tso)
{
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return -1;
	struct ifreq ifr;
	struct ethtool_value v;
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, name);
	ifr.ifr_data = (void *)&v;
	v.cmd = ETHTOOL_GTXCSUM;
	int rc = ioctl(sock, SIOCETHTOOL, &ifr);
	*csum = v.data != 0;
	v.cmd = ETHTOOL_GTSO;
	if (rc == 0)
		rc = ioctl(sock, SIOCETHTOOL, &ifr);
	*tso = v.data != 0;
	close(sock);
	return rc;
}

static int child_clear_offload(void)
{
	struct link_ctx *ctx;
	int br, tap;
	char err[256] = "";
	bool csum, tso;
	CHECK(make_lan(&ctx, &br, &tap) == 0);

	/* What QEMU's tap backend leaves behind: vnet header, csum and TSO on. */
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "vht-dut-0");
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	CHECK(ioctl(fd, TUNSETIFF, &ifr) == 0);
	CHECK(ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)) == 0);

	/* While QEMU holds it, the tap cannot be taken. */
	CHECK(link_tap_open("vht-dut-0", err, sizeof err) == -1);
	CHECK(strstr(err, "holds it") != NULL);
	close(fd);
	CHECK(tap_offload("vht-dut-0", &csum, &tso) == 0);
	CHECK(csum && tso);

	CHECK_OK(link_tap_clear_offload("vht-dut-0", err, sizeof err));
	CHECK(tap_offload("vht-dut-0", &csum, &tso) == 0);
	CHECK(!csum && !tso);
	CHECK(link_exists("vht-dut-0"));
	link_ctx_free(ctx);
	return 0;
}

static void test_tap_clear_offload_clears_flags_qemu_left(void **state)
{
	(void)state;
	run_sandboxed(child_clear_offload, false);
}

static int child_tap_open(void)
{
	struct link_ctx *ctx;
	int br, tap;
	char err[256] = "";
	CHECK(make_lan(&ctx, &br, &tap) == 0);

	int fd = link_tap_open("vht-dut-0", err, sizeof err);
	CHECK_OK(fd);
	CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	/* Non-blocking: a read returns at once. The kernel may already have
	 * put frames on the new link (IPv6 router solicitations, MLD reports),
	 * so read until it says there is nothing left, which must come soon. */
	char frame[2048];
	ssize_t n;
	int frames = 0;
	while ((n = read(fd, frame, sizeof frame)) > 0 && frames < 100)
		frames++;
	CHECK(n == -1 && errno == EAGAIN);
	close(fd);

	/* Must not conjure up a tap that does not exist. */
	CHECK(link_tap_open("vht-nope-0", err, sizeof err) == -1);
	CHECK(!link_exists("vht-nope-0"));
	link_ctx_free(ctx);
	return 0;
}

static void test_tap_open_attaches_existing_tap_only(void **state)
{
	(void)state;
	run_sandboxed(child_tap_open, false);
}

/* ---- unprivileged ---- */

static int child_unprivileged_lan(void)
{
	struct link_ctx *ctx;
	int br, tap;
	char err[256] = "";
	CHECK(geteuid() == 0); /* the mapped root */
	CHECK(make_lan(&ctx, &br, &tap) == 0);
	char master[64];
	sysfs_master("vht-dut-0", master, sizeof master);
	CHECK(strcmp(master, "vh-lan") == 0);
	CHECK_OK(link_tap_clear_offload("vht-dut-0", err, sizeof err));
	link_ctx_free(ctx);
	return 0;
}

static void test_unprivileged_user_creates_bridge_and_tap_in_own_namespace(void **state)
{
	(void)state;
	run_sandboxed(child_unprivileged_lan, true);
}

/* ---- cidr (no namespace needed) ---- */

static void expect_cidr(const char *s, const char *net, int prefix)
{
	uint32_t got = 0;
	int bits = 0;
	if (link_parse_cidr(s, &got, &bits) != 0)
		fail_msg("rejected \"%s\"", s);
	assert_int_equal(got, ip4(net));
	assert_int_equal(bits, prefix);
}

static void test_parse_cidr_accepts_network_addresses(void **state)
{
	(void)state;
	expect_cidr("10.77.0.0/24", "10.77.0.0", 24);
	expect_cidr("192.168.0.0/16", "192.168.0.0", 16);
	expect_cidr("10.0.0.0/8", "10.0.0.0", 8);
	expect_cidr("10.77.0.4/30", "10.77.0.4", 30);
	expect_cidr("172.16.0.0/12", "172.16.0.0", 12);
}

static void test_parse_cidr_rejects_host_bits_bad_prefix_and_junk(void **state)
{
	(void)state;
	const char *bad[] = {
		"10.77.0.1/24", /* host bits: probably a mistyped subnet */
		"10.77.0.0/31", /* no room for .1 plus a device */
		"10.77.0.0/32",
		"10.0.0.0/7",
		"0.0.0.0/0",
		"10.77.0.0",
		"10.77.0.0/",
		"/24",
		"10.77.0.0/024",
		"10.077.0.0/24",
		"10.77.0/24",
		"10.77.0.0/24x",
		"10.77.0.0/ 24",
		"10.77.0.0/+24",
		"10.77.0.0/-24",
		"256.0.0.0/8",
		" 10.77.0.0/24",
		"10.77.0.0/24/24",
		"",
		"10.77.0.0.0/24",
		"0x0a.0.0.0/8",
		"10.77.0.0/100",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint32_t net = 0xdeadbeef;
		int prefix = -5;
		if (link_parse_cidr(bad[i], &net, &prefix) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(net, 0xdeadbeef);
		assert_int_equal(prefix, -5);
	}
	uint32_t net;
	int prefix;
	assert_int_equal(link_parse_cidr(NULL, &net, &prefix), -1);
}

/* ---- names ---- */

static void test_name_make_joins_prefix_base_and_number(void **state)
{
	(void)state;
	char out[LINK_NAME_SIZE];
	assert_int_equal(link_name_make(out, "vh-", "lan", -1), 6);
	assert_string_equal(out, "vh-lan");
	assert_int_equal(link_name_make(out, "vht-", "dut", 0), 9);
	assert_string_equal(out, "vht-dut-0");
	assert_int_equal(link_name_make(out, "vht-", "dut", 12), 10);
	assert_string_equal(out, "vht-dut-12");
	/* Exactly 15 characters still fits untouched. */
	assert_int_equal(link_name_make(out, "vh-", "abcdefghijkl", -1), 15);
	assert_string_equal(out, "vh-abcdefghijkl");
}

static void test_name_make_truncates_long_names_and_keeps_them_apart(void **state)
{
	(void)state;
	char a[LINK_NAME_SIZE], b[LINK_NAME_SIZE], again[LINK_NAME_SIZE];
	int la = link_name_make(a, "vht-", "gateway-primary", 3);
	int lb = link_name_make(b, "vht-", "gateway-secondary", 3);
	assert_int_equal(la, 15);
	assert_int_equal(lb, 15);
	assert_int_equal(strlen(a), 15);
	assert_true(strncmp(a, "vht-gate", 8) == 0);
	assert_true(strcmp(a + strlen(a) - 2, "-3") == 0);
	assert_string_not_equal(a, b);
	/* Stable: the same device gets the same tap name in every run. */
	link_name_make(again, "vht-", "gateway-primary", 3);
	assert_string_equal(a, again);
	/* One character over the limit is enough to switch to the hashed form. */
	assert_int_equal(link_name_make(a, "vh-", "abcdefghijklm", -1), 15);
	assert_string_not_equal(a, "vh-abcdefghijkl");
}

static void test_name_make_replaces_characters_links_cannot_have(void **state)
{
	(void)state;
	char a[LINK_NAME_SIZE], b[LINK_NAME_SIZE];
	assert_true(link_name_make(a, "vh-", "a/b", -1) > 0);
	assert_true(link_name_make(b, "vh-", "a:b", -1) > 0);
	assert_null(strpbrk(a, "/: \t"));
	assert_null(strpbrk(b, "/: \t"));
	assert_true(strncmp(a, "vh-a_b", 6) == 0);
	assert_string_not_equal(a, b); /* both became a_b: the hash tells them apart */
	assert_true(link_name_make(a, "vh-", "my lan", -1) > 0);
	assert_null(strchr(a, ' '));
}

static void test_name_make_fails_without_room_or_base(void **state)
{
	(void)state;
	char out[LINK_NAME_SIZE];
	assert_int_equal(link_name_make(out, "vh-", "", -1), -1);
	assert_string_equal(out, "");
	assert_int_equal(link_name_make(out, "vh-", "lan", -2), -1);
	assert_int_equal(link_name_make(out, "0123456789abc", "lan", -1), -1);
	assert_int_equal(link_name_make(out, "vh/", "lan", -1), -1);
	assert_int_equal(link_name_make(out, "", ".", -1), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bridge_create_leaves_bridge_up_with_address),
		cmocka_unit_test(test_bridge_create_fails_when_name_exists),
		cmocka_unit_test(test_bridge_create_rejects_long_name_and_bad_prefix),
		cmocka_unit_test(test_tap_create_enslaves_tap_to_bridge_and_sets_it_up),
		cmocka_unit_test(test_tap_create_fails_when_name_exists),
		cmocka_unit_test(test_tap_create_with_missing_bridge_leaves_nothing_behind),
		cmocka_unit_test(test_delete_removes_links_and_ignores_missing_ones),
		cmocka_unit_test(test_tap_clear_offload_clears_flags_qemu_left),
		cmocka_unit_test(test_tap_open_attaches_existing_tap_only),
		cmocka_unit_test(test_unprivileged_user_creates_bridge_and_tap_in_own_namespace),
		cmocka_unit_test(test_parse_cidr_accepts_network_addresses),
		cmocka_unit_test(test_parse_cidr_rejects_host_bits_bad_prefix_and_junk),
		cmocka_unit_test(test_name_make_joins_prefix_base_and_number),
		cmocka_unit_test(test_name_make_truncates_long_names_and_keeps_them_apart),
		cmocka_unit_test(test_name_make_replaces_characters_links_cannot_have),
		cmocka_unit_test(test_name_make_fails_without_room_or_base),
	};
	return vh_run_tests(tests, NULL, NULL);
}
