/* The sandbox: each test forks a child that calls sandbox_enter() (dropping to
 * uid 65534 first for the unprivileged cases) and reports through its exit
 * status; the parent checks what the host still sees. Tests skip when this
 * machine cannot create the namespaces at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "link.h"
#include "sandbox.h"

#include "child_check.h"
#include "test_skip.h"

#define NOBODY 65534

enum who { AS_CALLER, AS_NOBODY, AS_ROOT_WITHOUT_SYS_ADMIN };

/* Keeps uid 0 but drops CAP_SYS_ADMIN, as in an unprivileged container. */
static int drop_sys_admin(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -1;
	data[0].effective &= ~(1u << CAP_SYS_ADMIN);
	data[0].permitted &= ~(1u << CAP_SYS_ADMIN);
	data[0].inheritable &= ~(1u << CAP_SYS_ADMIN);
	return (int)syscall(SYS_capset, &hdr, data);
}

static int become(enum who who)
{
	if (who == AS_ROOT_WITHOUT_SYS_ADMIN)
		return geteuid() == 0 ? drop_sys_admin() : -1;
	if (who != AS_NOBODY || geteuid() != 0)
		return 0;
	if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
		return -1;
	/* setuid clears dumpable; LeakSanitizer needs to ptrace its own process. */
	prctl(PR_SET_DUMPABLE, 1);
	return 0;
}

/* Whether the kernel lets `who` create the namespaces at all, probed without
 * sandbox.c so that a bug there fails the tests instead of skipping them. */
static bool namespaces_available(enum who who)
{
	if (who == AS_ROOT_WITHOUT_SYS_ADMIN && geteuid() != 0)
		return false;
	pid_t pid = fork();
	if (pid == 0) {
		if (become(who) < 0)
			_exit(1);
		bool root = geteuid() == 0 && who != AS_ROOT_WITHOUT_SYS_ADMIN;
		int flags = CLONE_NEWNET | CLONE_NEWNS | (root ? 0 : CLONE_NEWUSER);
		_exit(unshare(flags) == 0 ? 0 : 1);
	}
	int status;
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0;
}

/* Runs fn as `who` in a forked child and asserts it returned 0. fn calls
 * sandbox_enter() itself, so it can check what happens before and after. */
static void run_child(int (*fn)(void), enum who who)
{
	if (!namespaces_available(who))
		vh_skip(who == AS_ROOT_WITHOUT_SYS_ADMIN && geteuid() != 0
				? "dropping CAP_SYS_ADMIN as root needs root"
				: "the kernel refuses this user the namespaces");
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (become(who) < 0) {
			perror("become");
			exit(2);
		}
		exit(fn());
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static ino_t ns_inode(const char *which)
{
	char path[64];
	struct stat st;
	snprintf(path, sizeof path, "/proc/self/ns/%s", which);
	if (stat(path, &st) < 0)
		abort();
	return st.st_ino;
}

/* Names in /sys/class/net, sorted, space-separated. */
static void sysfs_links(char *out, size_t outlen)
{
	struct dirent **names;
	int n = scandir("/sys/class/net", &names, NULL, alphasort);
	size_t len = 0;
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.' && len < outlen)
			len += (size_t)snprintf(out + len, outlen - len, "%s ", names[i]->d_name);
		free(names[i]);
	}
	if (n >= 0)
		free(names);
}

static int read_file(const char *path, char *out, size_t outlen)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(out, 1, outlen - 1, f);
	out[n] = '\0';
	fclose(f);
	return 0;
}

/* ---- entering ---- */

static ino_t parent_netns, parent_mntns;

static int child_new_namespace(void)
{
	char err[256] = "", links[256];
	CHECK(ns_inode("net") == parent_netns);
	CHECK_OK(sandbox_enter(err, sizeof err));
	CHECK(ns_inode("net") != parent_netns);
	CHECK(ns_inode("mnt") != parent_mntns);
	/* A fresh namespace has only a loopback, and /sys shows this namespace. */
	sysfs_links(links, sizeof links);
	CHECK(strcmp(links, "lo ") == 0);
	return 0;
}

static void test_sandbox_enter_moves_process_to_new_network_namespace(void **state)
{
	(void)state;
	parent_netns = ns_inode("net");
	parent_mntns = ns_inode("mnt");
	run_child(child_new_namespace, AS_CALLER);
}

