/* Bridges and taps through libnl-route-3 and the tun ioctl: see link.h. */
#include "link.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

_Static_assert(LINK_NAME_SIZE == IFNAMSIZ, "LINK_NAME_SIZE must match the kernel's IFNAMSIZ");

#define LINK_TUN_PATH "/dev/net/tun"

struct link_ctx {
	struct nl_sock *sock;
};

struct link_ctx *link_ctx_new(char *err, size_t errlen)
{
	struct link_ctx *ctx = calloc(1, sizeof *ctx);
	if (!ctx) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ctx->sock = nl_socket_alloc();
	if (!ctx->sock) {
		snprintf(err, errlen, "cannot allocate a netlink socket");
		free(ctx);
		return NULL;
	}
	int rc = nl_connect(ctx->sock, NETLINK_ROUTE);
	if (rc < 0) {
		snprintf(err, errlen, "cannot open rtnetlink: %s", nl_geterror(rc));
		nl_socket_free(ctx->sock);
		free(ctx);
		return NULL;
	}
	return ctx;
}

void link_ctx_free(struct link_ctx *ctx)
{
	if (!ctx)
		return;
	nl_socket_free(ctx->sock);
	free(ctx);
}

static bool link_name_ok(const char *name, char *err, size_t errlen)
{
	size_t len = name ? strlen(name) : 0;
	if (len == 0 || len >= IFNAMSIZ) {
		snprintf(err, errlen, "bad link name \"%s\": must be 1..%d characters",
			 name ? name : "", IFNAMSIZ - 1);
		return false;
	}
	return true;
}

/* Brings `name` up and, when master_ifindex > 0, enslaves it in the same
 * request. The master is read back afterwards because some kernels accept
 * IFLA_MASTER for a device that cannot be a port and silently ignore it. */
static int link_set_up(struct link_ctx *ctx, const char *name, int master_ifindex, char *err,
		       size_t errlen)
{
	struct rtnl_link *orig = NULL, *change = NULL, *now = NULL;
	int ret = -1;

	int rc = rtnl_link_get_kernel(ctx->sock, 0, name, &orig);
	if (rc < 0) {
		snprintf(err, errlen, "cannot find link %s: %s", name, nl_geterror(rc));
		goto out;
	}
	change = rtnl_link_alloc();
	if (!change) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	rtnl_link_set_flags(change, IFF_UP);
	if (master_ifindex > 0)
		rtnl_link_set_master(change, master_ifindex);
	rc = rtnl_link_change(ctx->sock, orig, change, 0);
	if (rc < 0) {
		if (master_ifindex > 0)
			snprintf(err, errlen, "cannot enslave %s to ifindex %d and set it up: %s",
				 name, master_ifindex, nl_geterror(rc));
		else
			snprintf(err, errlen, "cannot set %s up: %s", name, nl_geterror(rc));
		goto out;
	}
	if (master_ifindex > 0) {
		rc = rtnl_link_get_kernel(ctx->sock, 0, name, &now);
		if (rc < 0 || rtnl_link_get_master(now) != master_ifindex) {
			snprintf(err, errlen,
				 "cannot enslave %s to ifindex %d: the kernel ignored it", name,
				 master_ifindex);
			goto out;
		}
	}
	ret = 0;
out:
	rtnl_link_put(now);
	rtnl_link_put(change);
	rtnl_link_put(orig);
	return ret;
}

static int link_ifindex(struct link_ctx *ctx, const char *name, char *err, size_t errlen)
{
	struct rtnl_link *link = NULL;
	int rc = rtnl_link_get_kernel(ctx->sock, 0, name, &link);
	if (rc < 0) {
		snprintf(err, errlen, "cannot find link %s: %s", name, nl_geterror(rc));
		return -1;
	}
	int ifindex = rtnl_link_get_ifindex(link);
	rtnl_link_put(link);
	return ifindex;
}

int link_lo_up(struct link_ctx *ctx, char *err, size_t errlen)
{
	return link_set_up(ctx, "lo", 0, err, errlen);
}

