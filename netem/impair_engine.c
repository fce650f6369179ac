/* impair engine: sch_netem's netem_enqueue() decisions in virtual time, with
 * counter-based randomness instead of the kernel's PRNG stream. */
#include "impair_engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decision kinds, mixed into the hash; the copy number goes into bits 8.. so the
 * duplicate of frame i never shares a draw with frame i itself. */
enum kind {
	K_DUP = 1,
	K_DUP_REPEAT,
	K_LOSS,
	K_LOSS_REPEAT,
	K_GE_TRANSITION,
	K_GE_LOSS,
	K_CORRUPT,
	K_CORRUPT_REPEAT,
	K_CORRUPT_BYTE,
	K_CORRUPT_BIT,
	K_REORDER,
	K_REORDER_REPEAT,
	K_DELAY,
	K_DELAY_REPEAT,
	K_INIT, /* initial `last` of the kernel's crndstate (init_crandom) */
};

/* The kernel's clgstate states, numbered as in sch_netem.c. */
enum clg_state {
	TX_IN_GAP_PERIOD = 1,
	TX_IN_BURST_PERIOD,
	LOST_IN_GAP_PERIOD,
	LOST_IN_BURST_PERIOD,
	GOOD_STATE = 1,
	BAD_STATE,
};

/* One correlated stream (the kernel's struct crndstate). */
struct crnd {
	uint32_t rho; /* correlation, kernel-scaled */
	uint32_t last;
	bool has_last;
	enum kind kind, repeat_kind;
};

struct impair_engine {
	struct netem_spec spec;
	const struct netem_dist_table *dist;
	uint64_t seed;
	uint32_t link_id;
	uint32_t direction;
	enum impair_corr_mode corr_mode;
	uint32_t gap; /* effective: iproute2 sets 1 when reorder is given without gap */

	uint64_t frame_index;
	uint64_t last_arrival_ns;
	uint32_t counter; /* frames since the last reordered one (q->counter) */
	int clg_state;
	struct crnd dup, loss, corrupt, reorder, delay;

	/* Departure times of queued frames: a min-heap, so frames that have left by an
	 * arrival are popped first; the maximum is kept apart for the rate logic. */
	uint64_t *heap;
	size_t heap_len, heap_cap;
	uint64_t last_depart_ns; /* latest departure among queued frames (tfifo tail) */
};

