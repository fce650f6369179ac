/* The flash model's pure core: what a device's flash holds, write by write,
 * with no I/O (flash.c is the shell that serves it to QEMU over NBD and keeps
 * the backing file). After dm-log-writes and CrashMonkey: every write and flush
 * is seen in order, and a power cut is a seeded choice among the writes the
 * device had not flushed.
 *
 * The rules (docs/flash-model.md):
 *   - a read sees the latest write to every byte;
 *   - a write is volatile until a flush completes after it ("pending");
 *     a flush makes every pending write durable, in order; a write with FUA
 *     is durable when it completes (with everything pending before it, a
 *     stronger promise than FUA's, so durable writes never reorder);
 *   - writes complete in the order they arrive (the shell answers each at
 *     once), so the last pending write is the one the flash was still
 *     programming when the power died;
 *   - a failed flush loses the writes it would have made durable (the flash
 *     could not program them, as Linux's write-back error drops the pages);
 *   - at a power cut, a mode decides which pending writes survive:
 *       volatile  none (the default)
 *       torn      each pending write but the last survives or not (a seeded
 *                 coin each), and the last survives as a seeded prefix of
 *                 its 512-byte sectors (none, some or all: a 4 KiB page may
 *                 be torn inside)
 *       ordered   a seeded prefix of them, in write order, whole writes
 *       durable   all of them (what QEMU's plain file backend gives);
 *     survivors become durable, the rest are gone.
 * Durable writes wait in memory until the shell has written them to the
 * backing file (flash_model_take_durable, flash_model_drained), so a read
 * always sees: the backing file, then the writes being drained, then the
 * durable ones, then the pending ones. */
#ifndef VH_FLASH_MODEL_H
#define VH_FLASH_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLASH_SECTOR 512u

enum flash_cut_mode { FLASH_CUT_VOLATILE, FLASH_CUT_TORN, FLASH_CUT_ORDERED, FLASH_CUT_DURABLE };

/* "volatile", "torn", "ordered", "durable"; -1 for anything else. */
int flash_cut_mode_parse(const char *name);
const char *flash_cut_mode_name(enum flash_cut_mode mode);

struct flash_write {
	struct flash_write *next;
	uint64_t seq; /* 1, 2, ... since the model was made */
	uint64_t offset;
	uint32_t len;
	uint8_t *data; /* owned */
};

/* An ordered list of writes. */
struct flash_writes {
	struct flash_write *head, *tail;
	size_t count;
	uint64_t bytes;
};

struct flash_model {
	struct flash_writes draining; /* durable, being written to the backing file */
	struct flash_writes durable;  /* durable, not yet handed to the backing file */
	struct flash_writes pending;  /* volatile: since the last completed flush */
	uint64_t seq;
	uint64_t writes;  /* since the model was made */
	uint64_t flushes; /* completed */
	uint64_t failed_flushes;
	uint64_t lost_writes; /* to failed flushes and cuts */
};

void flash_model_init(struct flash_model *m);
/* Frees every write, drained or not. */
void flash_model_free(struct flash_model *m);

/* A write arrives and completes: data (len bytes, malloc'd) is taken; it is
 * pending until the next flush. */
void flash_model_write(struct flash_model *m, uint64_t offset, uint32_t len, uint8_t *data);
/* A write with FUA: durable at once, with everything pending before it. */
void flash_model_write_fua(struct flash_model *m, uint64_t offset, uint32_t len, uint8_t *data);

/* A flush completed: every pending write becomes durable. */
void flash_model_flush(struct flash_model *m);
/* A flush failed: every pending write is lost. */
void flash_model_flush_failed(struct flash_model *m);

/* Overlays what the backing file does not hold yet onto buf, which holds
 * the backing file's bytes [offset, offset + len). */
void flash_model_overlay(const struct flash_model *m, uint8_t *buf, uint64_t offset, size_t len);

/* What a power cut did. survived names the pending writes that survived by
 * their position among them (1-based, in write order: "1-12,15"), cut short
 * with "..." when long. */
struct flash_cut_report {
	enum flash_cut_mode mode;
	uint64_t pending_writes, pending_bytes;
	uint64_t survived_writes, survived_bytes;
	uint64_t torn_bytes; /* of the last write, when it survived in part */
	bool torn;
	char survived[160];
};

/* The power dies now: decides from seed which pending writes survive (see
 * the mode rules above), makes them durable and drops the rest. The same
 * pending writes, mode and seed give the same choice. */
void flash_model_cut(struct flash_model *m, enum flash_cut_mode mode, uint64_t seed,
		     struct flash_cut_report *rep);

/* Moves the durable writes to the draining list and returns it (NULL when
 * none): the shell writes them to the backing file, in order, then calls
 * flash_model_drained. Only one batch drains at a time. */
struct flash_writes *flash_model_take_durable(struct flash_model *m);
/* The draining batch is in the backing file: frees it. */
void flash_model_drained(struct flash_model *m);
/* Nothing waits to be written to the backing file. */
bool flash_model_settled(const struct flash_model *m);

/* splitmix64: the model's random numbers, one per call, from *state. */
uint64_t flash_model_rand(uint64_t *state);
/* A seed for one device's cut number n, from the run's seed. */
uint64_t flash_model_cut_seed(uint64_t run_seed, const char *device, uint64_t n);

#endif
