/* Links inside the run's namespace: bridges and taps, through libnl (rtnetlink)
 * and the tun ioctl. Call only after sandbox_enter(): these functions change
 * whatever network namespace the process is in. Errors are one line in
 * err/errlen; err may be NULL when errlen is 0. */
#ifndef VH_LINK_H
#define VH_LINK_H

#include <stddef.h>
#include <stdint.h>

/* Size of a buffer that holds any link name with its NUL (IFNAMSIZ; spelled out
 * so this header does not pull in <net/if.h>, which clashes with <linux/if.h>). */
#define LINK_NAME_SIZE 16

struct link_ctx; /* one rtnetlink socket */

/* Opens a connected rtnetlink socket. Returns a context the caller owns and
 * releases with link_ctx_free(), or NULL with err. */
struct link_ctx *link_ctx_new(char *err, size_t errlen);

/* Closes the socket and frees ctx; NULL is ignored. Links created through ctx stay. */
void link_ctx_free(struct link_ctx *ctx);

/* Brings the loopback device up. 0 or -1 with err. */
int link_lo_up(struct link_ctx *ctx, char *err, size_t errlen);

/* Creates bridge `name`, assigns addr/prefix (IPv4, e.g. 10.77.0.1/24, with the
 * subnet's broadcast address) and sets it up. Fails if `name` exists.
 * Returns its ifindex (>0) or -1 with err; on failure nothing is left behind. */
int link_bridge_create(struct link_ctx *ctx, const char *name, uint32_t addr_be, int prefix,
		       char *err, size_t errlen);

/* Creates a persistent tap `name` (IFF_TAP|IFF_NO_PI, IFF_VNET_HDR off), enslaves it
 * to the bridge with ifindex bridge_ifindex and sets it up. The tap is left
 * persistent and unowned so QEMU can open it by name with -netdev tap,ifname=.
 * Fails if `name` exists. Returns its ifindex or -1 with err; on failure nothing
 * is left behind. */
int link_tap_create(struct link_ctx *ctx, const char *name, int bridge_ifindex, char *err,
		    size_t errlen);

/* Attaches to the existing tap `name` (IFF_TAP|IFF_NO_PI, no vnet header) and
 * clears its offload flags (TUNSETOFFLOAD 0), so the kernel hands it only
 * complete, checksummed frames: a tap that QEMU's tap backend used keeps
 * checksum/TSO offload, and a reader without vnet headers would pass on frames
 * the guest drops. Returns a non-blocking, close-on-exec fd the caller owns, or
 * -1 with err (EBUSY in err when another process holds the tap). */
int link_tap_open(const char *name, char *err, size_t errlen);

/* link_tap_open() then close: the cleared flags stay on the device. 0 or -1 with err. */
int link_tap_clear_offload(const char *name, char *err, size_t errlen);

/* Deletes a link by name; missing links are not an error. 0 or -1 with err. */
int link_delete(struct link_ctx *ctx, const char *name, char *err, size_t errlen);

/* Parses a subnet "A.B.C.D/P" into the network address (big-endian) and prefix.
 * Strict: dotted decimal without leading zeros, P in 8..30 (room for the host
 * side .1 and devices), and no host bits set: "10.77.0.1/24" is rejected rather
 * than masked, because it is most likely a mistyped subnet. 0, or -1 leaving the
 * outputs untouched. */
int link_parse_cidr(const char *s, uint32_t *net_be, int *prefix);

/* Writes a valid link name to out (LINK_NAME_SIZE bytes): prefix + base, then
 * "-<n>" when n >= 0 (e.g. "vh-" "lan" -1 -> "vh-lan", "vht-" "dut" 0 ->
 * "vht-dut-0"). Characters not allowed in link names ('/', ':', whitespace,
 * control) become '_'. When base had to be truncated or changed, four hex digits
 * of a hash of the whole base replace its tail, so long names that share a
 * beginning still differ. Returns the name's length, or -1 (out = "") when prefix
 * and suffix leave no room, base is empty, or n < -1. */
int link_name_make(char *out, const char *prefix, const char *base, int n);

#endif
