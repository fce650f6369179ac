/* impair engine: fidelity to sch_netem's model in virtual time, and replayability. */
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "impair_engine.h"
#include "test_skip.h"

#define MS UINT64_C(1000000)

static struct impair_engine *engine_tables(const char *text, uint64_t seed,
					   enum impair_corr_mode mode,
					   const struct netem_dist_table *dist,
					   const struct netem_dist_table *slot_dist)
{
	struct netem_spec spec;
	struct netem_error perr;
	if (netem_spec_parse(text, &spec, &perr) != 0)
		fail_msg("spec \"%s\": %s", text, perr.message);
	struct impair_engine_config cfg = {
		.spec = &spec,
		.seed = seed,
		.link_id = 3,
		.direction = IMPAIR_TO_DEVICE,
		.corr_mode = mode,
		.dist = dist,
		.slot_dist = slot_dist,
	};
	struct impair_engine *e;
	char err[128];
	if (impair_engine_new(&cfg, &e, err, sizeof err) != 0)
		fail_msg("engine \"%s\": %s", text, err);
	return e;
}

static struct impair_engine *engine_mode(const char *text, uint64_t seed,
					 enum impair_corr_mode mode,
					 const struct netem_dist_table *dist)
{
	return engine_tables(text, seed, mode, dist, NULL);
}

static struct impair_engine *engine(const char *text, uint64_t seed)
{
	return engine_mode(text, seed, IMPAIR_CORR_MARKOV, NULL);
}

/* |observed - p| must be within 3.29 standard errors (two-sided alpha 0.001), the
 * standard error scaled by `inflation` for correlated series. */
static void assert_rate_near(const char *what, double observed, double p, size_t n,
			     double inflation)
{
	double bound = 3.29 * sqrt(p * (1 - p) / (double)n) * inflation;
	if (fabs(observed - p) > bound)
		fail_msg("%s: rate %.6f, want %.6f +- %.6f", what, observed, p, bound);
}

/* Runs n frames 1 ms apart; counts frames whose loss test fired. */
static double loss_rate(struct impair_engine *e, size_t n, uint8_t *lost)
{
	size_t drops = 0;
	struct impair_decision d[IMPAIR_MAX_COPIES];
	for (size_t i = 0; i < n; i++) {
		impair_engine_frame(e, 100, i * MS, d);
		bool l = d[0].verdict == IMPAIR_DROP_LOSS;
		drops += l;
		if (lost)
			lost[i] = l;
	}
	return (double)drops / (double)n;
}

static void test_bernoulli_loss_rate_matches_percent(void **state)
{
	(void)state;
	size_t n = 200000;
	struct impair_engine *e = engine("loss 10%", 1);
	assert_rate_near("loss 10%", loss_rate(e, n, NULL), 0.10, n, 1.0);
	impair_engine_free(e);
	e = engine("loss 0.5%", 2);
	assert_rate_near("loss 0.5%", loss_rate(e, n, NULL), 0.005, n, 1.0);
	impair_engine_free(e);
	e = engine("loss 0%", 2);
	assert_true(loss_rate(e, 1000, NULL) == 0.0);
	impair_engine_free(e);
	e = engine("loss 100%", 2);
	assert_true(loss_rate(e, 1000, NULL) == 1.0);
	impair_engine_free(e);
}

static void test_bernoulli_duplicate_and_corrupt_rates_match_percent(void **state)
{
	(void)state;
	size_t n = 200000, dups = 0, corrupts = 0;
	struct impair_engine *e = engine("duplicate 5% corrupt 3%", 7);
	struct impair_decision d[IMPAIR_MAX_COPIES];
	for (size_t i = 0; i < n; i++) {
		size_t k = impair_engine_frame(e, 64, i * MS, d);
		if (k == 2) {
			dups++;
			assert_int_equal(d[1].copy, 1);
			assert_int_equal(d[1].frame_index, i);
		}
		if (d[0].corrupt) {
			corrupts++;
			assert_true(d[0].corrupt_byte < 64);
			assert_true(d[0].corrupt_bit < 8);
		}
	}
	assert_rate_near("duplicate 5%", (double)dups / n, 0.05, n, 1.0);
	assert_rate_near("corrupt 3%", (double)corrupts / n, 0.03, n, 1.0);
	impair_engine_free(e);
}

static void test_corrupt_spreads_over_bytes_and_bits(void **state)
{
	(void)state;
	size_t byte_hits[10] = { 0 }, bit_hits[8] = { 0 };
	struct impair_engine *e = engine("corrupt 100%", 11);
	struct impair_decision d[IMPAIR_MAX_COPIES];
	for (size_t i = 0; i < 8000; i++) {
		impair_engine_frame(e, 10, i * MS, d);
		assert_true(d[0].corrupt);
		byte_hits[d[0].corrupt_byte]++;
		bit_hits[d[0].corrupt_bit]++;
	}
	for (size_t i = 0; i < 10; i++)
		assert_true(byte_hits[i] > 650 && byte_hits[i] < 950);
	for (size_t i = 0; i < 8; i++)
		assert_true(bit_hits[i] > 850 && bit_hits[i] < 1150);
	impair_engine_free(e);
}

