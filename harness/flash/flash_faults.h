/* Flash faults and slowness, the pure core (docs/flash-model.md, "Flash
 * faults"): which request the flash fails, how long one takes, when the
 * flash wears out. No I/O and no clock of its own: flash.c asks before it
 * hands a request to the model, and answers later when there is a delay.
 *
 * It lives on the device, not on a boot's flash: the device reopens its
 * flash at every power-on, and a rule that has failed its count of requests
 * must not fail them again after a reboot, nor a worn-out flash heal.
 *
 * Rules (dut:flash_fault{}): a request matches a rule when its op is the
 * rule's, the rule is armed (at once, or when its console line appeared)
 * and, with a range, the request overlaps it. Each rule counts the requests
 * it matches: the first `after` pass, the next `count` fail with `error`,
 * the rest pass. Every rule sees every request, so two rules count
 * independently; the first rule (in the order they were added) that fails
 * a request gives its error.
 *
 * Slowness (dut:flash{}): the flash programs one write at a time. A write
 * starts when the flash is idle (or when it arrives, if later) and takes
 * write_latency + len / bandwidth; a flush completes once every write
 * before it has. Reads are answered at once (the flash's program speed is
 * what is modelled, not its read speed), and so are failed requests.
 *
 * Wear-out (dut:flash{wear_out_after = N}): after N successful writes over
 * the device's life, every write fails with EIO and reads still work, as
 * an eMMC whose spare blocks ran out turns read-only: the host sees an I/O
 * error (NBD has no EROFS; Linux's own read-only NBD export answers EPERM,
 * but the guest's virtio-blk reports either as EIO). */
#ifndef VH_FLASH_FAULTS_H
#define VH_FLASH_FAULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum flash_op { FLASH_OP_READ, FLASH_OP_WRITE, FLASH_OP_FLUSH };

/* "read", "write", "flush"; -1 for anything else. */
int flash_op_parse(const char *name);
const char *flash_op_name(enum flash_op op);

/* The errors a rule may inject: "EIO", "EPERM" (what NBD can carry and
 * QEMU passes on without stopping the guest: ENOSPC would pause it under
 * QEMU's default werror=enospc). The errno value, or -1. */
int flash_fault_error_parse(const char *name);
const char *flash_fault_error_name(int error);

/* "2MB/s", "512KiB/s", "1000" (bytes per second; k, M, G are powers of
 * 1000, Ki, Mi, Gi of 1024; "B/s" may be "/s" or absent). 0 with *bps > 0,
 * -1 when malformed, zero or too large. */
int flash_bandwidth_parse(const char *text, uint64_t *bps);

#define FLASH_FAULT_RULES_MAX 32

struct flash_fault_rule {
	enum flash_op op;
	int error;	/* errno: EIO or EPERM */
	bool armed;	/* false until the rule's console line appears */
	uint64_t after; /* matching requests that pass before the first fails */
	uint64_t count; /* how many then fail (>= 1) */
	bool has_range; /* else every offset matches */
	uint64_t offset, length;
	/* Progress. */
	uint64_t seen, failed;
};

struct flash_faults {
	struct flash_fault_rule rules[FLASH_FAULT_RULES_MAX];
	size_t n;
	uint64_t write_latency_us;
	uint64_t bandwidth;	 /* bytes per second; 0: unlimited */
	uint64_t wear_out_after; /* 0: never */
	uint64_t writes_done;	 /* successful writes over the device's life */
	uint64_t busy_until_us;	 /* when the flash finishes its last write */
};

/* What the core decided about one request. */
struct flash_fault_hit {
	int error;  /* 0: the request goes ahead; else the errno to answer */
	int rule;   /* the rule that failed it (index), or -1 */
	bool worn;  /* failed by wear-out */
	bool wears; /* this write is the one that wears the flash out */
};

void flash_faults_init(struct flash_faults *ff);

/* Adds a rule (its progress is reset; armed as given). Its index, or -1
 * when FLASH_FAULT_RULES_MAX rules exist already. */
int flash_faults_add(struct flash_faults *ff, const struct flash_fault_rule *rule);

/* The rule's console line appeared: it starts counting requests. */
void flash_faults_arm(struct flash_faults *ff, int rule);

/* Decides the request (offset and len are ignored for a flush) and counts
 * it: every matching rule's `seen`, the failing rule's `failed`, a write
 * that goes ahead towards wear-out. */
struct flash_fault_hit flash_faults_decide(struct flash_faults *ff, enum flash_op op,
					   uint64_t offset, uint64_t len);

/* How long after now_us (any monotonic clock in microseconds) a request
 * that went ahead is answered, and marks the flash busy until then. 0 for
 * a flash without slowness, for reads and for a flush with nothing in
 * progress. */
uint64_t flash_faults_delay_us(struct flash_faults *ff, uint64_t now_us, enum flash_op op,
			       uint64_t len);

/* A power cut or a reboot: whatever the flash was programming is over. */
void flash_faults_idle(struct flash_faults *ff);

#endif
