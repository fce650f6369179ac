/* A device's NIC on a network, on the run's impairment backend (DESIGN.md
 * §6), behind one dispatch: the rest of the harness never calls a backend.
 *
 *   user:   QEMU's -netdev stream socket <-> netem/datapath.c <-> tap on the bridge
 *   kernel: QEMU's tap backend on a tap on the bridge, tc-netem on the tap
 *           (to the device) and on an IFB its ingress is redirected to (from
 *           the device), through netem/kernel_netem.c
 *
 * Everything here works in the run's network namespace (after sandbox_enter). */
#ifndef VH_NIC_H
#define VH_NIC_H

#include "impairment.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct capture;
struct ev_loop;
struct link_ctx;
struct netem_spec;
struct nic;
struct peer_filter;

struct nic_config {
	struct ev_loop *loop;
	struct link_ctx *links;
	enum impairment_backend backend;
	int bridge_ifindex;
	const char *tap;	 /* the tap's name */
	const char *ifb;	 /* kernel backend: the IFB's name */
	uint64_t seed;		 /* user backend: the run's seed */
	uint32_t link_id;	 /* user backend: unique per NIC in a run */
	struct capture *capture; /* user backend: the network's pcap (borrowed) */
};

/* Creates the tap on the bridge and the backend on it: the datapath (user)
 * or the IFB and ingress redirect (kernel). NULL with err; nothing is then
 * left behind. */
struct nic *nic_new(const struct nic_config *cfg, char *err, size_t errlen);

/* Releases the backend (datapath, or qdiscs and IFB), then deletes the tap.
 * NULL is ignored. */
void nic_free(struct nic *nic);

/* How QEMU attaches: the tap by name (kernel: QEMU's own tap backend), or
 * NULL when QEMU connects a -netdev stream socket the harness listens on
 * (user), which is then handed over with nic_qemu_connected. */
const char *nic_qemu_tap(const struct nic *nic);

/* The user backend takes QEMU's connected stream socket (fd is the NIC's
 * from now on, on success and failure). 0 or -1 with err; the kernel backend
 * closes it (it has no use for one). */
int nic_qemu_connected(struct nic *nic, int fd, char *err, size_t errlen);

/* Replaces the impairment of one direction (spec NULL clears it). While the
 * NIC is blocked the spec is kept and applies on unblock. 0, or -1 with the
 * backend's reason in err. */
int nic_set_spec(struct nic *nic, enum impairment_dir dir, const struct netem_spec *spec, char *err,
		 size_t errlen);

/* Partition (blocked) or heal: every frame dropped both ways, then the
 * stored specs again. 0 or -1 with err. */
int nic_set_blocked(struct nic *nic, bool blocked, char *err, size_t errlen);

/* Group partition on the user backend: frames pass only between the device
 * and its island (peer_filter.h); peers NULL: whole again. peers is
 * borrowed until the next call. The kernel backend's islands are rules on
 * the bridge (network.c), so there it does nothing. */
void nic_set_peers(struct nic *nic, const struct peer_filter *peers, uint32_t island);

/* How the last change of dir reached the kernel: "libnl", "tc", or NULL (the
 * user backend, or no qdisc). For the event log. */
const char *nic_via(const struct nic *nic, enum impairment_dir dir);

#endif
