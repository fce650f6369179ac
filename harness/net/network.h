/* A vh.network at run time: a bridge in the run's namespace whose host side
 * holds the subnet's .1, its capture, and its members: one NIC per device,
 * with the address it was handed. A network "on paper" (a dry run, `vharness
 * check`) validates and hands out addresses but creates nothing. */
#ifndef VH_NETWORK_H
#define VH_NETWORK_H

#include "impairment.h"

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
	char ifb[16];    /* kernel backend's IFB (named on every backend) */
	struct nic *nic; /* NULL on paper */
	bool partitioned;
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

#endif
