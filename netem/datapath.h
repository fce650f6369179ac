/* The user backend's frame datapath (DESIGN §6): one impaired link between a QEMU
 * guest NIC and a tap, run on the harness's event loop.
 *
 *   QEMU -netdev stream|dgram  <-- unix socket -->  datapath  <-- tap fd -->  bridge
 *            from_device: QEMU -> tap        to_device: tap -> QEMU
 *
 * Each direction has its own netem spec (or none) and its own impair_engine, whose
 * decisions are hash(seed, link_id, direction, frame index): the same seed drops the
 * same frames. Delayed frames wait in a per-direction queue ordered by departure and
 * leave from one ev timer (the earliest); the engine's virtual time is
 * CLOCK_MONOTONIC in ns. ev timers have millisecond resolution, so a frame leaves at
 * its departure time or up to about a millisecond after it, never before.
 *
 * Wire formats on the QEMU side (FACTS.md "Networks"): `stream` is QEMU's
 * -netdev stream framing, each frame a 4-byte big-endian length then the raw
 * Ethernet frame (no vnet header); `dgram` is one frame per datagram (-netdev
 * dgram), on a socket the caller has connected to QEMU's local address.
 *
 * Single-threaded: every function runs on the loop's thread. */
#ifndef VH_DATAPATH_H
#define VH_DATAPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "impair_engine.h"
#include "netem_spec.h"
#include "peer_filter.h"

struct ev_loop;
struct capture;
struct datapath;

/* The largest frame accepted from QEMU: its NET_BUFSIZE (4096 + 65536). */
#define DATAPATH_FRAME_MAX (4096u + 65536u)

enum datapath_dir {
	DATAPATH_TO_DEVICE = IMPAIR_TO_DEVICE,	   /* tap -> QEMU */
	DATAPATH_FROM_DEVICE = IMPAIR_FROM_DEVICE, /* QEMU -> tap */
};

enum datapath_framing {
	DATAPATH_STREAM = 0, /* SOCK_STREAM, 4-byte big-endian length prefix */
	DATAPATH_DGRAM,	     /* SOCK_DGRAM (or SEQPACKET), one frame per message */
};

/* Called once when the QEMU side goes away: QEMU closed the socket (it exited or
 * was killed), a read or write failed, or it sent a frame longer than
 * DATAPATH_FRAME_MAX. why is one line, valid during the call. By then the datapath
 * has closed the QEMU fd and dropped that side's pending output; it stays usable
 * (frames from the tap are counted as dropped_detached) until
 * datapath_attach_qemu() or datapath_free(), which may be called from here. */
typedef void (*datapath_closed_fn)(struct datapath *dp, const char *why, void *arg);

struct datapath_config {
	struct ev_loop *loop; /* borrowed: must outlive the datapath */
	int tap_fd;	      /* non-blocking, from link_tap_open(); see datapath_new */
	int qemu_fd;	      /* non-blocking socket to QEMU, or -1 to attach later */
	enum datapath_framing framing;
	uint64_t seed;	  /* the run's seed (a spec's own `seed N` wins) */
	uint32_t link_id; /* feeds the decision hash: unique per link in a run */
	enum impair_corr_mode corr_mode;
	/* Where .dist tables are read for `distribution NAME`; NULL = iproute2's. */
	const char *dist_dir;
	datapath_closed_fn on_closed; /* may be NULL */
	void *closed_arg;
};

/* Counters of one direction since datapath_new. A frame's copies (duplicates) count
 * one by one in frames_out and the dropped_* counters. */
