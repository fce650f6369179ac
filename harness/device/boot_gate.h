/* How many guests boot at once. Under TCG a booting guest wants a whole
 * core; a hundred powered on together give every thread, QEMU's QMP loop
 * and the harness's included, a hundredth of one, and replies time out
 * (docs/fleet.md). A device therefore takes a ticket before it starts QEMU
 * and gives it back when its firmware says it is up (its ready line), when
 * it stops, or when hold_ms have passed, whichever comes first; the others
 * wait in the order they asked. Idle guests cost little, so the gate counts
 * only guests that are booting. */
#ifndef VH_BOOT_GATE_H
#define VH_BOOT_GATE_H

#include <stdint.h>

struct ev_loop;
struct boot_gate;
struct boot_ticket;

typedef void (*boot_gate_fn)(void *arg);

/* slots >= 1 guests boot at once; each holds its slot for at most
 * hold_ms. NULL when out of memory. */
struct boot_gate *boot_gate_new(struct ev_loop *loop, unsigned slots, uint64_t hold_ms);
/* Every ticket must have left. NULL is ignored. */
void boot_gate_free(struct boot_gate *g);

/* Queues for a slot: granted(arg) is called from the loop once the slot is
 * the caller's (on a later turn, never inside this call). */
struct boot_ticket *boot_gate_enter(struct boot_gate *g, boot_gate_fn granted, void *arg);
/* Gives the slot back (or leaves the queue, and granted is not called),
 * and frees the ticket. NULL is ignored. */
void boot_gate_leave(struct boot_ticket *t);
/* Milliseconds the ticket waited for its slot (so far, while queued). */
uint64_t boot_ticket_waited_ms(const struct boot_ticket *t);

unsigned boot_gate_slots(const struct boot_gate *g);
/* Guests holding a slot, and guests waiting for one. */
unsigned boot_gate_busy(const struct boot_gate *g);
unsigned boot_gate_queued(const struct boot_gate *g);
/* Slots given back because hold_ms ran out: the firmware never said it was
 * up in time (a wrong ready line, or a slow boot). */
unsigned boot_gate_expired(const struct boot_gate *g);

#endif
