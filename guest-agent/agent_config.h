/* agent_config: the guest agent's configuration. What the bootloader decides
 * comes from the kernel command line (vh.device= vh.ip= vh.gw= vh.slot=
 * vh.bootcount= vh.iface= vh.net_wait_ms= vh.mac= vh.seed= and, for OTA
 * (docs/ota-protocol.md), vh.server= vh.upgrade= vh.rollback_from= vh.disk=;
 * with vh.snapshot=1 the boot is a snapshot template's, whose devices get
 * these words from their identity line instead, wire/agent_event.h); what
 * the firmware build is (its version and planted bugs) comes from the build's
 * own /etc/vh-release (wire/release.h), never from the command line: the
 * agent reports what the image says, not what the bootloader claims. Pure: no
 * I/O, so unit tests reach every branch. */
#ifndef VH_AGENT_CONFIG_H
#define VH_AGENT_CONFIG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "release.h"

#define AGENT_CONFIG_STR_MAX 64
/* The longest command line the agent takes: /proc/cmdline, or a snapshot
 * boot's identity line. */
#define AGENT_CONFIG_CMDLINE_MAX 4096

/* Planted bugs (BUGS= in /etc/vh-release, docs/ota-protocol.md), one bit
 * each. Each one is a deliberate defect that a scenario must be able to
 * catch; they are properties of a build, on only in builds that say so. */
enum agent_bug {
	AGENT_BUG_FLIP_ENV_BEFORE_IMAGE_COMPLETE = 1u << 0,
	AGENT_BUG_COMMIT_BEFORE_HEALTHY = 1u << 1,
	AGENT_BUG_NO_FSYNC_BEFORE_FLIP = 1u << 2,
	AGENT_BUG_NO_RANGE_RESUME = 1u << 3,
	AGENT_BUG_NO_BACKOFF = 1u << 4,
	AGENT_BUG_SINGLE_ENV_COPY = 1u << 5,
	AGENT_BUG_NEVER_HEALTHY = 1u << 6,
	AGENT_BUG_ENV_WRITE_NOT_SYNCED = 1u << 7,
	AGENT_BUG_FLIP_AFTER_WRITE_ERROR = 1u << 8,
};

struct agent_config {
	char device[AGENT_CONFIG_STR_MAX];
	char version[AGENT_CONFIG_STR_MAX]; /* the release's VERSION */
	char slot[AGENT_CONFIG_STR_MAX];
	char iface[16]; /* IFNAMSIZ */
	unsigned long bootcount;
	unsigned long net_wait_ms;
	bool has_ip; /* vh.ip given: configure the network */
	bool has_gw;
	struct in_addr ip;   /* network byte order */
	unsigned prefix_len; /* 0..32 */
	struct in_addr gw;
	bool has_server; /* vh.server given: run the OTA check-in */
	struct in_addr server_ip;
	unsigned short server_port;
	bool upgrade;  /* vh.upgrade=1: a trial boot, commit once healthy */
	unsigned bugs; /* enum agent_bug bits, from the release's BUGS */
	char rollback_from[AGENT_CONFIG_STR_MAX]; /* "" unless vh.rollback_from= */
	char disk[AGENT_CONFIG_STR_MAX];	  /* vh.disk=, default /dev/vda */
	/* vh.snapshot=1: the snapshot boot's template, which takes its identity
	 * from the console after each restore (wire/agent_event.h). */
	bool snapshot;
	/* vh.mac=: the MAC the agent gives cfg->iface. A restored machine keeps
	 * the template's, so each device must set its own. */
	bool has_mac;
	unsigned char mac[6];
	/* vh.seed=: mixed into the randomness, which every restored device
	 * otherwise starts with identical. */
	bool has_seed;
	uint64_t seed;
	/* First value the parser rejected ("vh.ip" etc.), or "" when all parsed.
	 * A rejected key keeps its default so the agent can still report boot. */
	char bad_key[AGENT_CONFIG_STR_MAX];
};

/* Fills *cfg with defaults (device "vh", version "unknown", slot "a",
 * bootcount 0, iface "eth0", net_wait_ms 10000, no network, no server, not a
 * trial boot, no bugs, disk "/dev/vda", not a snapshot template, no MAC, no
 * seed). */
void agent_config_defaults(struct agent_config *cfg);

/* Parses a kernel command line (the contents of /proc/cmdline, NUL-terminated,
 * may end in a newline) into *cfg, which must hold defaults already. Unknown
 * words are ignored, vh.version= and vh.bugs= among them (the release says
 * those); values longer than the fields are rejected. Returns 0 when every
 * vh.* value parsed, -1 otherwise with cfg->bad_key naming the first bad
 * one. Quoted values are not supported: none of ours contain spaces. */
int agent_config_parse(struct agent_config *cfg, const char *cmdline);

/* Takes the build's version and planted bugs from its parsed release file.
 * Returns 0, or -1 when BUGS names a bug this agent does not know; the known
 * ones still apply. */
int agent_config_apply_release(struct agent_config *cfg, const struct release *r);

/* Parses "A.B.C.D/N" (N defaults to 32 when absent) into *addr and *prefix_len.
 * Returns 0, or -1 on any malformed or out-of-range part. */
int agent_config_parse_cidr(const char *text, struct in_addr *addr, unsigned *prefix_len);

/* Parses "A.B.C.D:PORT" (port 1..65535). Returns 0, or -1 when malformed. */
int agent_config_parse_server(const char *text, struct in_addr *ip, unsigned short *port);

/* Parses "xx:xx:xx:xx:xx:xx" (hex digits of either case) into mac[6].
 * Returns 0, or -1 when text is anything else. */
int agent_config_parse_mac(const char *text, unsigned char mac[6]);

/* Parses a comma-separated list of bug names into enum agent_bug bits
 * ("" is no bug). Returns 0, or -1 when a name is unknown or empty; *bugs
 * then holds the known ones, so a newer bundle's extra bug does not disable
 * the ones this agent has. */
int agent_config_parse_bugs(const char *text, unsigned *bugs);

/* The BUGS= name of one enum agent_bug bit, or NULL. */
const char *agent_config_bug_name(unsigned bug);

/* The netmask for a prefix length 0..32, in network byte order. */
struct in_addr agent_config_netmask(unsigned prefix_len);

#endif