/* Stationary loss and mean burst length of a Gilbert-Elliott run. */
static void ge_measure(struct impair_engine *e, size_t n, double *loss, double *burst)
{
	size_t drops = 0, bursts = 0;
	bool prev = false;
	struct impair_decision d[IMPAIR_MAX_COPIES];
	for (size_t i = 0; i < n; i++) {
		impair_engine_frame(e, 100, i * MS, d);
		bool l = d[0].verdict == IMPAIR_DROP_LOSS;
		drops += l;
		bursts += l && !prev;
		prev = l;
	}
	*loss = (double)drops / n;
	*burst = bursts ? (double)drops / bursts : 0;
}

static void test_gilbert_loss_and_burst_length_match_theory(void **state)
{
	(void)state;
	/* Simple Gilbert: every frame in the bad state is lost (1-h = 100%), none in the
	 * good one: loss = p / (p + r), mean burst = 1 / r. */
	double p = 0.01, r = 0.10, loss, burst;
	struct impair_engine *e = engine("loss gemodel 1% 10%", 5);
	ge_measure(e, 1000000, &loss, &burst);
	impair_engine_free(e);
	double want_loss = p / (p + r), want_burst = 1 / r;
	if (fabs(loss / want_loss - 1) > 0.05 || fabs(burst / want_burst - 1) > 0.05)
		fail_msg("loss %.5f (want %.5f), burst %.3f (want %.3f)", loss, want_loss, burst,
			 want_burst);
}

static void test_gilbert_elliott_partial_losses_match_theory(void **state)
{
	(void)state;
	/* loss = pi_good * (1-k) + pi_bad * (1-h). */
	double p = 0.02, r = 0.25, one_h = 0.6, one_k = 0.01, loss, burst;
	struct impair_engine *e = engine("loss gemodel 2% 25% 60% 1%", 9);
	ge_measure(e, 500000, &loss, &burst);
	impair_engine_free(e);
	double pi_bad = p / (p + r);
	double want = (1 - pi_bad) * one_k + pi_bad * one_h;
	if (fabs(loss / want - 1) > 0.05)
		fail_msg("loss %.5f, want %.5f", loss, want);
}

static void test_four_state_loss_matches_stationary_distribution(void **state)
{
	(void)state;
	/* States 1 gap-rx, 2 burst-rx, 3 burst-loss, 4 gap-loss; loss iff the new state
	 * is 3 or 4. Transition matrix from p13, p31, p32, p23, p14. */
	double p13 = 0.02, p31 = 0.30, p32 = 0.20, p23 = 0.40, p14 = 0.01;
	double m[4][4] = {
		{ 1 - p13 - p14, 0, p13, p14 },
		{ 0, 1 - p23, p23, 0 },
		{ p31, p32, 1 - p31 - p32, 0 },
		{ 1, 0, 0, 0 },
	};
	double pi[4] = { 1, 0, 0, 0 };
	for (int it = 0; it < 5000; it++) {
		double nx[4] = { 0 };
		for (int i = 0; i < 4; i++)
			for (int j = 0; j < 4; j++)
				nx[j] += pi[i] * m[i][j];
		memcpy(pi, nx, sizeof pi);
	}
	double want = pi[2] + pi[3];
	struct impair_engine *e = engine("loss state 2% 30% 20% 40% 1%", 21);
	double got = loss_rate(e, 500000, NULL);
	impair_engine_free(e);
	if (fabs(got / want - 1) > 0.05)
		fail_msg("loss %.5f, want %.5f", got, want);
	/* p13 alone: iproute2's defaults make it Bernoulli-like at p13. */
	e = engine("loss state 5%", 22);
	assert_rate_near("loss state 5%", loss_rate(e, 200000, NULL), 0.05, 200000, 1.5);
	impair_engine_free(e);
}

static double lag1_correlation(const uint8_t *x, size_t n)
{
	double mean = 0;
	for (size_t i = 0; i < n; i++)
		mean += x[i];
	mean /= n;
	double num = 0, den = 0;
	for (size_t i = 0; i < n; i++) {
		den += (x[i] - mean) * (x[i] - mean);
		if (i + 1 < n)
			num += (x[i] - mean) * (x[i + 1] - mean);
	}
	return num / den;
}

static void test_default_correlated_loss_keeps_rate_and_lag1_correlation(void **state)
{
	(void)state;
	size_t n = 200000;
	uint8_t *lost = malloc(n);
	assert_non_null(lost);
	struct impair_engine *e = engine("loss 10% 25%", 4);
	double rate = loss_rate(e, n, lost);
	impair_engine_free(e);
	/* A lag-1 correlation c inflates the variance of the mean by (1+c)/(1-c). */
	assert_rate_near("loss 10% 25%", rate, 0.10, n, sqrt(1.25 / 0.75));
	double c = lag1_correlation(lost, n);
	if (fabs(c - 0.25) > 0.015)
		fail_msg("lag-1 correlation %.4f, want 0.25", c);
	free(lost);
}

static void test_compat_correlated_loss_matches_kernel_arithmetic(void **state)
{
	(void)state;
	/* The kernel's get_crandom() for `loss 10% 25%` drops 1.750% of frames (2e8
	 * draws of the same arithmetic with an unrelated generator: 1.7502%). */
	size_t n = 200000;
	uint8_t *lost = malloc(n);
	assert_non_null(lost);
	struct impair_engine *e = engine_mode("loss 10% 25%", 4, IMPAIR_CORR_COMPAT, NULL);
	double rate = loss_rate(e, n, lost);
	impair_engine_free(e);
	assert_rate_near("compat loss 10% 25%", rate, 0.017502, n, 1.5);
	free(lost);
	/* Without correlation compat is plain Bernoulli. */
	e = engine_mode("loss 10%", 4, IMPAIR_CORR_COMPAT, NULL);
	assert_rate_near("compat loss 10%", loss_rate(e, n, NULL), 0.10, n, 1.0);
	impair_engine_free(e);
}

