/* A vh.network at run time: a bridge in the run's namespace whose host side
 * holds the subnet's .1, and the addresses handed to devices. */
#ifndef VH_NETWORK_H
#define VH_NETWORK_H

#include <stddef.h>
#include <stdint.h>

struct vh_run;
struct capture;
struct capture_live;

struct vh_network {
	char name[32];
	char bridge[16];
	char subnet[32];
	uint32_t net_be;
	int prefix;
	uint32_t next_host; /* host number handed to the next device */
	int bridge_ifindex;
	struct capture *capture; /* <network>.pcap (+ -dropped.pcap); NULL in a dry run */
	/* Kernel backend: frames never pass through the harness, so the pcap is
	 * fed by a live capture of the bridge. NULL on the user backend. */
	struct capture_live *live;
};

/* Validates and creates the network (bridge up with .1) unless the run is a
 * dry run. NULL with err on a bad subnet or name (configuration errors). */
struct vh_network *network_new(struct vh_run *run, const char *name, const char *subnet,
			       char *err, size_t errlen);
/* Ends the live capture (kernel backend), writing the frames the kernel
 * still holds: call before the bridge is deleted. Idempotent. */
void network_stop_capture(struct vh_network *net);
/* Stops the capture and closes its files; frees net. */
void network_free(struct vh_network *net);

/* The host side's address ("10.77.0.1"). */
void network_host_ip(const struct vh_network *net, char *out, size_t len);

/* Hands out the next device address; -1 when the subnet is exhausted. */
int network_next_ip(struct vh_network *net, char *out, size_t len);

#endif
