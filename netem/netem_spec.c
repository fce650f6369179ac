/* netem spec parser: iproute2's q_netem.c grammar and rules, without the kernel. */
#include "netem_spec.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TOKEN_MAX 64
#define NS_PER_US INT64_C(1000)
#define NS_PER_MS INT64_C(1000000)
#define NS_PER_S INT64_C(1000000000)
/* Rates above this would lose exactness in double arithmetic (bits <= 2^53). */
#define RATE_MAX_BYTES_PER_S (UINT64_C(1) << 50)

/* Keywords in iproute2's matching order: "d" is delay, "du" duplicate, "di"
 * distribution, "l" limit, "lo" loss, "r" reorder, "ra" rate, "s" slot. */
enum kw {
	KW_LIMIT,
	KW_LATENCY,
	KW_DELAY,
	KW_LOSS,
	KW_DROP,
	KW_ECN,
	KW_REORDER,
	KW_CORRUPT,
	KW_GAP,
	KW_DUPLICATE,
	KW_DISTRIBUTION,
	KW_RATE,
	KW_SLOT,
	KW_SEED,
	KW_COUNT,
	KW_NONE = -1,
};

static const char *const kw_names[KW_COUNT] = {
	"limit",   "latency", "delay",	   "loss",	   "drop", "ecn",  "reorder",
	"corrupt", "gap",     "duplicate", "distribution", "rate", "slot", "seed",
};

/* The bit each keyword sets; aliases share their target's bit. */
static const uint32_t kw_fields[KW_COUNT] = {
	NETEM_HAS_LIMIT, NETEM_HAS_DELAY,   NETEM_HAS_DELAY,   NETEM_HAS_LOSS, NETEM_HAS_LOSS,
	NETEM_HAS_ECN,	 NETEM_HAS_REORDER, NETEM_HAS_CORRUPT, NETEM_HAS_GAP,  NETEM_HAS_DUPLICATE,
	NETEM_HAS_DIST,	 NETEM_HAS_RATE,    NETEM_HAS_SLOT,    NETEM_HAS_SEED,
};

static const char *const dist_names[] = {
	[NETEM_DIST_NONE] = "",
	[NETEM_DIST_UNIFORM] = "uniform",
	[NETEM_DIST_NORMAL] = "normal",
	[NETEM_DIST_PARETO] = "pareto",
	[NETEM_DIST_PARETONORMAL] = "paretonormal",
	[NETEM_DIST_EXPERIMENTAL] = "experimental",
};

const char *netem_dist_kind_name(enum netem_dist_kind kind)
{
	if ((size_t)kind >= sizeof dist_names / sizeof dist_names[0])
		return "";
	return dist_names[kind];
}

/* iproute2's matches(): the word is a non-empty prefix of the keyword. */
static bool word_matches(const char *word, const char *keyword)
{
	size_t n = strlen(word);
	return n > 0 && strncmp(word, keyword, n) == 0;
}

static enum kw keyword_lookup(const char *word)
{
	for (int i = 0; i < KW_COUNT; i++)
		if (word_matches(word, kw_names[i]))
			return (enum kw)i;
	return KW_NONE;
}

static enum kw kw_canonical(enum kw k)
{
	return k == KW_LATENCY ? KW_DELAY : k == KW_DROP ? KW_LOSS : k;
}

/* ---- tokens ---------------------------------------------------------------- */

struct tok {
	char text[TOKEN_MAX];
	size_t offset;
	bool truncated;
};

struct lexer {
	const char *src;
	size_t pos;
	struct tok cur;	 /* the word being consumed */
	struct tok next; /* one word of lookahead, as iproute2's argv[1] */
	bool has_next;
};

static void lexer_fill(struct lexer *lx)
{
	const char *s = lx->src;
	size_t i = lx->pos;
	while (s[i] && isspace((unsigned char)s[i]))
		i++;
	if (!s[i]) {
		lx->has_next = false;
		lx->pos = i;
		return;
	}
	size_t start = i;
	while (s[i] && !isspace((unsigned char)s[i]))
		i++;
	size_t n = i - start;
	lx->next.truncated = n >= TOKEN_MAX;
	if (n >= TOKEN_MAX)
		n = TOKEN_MAX - 1;
	memcpy(lx->next.text, s + start, n);
	lx->next.text[n] = '\0';
	lx->next.offset = start;
	lx->has_next = true;
	lx->pos = i;
}

static void lexer_init(struct lexer *lx, const char *src)
{
	memset(lx, 0, sizeof *lx);
	lx->src = src;
	lexer_fill(lx);
}

/* Moves the lookahead into cur; false at the end of the text. */
static bool lexer_advance(struct lexer *lx)
{
	if (!lx->has_next)
		return false;
	lx->cur = lx->next;
	lexer_fill(lx);
	return true;
}

/* iproute2's NEXT_IS_NUMBER(): optional numbers are taken only when the next word
 * starts with a digit. */
static bool lexer_next_is_number(const struct lexer *lx)
{
	return lx->has_next && isdigit((unsigned char)lx->next.text[0]);
}

static bool lexer_next_is_signed_number(const struct lexer *lx)
{
	return lx->has_next &&
	       (isdigit((unsigned char)lx->next.text[0]) || lx->next.text[0] == '-');
}