static int child_unprivileged(void)
{
	char err[256] = "", map[128];
	uid_t uid = geteuid();
	gid_t gid = getegid();
	CHECK(uid != 0);
	CHECK_OK(sandbox_enter(err, sizeof err));
	CHECK(geteuid() == 0 && getegid() == 0);
	CHECK(ns_inode("user") != 0 && ns_inode("net") != parent_netns);
	CHECK(read_file("/proc/self/uid_map", map, sizeof map) == 0);
	/* uid_map pads with spaces: compare the numbers, not the layout. */
	unsigned inside, outside, count;
	CHECK(sscanf(map, "%u %u %u", &inside, &outside, &count) == 3);
	CHECK(inside == 0 && outside == uid && count == 1);
	CHECK(read_file("/proc/self/gid_map", map, sizeof map) == 0);
	CHECK(sscanf(map, "%u %u %u", &inside, &outside, &count) == 3);
	CHECK(inside == 0 && outside == gid && count == 1);
	char links[256];
	sysfs_links(links, sizeof links);
	CHECK(strcmp(links, "lo ") == 0);
	return 0;
}

static void test_sandbox_enter_as_unprivileged_user_maps_caller_to_root(void **state)
{
	(void)state;
	parent_netns = ns_inode("net");
	run_child(child_unprivileged, AS_NOBODY);
}

static int child_root_without_sys_admin(void)
{
	char err[256] = "";
	ino_t userns = ns_inode("user");
	CHECK(geteuid() == 0);
	CHECK_OK(sandbox_enter(err, sizeof err));
	CHECK(ns_inode("user") != userns);
	CHECK(ns_inode("net") != parent_netns);
	return 0;
}

static void test_sandbox_enter_as_root_without_sys_admin_falls_back_to_user_namespace(void **state)
{
	(void)state;
	parent_netns = ns_inode("net");
	run_child(child_root_without_sys_admin, AS_ROOT_WITHOUT_SYS_ADMIN);
}

static void *idle_thread(void *arg)
{
	pause();
	return arg;
}

static int child_threaded(void)
{
	char err[256] = "";
	pthread_t t;
	CHECK(pthread_create(&t, NULL, idle_thread, NULL) == 0);
	CHECK(sandbox_enter(err, sizeof err) == -1);
	CHECK(strstr(err, "threads") != NULL);
	CHECK(strchr(err, '\n') == NULL);
	CHECK(ns_inode("net") == parent_netns);
	return 0;
}

static void test_sandbox_enter_with_threads_fails_with_one_line_reason(void **state)
{
	(void)state;
	parent_netns = ns_inode("net");
	run_child(child_threaded, AS_NOBODY);
}

/* ---- the host stays as it was ---- */

/* The host's links (name, index, type, flags without the carrier-driven ones,
 * master, mtu), addresses and qdiscs, one per line. */
static char *host_snapshot(void)
{
	struct nl_sock *sock = nl_socket_alloc();
	struct nl_cache *links = NULL, *addrs = NULL, *qdiscs = NULL;
	char *buf = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&buf, &size);
	if (!sock || !out || nl_connect(sock, NETLINK_ROUTE) < 0 ||
	    rtnl_link_alloc_cache(sock, AF_UNSPEC, &links) < 0 ||
	    rtnl_addr_alloc_cache(sock, &addrs) < 0 || rtnl_qdisc_alloc_cache(sock, &qdiscs) < 0)
		abort();
	for (struct nl_object *o = nl_cache_get_first(links); o; o = nl_cache_get_next(o)) {
		struct rtnl_link *l = (struct rtnl_link *)o;
		unsigned flags = rtnl_link_get_flags(l) &
				 ~(unsigned)(IFF_RUNNING | IFF_LOWER_UP | IFF_DORMANT);
		fprintf(out, "link %d %s %s flags=%x master=%d mtu=%u\n", rtnl_link_get_ifindex(l),
			rtnl_link_get_name(l), rtnl_link_get_type(l) ? rtnl_link_get_type(l) : "-",
			flags, rtnl_link_get_master(l), rtnl_link_get_mtu(l));
	}
	for (struct nl_object *o = nl_cache_get_first(addrs); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		char text[128];
		nl_addr2str(rtnl_addr_get_local(a), text, sizeof text);
		fprintf(out, "addr %d %s/%d\n", rtnl_addr_get_ifindex(a), text,
			rtnl_addr_get_prefixlen(a));
	}
	for (struct nl_object *o = nl_cache_get_first(qdiscs); o; o = nl_cache_get_next(o)) {
		struct rtnl_tc *q = (struct rtnl_tc *)o;
		fprintf(out, "qdisc %d %s handle=%x parent=%x\n", rtnl_tc_get_ifindex(q),
			rtnl_tc_get_kind(q), rtnl_tc_get_handle(q), rtnl_tc_get_parent(q));
	}
	fclose(out);
	nl_cache_free(qdiscs);
	nl_cache_free(addrs);
	nl_cache_free(links);
	nl_socket_free(sock);
	return buf;
}

/* Builds what a run builds, with names a careless implementation could
 * collide with on the host. */
