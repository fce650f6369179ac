/* A vh.network at run time: a bridge in the run's namespace whose host side
 * holds the subnet's .1, its capture, and its members: one NIC per device,
 * with the address it was handed. A network "on paper" (a dry run, `vharness
 * check`) validates and hands out addresses but creates nothing. */
#ifndef VH_NETWORK_H
#define VH_NETWORK_H

#include "impairment.h"
#include "peer_filter.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct capture;
struct capture_live;
struct ev_loop;
struct link_ctx;
struct nic;

struct network_config {
	const char *name;
	const char *subnet;
	int index; /* distinguishes truncated names: bridge vhb<index>-<name> */
	struct ev_loop *loop;
	struct link_ctx *links;
	enum impairment_backend backend;
	uint64_t seed;
	/* Where <name>.pcap goes; NULL: on paper only. */
	const char *artifacts_dir;
};

struct vh_network;

/* A device's place on the network. */
struct network_member {
	struct vh_network *net;
	char device[32];
	char ip[16];
	char tap[16];
	char ifb[16];	 /* kernel backend's IFB (named on every backend) */
	struct nic *nic; /* NULL on paper */
	bool partitioned;
	/* Group partition: the island it is in (0: none, with the host), and
	 * its MAC, which the user backend's filters match on. */
	uint32_t island;
	uint8_t mac[6];
};

struct vh_network {
	char name[32];
	char bridge[16];
	char subnet[32];
	uint32_t net_be;
	int prefix;
	uint32_t next_host; /* host number handed to the next member */
	int bridge_ifindex;
	struct network_config cfg;
	struct capture *capture; /* <network>.pcap (+ -dropped.pcap); NULL on paper */
	/* Kernel backend: frames never pass through the harness, so the pcap is
	 * fed by a live capture of the bridge. NULL on the user backend. */
	struct capture_live *live;
	struct network_member **members;
	int n_members;
	/* The islands in force (user backend: MAC -> island, read by every
	 * member's datapath); next_island numbers the next one. */
	struct peer_filter_entry *islands;
	struct peer_filter island_filter;
	uint32_t next_island;
};

/* Validates name and subnet and, unless on paper, creates the bridge (up,
 * with .1) and the capture. NULL with err on a bad subnet or name
 * (configuration errors) or when the bridge cannot be made. */
struct vh_network *network_new(const struct network_config *cfg, char *err, size_t errlen);

/* Ends the live capture (kernel backend), writing the frames the kernel
 * still holds: call before the bridge is deleted. Idempotent. */
void network_stop_capture(struct vh_network *net);

/* Frees the members' NICs, stops the capture, deletes the bridge, frees
 * net. NULL is ignored. */
void network_free(struct vh_network *net);

/* True when the two subnets share an address. */
bool network_overlaps(const struct vh_network *a, const struct vh_network *b);

/* The host side's address ("10.77.0.1"). */
void network_host_ip(const struct vh_network *net, char *out, size_t len);

/* Adds a member: the next address, a tap and a NIC (unless on paper). index
 * is unique per device in the run (names its tap and IFB, feeds the
 * datapath's decision hash). NULL with err when the subnet is exhausted or
 * the NIC cannot be made. The network owns the member. */
struct network_member *network_join(struct vh_network *net, const char *device, int index,
				    char *err, size_t errlen);

/* Partition (blocked) or heal one member. 0 or -1 with err. */
int network_member_block(struct network_member *m, bool blocked, char *err, size_t errlen);

/* A new island number for network_set_islands (1, 2, ...). */
uint32_t network_new_island(struct vh_network *net);

/* Puts m in island (0: back with the host) with its device's MAC
 * ("52:54:00:..."); takes effect at network_apply_islands. -1 on a
 * malformed MAC. */
int network_member_set_island(struct network_member *m, uint32_t island, const char *mac);

/* Splits the network as the members' islands say: frames pass only inside
 * an island, and between the members in none and the host; on the user
 * backend through every datapath's MAC filter, on the kernel backend
 * through the bridge's nftables table (netem/bridge_partition.h). With no
 * member in an island the network is whole again. 0 or -1 with err. */
int network_apply_islands(struct vh_network *net, char *err, size_t errlen);

#endif