/* ---- errors ---------------------------------------------------------------- */

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int
fail_at(struct netem_error *err, const char *token, size_t offset, const char *fmt, ...)
{
	if (!err)
		return -1;
	snprintf(err->token, sizeof err->token, "%s", token);
	err->offset = offset;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	return -1;
}

size_t netem_error_format(const struct netem_error *err, char *buf, size_t len)
{
	int n = snprintf(buf, len, "netem: \"%s\" (at %zu): %s", err->token, err->offset,
			 err->message);
	return n < 0 ? 0 : (size_t)n;
}

/* ---- numbers (iproute2's utils.c rules) ------------------------------------ */

/* parse_percent(): "PERCENT" or "PERCENT%", 0..100. */
static bool number_percent(const char *text, struct netem_prob *out)
{
	char *end;
	errno = 0;
	double pct = strtod(text, &end);
	if (end == text || (*end && strcmp(end, "%") != 0) || isnan(pct))
		return false;
	if (pct < 0.0 || pct > 100.0)
		return false;
	if (pct == 0.0)
		pct = 0.0; /* no "-0%" in the normalised text */
	out->pct = pct;
	out->scaled = (uint32_t)rint(pct / 100.0 * UINT32_MAX);
	return true;
}

static void prob_set_fraction(struct netem_prob *p, double fraction)
{
	p->pct = fraction * 100.0;
	p->scaled = (uint32_t)rint(fraction * UINT32_MAX);
}

/* get_time64(): a float with s/sec/secs, ms/msec/msecs, us/usec/usecs, ns/nsec/nsecs
 * (any case); a bare number is microseconds. Truncated to whole ns as iproute2 does. */
static bool number_time_ns(const char *text, int64_t *out_ns)
{
	static const struct {
		const char *name;
		double ns;
	} units[] = {
		{ "s", 1e9 },	  { "sec", 1e9 },   { "secs", 1e9 }, { "ms", 1e6 },
		{ "msec", 1e6 },  { "msecs", 1e6 }, { "us", 1e3 },   { "usec", 1e3 },
		{ "usecs", 1e3 }, { "ns", 1.0 },    { "nsec", 1.0 }, { "nsecs", 1.0 },
	};
	char *end;
	double v = strtod(text, &end);
	if (end == text || isnan(v))
		return false;
	double mult = 1e3;
	if (*end) {
		size_t i;
		for (i = 0; i < sizeof units / sizeof units[0]; i++)
			if (strcasecmp(end, units[i].name) == 0)
				break;
		if (i == sizeof units / sizeof units[0])
			return false;
		mult = units[i].ns;
	}
	double ns = v * mult;
	if (!(ns >= 0.0) || ns > (double)NETEM_TIME_MAX_NS)
		return false;
	*out_ns = (int64_t)ns;
	return true;
}

/* get_rate64(): tc's suffixes, matched case-insensitively, so "kbps" is kilobytes
 * per second as in tc; a bare number is bits per second. Stored in bytes/s. */
static bool number_rate(const char *text, uint64_t *out_bytes_per_s)
{
	static const struct {
		const char *name;
		double scale;
	} suffixes[] = {
		{ "bit", 1. },
		{ "kibit", 1024. },
		{ "kbit", 1000. },
		{ "mibit", 1024. * 1024. },
		{ "mbit", 1000000. },
		{ "gibit", 1024. * 1024. * 1024. },
		{ "gbit", 1000000000. },
		{ "tibit", 1024. * 1024. * 1024. * 1024. },
		{ "tbit", 1000000000000. },
		{ "bps", 8. },
		{ "kibps", 8. * 1024. },
		{ "kbps", 8000. },
		{ "mibps", 8. * 1024. * 1024. },
		{ "mbps", 8000000. },
		{ "gibps", 8. * 1024. * 1024. * 1024. },
		{ "gbps", 8000000000. },
		{ "tibps", 8. * 1024. * 1024. * 1024. * 1024. },
		{ "tbps", 8000000000000. },
	};
	char *end;
	double bps = strtod(text, &end);
	if (end == text || isnan(bps))
		return false;
	if (*end) {
		size_t i;
		for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
			if (strcasecmp(end, suffixes[i].name) == 0)
				break;
		if (i == sizeof suffixes / sizeof suffixes[0])
			return false;
		bps *= suffixes[i].scale;
	}
	double bytes = bps / 8.0;
	if (!(bytes >= 1.0) || bytes > (double)RATE_MAX_BYTES_PER_S)
		return false;
	*out_bytes_per_s = (uint64_t)bytes;
	return true;
}

/* get_size(): b, k/kb, m/mb, g/gb (binary), kbit/mbit/gbit; must be a whole number
 * of bytes that fits the kernel's int. */