static int link_addr_add(struct link_ctx *ctx, const char *name, int ifindex, uint32_t addr_be,
			 int prefix, char *err, size_t errlen)
{
	struct rtnl_addr *addr = rtnl_addr_alloc();
	struct nl_addr *local = nl_addr_build(AF_INET, &addr_be, sizeof addr_be);
	uint32_t mask = prefix == 0 ? 0 : htonl(~UINT32_C(0) << (32 - prefix));
	uint32_t bcast_be = addr_be | ~mask;
	struct nl_addr *bcast = nl_addr_build(AF_INET, &bcast_be, sizeof bcast_be);
	char text[INET_ADDRSTRLEN];
	int ret = -1;

	if (!addr || !local || !bcast) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	nl_addr_set_prefixlen(local, prefix);
	rtnl_addr_set_ifindex(addr, ifindex);
	rtnl_addr_set_family(addr, AF_INET);
	rtnl_addr_set_prefixlen(addr, prefix);
	int rc = rtnl_addr_set_local(addr, local);
	if (rc == 0)
		rc = rtnl_addr_set_broadcast(addr, bcast);
	if (rc == 0)
		rc = rtnl_addr_add(ctx->sock, addr, 0);
	if (rc < 0) {
		inet_ntop(AF_INET, &addr_be, text, sizeof text);
		snprintf(err, errlen, "cannot add address %s/%d to %s: %s", text, prefix, name,
			 nl_geterror(rc));
		goto out;
	}
	ret = 0;
out:
	nl_addr_put(bcast);
	nl_addr_put(local);
	rtnl_addr_put(addr);
	return ret;
}

