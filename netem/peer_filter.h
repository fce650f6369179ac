/* Group partitions on the user backend (DESIGN.md §6): which frames a
 * device's datapath lets through while its network is split into islands.
 *
 * The network's devices are mapped MAC -> group; group 0 is the host's side
 * (the bridge, the update server and every device in no island), and so is
 * any MAC the map does not know. A datapath whose device is in group g
 * passes a frame only between g and g:
 *   to the device:    the source MAC's group must be g;
 *   from the device:  the destination MAC's group must be g, or the frame is
 *                     group-addressed (broadcast, multicast: ARP must reach
 *                     the island's other members; their own filters drop it
 *                     everywhere else, and a host that hears an island's ARP
 *                     never gets an answer through).
 * Pure: no I/O, so every rule is reachable from unit tests. */
#ifndef VH_PEER_FILTER_H
#define VH_PEER_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct peer_filter_entry {
	uint8_t mac[6];
	uint32_t group;
};

/* The map; entries are the caller's (borrowed for as long as it is set). */
struct peer_filter {
	const struct peer_filter_entry *entries;
	size_t n;
};

/* The group of mac: its entry's, else 0 (the host's side). */
uint32_t peer_filter_group(const struct peer_filter *f, const uint8_t mac[6]);

/* Whether a frame of len bytes passes a datapath whose device is in group
 * own. to_device: the frame goes to the device (its source is the peer),
 * else it comes from it (its destination is). A frame too short to carry
 * both MACs does not pass. */
bool peer_filter_pass(const struct peer_filter *f, uint32_t own, bool to_device,
		      const uint8_t *frame, size_t len);

/* Parses "52:54:00:ab:cd:ef" into mac. 0, or -1 when malformed. */
int peer_filter_parse_mac(const char *text, uint8_t mac[6]);

#endif
