/* netem spec: iproute2's `tc qdisc ... netem` option grammar, parsed and validated
 * without touching the kernel (parse, validate, apply as three separate steps, as
 * iproute2's q_netem.c does). Pure: no I/O, no allocation. Distribution tables are
 * named here and loaded by netem_dist.c. */
#ifndef VH_NETEM_SPEC_H
#define VH_NETEM_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest time accepted, so that sums of delays in the engines cannot overflow. */
#define NETEM_TIME_MAX_NS (INT64_C(1) << 52)
/* iproute2's default queue limit. */
#define NETEM_LIMIT_DEFAULT 1000u

/* One probability: what the user wrote (for printing) and the kernel's scaling,
 * rint(pct / 100 * UINT32_MAX), so 100% == UINT32_MAX. */
struct netem_prob {
	double pct;
	uint32_t scaled;
};

enum netem_dist_kind {
	NETEM_DIST_NONE = 0, /* no `distribution`: uniform jitter, as the kernel does */
	NETEM_DIST_UNIFORM,  /* `distribution uniform`: same, said explicitly */
	NETEM_DIST_NORMAL,
	NETEM_DIST_PARETO,
	NETEM_DIST_PARETONORMAL,
	NETEM_DIST_EXPERIMENTAL,
};

enum netem_loss_model {
	NETEM_LOSS_NONE = 0,
	NETEM_LOSS_RANDOM,  /* loss [random] PERCENT [CORR] */
	NETEM_LOSS_STATE,   /* loss state P13 [P31 [P32 [P23 [P14]]]] (4-state Markov) */
	NETEM_LOSS_GEMODEL, /* loss gemodel P [R [1-H [1-K]]] (Gilbert-Elliott) */
};

/* Which keywords were given (bit set in netem_spec.present). */
enum netem_field {
	NETEM_HAS_LIMIT = 1u << 0,
	NETEM_HAS_DELAY = 1u << 1,
	NETEM_HAS_DIST = 1u << 2,
	NETEM_HAS_LOSS = 1u << 3,
	NETEM_HAS_ECN = 1u << 4,
	NETEM_HAS_DUPLICATE = 1u << 5,
	NETEM_HAS_CORRUPT = 1u << 6,
	NETEM_HAS_REORDER = 1u << 7,
	NETEM_HAS_GAP = 1u << 8,
	NETEM_HAS_RATE = 1u << 9,
	NETEM_HAS_SLOT = 1u << 10,
	NETEM_HAS_SEED = 1u << 11,
};

/* A parsed spec. Fields whose NETEM_HAS_* bit is clear hold their defaults (zero,
 * limit 1000). "n_*" counts say how many optional numbers the user gave, so
 * netem_spec_format prints exactly those and derived defaults stay derived. */
struct netem_spec {
	uint32_t present;
	uint32_t limit_packets;

	int64_t delay_ns;
	int64_t jitter_ns;
	struct netem_prob delay_corr;
	unsigned n_delay_args; /* 1..3 */
	enum netem_dist_kind dist;

	enum netem_loss_model loss_model;
	struct netem_prob loss;	     /* random: PERCENT */
	struct netem_prob loss_corr; /* random: CORR */
	unsigned n_loss_args;	     /* numbers given after loss [random|state|gemodel] */
	/* loss state: a1..a5 of the kernel's clgstate; unset ones hold iproute2's
	 * defaults p31 = 1 - p13, p32 = 0, p23 = 1, p14 = 0. */
	struct netem_prob p13, p31, p32, p23, p14;
	/* loss gemodel: p (good->bad), r (bad->good), 1-h (loss in bad state), 1-k (loss
	 * in good state); defaults r = 1 - p, 1-h = 100%, 1-k = 0. ge_h_scaled is what
	 * the kernel receives as h (UINT32_MAX - scaled(1-h)). */
	struct netem_prob ge_p, ge_r, ge_1h, ge_1k;
	uint32_t ge_h_scaled;

	struct netem_prob duplicate, duplicate_corr;
	unsigned n_duplicate_args;
	struct netem_prob corrupt, corrupt_corr;
	unsigned n_corrupt_args;
	struct netem_prob reorder, reorder_corr;
	unsigned n_reorder_args;
	uint32_t gap; /* as given; the kernel uses 1 when reorder is set without gap */

