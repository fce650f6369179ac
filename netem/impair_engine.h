/* The user backend's decision engine (DESIGN §6): given a netem spec, decides frame by
 * frame what sch_netem would do (drop, duplicate, corrupt, delay, reorder, rate, limit,
 * slot) in virtual time. Pure: no I/O, no clock; the caller supplies arrival times in ns and
 * applies the decisions. Every random choice is hash(seed, link, direction, frame
 * index, decision kind), so a seed replays bit for bit whatever the host timing. */
#ifndef VH_IMPAIR_ENGINE_H
#define VH_IMPAIR_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netem_dist.h"
#include "netem_spec.h"

enum impair_direction {
	IMPAIR_TO_DEVICE = 0,
	IMPAIR_FROM_DEVICE = 1,
};

/* How "PERCENT CORR" is read for loss, duplicate, corrupt, reorder and delay. */
enum impair_corr_mode {
	/* Default: each draw repeats the previous one with probability CORR, else is
	 * fresh. The marginal probability stays PERCENT and the lag-1 correlation is CORR
	 * (for loss: P(loss|loss) = p + c(1-p), P(loss|no loss) = p(1-c)). */
	IMPAIR_CORR_MARKOV = 0,
	/* The kernel's get_crandom(): next = (U*(2^32-rho) + last*rho) >> 32, which
	 * shrinks the spread, so `loss 10% 25%` drops far less than 10%. */
	IMPAIR_CORR_COMPAT,
};

enum impair_verdict {
	IMPAIR_DELIVER = 0,
	IMPAIR_DROP_LOSS,  /* the loss model fired */
	IMPAIR_DROP_LIMIT, /* tail drop: `limit` frames already queued */
	/* The loss model fired with `ecn`: set CE if the frame is ECN-capable IP and
	 * deliver it, else drop it (sch_netem's INET_ECN_set_ce() fallback). */
	IMPAIR_MARK_CE,
};

/* What happens to one copy of one frame. */
struct impair_decision {
	uint64_t frame_index; /* 0, 1, 2 ... in arrival order on this engine */
	uint32_t copy;	      /* 0 the frame, 1 its duplicate */
	enum impair_verdict verdict;
	bool corrupt; /* flip bit corrupt_bit of byte corrupt_byte */
	uint32_t corrupt_byte;
	uint32_t corrupt_bit;
	bool reorder_now;  /* sent at once, ahead of delayed frames */
	uint64_t delay_ns; /* depart_ns - arrival */
	/* When to send; meaningless for drops. With `slot`, the start of the slot that
	 * sends it: never before its delay and rate allow, and frames of one slot share
	 * it (the caller sends them in arrival order). */
	uint64_t depart_ns;
};

/* The most decisions one frame can produce (frame + duplicate). */
#define IMPAIR_MAX_COPIES 2

struct impair_engine_config {
	const struct netem_spec *spec; /* copied; the caller keeps ownership */
	uint64_t seed;		       /* the run's seed; the spec's `seed N` wins if given */
	uint32_t link_id;
	enum impair_direction direction;
	enum impair_corr_mode corr_mode;
	/* The table for spec->dist (normal, pareto, ...); NULL for none/uniform. Borrowed:
	 * must outlive the engine. */
	const struct netem_dist_table *dist;
	/* The table for spec->slot_dist when spec->slot_is_dist, else unused. Borrowed
	 * likewise; may be the same table as dist. */
	const struct netem_dist_table *slot_dist;
};

struct impair_engine;

/* Creates an engine in its initial state (frame 0, empty queue, good loss state, no
 * slot drawn yet). Fails (-1, message in err) when the spec names a distribution table
 * (delay or slot) that was not given. On success *out is owned by the caller and
 * released with impair_engine_free. */
int impair_engine_new(const struct impair_engine_config *cfg, struct impair_engine **out, char *err,
		      size_t errlen);

void impair_engine_free(struct impair_engine *e);

/* Decides the next frame: len_bytes long, arriving at arrival_ns (virtual time, not
 * earlier than the previous frame's; an earlier time is taken as the previous one).
 * Fills out[0] for the frame and, when it is duplicated, out[1] for the copy, in the
 * order sch_netem enqueues them; returns how many (1 or 2). Drops are reported, not
 * omitted, so the decision log is complete. Advances the queue, loss and slot state.
 * A slotted departure is final when decided: sch_netem may also redraw a pending slot at
 * dequeues run by later arrivals, which the engine cannot see yet, so under load the
 * first slot after an idle spell can open later than the kernel's would. */
size_t impair_engine_frame(struct impair_engine *e, uint32_t len_bytes, uint64_t arrival_ns,
			   struct impair_decision out[IMPAIR_MAX_COPIES]);

/* Frames queued (accepted, departure still after `now_ns`), as sch_netem's qlen. */
uint32_t impair_engine_queue_len(struct impair_engine *e, uint64_t now_ns);

/* The counter-based hash behind every decision: a splitmix64 chain over the inputs.
 * Exposed for tests and for the datapath's own per-frame choices. */
uint64_t impair_hash(uint64_t seed, uint32_t link_id, uint32_t direction, uint64_t frame_index,
		     uint32_t kind);

/* The kernel's packet_time_ns(): transmission time of len_bytes at the spec's rate
 * with its packet overhead and cell framing; 0 when the spec has no rate. */
uint64_t impair_packet_time_ns(const struct netem_spec *spec, uint32_t len_bytes);

#endif
