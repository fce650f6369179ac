/* The boot gate: see boot_gate.h. */
#include "boot_gate.h"

#include "ev.h"

#include <stdbool.h>
#include <stdlib.h>

enum ticket_state { QUEUED, GRANTED, EXPIRED };

struct boot_ticket {
	struct boot_ticket *prev, *next; /* the queue, while QUEUED */
	struct boot_gate *gate;
	enum ticket_state state;
	boot_gate_fn granted;
	void *arg;
	uint64_t entered_ms, granted_ms;
	uint64_t defer; /* granted's call, until it is made */
	uint64_t timer; /* hold_ms, while GRANTED */
};

struct boot_gate {
	struct ev_loop *loop;
	unsigned slots, busy, queued, expired;
	uint64_t hold_ms;
	struct boot_ticket *head, *tail;
};

struct boot_gate *boot_gate_new(struct ev_loop *loop, unsigned slots, uint64_t hold_ms)
{
	struct boot_gate *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->loop = loop;
	g->slots = slots ? slots : 1;
	g->hold_ms = hold_ms;
	return g;
}

void boot_gate_free(struct boot_gate *g)
{
	free(g);
}

static void deliver(struct ev_loop *loop, void *arg)
{
	(void)loop;
	struct boot_ticket *t = arg;
	t->defer = 0;
	t->granted(t->arg);
}

static void pump(struct boot_gate *g);

static void on_hold_over(struct ev_loop *loop, uint64_t id, void *arg)
{
	(void)loop, (void)id;
	struct boot_ticket *t = arg;
	struct boot_gate *g = t->gate;
	t->timer = 0;
	t->state = EXPIRED;
	g->busy--;
	g->expired++;
	pump(g);
}

static void unqueue(struct boot_gate *g, struct boot_ticket *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		g->head = t->next;
	if (t->next)
		t->next->prev = t->prev;
	else
		g->tail = t->prev;
	t->next = t->prev = NULL;
	g->queued--;
}

static void pump(struct boot_gate *g)
{
	while (g->busy < g->slots && g->head) {
		struct boot_ticket *t = g->head;
		unqueue(g, t);
		g->busy++;
		t->state = GRANTED;
		t->granted_ms = ev_clock_ms();
		t->timer = ev_add_timer(g->loop, g->hold_ms, on_hold_over, t);
		t->defer = ev_defer(g->loop, deliver, t);
	}
}

struct boot_ticket *boot_gate_enter(struct boot_gate *g, boot_gate_fn granted, void *arg)
{
	struct boot_ticket *t = calloc(1, sizeof(*t));
	if (!t)
		abort();
	t->gate = g;
	t->granted = granted;
	t->arg = arg;
	t->state = QUEUED;
	t->entered_ms = ev_clock_ms();
	t->prev = g->tail;
	if (g->tail)
		g->tail->next = t;
	else
		g->head = t;
	g->tail = t;
	g->queued++;
	pump(g);
	return t;
}

void boot_gate_leave(struct boot_ticket *t)
{
	if (!t)
		return;
	struct boot_gate *g = t->gate;
	if (t->defer)
		ev_cancel_defer(g->loop, t->defer);
	if (t->timer)
		ev_del_timer(g->loop, t->timer);
	if (t->state == QUEUED)
		unqueue(g, t);
	else if (t->state == GRANTED)
		g->busy--;
	free(t);
	pump(g);
}

uint64_t boot_ticket_waited_ms(const struct boot_ticket *t)
{
	return (t->state == QUEUED ? ev_clock_ms() : t->granted_ms) - t->entered_ms;
}

unsigned boot_gate_slots(const struct boot_gate *g)
{
	return g->slots;
}

unsigned boot_gate_busy(const struct boot_gate *g)
{
	return g->busy;
}

unsigned boot_gate_queued(const struct boot_gate *g)
{
	return g->queued;
}

unsigned boot_gate_expired(const struct boot_gate *g)
{
	return g->expired;
}