int link_bridge_create(struct link_ctx *ctx, const char *name, uint32_t addr_be, int prefix,
		       char *err, size_t errlen)
{
	if (!link_name_ok(name, err, errlen))
		return -1;
	if (prefix < 1 || prefix > 32) {
		snprintf(err, errlen, "bad prefix /%d for bridge %s", prefix, name);
		return -1;
	}
	struct rtnl_link *link = rtnl_link_bridge_alloc();
	if (!link) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rtnl_link_set_name(link, name);
	int rc = rtnl_link_add(ctx->sock, link, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(link);
	if (rc < 0) {
		snprintf(err, errlen, "cannot create bridge %s: %s", name, nl_geterror(rc));
		return -1;
	}
	int ifindex = link_ifindex(ctx, name, err, errlen);
	if (ifindex < 0 || link_addr_add(ctx, name, ifindex, addr_be, prefix, err, errlen) < 0 ||
	    link_set_up(ctx, name, 0, err, errlen) < 0) {
		char ignored[128];
		link_delete(ctx, name, ignored, sizeof ignored);
		return -1;
	}
	return ifindex;
}

int link_tap_create(struct link_ctx *ctx, const char *name, int bridge_ifindex, char *err,
		    size_t errlen)
{
	if (!link_name_ok(name, err, errlen))
		return -1;
	int fd = open(LINK_TUN_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", LINK_TUN_PATH, strerror(errno));
		return -1;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	/* IFF_TUN_EXCL: without it TUNSETIFF silently attaches to an existing tap. */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL;
	memcpy(ifr.ifr_name, name, strlen(name) + 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		close(fd);
		snprintf(err, errlen, "cannot create tap %s: %s", name,
			 e == EBUSY ? "a link with that name exists" : strerror(e));
		return -1;
	}
	/* Persistent so the device outlives this fd and QEMU can attach by name. */
	if (ioctl(fd, TUNSETPERSIST, 1) < 0) {
		int e = errno;
		close(fd);
		snprintf(err, errlen, "cannot make tap %s persistent: %s", name, strerror(e));
		return -1;
	}
	close(fd);

	int ifindex = link_ifindex(ctx, name, err, errlen);
	if (ifindex < 0 || link_set_up(ctx, name, bridge_ifindex, err, errlen) < 0) {
		char ignored[128];
		link_delete(ctx, name, ignored, sizeof ignored);
		return -1;
	}
	return ifindex;
}

int link_tap_open(const char *name, char *err, size_t errlen)
{
	if (!link_name_ok(name, err, errlen))
		return -1;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	memcpy(ifr.ifr_name, name, strlen(name) + 1);

	/* TUNSETIFF would create a missing tap, and a fresh, non-persistent one
	 * would vanish with our fd: look first. */
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0) {
		snprintf(err, errlen, "cannot open a socket: %s", strerror(errno));
		return -1;
	}
	int rc = ioctl(sock, SIOCGIFINDEX, &ifr);
	int e = errno;
	close(sock);
	if (rc < 0) {
		snprintf(err, errlen, "cannot find tap %s: %s", name, strerror(e));
		return -1;
	}

	int fd = open(LINK_TUN_PATH, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", LINK_TUN_PATH, strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof ifr);
	memcpy(ifr.ifr_name, name, strlen(name) + 1);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		e = errno;
		close(fd);
		snprintf(err, errlen, "cannot attach to tap %s: %s%s", name, strerror(e),
			 e == EBUSY ? " (another process, e.g. QEMU, holds it)" : "");
		return -1;
	}
	if (ioctl(fd, TUNSETOFFLOAD, 0UL) < 0) {
		e = errno;
		close(fd);
		snprintf(err, errlen, "cannot clear offloads on tap %s: %s", name, strerror(e));
		return -1;
	}
	return fd;
}

int link_tap_clear_offload(const char *name, char *err, size_t errlen)
{
	int fd = link_tap_open(name, err, errlen);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

int link_delete(struct link_ctx *ctx, const char *name, char *err, size_t errlen)
{
	if (!link_name_ok(name, err, errlen))
		return -1;
	struct rtnl_link *link = rtnl_link_alloc();
	if (!link) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rtnl_link_set_name(link, name);
	int rc = rtnl_link_delete(ctx->sock, link);
	rtnl_link_put(link);
	if (rc < 0 && rc != -NLE_NODEV && rc != -NLE_OBJ_NOTFOUND) {
		snprintf(err, errlen, "cannot delete link %s: %s", name, nl_geterror(rc));
		return -1;
	}
	return 0;
}

int link_parse_cidr(const char *s, uint32_t *net_be, int *prefix)
{
	char addr_text[INET_ADDRSTRLEN];
	const char *slash = s ? strchr(s, '/') : NULL;
	if (!slash || slash == s || (size_t)(slash - s) >= sizeof addr_text)
		return -1;
	memcpy(addr_text, s, (size_t)(slash - s));
	addr_text[slash - s] = '\0';

	/* inet_pton, unlike inet_aton, takes only four decimal parts and refuses
	 * leading zeros, which some tools read as octal. */
	struct in_addr addr;
	if (inet_pton(AF_INET, addr_text, &addr) != 1)
		return -1;

	const char *p = slash + 1;
	int len = 0;
	while (p[len] >= '0' && p[len] <= '9')
		len++;
	if (len < 1 || len > 2 || p[len] != '\0' || (len == 2 && p[0] == '0'))
		return -1;
	int bits = len == 1 ? p[0] - '0' : (p[0] - '0') * 10 + (p[1] - '0');
	if (bits < 8 || bits > 30)
		return -1;

	uint32_t mask = ~UINT32_C(0) << (32 - bits);
	if (ntohl(addr.s_addr) & ~mask)
		return -1;
	*net_be = addr.s_addr;
	*prefix = bits;
	return 0;
}

/* Bytes the kernel refuses in a name ('/', ':', whitespace) plus those that
 * make names unreadable in logs (control characters, non-ASCII). */
static bool link_name_char_ok(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '/' && c != ':';
}

/* FNV-1a: cheap, stable across runs and platforms. */
static uint32_t link_name_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

int link_name_make(char *out, const char *prefix, const char *base, int n)
{
	char suffix[16] = "";
	out[0] = '\0';
	if (!prefix || !base || base[0] == '\0' || n < -1)
		return -1;
	if (n >= 0)
		snprintf(suffix, sizeof suffix, "-%d", n);

	size_t prefix_len = strlen(prefix), base_len = strlen(base), suffix_len = strlen(suffix);
	size_t max = IFNAMSIZ - 1;
	bool changed = false;
	for (size_t i = 0; i < prefix_len; i++)
		if (!link_name_char_ok((unsigned char)prefix[i]))
			return -1;
	for (size_t i = 0; i < base_len; i++)
		if (!link_name_char_ok((unsigned char)base[i]))
			changed = true;

	size_t room = max > prefix_len + suffix_len ? max - prefix_len - suffix_len : 0;
	size_t keep = base_len;
	char hash[8] = "";
	if (changed || base_len > room) {
		if (room < 1 + 4)
			return -1;
		snprintf(hash, sizeof hash, "%04x", (unsigned)(link_name_hash(base) & 0xffff));
		keep = base_len < room - 4 ? base_len : room - 4;
	}

	size_t len = 0;
	memcpy(out, prefix, prefix_len);
	len += prefix_len;
	for (size_t i = 0; i < keep; i++)
		out[len++] = link_name_char_ok((unsigned char)base[i]) ? base[i] : '_';
	memcpy(out + len, hash, strlen(hash));
	len += strlen(hash);
	memcpy(out + len, suffix, suffix_len);
	len += suffix_len;
	out[len] = '\0';
	if (strcmp(out, ".") == 0 || strcmp(out, "..") == 0) {
		out[0] = '\0';
		return -1;
	}
	return (int)len;
}