static void test_constant_delay_is_never_early(void **state)
{
	(void)state;
	/* 100 ms of frames 37 us apart is ~2700 queued: above the default limit. */
	struct impair_engine *e = engine("delay 100ms limit 10000", 1);
	struct impair_decision d[IMPAIR_MAX_COPIES];
	for (size_t i = 0; i < 100000; i++) {
		uint64_t t = i * 37 * 1000;
		impair_engine_frame(e, 100, t, d);
		assert_int_equal(d[0].verdict, IMPAIR_DELIVER);
		assert_true(d[0].depart_ns == t + 100 * MS);
		assert_true(d[0].delay_ns == 100 * MS);
	}
	impair_engine_free(e);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static void test_uniform_jitter_passes_kolmogorov_smirnov(void **state)
{
	(void)state;
	size_t n = 100000;
	uint64_t *delay = malloc(n * sizeof *delay);
	assert_non_null(delay);
	struct impair_engine *e = engine("delay 100ms 10ms", 99);
	struct impair_decision d[IMPAIR_MAX_COPIES];
	for (size_t i = 0; i < n; i++) {
		impair_engine_frame(e, 100, i * MS, d);
		delay[i] = d[0].delay_ns;
		assert_true(delay[i] >= 90 * MS && delay[i] < 110 * MS);
	}
	impair_engine_free(e);
	qsort(delay, n, sizeof *delay, cmp_u64);
	double dmax = 0;
	for (size_t i = 0; i < n; i++) {
		double f = (double)(delay[i] - 90 * MS) / (double)(20 * MS);
		double lo = fabs(f - (double)i / n), hi = fabs((double)(i + 1) / n - f);
		dmax = fmax(dmax, fmax(lo, hi));
	}
	double critical = 1.628 / sqrt((double)n); /* alpha 0.01 */
	if (dmax > critical)
		fail_msg("KS D = %.5f > %.5f", dmax, critical);
	free(delay);
}

static void test_table_jitter_follows_the_distribution(void **state)
{
	(void)state;
	static struct netem_dist_table table;
	char err[256];
	if (netem_dist_load(NULL, "normal", &table, err, sizeof err) != 0)
		vh_skip(err);
	struct impair_engine *e =
		engine_mode("delay 100ms 10ms distribution normal", 5, IMPAIR_CORR_MARKOV, &table);
	struct impair_decision d[IMPAIR_MAX_COPIES];
	size_t n = 100000;
	double sum = 0, sum2 = 0;
	for (size_t i = 0; i < n; i++) {
		impair_engine_frame(e, 100, i * MS, d);
		double x = (double)d[0].delay_ns / 1e6;
		sum += x;
		sum2 += x * x;
	}
	impair_engine_free(e);
	double mean = sum / n, sd = sqrt(sum2 / n - mean * mean);
	if (fabs(mean - 100) > 0.2 || fabs(sd - 10) > 0.3)
		fail_msg("mean %.3f ms sd %.3f ms", mean, sd);
}

static void test_reorder_full_with_gap_sends_every_fifth_frame_at_once(void **state)
{
	(void)state;
	struct impair_engine *e = engine("delay 10ms reorder 100% gap 5", 1);
	struct impair_decision d[IMPAIR_MAX_COPIES];
	for (size_t i = 0; i < 1000; i++) {
		uint64_t t = i * MS;
		impair_engine_frame(e, 100, t, d);
		bool fifth = (i + 1) % 5 == 0;
		if (d[0].reorder_now != fifth)
			fail_msg("frame %zu: reorder_now %d", i, d[0].reorder_now);
		assert_true(d[0].depart_ns == (fifth ? t : t + 10 * MS));
	}
	impair_engine_free(e);
}

static void test_reorder_without_gap_reorders_at_its_probability(void **state)
{
	(void)state;
	size_t n = 100000, now = 0;
	struct impair_engine *e = engine("delay 10ms reorder 25%", 8);
	struct impair_decision d[IMPAIR_MAX_COPIES];
	for (size_t i = 0; i < n; i++) {
		impair_engine_frame(e, 100, i * MS, d);
		now += d[0].reorder_now;
	}
	impair_engine_free(e);
	assert_rate_near("reorder 25%", (double)now / n, 0.25, n, 1.0);
}

/* Delivered bits by `horizon` for back-to-back 1000-byte frames offered at 8 Mbit/s. */
static double rate_measured_bps(const char *spec, uint64_t horizon_ns)
{
	struct impair_engine *e = engine(spec, 1);
	struct impair_decision d[IMPAIR_MAX_COPIES];
	uint64_t bytes = 0;
	for (uint64_t t = 0; t < horizon_ns; t += MS) {
		impair_engine_frame(e, 1000, t, d);
		if (d[0].verdict == IMPAIR_DELIVER && d[0].depart_ns <= horizon_ns)
			bytes += 1000;
	}
	impair_engine_free(e);
	return (double)bytes * 8 / ((double)horizon_ns / 1e9);
}

static void test_rate_holds_within_one_percent_with_overhead(void **state)
{
	(void)state;
	uint64_t ten_s = 10000 * MS;
	/* 1 Mbit/s on the wire with 20 bytes of overhead per frame: payload rate is
	 * 1e6 * 1000 / 1020. */
	double payload = rate_measured_bps("rate 1mbit 20 limit 100000", ten_s);
	double want = 1e6 * 1000.0 / 1020.0;
	if (fabs(payload / want - 1) > 0.01)
		fail_msg("payload %.0f bit/s, want %.0f", payload, want);
	double plain = rate_measured_bps("rate 1mbit limit 100000", ten_s);
	if (fabs(plain / 1e6 - 1) > 0.01)
		fail_msg("plain %.0f bit/s", plain);
	/* Overhead makes a measurable difference: the check above can fail. */
	assert_true(fabs(payload / 1e6 - 1) > 0.015);
}

static void test_packet_time_follows_kernel_cell_arithmetic(void **state)
{
	(void)state;
	struct netem_spec s;
	assert_int_equal(netem_spec_parse("rate 1mbit 0 48 5", &s, NULL), 0);
	/* 100 bytes = 3 cells of 48, each sent as 53: 159 bytes at 125000 B/s. */
	assert_int_equal(impair_packet_time_ns(&s, 100), 1272000);
	assert_int_equal(netem_spec_parse("rate 1mbit -200", &s, NULL), 0);
	assert_int_equal(impair_packet_time_ns(&s, 100), 0);
	assert_int_equal(netem_spec_parse("delay 1ms", &s, NULL), 0);
	assert_int_equal(impair_packet_time_ns(&s, 100), 0);
}

static void test_rate_delay_overlaps_queueing(void **state)
{
	(void)state;
	/* Two frames at once at 8 kbit/s (1 ms per byte): the second waits for the first
	 * and its own delay is absorbed by the wait (sch_netem's "time bonus"). */
	struct impair_engine *e = engine("delay 5ms rate 8kbit", 1);
	struct impair_decision d[IMPAIR_MAX_COPIES];
	impair_engine_frame(e, 10, 0, d);
	assert_true(d[0].depart_ns == 15 * MS);
	impair_engine_frame(e, 10, 0, d);
	assert_true(d[0].depart_ns == 25 * MS);
	impair_engine_frame(e, 10, 100 * MS, d);
	assert_true(d[0].depart_ns == 115 * MS);
	impair_engine_free(e);
}

static void test_limit_tail_drops_exactly(void **state)
{
	(void)state;
	struct impair_engine *e = engine("limit 10 delay 1s", 1);
	struct impair_decision d[IMPAIR_MAX_COPIES];
	for (uint64_t i = 0; i < 20; i++) {
		impair_engine_frame(e, 100, i * 1000, d);
		assert_int_equal(d[0].verdict, i < 10 ? IMPAIR_DELIVER : IMPAIR_DROP_LIMIT);
	}
	assert_int_equal(impair_engine_queue_len(e, 19000), 10);
	/* Frame 0 left at exactly 1 s: one slot is free again, only one. */
	impair_engine_frame(e, 100, 1000 * MS, d);
	assert_int_equal(d[0].verdict, IMPAIR_DELIVER);
	impair_engine_frame(e, 100, 1000 * MS, d);
	assert_int_equal(d[0].verdict, IMPAIR_DROP_LIMIT);
	assert_int_equal(impair_engine_queue_len(e, 3000 * MS), 0);
	impair_engine_free(e);
	e = engine("limit 0", 1);
	impair_engine_frame(e, 100, 0, d);
	assert_int_equal(d[0].verdict, IMPAIR_DROP_LIMIT);
	impair_engine_free(e);
}

static void test_duplicate_survives_loss_as_in_kernel(void **state)
{
	(void)state;
	/* count = 2, the loss test takes one: the frame goes out once, uncopied. */
	struct impair_engine *e = engine("loss 100% duplicate 100%", 1);
	struct impair_decision d[IMPAIR_MAX_COPIES];
	assert_int_equal(impair_engine_frame(e, 100, 0, d), 1);
	assert_int_equal(d[0].verdict, IMPAIR_DELIVER);
	impair_engine_free(e);
	e = engine("duplicate 100% delay 1ms", 1);
	assert_int_equal(impair_engine_frame(e, 100, 0, d), 2);
	assert_int_equal(d[0].verdict, IMPAIR_DELIVER);
	assert_int_equal(d[1].verdict, IMPAIR_DELIVER);
	assert_true(d[1].depart_ns == MS);
	impair_engine_free(e);
	/* A tail-dropped frame takes its copy with it. */
	e = engine("duplicate 100% limit 0", 1);
	assert_int_equal(impair_engine_frame(e, 100, 0, d), 1);
	assert_int_equal(d[0].verdict, IMPAIR_DROP_LIMIT);
	impair_engine_free(e);
}

static void test_ecn_marks_instead_of_dropping(void **state)
{
	(void)state;
	struct impair_engine *e = engine("loss 100% ecn", 1);
	struct impair_decision d[IMPAIR_MAX_COPIES];
	for (int i = 0; i < 100; i++) {
		impair_engine_frame(e, 100, (uint64_t)i * MS, d);
		assert_int_equal(d[0].verdict, IMPAIR_MARK_CE);
	}
	impair_engine_free(e);
}

/* A digest of every field of every decision. */
static uint64_t decision_log_digest(const char *spec, uint64_t seed, uint32_t link,
				    enum impair_direction dir)
{
	struct netem_spec s;
	assert_int_equal(netem_spec_parse(spec, &s, NULL), 0);
	struct impair_engine_config cfg = {
		.spec = &s, .seed = seed, .link_id = link, .direction = dir
	};
	struct impair_engine *e;
	char err[128];
	assert_int_equal(impair_engine_new(&cfg, &e, err, sizeof err), 0);
	struct impair_decision d[IMPAIR_MAX_COPIES];
	uint64_t h = 0;
	for (uint64_t i = 0; i < 20000; i++) {
		size_t n = impair_engine_frame(e, 60 + (uint32_t)(i % 1400), i * 250000, d);
		for (size_t k = 0; k < n; k++) {
			uint64_t f[] = { d[k].frame_index, d[k].copy,	      d[k].verdict,
					 d[k].corrupt,	   d[k].corrupt_byte, d[k].corrupt_bit,
					 d[k].reorder_now, d[k].delay_ns,     d[k].depart_ns };
			for (size_t j = 0; j < sizeof f / sizeof f[0]; j++)
				h = impair_hash(h, 0, 0, f[j], 0);
		}
	}
	impair_engine_free(e);
	return h;
}

static void test_same_seed_gives_identical_decision_log(void **state)
{
	(void)state;
	const char *spec = "delay 20ms 5ms 30% loss 5% 20% duplicate 2% corrupt 1% "
			   "reorder 10% gap 3 rate 10mbit limit 50";
	uint64_t a = decision_log_digest(spec, 42, 1, IMPAIR_TO_DEVICE);
	assert_true(a == decision_log_digest(spec, 42, 1, IMPAIR_TO_DEVICE));
	assert_true(a != decision_log_digest(spec, 43, 1, IMPAIR_TO_DEVICE));
	assert_true(a != decision_log_digest(spec, 42, 2, IMPAIR_TO_DEVICE));
	assert_true(a != decision_log_digest(spec, 42, 1, IMPAIR_FROM_DEVICE));
	/* The spec's own `seed` replaces the run's seed. */
	assert_true(decision_log_digest("loss 5% seed 9", 1, 1, IMPAIR_TO_DEVICE) ==
		    decision_log_digest("loss 5% seed 9", 2, 1, IMPAIR_TO_DEVICE));
}

/* ---- slot ---- */

#define US UINT64_C(1000)

/* The departure of one frame of len bytes arriving at t (in ms). */
static uint64_t slot_frame(struct impair_engine *e, double t_ms, uint32_t len)
{
	struct impair_decision d[IMPAIR_MAX_COPIES];
	assert_int_equal(impair_engine_frame(e, len, (uint64_t)(t_ms * 1e6), d), 1);
	assert_int_equal(d[0].verdict, IMPAIR_DELIVER);
	return d[0].depart_ns;
}

static void test_slot_follows_kernel_dequeue_step_by_step(void **state)
{
	(void)state;
	/* `slot 2ms` draws 2 ms every time. The first frame finds the slot set up at
	 * configuration in its past and draws one from its arrival; frames that arrive
	 * before it opens join it; one arriving after it opened draws a fresh one. */
	struct impair_engine *e = engine("slot 2ms", 1);
	assert_true(slot_frame(e, 0, 100) == 2 * MS);
	assert_true(slot_frame(e, 0.5, 100) == 2 * MS);
	assert_true(slot_frame(e, 2, 100) == 2 * MS);
	assert_true(slot_frame(e, 5, 100) == 7 * MS);
	impair_engine_free(e);
	/* A spent budget draws the next slot from the spent one's start. */
	e = engine("slot 2ms packets 2", 1);
	assert_true(slot_frame(e, 0, 100) == 2 * MS);
	assert_true(slot_frame(e, 0.1, 100) == 2 * MS);
	assert_true(slot_frame(e, 0.2, 100) == 4 * MS);
	assert_true(slot_frame(e, 0.3, 100) == 4 * MS);
	assert_true(slot_frame(e, 4.5, 100) == 6 * MS);
	impair_engine_free(e);
	/* Bytes are counted after sending: the frame that crosses the budget goes. */
	e = engine("slot 2ms bytes 1500", 1);
	assert_true(slot_frame(e, 0, 1000) == 2 * MS);
	assert_true(slot_frame(e, 0, 1000) == 2 * MS);
	assert_true(slot_frame(e, 0, 1000) == 4 * MS);
	impair_engine_free(e);
	/* After delay: the slot drawn at arrival opens before time_to_send, so the
	 * watchdog at time_to_send draws another. A frame eligible after that slot
	 * becomes the head when it opens and draws from there. */
	e = engine("delay 10ms slot 2ms", 1);
	assert_true(slot_frame(e, 0, 100) == 12 * MS);
	assert_true(slot_frame(e, 1, 100) == 12 * MS);
	assert_true(slot_frame(e, 3, 100) == 14 * MS);
	impair_engine_free(e);
	/* All delays 0: sch_netem leaves slot_next at 0, budget and all. */
	e = engine("slot 0 packets 1", 1);
	assert_true(slot_frame(e, 1, 100) == 1 * MS);
	assert_true(slot_frame(e, 1, 100) == 1 * MS);
	impair_engine_free(e);
	/* A reordered frame goes to the head queue, which is emptied before slots. */
	e = engine("delay 10ms reorder 100% gap 2 slot 2ms", 1);
	assert_true(slot_frame(e, 0, 100) == 12 * MS);
	assert_true(slot_frame(e, 1, 100) == 1 * MS);
	impair_engine_free(e);
}

/* Departures of n frames of varied sizes offered every gap_ns; lens may be NULL. */
static uint64_t *slot_run(struct impair_engine *e, size_t n, uint64_t gap_ns, uint32_t *lens)
{
	uint64_t *dep = malloc(n * sizeof *dep);
	assert_non_null(dep);
	struct impair_decision d[IMPAIR_MAX_COPIES];
	for (size_t i = 0; i < n; i++) {
		uint32_t len = 60 + (uint32_t)(i * 7919 % 1440);
		if (lens)
			lens[i] = len;
		impair_engine_frame(e, len, i * gap_ns, d);
		if (d[0].verdict != IMPAIR_DELIVER)
			fail_msg("frame %zu: verdict %d", i, (int)d[0].verdict);
		dep[i] = d[0].depart_ns;
	}
	return dep;
}

/* Slot starts are the distinct departure times, in order (departures never go
 * backwards, checked here). Returns how many, into starts. */
static size_t slot_starts(const uint64_t *dep, size_t n, uint64_t *starts)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (i && dep[i] < dep[i - 1])
			fail_msg("frame %zu departs at %" PRIu64 ", before frame %zu", i, dep[i],
				 i - 1);
		if (!k || dep[i] != starts[k - 1])
			starts[k++] = dep[i];
	}
	return k;
}