static int child_builds_a_lan(void)
{
	char err[256] = "";
	CHECK_OK(sandbox_enter(err, sizeof err));
	/* Never build anything if the sandbox failed to leave the host's namespace. */
	if (ns_inode("net") == parent_netns)
		abort();
	struct link_ctx *ctx = link_ctx_new(err, sizeof err);
	CHECK(ctx);
	struct in_addr a;
	inet_pton(AF_INET, "10.77.0.1", &a);
	int br;
	CHECK_OK(link_lo_up(ctx, err, sizeof err));
	CHECK_OK(br = link_bridge_create(ctx, "vh-lan", a.s_addr, 24, err, sizeof err));
	CHECK_OK(link_tap_create(ctx, "vht-dut-0", br, err, sizeof err));
	CHECK_OK(link_tap_create(ctx, "tap0", br, err, sizeof err));
	CHECK_OK(link_tap_clear_offload("tap0", err, sizeof err));
	link_ctx_free(ctx);
	return 0;
}

static void check_host_unchanged_by(enum who who)
{
	parent_netns = ns_inode("net");
	char *before = host_snapshot();
	char mounts_before[16384], mounts_after[16384], links_before[1024], links_after[1024];
	assert_int_equal(read_file("/proc/self/mountinfo", mounts_before, sizeof mounts_before), 0);
	sysfs_links(links_before, sizeof links_before);

	run_child(child_builds_a_lan, who);

	char *after = host_snapshot();
	assert_string_equal(before, after);
	assert_null(strstr(after, "vh-lan"));
	assert_int_equal(read_file("/proc/self/mountinfo", mounts_after, sizeof mounts_after), 0);
	assert_string_equal(mounts_before, mounts_after);
	sysfs_links(links_after, sizeof links_after);
	assert_string_equal(links_before, links_after);
	free(before);
	free(after);
}

static void test_sandbox_leaves_host_namespace_unchanged(void **state)
{
	(void)state;
	check_host_unchanged_by(AS_CALLER);
}

static void test_sandbox_leaves_host_namespace_unchanged_when_unprivileged(void **state)
{
	(void)state;
	check_host_unchanged_by(AS_NOBODY);
}

/* systemd makes / shared; a sandbox that mounted its sysfs without first
 * making its mounts slaves would mount it over the host's /sys too. This
 * machine's / may not be shared, so the child builds a stand-in host: its own
 * mount namespace, cut off from the real host (private), then shared. */
static int child_shared_host_root(void)
{
	static char before[16384], after[16384];
	CHECK(unshare(CLONE_NEWNS) == 0);
	CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
	CHECK(mount(NULL, "/", NULL, MS_REC | MS_SHARED, NULL) == 0);
	CHECK(read_file("/proc/self/mountinfo", before, sizeof before) == 0);
	CHECK(strstr(before, "shared:") != NULL);

	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		char err[256];
		if (sandbox_enter(err, sizeof err) < 0) {
			fprintf(stderr, "sandbox_enter: %s\n", err);
			_exit(1);
		}
		_exit(0);
	}
	int status;
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(read_file("/proc/self/mountinfo", after, sizeof after) == 0);
	CHECK(strcmp(before, after) == 0);
	return 0;
}

static void test_sandbox_sysfs_mount_does_not_propagate_to_shared_host_root(void **state)
{
	(void)state;
	if (geteuid() != 0)
		vh_skip("only root can shape a mount namespace to stand in for the host");
	run_child(child_shared_host_root, AS_CALLER);
}

/* ---- probe ---- */

static void test_sandbox_userns_available_leaves_caller_unchanged(void **state)
{
	(void)state;
	ino_t net = ns_inode("net"), user = ns_inode("user"), mnt = ns_inode("mnt");
	uid_t uid = geteuid();
	bool available = sandbox_userns_available();
	assert_int_equal(ns_inode("net"), net);
	assert_int_equal(ns_inode("user"), user);
	assert_int_equal(ns_inode("mnt"), mnt);
	assert_int_equal(geteuid(), uid);
	/* It must agree with an independent probe of the same thing. */
	assert_int_equal(available, namespaces_available(AS_NOBODY));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sandbox_enter_moves_process_to_new_network_namespace),
		cmocka_unit_test(test_sandbox_enter_as_unprivileged_user_maps_caller_to_root),
		cmocka_unit_test(
			test_sandbox_enter_as_root_without_sys_admin_falls_back_to_user_namespace),
		cmocka_unit_test(test_sandbox_enter_with_threads_fails_with_one_line_reason),
		cmocka_unit_test(test_sandbox_leaves_host_namespace_unchanged),
		cmocka_unit_test(test_sandbox_leaves_host_namespace_unchanged_when_unprivileged),
		cmocka_unit_test(test_sandbox_sysfs_mount_does_not_propagate_to_shared_host_root),
		cmocka_unit_test(test_sandbox_userns_available_leaves_caller_unchanged),
	};
	return vh_run_tests(tests, NULL, NULL);
}
