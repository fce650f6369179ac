/* impair engine: sch_netem's netem_enqueue() decisions in virtual time, with
 * counter-based randomness instead of the kernel's PRNG stream; and, for `slot`, the
 * slot test of netem_dequeue(), decided when the frame arrives. */
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
	K_SLOT, /* a slot interval; hashed with the draw's number, not a frame index */
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

/* One scheduled slot: when it opens and what it may still send (the kernel's
 * slotstate). The kernel keeps only the next one; we keep every slot that queued
 * frames were promised, because departures are decided at arrival. */
struct slot {
	uint64_t start_ns;
	int64_t packets_left, bytes_left;
	bool used; /* a frame departs in it (else it was opened by an exhausted budget) */
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
	 * arrival are popped first. */
	uint64_t *heap;
	size_t heap_len, heap_cap;
	/* Latest time_to_send among queued frames (the tfifo tail): rate's reference.
	 * Not a departure: a slot may hold a frame past its time_to_send. */
	uint64_t last_tts_ns;

	/* slot: off when every slot delay is 0, as sch_netem (slot_next = 0). */
	bool slot_on;
	const struct netem_dist_table *slot_dist;
	int64_t slot_packets, slot_bytes; /* a fresh slot's budget */
	uint64_t slot_draws;		  /* intervals drawn so far: the next draw's number */
	/* Slots still to open, ascending start, live in [slots_first, slots_len). The
	 * last one always has budget left: when it runs out its successor is drawn. */
	struct slot *slots;
	size_t slots_first, slots_len, slots_cap;
	/* Slots below this index have spent their budget: a backlog makes thousands of
	 * them, which slot_find must not walk for every frame. */
	size_t slots_spent;
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
static uint32_t draw_below(const struct impair_engine *e, uint32_t copy, enum kind kind, uint32_t n)
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
		uint64_t answer =
			((uint64_t)fresh * ((UINT64_C(1) << 32) - rho) + (uint64_t)c->last * rho) >>
			32;
		c->last = (uint32_t)answer;
		return c->last;
	}
	/* Repeat with probability rho/2^32 (UINT32_MAX = always, after the first). */
	if (c->has_last && (c->rho == UINT32_MAX || draw(e, copy, c->repeat_kind) < c->rho))
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