static void test_slot_departs_only_at_slot_starts(void **state)
{
	(void)state;
	size_t n = 200000;
	uint64_t gap = 10 * US;
	struct impair_engine *e = engine("slot 1ms 3ms", 3);
	uint64_t *dep = slot_run(e, n, gap, NULL);
	impair_engine_free(e);
	uint64_t *starts = malloc(n * sizeof *starts);
	assert_non_null(starts);
	size_t k = slot_starts(dep, n, starts);
	/* Unlimited budget: a frame waits at most one interval. */
	for (size_t i = 0; i < n; i++)
		if (dep[i] < i * gap || dep[i] > i * gap + 3 * MS)
			fail_msg("frame %zu: arrival %zu ns, departure %" PRIu64, i, i * gap,
				 dep[i]);
	/* Frames arrive every 10 us, so a departure between slot starts would leave two
	 * departure times closer than the shortest interval. */
	for (size_t j = 1; j < k; j++) {
		uint64_t dt = starts[j] - starts[j - 1];
		if (dt < 1 * MS || dt > 3 * MS + gap)
			fail_msg("slots %zu and %zu are %" PRIu64 " ns apart", j - 1, j, dt);
	}
	print_message("slot 1ms 3ms: %zu frames left in %zu slots\n", n, k);
	assert_true(k > 900);
	free(starts);
	free(dep);
}