static bool number_size_bytes(const char *text, uint32_t *out)
{
	char *end;
	double sz = strtod(text, &end);
	if (end == text || isnan(sz))
		return false;
	if (*end) {
		if (!strcasecmp(end, "kb") || !strcasecmp(end, "k"))
			sz *= 1024;
		else if (!strcasecmp(end, "gb") || !strcasecmp(end, "g"))
			sz *= 1024. * 1024. * 1024.;
		else if (!strcasecmp(end, "gbit"))
			sz *= 1024. * 1024. * 1024. / 8;
		else if (!strcasecmp(end, "mb") || !strcasecmp(end, "m"))
			sz *= 1024 * 1024;
		else if (!strcasecmp(end, "mbit"))
			sz *= 1024 * 1024 / 8;
		else if (!strcasecmp(end, "kbit"))
			sz *= 1024 / 8;
		else if (strcasecmp(end, "b") != 0)
			return false;
	}
	if (!(sz >= 1.0) || sz > (double)INT32_MAX || sz != floor(sz))
		return false;
	*out = (uint32_t)sz;
	return true;
}

/* get_u32(..., 0): C integer syntax (0x.., leading 0 = octal), no sign. */
static bool number_u32(const char *text, uint32_t *out)
{
	if (!isdigit((unsigned char)text[0]))
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 0);
	if (*end || errno == ERANGE || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* get_s32(..., 0). */
static bool number_s32(const char *text, int32_t *out)
{
	if (!text[0] || isspace((unsigned char)text[0]) || text[0] == '+')
		return false;
	char *end;
	errno = 0;
	long long v = strtoll(text, &end, 0);
	if (end == text || *end || errno == ERANGE || v < INT32_MIN || v > INT32_MAX)
		return false;
	*out = (int32_t)v;
	return true;
}

/* get_u64(..., 10). */
static bool number_u64_dec(const char *text, uint64_t *out)
{
	if (!isdigit((unsigned char)text[0]))
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (*end || errno == ERANGE)
		return false;
	*out = (uint64_t)v;
	return true;
}

static bool dist_lookup(const char *name, enum netem_dist_kind *out)
{
	for (size_t i = 1; i < sizeof dist_names / sizeof dist_names[0]; i++)
		if (strcmp(name, dist_names[i]) == 0) {
			*out = (enum netem_dist_kind)i;
			return true;
		}
	return false;
}

/* ---- the parser ------------------------------------------------------------ */

struct parser {
	struct lexer lx;
	struct netem_spec *spec;
	struct netem_error *err;
	size_t kw_offset[KW_COUNT]; /* where each keyword was, for combination errors */
	char kw_text[KW_COUNT][TOKEN_MAX];
};

static int fail_tok(struct parser *p, const struct tok *t, const char *fmt, const char *what)
{
	return fail_at(p->err, t->text, t->offset, fmt, what);
}

/* NEXT_ARG(): the keyword needs a value; failing names the keyword. */
static int need_value(struct parser *p, const struct tok *keyword, const char *what)
{
	if (lexer_advance(&p->lx))
		return 0;
	return fail_at(p->err, keyword->text, keyword->offset, "needs %s after it", what);
}

static int take_percent(struct parser *p, const struct tok *kwtok, const char *what,
			struct netem_prob *out)
{
	if (need_value(p, kwtok, what) < 0)
		return -1;
	if (!number_percent(p->lx.cur.text, out))
		return fail_tok(p, &p->lx.cur, "%s: expected a percentage 0-100 (e.g. 2%% or 2)",
				what);
	return 0;
}

/* An optional percentage: consumed only if the next word is numeric. Returns 1 if
 * taken, 0 if absent, -1 on a bad value. */
static int take_opt_percent(struct parser *p, const char *what, struct netem_prob *out)
{
	if (!lexer_next_is_number(&p->lx))
		return 0;
	lexer_advance(&p->lx);
	if (!number_percent(p->lx.cur.text, out))
		return fail_tok(p, &p->lx.cur, "%s: expected a percentage 0-100 (e.g. 2%% or 2)",
				what);
	return 1;
}

static int take_time(struct parser *p, const char *what, int64_t *out_ns)
{
	if (!number_time_ns(p->lx.cur.text, out_ns))
		return fail_tok(p, &p->lx.cur,
				"%s: expected a time (e.g. 200ms; units s, ms, us, ns; bare = us)",
				what);
	return 0;
}

/* PERCENT [CORR] as used by duplicate, corrupt, reorder and random loss. */
static int parse_prob_corr(struct parser *p, const struct tok *kwtok, const char *what,
			   struct netem_prob *prob, struct netem_prob *corr, unsigned *n_args)
{
	if (take_percent(p, kwtok, what, prob) < 0)
		return -1;
	*n_args = 1;
	int r = take_opt_percent(p, "correlation", corr);
	if (r < 0)
		return -1;
	*n_args += (unsigned)r;
	return 0;
}

static int parse_delay(struct parser *p, const struct tok *kwtok)
{
	struct netem_spec *s = p->spec;
	if (need_value(p, kwtok, "a TIME") < 0 || take_time(p, "delay", &s->delay_ns) < 0)
		return -1;
	s->n_delay_args = 1;
	if (!lexer_next_is_number(&p->lx))
		return 0;
	lexer_advance(&p->lx);
	if (take_time(p, "jitter", &s->jitter_ns) < 0)
		return -1;
	s->n_delay_args = 2;
	int r = take_opt_percent(p, "delay correlation", &s->delay_corr);
	if (r < 0)
		return -1;
	s->n_delay_args += (unsigned)r;
	return 0;
}

/* Up to `max` optional percentages into `slots`; counts them into *n. */
static int parse_opt_percents(struct parser *p, struct netem_prob *const *slots,
			      const char *const *names, unsigned max, unsigned *n)
{
	for (unsigned i = 0; i < max; i++) {
		int r = take_opt_percent(p, names[i], slots[i]);
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
		(*n)++;
	}
	return 0;
}

static int parse_loss(struct parser *p, const struct tok *kwtok)
{
	struct netem_spec *s = p->spec;
	if (need_value(p, kwtok, "random PERCENT, state P13 or gemodel P") < 0)
		return -1;
	const struct tok *model = &p->lx.cur;
	/* Old syntax `loss 2%` is random loss; sub-keywords are matched exactly. */
	if (isdigit((unsigned char)model->text[0]) || strcmp(model->text, "random") == 0) {
		bool bare = isdigit((unsigned char)model->text[0]);
		s->loss_model = NETEM_LOSS_RANDOM;
		if (!bare) {
			struct tok random_tok = *model;
			if (need_value(p, &random_tok, "a PERCENT") < 0)
				return -1;
		}
		if (!number_percent(p->lx.cur.text, &s->loss))
			return fail_tok(p, &p->lx.cur,
					"%s: expected a percentage 0-100 (e.g. 2%% or 2)", "loss");
		s->n_loss_args = 1;
		int r = take_opt_percent(p, "loss correlation", &s->loss_corr);
		if (r < 0)
			return -1;
		s->n_loss_args += (unsigned)r;
		return 0;
	}
	if (strcmp(model->text, "state") == 0) {
		struct tok state_tok = *model;
		s->loss_model = NETEM_LOSS_STATE;
		if (take_percent(p, &state_tok, "loss state p13", &s->p13) < 0)
			return -1;
		double p13 = s->p13.pct / 100.0;
		prob_set_fraction(&s->p31, 1. - p13);
		prob_set_fraction(&s->p32, 0.);
		prob_set_fraction(&s->p23, 1.);
		prob_set_fraction(&s->p14, 0.);
		s->n_loss_args = 1;
		struct netem_prob *const slots[] = { &s->p31, &s->p32, &s->p23, &s->p14 };
		const char *const names[] = { "loss state p31", "loss state p32", "loss state p23",
					      "loss state p14" };
		return parse_opt_percents(p, slots, names, 4, &s->n_loss_args);
	}
	if (strcmp(model->text, "gemodel") == 0) {
		struct tok ge_tok = *model;
		s->loss_model = NETEM_LOSS_GEMODEL;
		if (take_percent(p, &ge_tok, "loss gemodel p", &s->ge_p) < 0)
			return -1;
		prob_set_fraction(&s->ge_r, 1. - s->ge_p.pct / 100.0);
		prob_set_fraction(&s->ge_1h, 1.);
		prob_set_fraction(&s->ge_1k, 0.);
		s->n_loss_args = 1;
		struct netem_prob *const slots[] = { &s->ge_r, &s->ge_1h, &s->ge_1k };
		const char *const names[] = { "loss gemodel r", "loss gemodel 1-h",
					      "loss gemodel 1-k" };
		if (parse_opt_percents(p, slots, names, 3, &s->n_loss_args) < 0)
			return -1;
		/* The option is "1-h"; the kernel wants h. */
		s->ge_h_scaled = UINT32_MAX - s->ge_1h.scaled;
		return 0;
	}
	return fail_tok(p, model, "%s", "unknown loss model (random, state, gemodel or a PERCENT)");
}

static int parse_rate(struct parser *p, const struct tok *kwtok)
{
	struct netem_spec *s = p->spec;
	if (need_value(p, kwtok, "a RATE") < 0)
		return -1;
	if (strchr(p->lx.cur.text, '%'))
		return fail_tok(p, &p->lx.cur, "%s",
				"rate as a percentage of the link speed is not supported");
	if (!number_rate(p->lx.cur.text, &s->rate_bytes_per_s))
		return fail_tok(p, &p->lx.cur, "%s",
				"expected a rate of at least 8bit (e.g. 1mbit; units bit kbit mbit "
				"gbit, kibit.., bps kbps.. = bytes/s)");
	s->n_rate_args = 1;
	if (!lexer_next_is_signed_number(&p->lx))
		return 0;
	lexer_advance(&p->lx);
	if (!number_s32(p->lx.cur.text, &s->rate_packet_overhead_bytes))
		return fail_tok(p, &p->lx.cur, "%s", "rate packet overhead: expected an integer");
	s->n_rate_args = 2;
	if (!lexer_next_is_number(&p->lx))
		return 0;
	lexer_advance(&p->lx);
	if (!number_u32(p->lx.cur.text, &s->rate_cell_size_bytes))
		return fail_tok(p, &p->lx.cur, "%s",
				"rate cell size: expected an unsigned integer");
	s->n_rate_args = 3;
	if (!lexer_next_is_signed_number(&p->lx))
		return 0;
	lexer_advance(&p->lx);
	if (!number_s32(p->lx.cur.text, &s->rate_cell_overhead_bytes))
		return fail_tok(p, &p->lx.cur, "%s", "rate cell overhead: expected an integer");
	s->n_rate_args = 4;
	return 0;
}

static int parse_slot(struct parser *p, const struct tok *kwtok)
{
	struct netem_spec *s = p->spec;
	if (lexer_next_is_number(&p->lx)) {
		lexer_advance(&p->lx);
		if (take_time(p, "slot min_delay", &s->slot_min_delay_ns) < 0)
			return -1;
		s->slot_max_delay_ns = s->slot_min_delay_ns;
		if (lexer_next_is_number(&p->lx)) {
			lexer_advance(&p->lx);
			if (take_time(p, "slot max_delay", &s->slot_max_delay_ns) < 0)
				return -1;
			if (s->slot_max_delay_ns < s->slot_min_delay_ns)
				return fail_tok(p, &p->lx.cur, "%s",
						"slot max_delay is less than min_delay");
			s->slot_max_given = true;
		}
	} else {
		if (need_value(p, kwtok, "MIN_DELAY or distribution") < 0)
			return -1;
		if (strcmp(p->lx.cur.text, "distribution") != 0)
			return fail_tok(p, &p->lx.cur, "%s",
					"unknown slot parameter (expected a time or distribution)");
		struct tok dist_tok = p->lx.cur;
		if (need_value(p, &dist_tok, "a distribution NAME") < 0)
			return -1;
		if (!dist_lookup(p->lx.cur.text, &s->slot_dist) ||
		    s->slot_dist == NETEM_DIST_UNIFORM)
			return fail_tok(p, &p->lx.cur, "%s",
					"unknown slot distribution (normal, pareto, paretonormal, "
					"experimental)");
		struct tok name_tok = p->lx.cur;
		if (need_value(p, &name_tok, "a DELAY") < 0 ||
		    take_time(p, "slot delay", &s->slot_dist_delay_ns) < 0)
			return -1;
		struct tok delay_tok = p->lx.cur;
		if (need_value(p, &delay_tok, "a JITTER") < 0 ||
		    take_time(p, "slot jitter", &s->slot_dist_jitter_ns) < 0)
			return -1;
		if (s->slot_dist_jitter_ns <= 0)
			return fail_tok(p, &p->lx.cur, "%s", "slot jitter must be positive");
		s->slot_is_dist = true;
	}
	if (p->lx.has_next && word_matches(p->lx.next.text, "packets")) {
		lexer_advance(&p->lx);
		struct tok pk = p->lx.cur;
		if (need_value(p, &pk, "a number of packets") < 0)
			return -1;
		if (!number_s32(p->lx.cur.text, &s->slot_max_packets) || s->slot_max_packets <= 0)
			return fail_tok(p, &p->lx.cur, "%s",
					"slot packets: expected a positive integer");
		s->slot_packets_given = true;
	}
	if (p->lx.has_next && word_matches(p->lx.next.text, "bytes")) {
		lexer_advance(&p->lx);
		struct tok by = p->lx.cur;
		if (need_value(p, &by, "a SIZE") < 0)
			return -1;
		if (!number_size_bytes(p->lx.cur.text, &s->slot_max_bytes))
			return fail_tok(
				p, &p->lx.cur, "%s",
				"slot bytes: expected a positive whole size (e.g. 1500, 64kb)");
		s->slot_bytes_given = true;
	}
	return 0;
}

static int parse_keyword(struct parser *p, enum kw k, const struct tok *kwtok)
{
	struct netem_spec *s = p->spec;
	switch (k) {
	case KW_LIMIT:
		if (need_value(p, kwtok, "a number of PACKETS") < 0)
			return -1;
		if (!number_u32(p->lx.cur.text, &s->limit_packets))
			return fail_tok(p, &p->lx.cur, "%s", "limit: expected a number of packets");
		return 0;
	case KW_LATENCY:
	case KW_DELAY:
		return parse_delay(p, kwtok);
	case KW_LOSS:
	case KW_DROP:
		return parse_loss(p, kwtok);
	case KW_ECN:
		return 0;
	case KW_REORDER:
		return parse_prob_corr(p, kwtok, "reorder", &s->reorder, &s->reorder_corr,
				       &s->n_reorder_args);
	case KW_CORRUPT:
		return parse_prob_corr(p, kwtok, "corrupt", &s->corrupt, &s->corrupt_corr,
				       &s->n_corrupt_args);
	case KW_DUPLICATE:
		return parse_prob_corr(p, kwtok, "duplicate", &s->duplicate, &s->duplicate_corr,
				       &s->n_duplicate_args);
	case KW_GAP:
		if (need_value(p, kwtok, "a DISTANCE") < 0)
			return -1;
		if (!number_u32(p->lx.cur.text, &s->gap))
			return fail_tok(p, &p->lx.cur, "%s", "gap: expected a number of packets");
		return 0;
	case KW_DISTRIBUTION:
		if (need_value(p, kwtok, "a distribution NAME") < 0)
			return -1;
		if (!dist_lookup(p->lx.cur.text, &s->dist))
			return fail_tok(
				p, &p->lx.cur, "%s",
				"unknown distribution (uniform, normal, pareto, paretonormal, "
				"experimental)");
		return 0;
	case KW_RATE:
		return parse_rate(p, kwtok);
	case KW_SLOT:
		return parse_slot(p, kwtok);
	case KW_SEED:
		if (need_value(p, kwtok, "a number") < 0)
			return -1;
		if (!number_u64_dec(p->lx.cur.text, &s->seed))
			return fail_tok(p, &p->lx.cur, "%s", "seed: expected a decimal integer");
		return 0;
	case KW_COUNT:
	case KW_NONE:
		break;
	}
	return fail_tok(p, kwtok, "%s", "unknown keyword");
}

static int kw_fail(struct parser *p, enum kw k, const char *msg)
{
	return fail_at(p->err, p->kw_text[k], p->kw_offset[k], "%s", msg);
}

/* iproute2's checks after the loop, in its order, with its messages. */
static int check_combinations(struct parser *p)
{
	const struct netem_spec *s = p->spec;
	if (s->reorder.scaled) {
		if (s->delay_ns == 0)
			return kw_fail(p, KW_REORDER,
				       "reordering not possible without specifying some delay");
	} else if (s->gap > 0) {
		return kw_fail(p, KW_GAP, "gap specified without reorder probability");
	}
	if ((s->present & NETEM_HAS_ECN) && s->loss.scaled == 0 &&
	    (s->loss_model == NETEM_LOSS_NONE || s->loss_model == NETEM_LOSS_RANDOM))
		return kw_fail(p, KW_ECN, "ecn requested without loss model");
	if ((s->present & NETEM_HAS_DIST) && (s->delay_ns == 0 || s->jitter_ns == 0))
		return kw_fail(p, KW_DISTRIBUTION,
			       "distribution specified but no latency and jitter values");
	return 0;
}

static void spec_init(struct netem_spec *s)
{
	memset(s, 0, sizeof *s);
	s->limit_packets = NETEM_LIMIT_DEFAULT;
}

int netem_spec_parse(const char *text, struct netem_spec *out, struct netem_error *err)
{
	struct parser p;
	memset(&p, 0, sizeof p);
	p.spec = out;
	p.err = err;
	spec_init(out);
	if (err)
		memset(err, 0, sizeof *err);
	if (!text)
		text = "";
	lexer_init(&p.lx, text);

	/* "none" alone is the empty spec, as netem_spec_format writes it. */
	if (p.lx.has_next && strcmp(p.lx.next.text, "none") == 0) {
		lexer_advance(&p.lx);
		if (!p.lx.has_next)
			return 0;
		return fail_tok(&p, &p.lx.cur, "%s", "\"none\" cannot be combined with options");
	}

	while (lexer_advance(&p.lx)) {
		struct tok kwtok = p.lx.cur;
		if (kwtok.truncated)
			return fail_tok(&p, &kwtok, "%s", "word too long");
		enum kw k = keyword_lookup(kwtok.text);
		if (k == KW_NONE)
			return fail_tok(&p, &kwtok, "%s", "unknown keyword");
		uint32_t field = kw_fields[k];
		if (out->present & field)
			return fail_tok(&p, &kwtok, "%s", "given twice");
		out->present |= field;
		/* Combination errors name the keyword as written (aliases share a slot). */
		enum kw slot = kw_canonical(k);
		p.kw_offset[slot] = kwtok.offset;
		memcpy(p.kw_text[slot], kwtok.text, TOKEN_MAX);
		if (parse_keyword(&p, k, &kwtok) < 0)
			return -1;
		if (p.lx.cur.truncated)
			return fail_tok(&p, &p.lx.cur, "%s", "word too long");
	}
	return check_combinations(&p);
}

/* ---- table form ------------------------------------------------------------ */

/* Canonical order of the joined string (the order netem_spec_format prints). */
static const enum kw table_order[] = {
	KW_LIMIT,   KW_DELAY,	KW_DISTRIBUTION, KW_LOSS, KW_ECN,  KW_DUPLICATE,
	KW_CORRUPT, KW_REORDER, KW_GAP,		 KW_RATE, KW_SLOT, KW_SEED,
};

int netem_spec_parse_table(const char *const *kv, size_t n_pairs, struct netem_spec *out,
			   struct netem_error *err)
{
	char joined[2048];
	size_t used = 0;
	joined[0] = '\0';
	if (err)
		memset(err, 0, sizeof *err);
	for (size_t i = 0; i < n_pairs; i++) {
		const char *key = kv[2 * i];
		enum kw k = key ? keyword_lookup(key) : KW_NONE;
		if (k == KW_NONE) {
			spec_init(out);
			return fail_at(err, key ? key : "(null)", 0, "%s", "unknown keyword");
		}
	}
	for (size_t o = 0; o < sizeof table_order / sizeof table_order[0]; o++) {
		for (size_t i = 0; i < n_pairs; i++) {
			enum kw k = kw_canonical(keyword_lookup(kv[2 * i]));
			if (k != table_order[o])
				continue;
			const char *value = kv[2 * i + 1] ? kv[2 * i + 1] : "";
			int n = snprintf(joined + used, sizeof joined - used, "%s%s%s%s",
					 used ? " " : "", kw_names[k], *value ? " " : "", value);
			if (n < 0 || (size_t)n >= sizeof joined - used) {
				spec_init(out);
				return fail_at(err, kv[2 * i], 0, "%s", "spec too long");
			}
			used += (size_t)n;
		}
	}
	return netem_spec_parse(joined, out, err);
}

/* ---- formatting ------------------------------------------------------------ */

struct out {
	char *buf;
	size_t len;
	size_t need;
};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
out_printf(struct out *o, const char *fmt, ...)
{
	char *dst = o->need < o->len ? o->buf + o->need : NULL;
	size_t room = o->need < o->len ? o->len - o->need : 0;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(dst, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->need += (size_t)n;
}

static void out_word(struct out *o, const char *word)
{
	out_printf(o, "%s%s", o->need ? " " : "", word);
}

static void out_time(struct out *o, int64_t ns)
{
	if (ns % NS_PER_S == 0)
		out_printf(o, " %" PRId64 "s", ns / NS_PER_S);
	else if (ns % NS_PER_MS == 0)
		out_printf(o, " %" PRId64 "ms", ns / NS_PER_MS);
	else if (ns % NS_PER_US == 0)
		out_printf(o, " %" PRId64 "us", ns / NS_PER_US);
	else
		out_printf(o, " %" PRId64 "ns", ns);
}

/* The shortest plain decimal that reads back as the same double, so the text
 * round-trips; no exponent, because iproute2 takes optional numbers only when they
 * start with a digit and "1e+01" would read oddly. */
static void out_pct(struct out *o, const struct netem_prob *p)
{
	char tmp[400];
	for (int decimals = 0; decimals <= 340; decimals++) {
		snprintf(tmp, sizeof tmp, "%.*f", decimals, p->pct);
		if (strtod(tmp, NULL) == p->pct)
			break;
	}
	/* A tiny percentage ("1e-88") has no plain decimal short enough to be one word
	 * for the parser (TOKEN_MAX): there, the shortest exponent form, which still
	 * starts with a digit. */
	if (strlen(tmp) + 1 >= TOKEN_MAX) {
		for (int digits = 1; digits <= 17; digits++) {
			snprintf(tmp, sizeof tmp, "%.*g", digits, p->pct);
			if (strtod(tmp, NULL) == p->pct)
				break;
		}
	}
	out_printf(o, " %s%%", tmp);
}

static void out_pcts(struct out *o, const struct netem_prob *const *ps, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		out_pct(o, ps[i]);
}

static void out_rate(struct out *o, uint64_t bytes_per_s)
{
	uint64_t bits = bytes_per_s * 8;
	if (bits % 1000000000 == 0)
		out_printf(o, " %" PRIu64 "gbit", bits / 1000000000);
	else if (bits % 1000000 == 0)
		out_printf(o, " %" PRIu64 "mbit", bits / 1000000);
	else if (bits % 1000 == 0)
		out_printf(o, " %" PRIu64 "kbit", bits / 1000);
	else
		out_printf(o, " %" PRIu64 "bit", bits);
}

size_t netem_spec_format(const struct netem_spec *s, char *buf, size_t len)
{
	struct out o = { buf, len, 0 };
	if (len)
		buf[0] = '\0';
	if (s->present & NETEM_HAS_LIMIT)
		out_word(&o, "limit"), out_printf(&o, " %" PRIu32, s->limit_packets);
	if (s->present & NETEM_HAS_DELAY) {
		out_word(&o, "delay");
		out_time(&o, s->delay_ns);
		if (s->n_delay_args >= 2)
			out_time(&o, s->jitter_ns);
		if (s->n_delay_args >= 3)
			out_pct(&o, &s->delay_corr);
	}
	if (s->present & NETEM_HAS_DIST)
		out_word(&o, "distribution"), out_printf(&o, " %s", netem_dist_kind_name(s->dist));
	if (s->present & NETEM_HAS_LOSS) {
		out_word(&o, "loss");
		if (s->loss_model == NETEM_LOSS_RANDOM) {
			const struct netem_prob *ps[] = { &s->loss, &s->loss_corr };
			out_pcts(&o, ps, s->n_loss_args);
		} else if (s->loss_model == NETEM_LOSS_STATE) {
			const struct netem_prob *ps[] = { &s->p13, &s->p31, &s->p32, &s->p23,
							  &s->p14 };
			out_printf(&o, " state");
			out_pcts(&o, ps, s->n_loss_args);
		} else {
			const struct netem_prob *ps[] = { &s->ge_p, &s->ge_r, &s->ge_1h,
							  &s->ge_1k };
			out_printf(&o, " gemodel");
			out_pcts(&o, ps, s->n_loss_args);
		}
	}
	if (s->present & NETEM_HAS_ECN)
		out_word(&o, "ecn");
	if (s->present & NETEM_HAS_DUPLICATE) {
		const struct netem_prob *ps[] = { &s->duplicate, &s->duplicate_corr };
		out_word(&o, "duplicate");
		out_pcts(&o, ps, s->n_duplicate_args);
	}
	if (s->present & NETEM_HAS_CORRUPT) {
		const struct netem_prob *ps[] = { &s->corrupt, &s->corrupt_corr };
		out_word(&o, "corrupt");
		out_pcts(&o, ps, s->n_corrupt_args);
	}
	if (s->present & NETEM_HAS_REORDER) {
		const struct netem_prob *ps[] = { &s->reorder, &s->reorder_corr };
		out_word(&o, "reorder");
		out_pcts(&o, ps, s->n_reorder_args);
	}
	if (s->present & NETEM_HAS_GAP)
		out_word(&o, "gap"), out_printf(&o, " %" PRIu32, s->gap);
	if (s->present & NETEM_HAS_RATE) {
		out_word(&o, "rate");
		out_rate(&o, s->rate_bytes_per_s);
		if (s->n_rate_args >= 2)
			out_printf(&o, " %" PRId32, s->rate_packet_overhead_bytes);
		if (s->n_rate_args >= 3)
			out_printf(&o, " %" PRIu32, s->rate_cell_size_bytes);
		if (s->n_rate_args >= 4)
			out_printf(&o, " %" PRId32, s->rate_cell_overhead_bytes);
	}
	if (s->present & NETEM_HAS_SLOT) {
		out_word(&o, "slot");
		if (s->slot_is_dist) {
			out_printf(&o, " distribution %s", netem_dist_kind_name(s->slot_dist));
			out_time(&o, s->slot_dist_delay_ns);
			out_time(&o, s->slot_dist_jitter_ns);
		} else {
			out_time(&o, s->slot_min_delay_ns);
			if (s->slot_max_given)
				out_time(&o, s->slot_max_delay_ns);
		}
		if (s->slot_packets_given)
			out_printf(&o, " packets %" PRId32, s->slot_max_packets);
		if (s->slot_bytes_given)
			out_printf(&o, " bytes %" PRIu32, s->slot_max_bytes);
	}
	if (s->present & NETEM_HAS_SEED)
		out_word(&o, "seed"), out_printf(&o, " %" PRIu64, s->seed);
	if (o.need == 0)
		out_printf(&o, "none");
	return o.need;
}

static bool prob_equal(const struct netem_prob *a, const struct netem_prob *b)
{
	return a->pct == b->pct && a->scaled == b->scaled;
}

bool netem_spec_equal(const struct netem_spec *a, const struct netem_spec *b)
{
	return a->present == b->present && a->limit_packets == b->limit_packets &&
	       a->delay_ns == b->delay_ns && a->jitter_ns == b->jitter_ns &&
	       prob_equal(&a->delay_corr, &b->delay_corr) && a->n_delay_args == b->n_delay_args &&
	       a->dist == b->dist && a->loss_model == b->loss_model &&
	       prob_equal(&a->loss, &b->loss) && prob_equal(&a->loss_corr, &b->loss_corr) &&
	       a->n_loss_args == b->n_loss_args && prob_equal(&a->p13, &b->p13) &&
	       prob_equal(&a->p31, &b->p31) && prob_equal(&a->p32, &b->p32) &&
	       prob_equal(&a->p23, &b->p23) && prob_equal(&a->p14, &b->p14) &&
	       prob_equal(&a->ge_p, &b->ge_p) && prob_equal(&a->ge_r, &b->ge_r) &&
	       prob_equal(&a->ge_1h, &b->ge_1h) && prob_equal(&a->ge_1k, &b->ge_1k) &&
	       a->ge_h_scaled == b->ge_h_scaled && prob_equal(&a->duplicate, &b->duplicate) &&
	       prob_equal(&a->duplicate_corr, &b->duplicate_corr) &&
	       a->n_duplicate_args == b->n_duplicate_args && prob_equal(&a->corrupt, &b->corrupt) &&
	       prob_equal(&a->corrupt_corr, &b->corrupt_corr) &&
	       a->n_corrupt_args == b->n_corrupt_args && prob_equal(&a->reorder, &b->reorder) &&
	       prob_equal(&a->reorder_corr, &b->reorder_corr) &&
	       a->n_reorder_args == b->n_reorder_args && a->gap == b->gap &&
	       a->rate_bytes_per_s == b->rate_bytes_per_s &&
	       a->rate_packet_overhead_bytes == b->rate_packet_overhead_bytes &&
	       a->rate_cell_size_bytes == b->rate_cell_size_bytes &&
	       a->rate_cell_overhead_bytes == b->rate_cell_overhead_bytes &&
	       a->n_rate_args == b->n_rate_args && a->slot_is_dist == b->slot_is_dist &&
	       a->slot_min_delay_ns == b->slot_min_delay_ns &&
	       a->slot_max_delay_ns == b->slot_max_delay_ns &&
	       a->slot_max_given == b->slot_max_given && a->slot_dist == b->slot_dist &&
	       a->slot_dist_delay_ns == b->slot_dist_delay_ns &&
	       a->slot_dist_jitter_ns == b->slot_dist_jitter_ns &&
	       a->slot_max_packets == b->slot_max_packets &&
	       a->slot_max_bytes == b->slot_max_bytes &&
	       a->slot_packets_given == b->slot_packets_given &&
	       a->slot_bytes_given == b->slot_bytes_given && a->seed == b->seed;
}