	uint64_t rate_bytes_per_s; /* kernel unit: bytes per second (tc's `bps`!) */
	int32_t rate_packet_overhead_bytes;
	uint32_t rate_cell_size_bytes;
	int32_t rate_cell_overhead_bytes;
	unsigned n_rate_args; /* 1..4 */

	/* slot MIN [MAX] or slot distribution NAME DELAY JITTER; then packets/bytes. */
	bool slot_is_dist;
	int64_t slot_min_delay_ns, slot_max_delay_ns;
	bool slot_max_given;
	enum netem_dist_kind slot_dist;
	int64_t slot_dist_delay_ns, slot_dist_jitter_ns;
	int32_t slot_max_packets; /* 0 = not given (kernel: unlimited) */
	uint32_t slot_max_bytes;  /* 0 = not given (kernel: unlimited) */
	bool slot_packets_given, slot_bytes_given;

	uint64_t seed;
};

/* Where and why parsing failed. token is the offending word (truncated to fit; the
 * keyword itself when the text ended before its value); offset is the token's byte
 * offset in the text given to netem_spec_parse (table form: see there). */
struct netem_error {
	char token[64];
	size_t offset;
	char message[160];
};

/* Parses `text` (whitespace-separated words, iproute2's grammar, keywords abbreviated
 * as iproute2's matches() allows) into *out and checks iproute2's combination rules
 * (reorder needs delay, gap needs reorder, ecn needs a loss model, distribution needs
 * delay and jitter) plus ranges. Empty text and "none" give an empty spec. Returns 0;
 * or -1 with *err filled and *out unspecified. Deviations from tc: a keyword given
 * twice is an error; `distribution uniform` means the kernel's default uniform jitter;
 * percentages of a link speed (`rate 50%`) are rejected (no device to ask); NaN is
 * rejected. Caller owns all buffers; err may be NULL. */
int netem_spec_parse(const char *text, struct netem_spec *out, struct netem_error *err);

/* The table form (from Lua): kv holds n_pairs key/value pairs, kv[2i] a keyword (full
 * or abbreviated, "latency"/"drop" aliases allowed) and kv[2i+1] the rest of its words
 * ("200ms 50ms"; "" for `ecn`). The pairs are put in a fixed keyword order, joined into
 * one string and parsed by netem_spec_parse, so both forms share one validator. Error
 * offsets refer to that joined string; an unknown key is reported with offset 0 and
 * the key as token. Returns 0 or -1 as netem_spec_parse. */
int netem_spec_parse_table(const char *const *kv, size_t n_pairs, struct netem_spec *out,
			   struct netem_error *err);

/* Writes the normalised text of *s into buf (always NUL-terminated when len > 0) and
 * returns the length it needed, excluding the NUL (like snprintf). Form: keywords in
 * tc's order (limit delay distribution loss ecn duplicate corrupt reorder gap rate slot
 * seed), full names, times in the largest unit that is exact (200ms, 1500us, 7ns),
 * rates in the largest exact bit unit (8mbit), percentages as the shortest decimal that
 * reads back to the same double plus "%" (in exponent form when that decimal would not
 * fit in one 63-byte word, below about 1e-45%). An empty spec is "none". Only what the user
 * gave is printed (limit 1000 stays implicit unless given), so
 * netem_spec_parse(format(x)) reproduces x exactly. */
size_t netem_spec_format(const struct netem_spec *s, char *buf, size_t len);

/* True when a and b describe the same impairment field by field (including which
 * optional numbers were given). */
bool netem_spec_equal(const struct netem_spec *a, const struct netem_spec *b);

/* Formats err as `netem: "TOKEN" (at OFFSET): MESSAGE` into buf; returns as snprintf. */
size_t netem_error_format(const struct netem_error *err, char *buf, size_t len);

/* The name used in the grammar and in .dist file names ("normal"), or "" for NONE. */
const char *netem_dist_kind_name(enum netem_dist_kind kind);

/* What the user-facing edges (`vharness netem`, lan:impair) say about an
 * empty spec, which they refuse: the parser takes "" as "none", but a user
 * who passes nothing most often forgot to set a parameter. */
#define NETEM_EMPTY_SPEC_MESSAGE                                                                   \
	"netem: empty spec: say \"none\" for no impairment (or lan:clear(device))"

#endif