static void test_slot_budget_holds_in_every_slot(void **state)
{
	(void)state;
	/* 20 frames per ms offered, at most 7 frames or 5000 bytes per 1-3 ms sent: the
	 * queue never empties, so every slot but the last spends its budget. */
	size_t n = 100000;
	uint32_t *lens = malloc(n * sizeof *lens);
	assert_non_null(lens);
	struct impair_engine *e = engine("slot 1ms 3ms packets 7 bytes 5000 limit 1000000", 4);
	uint64_t *dep = slot_run(e, n, 50 * US, lens);
	impair_engine_free(e);
	size_t slots = 0, max_frames = 0;
	uint64_t max_bytes = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i, frames = 0;
		uint64_t bytes = 0;
		for (; j < n && dep[j] == dep[i]; j++) {
			frames++;
			bytes += lens[j];
		}
		if (j < n && (dep[j] < dep[i] + 1 * MS || dep[j] > dep[i] + 3 * MS))
			fail_msg("backlogged slots %" PRIu64 " ns apart", dep[j] - dep[i]);
		/* sch_netem sends while bytes_left > 0: the last frame may cross 5000. */
		if (frames > 7 || bytes - lens[j - 1] >= 5000)
			fail_msg("slot at %" PRIu64 ": %zu frames, %" PRIu64 " bytes", dep[i],
				 frames, bytes);
		if (j < n && frames < 7 && bytes < 5000)
			fail_msg("slot at %" PRIu64 " left budget with frames waiting", dep[i]);
		max_frames = frames > max_frames ? frames : max_frames;
		max_bytes = bytes > max_bytes ? bytes : max_bytes;
		slots++;
		i = j;
	}
	print_message("packets 7 bytes 5000: %zu slots, at most %zu frames, %" PRIu64 " bytes\n",
		      slots, max_frames, max_bytes);
	free(dep);
	free(lens);
	/* Frames that divide the byte budget exactly never exceed it. */
	e = engine("slot 1ms 3ms bytes 3000 limit 100000", 4);
	struct impair_decision d[IMPAIR_MAX_COPIES];
	uint64_t start = UINT64_MAX;
	size_t in_slot = 0;
	for (size_t i = 0; i < 100000; i++) {
		impair_engine_frame(e, 1000, i * 100 * US, d);
		in_slot = d[0].depart_ns == start ? in_slot + 1 : 1;
		start = d[0].depart_ns;
		assert_true(in_slot <= 3);
	}
	impair_engine_free(e);
}

