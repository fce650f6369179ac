/* agent_net: interface address, link state and default route via ioctl. */
#include "agent_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <net/route.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static unsigned long long agent_net_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000u + (unsigned long long)ts.tv_nsec / 1000000u;
}

int agent_net_wait_iface(const char *iface, unsigned long wait_ms)
{
	const struct timespec step = { .tv_sec = 0, .tv_nsec = 10 * 1000 * 1000 };
	/* A deadline on the clock, not a count of sleeps: under TCG a 10 ms
	 * sleep often lasts twice that. */
	unsigned long long deadline = agent_net_now_ms() + wait_ms;

	/* Polling is simpler than a netlink subscription and costs nothing
	 * measurable at 10 ms; the NIC normally appears within a few polls. */
	for (;;) {
		if (if_nametoindex(iface) != 0)
			return 0;
		if (agent_net_now_ms() >= deadline)
			return -1;
		nanosleep(&step, NULL);
	}
}

static void agent_net_sockaddr(struct sockaddr *sa, struct in_addr addr)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr = addr;
	memcpy(sa, &sin, sizeof(sin));
}

static int agent_net_set_up(int fd, const char *iface)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, iface, IFNAMSIZ - 1);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0)
		return -errno;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0)
		return -errno;
	return 0;
}

static int agent_net_set_addr(int fd, const char *iface, unsigned long request, struct in_addr addr)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, iface, IFNAMSIZ - 1);
	agent_net_sockaddr(&ifr.ifr_addr, addr);
	if (ioctl(fd, request, &ifr) != 0)
		return -errno;
	return 0;
}

static int agent_net_set_mac(int fd, const char *iface, const unsigned char mac[6])
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	/* Not strncpy as above: inlined here, GCC flags its possible cut. */
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", iface);
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
	if (ioctl(fd, SIOCSIFHWADDR, &ifr) != 0)
		return -errno;
	return 0;
}

static int agent_net_default_route(int fd, struct in_addr gw)
{
	struct rtentry rt;
	struct in_addr any = { .s_addr = INADDR_ANY };

	memset(&rt, 0, sizeof(rt));
	agent_net_sockaddr(&rt.rt_dst, any);
	agent_net_sockaddr(&rt.rt_genmask, any);
	agent_net_sockaddr(&rt.rt_gateway, gw);
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	/* A route left from an earlier run of the agent is not a failure. */
	if (ioctl(fd, SIOCADDRT, &rt) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int agent_net_up(const struct agent_config *cfg, const char **failed_step)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc;

	if (fd < 0) {
		*failed_step = "socket";
		return -errno;
	}
	/* The kernel gives lo 127.0.0.1/8 by itself when it goes up. */
	if ((rc = agent_net_set_up(fd, "lo")) != 0)
		*failed_step = "lo_up";
	/* Before the link goes up, so no frame ever leaves with the MAC a
	 * restored snapshot inherited from its template. */
	else if (cfg->has_mac && (rc = agent_net_set_mac(fd, cfg->iface, cfg->mac)) != 0)
		*failed_step = "mac";
	else if ((rc = agent_net_set_addr(fd, cfg->iface, SIOCSIFADDR, cfg->ip)) != 0)
		*failed_step = "set_address";
	else if ((rc = agent_net_set_addr(fd, cfg->iface, SIOCSIFNETMASK,
					  agent_config_netmask(cfg->prefix_len))) != 0)
		*failed_step = "set_netmask";
	else if ((rc = agent_net_set_up(fd, cfg->iface)) != 0)
		*failed_step = "link_up";
	else if (cfg->has_gw && (rc = agent_net_default_route(fd, cfg->gw)) != 0)
		*failed_step = "route";
	close(fd);
	return rc;
}
