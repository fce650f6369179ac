/* agent_config: the guest agent's configuration, parsed from the kernel
 * command line (vh.device= vh.ip= vh.gw= vh.version= vh.slot= vh.bootcount=
 * vh.iface= vh.net_wait_ms=). Pure: no I/O, so unit tests reach every branch. */
#ifndef VH_AGENT_CONFIG_H
#define VH_AGENT_CONFIG_H

#include <netinet/in.h>
#include <stdbool.h>

#define AGENT_CONFIG_STR_MAX 64

struct agent_config {
	char device[AGENT_CONFIG_STR_MAX];
	char version[AGENT_CONFIG_STR_MAX];
	char slot[AGENT_CONFIG_STR_MAX];
	char iface[16]; /* IFNAMSIZ */
	unsigned long bootcount;
	unsigned long net_wait_ms;
	bool has_ip;          /* vh.ip given: configure the network */
	bool has_gw;
	struct in_addr ip;    /* network byte order */
	unsigned prefix_len;  /* 0..32 */
	struct in_addr gw;
	/* First value the parser rejected ("vh.ip" etc.), or "" when all parsed.
	 * A rejected key keeps its default so the agent can still report boot. */
	char bad_key[AGENT_CONFIG_STR_MAX];
};

/* Fills *cfg with defaults (device "vh", version "0.0.0", slot "a",
 * bootcount 0, iface "eth0", net_wait_ms 10000, no network). */
void agent_config_defaults(struct agent_config *cfg);

/* Parses a kernel command line (the contents of /proc/cmdline, NUL-terminated,
 * may end in a newline) into *cfg, which must hold defaults already. Unknown
 * words are ignored; values longer than the fields are rejected. Returns 0 when
 * every vh.* value parsed, -1 otherwise with cfg->bad_key naming the first bad
 * one. Quoted values are not supported: none of ours contain spaces. */
int agent_config_parse(struct agent_config *cfg, const char *cmdline);

/* Parses "A.B.C.D/N" (N defaults to 32 when absent) into *addr and *prefix_len.
 * Returns 0, or -1 on any malformed or out-of-range part. */
int agent_config_parse_cidr(const char *text, struct in_addr *addr, unsigned *prefix_len);

/* The netmask for a prefix length 0..32, in network byte order. */
struct in_addr agent_config_netmask(unsigned prefix_len);

#endif
