/* A device's flash while its QEMU runs: the backing file (disk-<device>.img,
 * the durable state), the flash model's volatile writes over it, served to
 * QEMU over NBD on a unix socket from the event loop (nbd_server.h).
 *
 * One flash per boot: opened before QEMU starts, ended by a power cut
 * (flash_cut: the model's mode decides what survives) or by QEMU ending by
 * itself (flash_close: the flash kept its power, everything survives).
 * Either way the backing file then holds what the device finds at its next
 * power-on, so the bootloader may read it.
 *
 * File I/O happens on the loop, a request at a time (at most
 * NBD_SERVER_MAX_BLOCK bytes, to the host's page cache, never fsync'd):
 * the host's durability is not what is modelled. */
#ifndef VH_FLASH_H
#define VH_FLASH_H

#include "flash_faults.h"
#include "flash_model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ev_loop;
struct flash;

/* The export's name, what QEMU's -blockdev asks for. */
#define FLASH_EXPORT "flash"

struct flash_stats {
	uint64_t reads, writes, flushes, fua_writes;
	uint64_t bytes_written;
	uint64_t failed, delayed; /* requests failed or slowed by flash_faults */
};

/* Serves image (which must exist; its size is the flash's) on socket_name
 * ("@name": abstract). NULL with err. */
struct flash *flash_open(struct ev_loop *loop, const char *image, const char *socket_name,
			 char *err, size_t errlen);

/* The power dies now: takes what QEMU had already sent (nbd_server_take_sent),
 * hangs up, lets the model choose the survivors (mode, seed), writes them to
 * the file and frees f. rep and stats (may be NULL) say what happened.
 * -1 with err when the file could not be written (f is freed anyway). */
int flash_cut(struct flash *f, enum flash_cut_mode mode, uint64_t seed,
	      struct flash_cut_report *rep, struct flash_stats *stats, char *err, size_t errlen);

/* QEMU ended by itself (a reboot, a poweroff, the run's end) or is gone:
 * what it sent is taken, every write made durable and written to the file,
 * and f freed. NULL is ignored. -1 with err as for flash_cut. */
int flash_close(struct flash *f, char *err, size_t errlen);

/* A request the flash failed on purpose (flash_faults.h): for the run's
 * events. rule is the rule's index, -1 for wear-out. */
struct flash_fault_report {
	enum flash_op op;
	uint64_t offset, len; /* 0, 0 for a flush */
	int error;	      /* errno */
	int rule;
};
typedef void (*flash_fault_fn)(void *ctx, const struct flash_fault_report *r);

/* Makes f consult ff (owned by the caller, who keeps it across boots) for
 * every request: failed requests are answered with the error and never
 * reach the model (a failed write changes nothing), slow ones are answered
 * from a timer. fn (may be NULL) hears of each injected failure. */
void flash_set_faults(struct flash *f, struct flash_faults *ff, flash_fault_fn fn, void *ctx);

/* A write or flush reaching the flash, in arrival order, for a watcher
 * (vharness sweep's flush and write cut points): fua for a write with FUA.
 * Returns true when the power dies as this request arrives: from then on
 * the flash is dead until flash_cut. The request is never answered; a
 * write is taken as pending (the one the flash was programming, which
 * torn may keep part of), a flush or FUA write makes nothing durable. Every
 * later request is dropped. The watcher must cut the device's power soon,
 * from outside the request (a deferred call): flash_cut frees the server
 * the request came from. */
typedef bool (*flash_watch_fn)(void *ctx, enum flash_op op, bool fua);
void flash_set_watch(struct flash *f, flash_watch_fn fn, void *ctx);

/* Counts so far (of this boot). */
void flash_get_stats(const struct flash *f, struct flash_stats *out);

#endif
