/* ${name} in a firmware's append (its kernel arguments): what the harness
 * knows about the device at power-on, so a user's image can take its
 * address and server from the command line the way the reference firmware
 * takes vh.ip= (and U-Boot scripts take ${ipaddr}), and one firmware
 * description serves a whole fleet:
 *   ${device}   the device's name
 *   ${ip}       its IPv4 address          ${prefix}  the network's prefix length
 *   ${gateway}  the host's address on its network (the update server's)
 *   ${server}   its update server, ip:port ${mac}   its MAC, aa:bb:cc:dd:ee:ff
 *   $$          a literal $
 * Pure. */
#ifndef VH_BOOT_ARGS_H
#define VH_BOOT_ARGS_H

#include <stddef.h>

/* NULL for what the device lacks (no network: no ip, prefix, gateway, mac;
 * no server). */
struct boot_args_vars {
	const char *device, *ip, *prefix, *gateway, *server, *mac;
};

/* 0 when every ${...} in tmpl names a known variable, else -1 with the
 * bad one in err (also an unclosed "${" or a "$" before anything else). */
int boot_args_check(const char *tmpl, char *err, size_t errlen);

/* tmpl with its variables replaced, into out. -1 with a message in err
 * when one has no value for this device or out is too small. */
int boot_args_expand(const char *tmpl, const struct boot_args_vars *v, char *out, size_t len,
		     char *err, size_t errlen);

#endif
