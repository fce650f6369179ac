/* Links inside the run's namespace: bridges and taps, through libnl (rtnetlink)
 * and the tun ioctl. Call only after sandbox_enter(). */
#ifndef VH_LINK_H
#define VH_LINK_H

#include <stddef.h>
#include <stdint.h>

struct link_ctx; /* one rtnetlink socket */

struct link_ctx *link_ctx_new(char *err, size_t errlen);
void link_ctx_free(struct link_ctx *ctx);

/* Brings the loopback device up. */
int link_lo_up(struct link_ctx *ctx, char *err, size_t errlen);

/* Creates bridge `name`, assigns addr/prefix (IPv4, e.g. 10.77.0.1/24) and sets it up.
 * Returns its ifindex (>0) or -1 with err. */
int link_bridge_create(struct link_ctx *ctx, const char *name, uint32_t addr_be, int prefix,
		       char *err, size_t errlen);

/* Creates a persistent tap `name` (IFF_TAP|IFF_NO_PI|IFF_VNET_HDR off), enslaves it
 * to the bridge with ifindex bridge_ifindex and sets it up. The tap is left
 * persistent and unowned so QEMU can open it by name with -netdev tap,ifname=.
 * Returns its ifindex or -1 with err. */
int link_tap_create(struct link_ctx *ctx, const char *name, int bridge_ifindex,
		    char *err, size_t errlen);

/* Deletes a link by name; missing links are not an error. */
int link_delete(struct link_ctx *ctx, const char *name, char *err, size_t errlen);

/* Parses "10.77.0.0/24" into network address (big-endian) and prefix. 0 or -1. */
int link_parse_cidr(const char *s, uint32_t *net_be, int *prefix);

#endif
