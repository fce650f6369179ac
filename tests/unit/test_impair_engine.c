/* impair engine: fidelity to sch_netem's model in virtual time, and replayability. */
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

#define MS UINT64_C(1000000)

static struct impair_engine *engine_mode(const char *text, uint64_t seed,
					 enum impair_corr_mode mode,
					 const struct netem_dist_table *dist)
{
	struct netem_spec spec;
	struct netem_error perr;
	if (netem_spec_parse(text, &spec, &perr) != 0)
		fail_msg("spec \"%s\": %s", text, perr.message);
	struct impair_engine_config cfg = {
		.spec = &spec, .seed = seed, .link_id = 3, .direction = IMPAIR_TO_DEVICE,
		.corr_mode = mode, .dist = dist,
	};
	struct impair_engine *e;
	char err[128];
	if (impair_engine_new(&cfg, &e, err, sizeof err) != 0)
		fail_msg("engine \"%s\": %s", text, err);
	return e;
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
	size_t byte_hits[10] = {0}, bit_hits[8] = {0};
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
		{1 - p13 - p14, 0, p13, p14},
		{0, 1 - p23, p23, 0},
		{p31, p32, 1 - p31 - p32, 0},
		{1, 0, 0, 0},
	};
	double pi[4] = {1, 0, 0, 0};
	for (int it = 0; it < 5000; it++) {
		double nx[4] = {0};
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
		skip();
	struct impair_engine *e = engine_mode("delay 100ms 10ms distribution normal", 5,
					      IMPAIR_CORR_MARKOV, &table);
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
	struct impair_engine_config cfg = {.spec = &s, .seed = seed, .link_id = link,
					   .direction = dir};
	struct impair_engine *e;
	char err[128];
	assert_int_equal(impair_engine_new(&cfg, &e, err, sizeof err), 0);
	struct impair_decision d[IMPAIR_MAX_COPIES];
	uint64_t h = 0;
	for (uint64_t i = 0; i < 20000; i++) {
		size_t n = impair_engine_frame(e, 60 + (uint32_t)(i % 1400), i * 250000, d);
		for (size_t k = 0; k < n; k++) {
			uint64_t f[] = {d[k].frame_index, d[k].copy,	      d[k].verdict,
					d[k].corrupt,	  d[k].corrupt_byte, d[k].corrupt_bit,
					d[k].reorder_now, d[k].delay_ns,      d[k].depart_ns};
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

static void test_engine_refuses_what_it_cannot_model(void **state)
{
	(void)state;
	struct netem_spec s;
	struct impair_engine *e = (struct impair_engine *)&s;
	char err[128];
	assert_int_equal(netem_spec_parse("slot 1ms", &s, NULL), 0);
	struct impair_engine_config cfg = {.spec = &s};
	assert_int_equal(impair_engine_new(&cfg, &e, err, sizeof err), -1);
	assert_null(e);
	assert_non_null(strstr(err, "slot"));
	assert_int_equal(netem_spec_parse("delay 1ms 1ms distribution pareto", &s, NULL), 0);
	assert_int_equal(impair_engine_new(&cfg, &e, err, sizeof err), -1);
	assert_non_null(strstr(err, "pareto"));
	assert_int_equal(netem_spec_parse("delay 1ms 1ms distribution uniform", &s, NULL), 0);
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