/* Mean and standard deviation of the intervals between the distinct departures. */
static void slot_intervals(const uint64_t *dep, size_t n, double *mean_ms, double *sd_ms,
			   size_t *count)
{
	uint64_t *starts = malloc(n * sizeof *starts);
	assert_non_null(starts);
	size_t k = slot_starts(dep, n, starts);
	double sum = 0, sum2 = 0;
	for (size_t j = 1; j < k; j++) {
		double x = (double)(starts[j] - starts[j - 1]) / 1e6;
		sum += x;
		sum2 += x * x;
	}
	*count = k - 1;
	*mean_ms = sum / (double)(k - 1);
	*sd_ms = sqrt(sum2 / (double)(k - 1) - *mean_ms * *mean_ms);
	free(starts);
}

static void check_mean_interval(const char *what, const uint64_t *dep, size_t n, double want_ms,
				double want_sd_ms)
{
	double mean, sd;
	size_t k;
	slot_intervals(dep, n, &mean, &sd, &k);
	print_message("%s: %zu intervals, mean %.4f ms, sd %.4f ms\n", what, k, mean, sd);
	if (fabs(mean / want_ms - 1) > 0.05)
		fail_msg("%s: mean interval %.4f ms, want %.4f", what, mean, want_ms);
	if (want_sd_ms > 0 && fabs(sd / want_sd_ms - 1) > 0.10)
		fail_msg("%s: sd %.4f ms, want %.4f", what, sd, want_sd_ms);
}

