/* agent_net: brings the guest's network up with plain ioctls (no busybox, no
 * netlink library), so the agent works in any initramfs. */
#ifndef VH_AGENT_NET_H
#define VH_AGENT_NET_H

#include "agent_config.h"

/* Waits until the interface named iface exists, polling every 10 ms for at
 * most wait_ms: the NIC driver may still be loading when the agent starts.
 * Returns 0 when it exists, -1 on timeout. */
int agent_net_wait_iface(const char *iface, unsigned long wait_ms);

/* Sets lo up, gives cfg->iface the MAC cfg->mac when cfg->has_mac and the
 * address cfg->ip/cfg->prefix_len, sets it up, and adds a default route via
 * cfg->gw when cfg->has_gw. Requires cfg->has_ip. Returns 0, or -errno with
 * *failed_step set to a short word usable in an event line ("socket",
 * "lo_up", "mac", "set_address", "set_netmask", "link_up", "route"). */
int agent_net_up(const struct agent_config *cfg, const char **failed_step);

#endif