/* Room reserved by queue_reserve. */
static void heap_push(struct impair_engine *e, uint64_t v)
{
	size_t i = e->heap_len++;
	e->heap[i] = v;
	while (i > 0 && e->heap[(i - 1) / 2] > e->heap[i]) {
		uint64_t t = e->heap[i];
		e->heap[i] = e->heap[(i - 1) / 2];
		e->heap[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
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

/* ---- slots: get_slot_next() and the slot test of netem_dequeue() ----
 *
 * The kernel holds the head of the tfifo until slot_next; at a dequeue it draws a new
 * slot from `now` when the head's time_to_send is after slot_next, and after sending
 * when the budget is used up. Every slotted frame therefore leaves exactly at a slot
 * start. We decide each frame's slot when it arrives, with the dequeue events that
 * exist by then: the moment it becomes the head (its arrival, or the start of the
 * slot that sends the frames ahead of it) and the watchdog at its time_to_send. */

/* The next slot interval (get_slot_next()). */
static uint64_t slot_interval_ns(struct impair_engine *e)
{
	const struct netem_spec *s = &e->spec;
	uint32_t rnd = (uint32_t)(impair_hash(e->seed, e->link_id, e->direction, e->slot_draws++,
					      K_SLOT) >>
				  32);
	if (!s->slot_is_dist) {
		/* min + (range * rnd) >> 32 in 64 bits (the kernel's mul_u64_u32_shr()). */
		uint64_t range = (uint64_t)(s->slot_max_delay_ns - s->slot_min_delay_ns);
		return (uint64_t)s->slot_min_delay_ns + (range >> 32) * rnd +
		       (((range & UINT32_MAX) * rnd) >> 32);
	}
	/* The kernel caps the jitter to what tabledist() takes (s32). */
	int64_t sigma = s->slot_dist_jitter_ns < INT32_MAX ? s->slot_dist_jitter_ns : INT32_MAX;
	int64_t v = netem_dist_sample(e->slot_dist, s->slot_dist_delay_ns, sigma, rnd);
	/* A negative draw puts slot_next in the past: the slot is open at once. */
	return v > 0 ? (uint64_t)v : 0;
}

/* Room for one more queued frame and two more slots, so that deciding a departure
 * cannot fail half way. False when out of memory. */
static bool queue_reserve(struct impair_engine *e)
{
	if (e->heap_len == e->heap_cap) {
		size_t cap = e->heap_cap ? e->heap_cap * 2 : 64;
		uint64_t *h = realloc(e->heap, cap * sizeof *h);
		if (!h)
			return false;
		e->heap = h;
		e->heap_cap = cap;
	}
	if (!e->slot_on || e->slots_len + 2 <= e->slots_cap)
		return true;
	if (e->slots_first) { /* slide the live slots down before growing */
		e->slots_len -= e->slots_first;
		e->slots_spent -= e->slots_first;
		memmove(e->slots, e->slots + e->slots_first, e->slots_len * sizeof *e->slots);
		e->slots_first = 0;
		if (e->slots_len + 2 <= e->slots_cap)
			return true;
	}
	size_t cap = e->slots_cap ? e->slots_cap * 2 : 16;
	struct slot *sl = realloc(e->slots, cap * sizeof *sl);
	if (!sl)
		return false;
	e->slots = sl;
	e->slots_cap = cap;
	return true;
}

/* Slots that opened before now can take no new frame (time_to_send >= arrival). */
static void slots_prune(struct impair_engine *e, uint64_t now_ns)
{
	while (e->slots_first < e->slots_len && e->slots[e->slots_first].start_ns < now_ns)
		e->slots_first++;
	if (e->slots_first == e->slots_len)
		e->slots_first = e->slots_len = 0;
	if (e->slots_spent < e->slots_first)
		e->slots_spent = e->slots_first;
}

static struct slot *slot_last(struct impair_engine *e)
{
	return e->slots_len > e->slots_first ? &e->slots[e->slots_len - 1] : NULL;
}

static void slot_append(struct impair_engine *e, uint64_t start_ns)
{
	struct slot *sl = &e->slots[e->slots_len++]; /* room reserved by queue_reserve */
	sl->start_ns = start_ns;
	sl->packets_left = e->slot_packets;
	sl->bytes_left = e->slot_bytes;
	sl->used = false;
}

static bool slot_spent(const struct slot *sl)
{
	return sl->packets_left <= 0 || sl->bytes_left <= 0;
}

/* The first slot opening at or after tts with budget left, or SIZE_MAX. Without
 * jitter time_to_send only grows, so this is the last slot or none. */
static size_t slot_find(const struct impair_engine *e, uint64_t tts_ns)
{
	size_t lo = e->slots_spent, hi = e->slots_len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (e->slots[mid].start_ns < tts_ns)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < e->slots_len; lo++)
		if (!slot_spent(&e->slots[lo]))
			return lo;
	return SIZE_MAX;
}

/* No slot is open for tts: the kernel finds slot_next < time_to_send when the frame
 * becomes the head, draws a slot from then, and if that opens before time_to_send
 * draws again when the watchdog wakes it at time_to_send. */
static size_t slot_open(struct impair_engine *e, uint64_t tts_ns, uint64_t now_ns)
{
	struct slot *last = slot_last(e);
	if (last && !last->used) { /* drawn by an exhausted budget; redrawn as the kernel */
		e->slots_len--;
		last = slot_last(e);
	}
	uint64_t head_ns = last && last->start_ns > now_ns ? last->start_ns : now_ns;
	uint64_t start = head_ns + slot_interval_ns(e);
	if (start < tts_ns)
		start = tts_ns + slot_interval_ns(e);
	slot_append(e, start);
	return e->slots_len - 1;
}

/* Sends one frame in slot i: the kernel counts after sending, so the frame that uses
 * up the byte budget still goes, and the next slot is drawn from this one's start. */
static uint64_t slot_take(struct impair_engine *e, size_t i, uint32_t len_bytes)
{
	struct slot *sl = &e->slots[i];
	uint64_t start = sl->start_ns;
	sl->used = true;
	sl->packets_left--;
	sl->bytes_left -= len_bytes;
	if (slot_spent(sl) && i == e->slots_len - 1)
		slot_append(e, start + slot_interval_ns(e));
	while (e->slots_spent < e->slots_len && slot_spent(&e->slots[e->slots_spent]))
		e->slots_spent++;
	return start;
}

/* When a frame eligible at tts leaves: at the start of the slot that sends it. */
static uint64_t slot_depart(struct impair_engine *e, uint64_t tts_ns, uint64_t now_ns,
			    uint32_t len_bytes)
{
	size_t i = slot_find(e, tts_ns);
	if (i == SIZE_MAX)
		i = slot_open(e, tts_ns, now_ns);
	return slot_take(e, i, len_bytes);
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

/* The kernel's time_to_send for a frame that is not reordered: its delay, and with
 * a rate, its transmission time after the tail of the queue. */
static uint64_t time_to_send(struct impair_engine *e, uint32_t copy, uint32_t len_bytes,
			     uint64_t now_ns)
{
	const struct netem_spec *s = &e->spec;
	int64_t delay = 0;
	if (s->delay_ns || s->jitter_ns || (s->present & NETEM_HAS_RATE)) {
		uint32_t rnd = s->jitter_ns ? crnd_next(e, &e->delay, copy) : 0;
		delay = netem_dist_sample(e->dist, s->delay_ns, s->jitter_ns, rnd);
	}
	uint64_t base = now_ns;
	if (s->present & NETEM_HAS_RATE) {
		/* The tail of the queue is the reference point: its remaining time is a
		 * bonus taken off this frame's delay. */
		if (e->heap_len) {
			int64_t bonus = (int64_t)(e->last_tts_ns - now_ns);
			delay = delay - bonus > 0 ? delay - bonus : 0;
			base = e->last_tts_ns;
		}
		delay += (int64_t)impair_packet_time_ns(s, len_bytes);
	}
	if (delay < 0) /* jitter wider than the delay: send now, not in the past */
		delay = 0;
	return base + (uint64_t)delay;
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
	/* Out of memory behaves as a full queue rather than lose the bookkeeping. */
	if (e->heap_len >= s->limit_packets || !queue_reserve(e)) {
		d->verdict = IMPAIR_DROP_LIMIT;
		return;
	}

	uint64_t tts, depart;
	if (e->gap == 0 || e->counter < e->gap - 1 ||
	    s->reorder.scaled < crnd_next(e, &e->reorder, copy)) {
		tts = time_to_send(e, copy, len_bytes, now_ns);
		/* Slot holds the frame after delay and rate have had their say. */
		depart = e->slot_on ? slot_depart(e, tts, now_ns, len_bytes) : tts;
		e->counter++;
	} else {
		/* The head of the queue (sch->q), which netem_dequeue() empties before it
		 * looks at slots: a reordered frame ignores them. */
		d->reorder_now = true;
		tts = depart = now_ns;
		e->counter = 0;
	}
	heap_push(e, depart);
	if (e->heap_len == 1 || tts > e->last_tts_ns)
		e->last_tts_ns = tts;
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
	slots_prune(e, arrival_ns);

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

/* The spec's tables are there when it names them. */
static int check_tables(const struct impair_engine_config *cfg, char *err, size_t errlen)
{
	const struct netem_spec *s = cfg->spec;
	if (s->dist != NETEM_DIST_NONE && s->dist != NETEM_DIST_UNIFORM && !cfg->dist) {
		snprintf(err, errlen, "distribution %s needs its table (netem_dist_load)",
			 netem_dist_kind_name(s->dist));
		return -1;
	}
	if ((s->present & NETEM_HAS_SLOT) && s->slot_is_dist && !cfg->slot_dist) {
		snprintf(err, errlen, "slot distribution %s needs its table (netem_dist_load)",
			 netem_dist_kind_name(s->slot_dist));
		return -1;
	}
	return 0;
}

/* sch_netem's get_slot(): 0 packets or bytes means no limit (INT_MAX), and a slot
 * whose delays are all 0 is no slot at all. */
static void slot_init(struct impair_engine *e, const struct impair_engine_config *cfg)
{
	const struct netem_spec *s = &e->spec;
	if (!(s->present & NETEM_HAS_SLOT))
		return;
	e->slot_on = s->slot_is_dist ? s->slot_dist_jitter_ns != 0
				     : (s->slot_min_delay_ns | s->slot_max_delay_ns) != 0;
	e->slot_dist = s->slot_is_dist ? cfg->slot_dist : NULL;
	e->slot_packets = s->slot_max_packets > 0 ? s->slot_max_packets : INT32_MAX;
	/* Above INT32_MAX the kernel's s32 budget would wrap negative (one frame per
	 * slot); we take the evident meaning, no limit. */
	e->slot_bytes = s->slot_max_bytes > 0 && s->slot_max_bytes <= INT32_MAX
				? (int64_t)s->slot_max_bytes
				: INT32_MAX;
}

int impair_engine_new(const struct impair_engine_config *cfg, struct impair_engine **out, char *err,
		      size_t errlen)
{
	const struct netem_spec *s = cfg->spec;
	*out = NULL;
	if (check_tables(cfg, err, errlen) < 0)
		return -1;
	struct impair_engine *e = calloc(1, sizeof *e);
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	e->spec = *s;
	bool needs_table = s->dist != NETEM_DIST_NONE && s->dist != NETEM_DIST_UNIFORM;
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
	slot_init(e, cfg);
	*out = e;
	return 0;
}

void impair_engine_free(struct impair_engine *e)
{
	if (!e)
		return;
	free(e->heap);
	free(e->slots);
	free(e);
}