static void test_slot_mean_interval_is_the_middle_of_the_range(void **state)
{
	(void)state;
	/* Idle between slots: the next slot is drawn from the next arrival (<= 10 us). */
	size_t n = 1000000;
	struct impair_engine *e = engine("slot 1ms 3ms", 5);
	uint64_t *dep = slot_run(e, n, 10 * US, NULL);
	impair_engine_free(e);
	check_mean_interval("slot 1ms 3ms", dep, n, 2.0, 2.0 / sqrt(12));
	free(dep);
	/* Backlogged: slots follow each other by exactly one draw. */
	n = 200000;
	e = engine("slot 1ms 3ms packets 4 limit 1000000", 6);
	dep = slot_run(e, n, 100 * US, NULL);
	impair_engine_free(e);
	check_mean_interval("slot 1ms 3ms packets 4", dep, n, 2.0, 2.0 / sqrt(12));
	free(dep);
}

static void test_slot_distribution_mean_interval_is_its_delay(void **state)
{
	(void)state;
	static struct netem_dist_table normal, pareto;
	char err[256];
	if (netem_dist_load(NULL, "normal", &normal, err, sizeof err) != 0 ||
	    netem_dist_load(NULL, "pareto", &pareto, err, sizeof err) != 0)
		vh_skip(err);
	size_t n = 100000;
	struct impair_engine *e =
		engine_tables("slot distribution normal 2ms 500us packets 1 limit 1000000", 7,
			      IMPAIR_CORR_MARKOV, NULL, &normal);
	uint64_t *dep = slot_run(e, n, 100 * US, NULL);
	impair_engine_free(e);
	check_mean_interval("slot distribution normal 2ms 500us", dep, n, 2.0, 0.5);
	free(dep);
	/* iproute2's pareto table has mean -0.033 and sd 0.82 in units of the jitter. */
	e = engine_tables("slot distribution pareto 2ms 1ms packets 1 limit 1000000", 8,
			  IMPAIR_CORR_MARKOV, NULL, &pareto);
	dep = slot_run(e, n, 100 * US, NULL);
	impair_engine_free(e);
	check_mean_interval("slot distribution pareto 2ms 1ms", dep, n, 2.0, 0);
	free(dep);
}

/* Departures with and without ` slot ...` appended to base, same seed. */
static void slot_twins(const char *base, const char *slot, size_t n, uint64_t gap_ns,
		       uint64_t **plain, uint64_t **slotted)
{
	char text[256];
	snprintf(text, sizeof text, "%s %s", base, slot);
	struct impair_engine *e = engine(base, 9);
	*plain = slot_run(e, n, gap_ns, NULL);
	impair_engine_free(e);
	e = engine(text, 9);
	*slotted = slot_run(e, n, gap_ns, NULL);
	impair_engine_free(e);
}

static void test_slot_holds_frames_after_delay_and_rate_without_reordering(void **state)
{
	(void)state;
	const char *bases[] = { "delay 10ms limit 100000",
				"delay 10ms 2ms rate 10mbit limit 100000" };
	size_t n = 100000;
	for (size_t b = 0; b < 2; b++) {
		uint64_t *plain, *slotted;
		slot_twins(bases[b], "slot 1ms 3ms", n, 1 * MS, &plain, &slotted);
		uint64_t *starts = malloc(n * sizeof *starts);
		assert_non_null(starts);
		slot_starts(slotted, n, starts); /* fails on any reordering */
		for (size_t i = 0; i < n; i++)
			if (slotted[i] < plain[i] || slotted[i] > plain[i] + 3 * MS)
				fail_msg("%s: frame %zu due at %" PRIu64 ", slotted to %" PRIu64,
					 bases[b], i, plain[i], slotted[i]);
		free(starts);
		free(plain);
		free(slotted);
	}
}