struct datapath_stats {
	uint64_t frames_in, bytes_in;	/* read from the source */
	uint64_t frames_out, bytes_out; /* handed to the destination */
	uint64_t dropped_loss;		/* the spec's loss model */
	uint64_t dropped_limit;		/* the spec's `limit` (netem tail drop) */
	uint64_t dropped_blocked;	/* partition: datapath_set_blocked */
	uint64_t dropped_overflow;	/* destination too slow: output queue full */
	uint64_t dropped_detached;	/* to_device while no QEMU is attached */
	uint64_t dropped_error;		/* destination refused the frame (e.g. EINVAL) */
	uint64_t duplicated, corrupted, reordered, ce_marked;
	uint32_t queued; /* now: delayed frames plus frames waiting for the destination */
};

/* Creates the datapath and registers its fds with cfg->loop. On success the datapath
 * owns tap_fd and qemu_fd (when >= 0): it closes them in datapath_free(), and the
 * QEMU fd also when QEMU goes away. Both are made non-blocking. On failure (-1, err)
 * nothing is registered and the caller still owns the fds. *out is the caller's, to
 * release with datapath_free(). Starts with no impairment and not blocked. */
int datapath_new(const struct datapath_config *cfg, struct datapath **out, char *err,
		 size_t errlen);

/* Closes the fds, cancels the timers, unregisters from the loop and frees queued
 * frames (they are not sent). Does not call on_closed. NULL is ignored. */
void datapath_free(struct datapath *dp);

/* Attaches the QEMU side (e.g. after accept() on the listening socket, or a new QEMU
 * after a power cycle), replacing and closing any attached one, and makes fd
 * non-blocking. The datapath owns fd on success; on failure (-1, err) the caller
 * keeps it. Engines, delayed frames and counters carry on; output still waiting for
 * the old connection is dropped (dropped_detached), and an on_closed report still
 * pending for it is discarded. */
int datapath_attach_qemu(struct datapath *dp, int fd, enum datapath_framing framing, char *err,
			 size_t errlen);

/* Whether a QEMU side is attached now. */
bool datapath_qemu_attached(const struct datapath *dp);

/* Sets the impairment of one direction: the spec is copied and a fresh engine starts
 * (frame index 0); NULL or an empty spec clears it. Frames already delayed keep their
 * departure times. While blocked the spec is stored and applies on unblock. Fails
 * (-1, err, previous spec kept) when the engine cannot model the spec (`slot`) or a
 * distribution table cannot be read. */
int datapath_set_spec(struct datapath *dp, enum datapath_dir dir, const struct netem_spec *spec,
		      char *err, size_t errlen);

/* The spec in force for dir (also while blocked), or NULL when there is none.
 * Owned by dp, valid until the next datapath_set_spec for dir. */
const struct netem_spec *datapath_spec(const struct datapath *dp, enum datapath_dir dir);

/* Partition: while blocked every frame in both directions is dropped (dropped_blocked),
 * including frames already delayed when they come due; the specs are kept and act
 * again on unblock. Blocked frames do not reach the engines. */
void datapath_set_blocked(struct datapath *dp, bool blocked);
bool datapath_blocked(const struct datapath *dp);

/* Group partition: while peers is set, frames pass only between this device
 * and the members of its group own_group (peer_filter.h); the others are
 * dropped as blocked (dropped_blocked, the dropped capture). peers is
 * borrowed: it must stay valid until datapath_set_peers(dp, NULL, 0) or
 * datapath_free(). NULL: the network is whole again. */
void datapath_set_peers(struct datapath *dp, const struct peer_filter *peers, uint32_t own_group);

/* Copies the counters of dir into *out. */
void datapath_stats(const struct datapath *dp, enum datapath_dir dir, struct datapath_stats *out);

/* Records frames as they are delivered (both directions, after impairment: the
 * duplicate and the corrupted bytes as sent) into c's main file, and frames the
 * datapath drops into c's dropped file. c is borrowed: it must stay open until
 * datapath_free() or datapath_set_capture(dp, NULL); one capture may serve many
 * datapaths (one per network). */
void datapath_set_capture(struct datapath *dp, struct capture *c);

/* Name of a direction as in the Lua API ("to_device", "from_device"). */
const char *datapath_dir_name(enum datapath_dir dir);

#endif
