/* Group partitions on the kernel backend (DESIGN.md §6): frames between a
 * bridge's islands dropped by bridge-family nftables rules, since on that
 * backend frames never pass through the harness.
 *
 * One table per bridge, `bridge vh_part_<bridge>`, with three base chains:
 *   forward  a frame between two ports passes only when both are in the same
 *            island, or both in none (the host's side);
 *   input    a frame from an island's port never reaches the host;
 *   output   a frame from the host never reaches an island's port.
 * Flooded frames go through forward once per output port, so an island's
 * broadcasts stay inside it too. The whole table is replaced in one nft
 * transaction, so no frame sees half a partition.
 *
 * Like link.h this changes whatever network namespace the process is in:
 * call it after sandbox_enter(). */
#ifndef VH_BRIDGE_PARTITION_H
#define VH_BRIDGE_PARTITION_H

#include <stddef.h>

/* One island: the names of its devices' ports (taps). */
struct bridge_island {
	const char *const *ports;
	size_t n;
};

/* The nft script that replaces the bridge's table with rules for these
 * islands, or (n_islands 0) removes it. Pure. Returns the length written
 * (< len), or -1 when it does not fit or a name is not a safe interface
 * name ([A-Za-z0-9_.-], at most 15 bytes). */
int bridge_partition_script(const char *bridge, const struct bridge_island *islands,
			    size_t n_islands, char *out, size_t len);

/* Applies bridge_partition_script through the `nft` binary ($VH_NFT, else
 * /usr/sbin/nft). 0, or -1 with nft's message in err. */
int bridge_partition_apply(const char *bridge, const struct bridge_island *islands,
			   size_t n_islands, char *err, size_t errlen);

#endif