static uint64_t splitmix64(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

uint64_t impair_hash(uint64_t seed, uint32_t link_id, uint32_t direction, uint64_t frame_index,
		     uint32_t kind)
{
	uint64_t h = splitmix64(seed);
	h = splitmix64(h ^ (((uint64_t)link_id << 32) | direction));
	h = splitmix64(h ^ frame_index);
	return splitmix64(h ^ kind);
}

static uint32_t draw(const struct impair_engine *e, uint32_t copy, enum kind kind)
{
	return (uint32_t)(impair_hash(e->seed, e->link_id, e->direction, e->frame_index,
				      (uint32_t)kind | copy << 8) >>
			  32);
}

/* A uniform u32 below n, without modulo bias worth the name (Lemire's multiply). */
static uint32_t draw_below(const struct impair_engine *e, uint32_t copy, enum kind kind,
			   uint32_t n)
{
	return (uint32_t)(((uint64_t)draw(e, copy, kind) * n) >> 32);
}

static void crnd_init(struct crnd *c, const struct netem_prob *corr, enum kind kind,
		      enum kind repeat_kind)
{
	c->rho = corr->scaled;
	c->kind = kind;
	c->repeat_kind = repeat_kind;
	c->has_last = false;
}

/* The next value of a correlated stream (get_crandom() or its Markov replacement). */
static uint32_t crnd_next(struct impair_engine *e, struct crnd *c, uint32_t copy)
{
	uint32_t fresh = draw(e, copy, c->kind);
	if (c->rho == 0)
		return fresh;
	if (e->corr_mode == IMPAIR_CORR_COMPAT) {
		if (!c->has_last) {
			c->last = (uint32_t)(impair_hash(e->seed, e->link_id, e->direction,
							 UINT64_MAX, c->kind | K_INIT << 16) >>
					     32);
			c->has_last = true;
		}
		uint64_t rho = (uint64_t)c->rho + 1;
		uint64_t answer = ((uint64_t)fresh * ((UINT64_C(1) << 32) - rho) +
				   (uint64_t)c->last * rho) >>
				  32;
		c->last = (uint32_t)answer;
		return c->last;
	}
	/* Repeat with probability rho/2^32 (UINT32_MAX = always, after the first). */
	if (c->has_last &&
	    (c->rho == UINT32_MAX || draw(e, copy, c->repeat_kind) < c->rho))
		return c->last;
	c->last = fresh;
	c->has_last = true;
	return fresh;
}

/* ---- the queue of departure times ---- */

static void heap_pop(struct impair_engine *e)
{
	uint64_t *h = e->heap;
	h[0] = h[--e->heap_len];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < e->heap_len && h[l] < h[m])
			m = l;
		if (r < e->heap_len && h[r] < h[m])
			m = r;
		if (m == i)
			break;
		uint64_t t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static bool heap_push(struct impair_engine *e, uint64_t v)
{
	if (e->heap_len == e->heap_cap) {
		size_t cap = e->heap_cap ? e->heap_cap * 2 : 64;
		uint64_t *h = realloc(e->heap, cap * sizeof *h);
		if (!h)
			return false;
		e->heap = h;
		e->heap_cap = cap;
	}
	size_t i = e->heap_len++;
	e->heap[i] = v;
	while (i > 0 && e->heap[(i - 1) / 2] > e->heap[i]) {
		uint64_t t = e->heap[i];
		e->heap[i] = e->heap[(i - 1) / 2];
		e->heap[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
	return true;
}

/* Frames whose time has come have been dequeued by now (the device is never busy). */
static void queue_advance(struct impair_engine *e, uint64_t now_ns)
{
	while (e->heap_len && e->heap[0] <= now_ns)
		heap_pop(e);
}

uint32_t impair_engine_queue_len(struct impair_engine *e, uint64_t now_ns)
{
	queue_advance(e, now_ns);
	return (uint32_t)e->heap_len;
}

/* ---- decisions ---- */

uint64_t impair_packet_time_ns(const struct netem_spec *spec, uint32_t len_bytes)
{
	if (!(spec->present & NETEM_HAS_RATE) || spec->rate_bytes_per_s == 0)
		return 0;
	int64_t len = (int64_t)len_bytes + spec->rate_packet_overhead_bytes;
	if (len < 0)
		len = 0;
	if (spec->rate_cell_size_bytes) {
		int64_t cell = spec->rate_cell_size_bytes;
		int64_t cells = (len + cell - 1) / cell;
		len = cells * (cell + spec->rate_cell_overhead_bytes);
		if (len < 0)
			len = 0;
	}
	/* len <= ~2^33 and 1e9 < 2^30: the product fits in 64 bits. */
	return (uint64_t)len * UINT64_C(1000000000) / spec->rate_bytes_per_s;
}

/* sch_netem's loss_event(). */
static bool loss_event(struct impair_engine *e, uint32_t copy)
{
	const struct netem_spec *s = &e->spec;
	switch (s->loss_model) {
	case NETEM_LOSS_RANDOM:
		return s->loss.scaled && s->loss.scaled >= crnd_next(e, &e->loss, copy);
	case NETEM_LOSS_STATE: {
		/* 64-bit sums: the kernel's u32 a1 + a4 could wrap for silly inputs. */
		uint64_t rnd = draw(e, copy, K_LOSS);
		uint64_t a1 = s->p13.scaled, a2 = s->p31.scaled, a3 = s->p32.scaled;
		uint64_t a4 = s->p14.scaled, a5 = s->p23.scaled;
		switch (e->clg_state) {
		case TX_IN_GAP_PERIOD:
			if (rnd < a4) {
				e->clg_state = LOST_IN_GAP_PERIOD;
				return true;
			}
			if (rnd < a1 + a4) {
				e->clg_state = LOST_IN_BURST_PERIOD;
				return true;
			}
			return false;
		case TX_IN_BURST_PERIOD:
			if (rnd < a5) {
				e->clg_state = LOST_IN_BURST_PERIOD;
				return true;
			}
			return false;
		case LOST_IN_BURST_PERIOD:
			if (rnd < a3) {
				e->clg_state = TX_IN_BURST_PERIOD;
				return false;
			}
			if (rnd < a2 + a3) {
				e->clg_state = TX_IN_GAP_PERIOD;
				return false;
			}
			return true;
		default: /* LOST_IN_GAP_PERIOD */
			e->clg_state = TX_IN_GAP_PERIOD;
			return false;
		}
	}
	case NETEM_LOSS_GEMODEL:
		/* The loss test uses the state the frame arrived in: the kernel moves the
		 * state first but tests with the old state's parameter. */
		if (e->clg_state == GOOD_STATE) {
			if (draw(e, copy, K_GE_TRANSITION) < s->ge_p.scaled)
				e->clg_state = BAD_STATE;
			return draw(e, copy, K_GE_LOSS) < s->ge_1k.scaled;
		}
		if (draw(e, copy, K_GE_TRANSITION) < s->ge_r.scaled)
			e->clg_state = GOOD_STATE;
		return draw(e, copy, K_GE_LOSS) > s->ge_h_scaled;
	case NETEM_LOSS_NONE:
		break;
	}
	return false;
}

/* One copy through netem_enqueue() after the duplicate decision, into *d. *count is
 * the kernel's count (copies still wanted); the loss test decrements it. */
static void enqueue_copy(struct impair_engine *e, uint32_t copy, uint32_t len_bytes,
			 uint64_t now_ns, int *count, struct impair_decision *d)
{
	const struct netem_spec *s = &e->spec;
	memset(d, 0, sizeof *d);
	d->frame_index = e->frame_index;
	d->copy = copy;
	d->verdict = IMPAIR_DELIVER;

	if (loss_event(e, copy)) {
		if (s->present & NETEM_HAS_ECN)
			d->verdict = IMPAIR_MARK_CE;
		else
			--*count;
	}
	if (*count == 0) {
		d->verdict = IMPAIR_DROP_LOSS;
		return;
	}
	if (s->corrupt.scaled && s->corrupt.scaled >= crnd_next(e, &e->corrupt, copy) &&
	    len_bytes > 0) {
		d->corrupt = true;
		d->corrupt_byte = draw_below(e, copy, K_CORRUPT_BYTE, len_bytes);
		d->corrupt_bit = draw_below(e, copy, K_CORRUPT_BIT, 8);
	}
	if (e->heap_len >= s->limit_packets) {
		d->verdict = IMPAIR_DROP_LIMIT;
		return;
	}

	uint64_t depart;
	if (e->gap == 0 || e->counter < e->gap - 1 ||
	    s->reorder.scaled < crnd_next(e, &e->reorder, copy)) {
		int64_t delay = 0;
		if (s->delay_ns || s->jitter_ns || (s->present & NETEM_HAS_RATE)) {
			uint32_t rnd = s->jitter_ns ? crnd_next(e, &e->delay, copy) : 0;
			delay = netem_dist_sample(e->dist, s->delay_ns, s->jitter_ns, rnd);
		}
		uint64_t base = now_ns;
		if (s->present & NETEM_HAS_RATE) {
			/* The tail of the queue is the reference point: its remaining time is
			 * a bonus taken off this frame's delay. */
			if (e->heap_len) {
				int64_t bonus = (int64_t)(e->last_depart_ns - now_ns);
				delay = delay - bonus > 0 ? delay - bonus : 0;
				base = e->last_depart_ns;
			}
			delay += (int64_t)impair_packet_time_ns(s, len_bytes);
		}
		if (delay < 0) /* jitter wider than the delay: send now, not in the past */
			delay = 0;
		depart = base + (uint64_t)delay;
		e->counter++;
	} else {
		d->reorder_now = true;
		depart = now_ns;
		e->counter = 0;
	}
	if (!heap_push(e, depart)) {
		/* Out of memory: behave as a full queue rather than lose the bookkeeping. */
		d->verdict = IMPAIR_DROP_LIMIT;
		return;
	}
	if (e->heap_len == 1 || depart > e->last_depart_ns)
		e->last_depart_ns = depart;
	d->depart_ns = depart;
	d->delay_ns = depart - now_ns;
}

size_t impair_engine_frame(struct impair_engine *e, uint32_t len_bytes, uint64_t arrival_ns,
			   struct impair_decision out[IMPAIR_MAX_COPIES])
{
	const struct netem_spec *s = &e->spec;
	if (arrival_ns < e->last_arrival_ns)
		arrival_ns = e->last_arrival_ns;
	e->last_arrival_ns = arrival_ns;
	queue_advance(e, arrival_ns);

	int count = 1;
	if (s->duplicate.scaled && s->duplicate.scaled >= crnd_next(e, &e->dup, 0))
		++count;
	bool duplicated = count > 1;
	enqueue_copy(e, 0, len_bytes, arrival_ns, &count, &out[0]);
	size_t n = 1;
	/* As the kernel: the copy exists only if the frame survived the loss test with
	 * count still 2, and goes through netem again without duplication. A tail-dropped
	 * frame takes its copy with it. */
	if (duplicated && count > 1 && out[0].verdict != IMPAIR_DROP_LIMIT) {
		int copy_count = 1;
		enqueue_copy(e, 1, len_bytes, arrival_ns, &copy_count, &out[1]);
		n = 2;
	}
	e->frame_index++;
	return n;
}

int impair_engine_new(const struct impair_engine_config *cfg, struct impair_engine **out,
		      char *err, size_t errlen)
{
	const struct netem_spec *s = cfg->spec;
	*out = NULL;
	if (s->present & NETEM_HAS_SLOT) {
		snprintf(err, errlen, "slot is not supported by the user backend yet");
		return -1;
	}
	bool needs_table = s->dist != NETEM_DIST_NONE && s->dist != NETEM_DIST_UNIFORM;
	if (needs_table && !cfg->dist) {
		snprintf(err, errlen, "distribution %s needs its table (netem_dist_load)",
			 netem_dist_kind_name(s->dist));
		return -1;
	}
	struct impair_engine *e = calloc(1, sizeof *e);
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	e->spec = *s;
	e->dist = needs_table ? cfg->dist : NULL;
	e->seed = (s->present & NETEM_HAS_SEED) ? s->seed : cfg->seed;
	e->link_id = cfg->link_id;
	e->direction = (uint32_t)cfg->direction;
	e->corr_mode = cfg->corr_mode;
	e->gap = s->reorder.scaled ? (s->gap ? s->gap : 1) : 0;
	e->clg_state = s->loss_model == NETEM_LOSS_GEMODEL ? GOOD_STATE : TX_IN_GAP_PERIOD;
	crnd_init(&e->dup, &s->duplicate_corr, K_DUP, K_DUP_REPEAT);
	crnd_init(&e->loss, &s->loss_corr, K_LOSS, K_LOSS_REPEAT);
	crnd_init(&e->corrupt, &s->corrupt_corr, K_CORRUPT, K_CORRUPT_REPEAT);
	crnd_init(&e->reorder, &s->reorder_corr, K_REORDER, K_REORDER_REPEAT);
	crnd_init(&e->delay, &s->delay_corr, K_DELAY, K_DELAY_REPEAT);
	*out = e;
	return 0;
}

void impair_engine_free(struct impair_engine *e)
{
	if (!e)
		return;
	free(e->heap);
	free(e);
}