static void test_slot_same_seed_gives_identical_decision_log(void **state)
{
	(void)state;
	const char *spec = "delay 5ms 1ms rate 10mbit loss 1% duplicate 2% reorder 5% "
			   "slot 500us 2ms packets 3 bytes 3000 limit 100000";
	uint64_t a = decision_log_digest(spec, 42, 1, IMPAIR_TO_DEVICE);
	assert_true(a == decision_log_digest(spec, 42, 1, IMPAIR_TO_DEVICE));
	assert_true(a != decision_log_digest(spec, 43, 1, IMPAIR_TO_DEVICE));
	/* The slot draws matter: the same run without slot logs differently. */
	assert_true(decision_log_digest("slot 500us 2ms", 42, 1, IMPAIR_TO_DEVICE) !=
		    decision_log_digest("slot 500us 2ms", 43, 1, IMPAIR_TO_DEVICE));
}

static void test_engine_refuses_what_it_cannot_model(void **state)
{
	(void)state;
	struct netem_spec s;
	struct impair_engine *e = (struct impair_engine *)&s;
	char err[128];
	struct impair_engine_config cfg = { .spec = &s };
	assert_int_equal(netem_spec_parse("slot distribution normal 1ms 1ms", &s, NULL), 0);
	assert_int_equal(impair_engine_new(&cfg, &e, err, sizeof err), -1);
	assert_null(e);
	assert_non_null(strstr(err, "slot distribution normal"));
	assert_int_equal(netem_spec_parse("delay 1ms 1ms distribution pareto", &s, NULL), 0);
	assert_int_equal(impair_engine_new(&cfg, &e, err, sizeof err), -1);
	assert_non_null(strstr(err, "pareto"));
	assert_int_equal(netem_spec_parse("delay 1ms 1ms distribution uniform", &s, NULL), 0);
	assert_int_equal(impair_engine_new(&cfg, &e, err, sizeof err), 0);
	impair_engine_free(e);
	/* The uniform slot form needs no table. */
	assert_int_equal(netem_spec_parse("slot 1ms 2ms packets 3 bytes 3000", &s, NULL), 0);
	assert_int_equal(impair_engine_new(&cfg, &e, err, sizeof err), 0);
	impair_engine_free(e);
	impair_engine_free(NULL);
}

static void test_time_going_backwards_is_clamped(void **state)
{
	(void)state;
	struct impair_engine *e = engine("delay 1ms", 1);
	struct impair_decision d[IMPAIR_MAX_COPIES];
	impair_engine_frame(e, 100, 10 * MS, d);
	impair_engine_frame(e, 100, 5 * MS, d);
	assert_true(d[0].depart_ns == 11 * MS);
	impair_engine_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bernoulli_loss_rate_matches_percent),
		cmocka_unit_test(test_bernoulli_duplicate_and_corrupt_rates_match_percent),
		cmocka_unit_test(test_corrupt_spreads_over_bytes_and_bits),
		cmocka_unit_test(test_gilbert_loss_and_burst_length_match_theory),
		cmocka_unit_test(test_gilbert_elliott_partial_losses_match_theory),
		cmocka_unit_test(test_four_state_loss_matches_stationary_distribution),
		cmocka_unit_test(test_default_correlated_loss_keeps_rate_and_lag1_correlation),
		cmocka_unit_test(test_compat_correlated_loss_matches_kernel_arithmetic),
		cmocka_unit_test(test_constant_delay_is_never_early),
		cmocka_unit_test(test_uniform_jitter_passes_kolmogorov_smirnov),
		cmocka_unit_test(test_table_jitter_follows_the_distribution),
		cmocka_unit_test(test_reorder_full_with_gap_sends_every_fifth_frame_at_once),
		cmocka_unit_test(test_reorder_without_gap_reorders_at_its_probability),
		cmocka_unit_test(test_rate_holds_within_one_percent_with_overhead),
		cmocka_unit_test(test_packet_time_follows_kernel_cell_arithmetic),
		cmocka_unit_test(test_rate_delay_overlaps_queueing),
		cmocka_unit_test(test_limit_tail_drops_exactly),
		cmocka_unit_test(test_duplicate_survives_loss_as_in_kernel),
		cmocka_unit_test(test_ecn_marks_instead_of_dropping),
		cmocka_unit_test(test_same_seed_gives_identical_decision_log),
		cmocka_unit_test(test_engine_refuses_what_it_cannot_model),
		cmocka_unit_test(test_time_going_backwards_is_clamped),
		cmocka_unit_test(test_slot_follows_kernel_dequeue_step_by_step),
		cmocka_unit_test(test_slot_departs_only_at_slot_starts),
		cmocka_unit_test(test_slot_budget_holds_in_every_slot),
		cmocka_unit_test(test_slot_mean_interval_is_the_middle_of_the_range),
		cmocka_unit_test(test_slot_distribution_mean_interval_is_its_delay),
		cmocka_unit_test(test_slot_holds_frames_after_delay_and_rate_without_reordering),
		cmocka_unit_test(test_slot_same_seed_gives_identical_decision_log),
	};
	return vh_run_tests(tests, NULL, NULL);
}
