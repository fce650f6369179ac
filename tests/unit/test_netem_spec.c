/* netem spec parser: iproute2's grammar, rules, errors, normalised text. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "netem_spec.h"
#include "test_skip.h"

static struct netem_spec parse_ok(const char *text)
{
	struct netem_spec s;
	struct netem_error e;
	int rc = netem_spec_parse(text, &s, &e);
	if (rc != 0)
		fail_msg("parse(\"%s\") failed: \"%s\" at %zu: %s", text, e.token, e.offset,
			 e.message);
	return s;
}

/* Asserts that text is rejected, naming token at offset, with msg_part in the message. */
static void parse_fails(const char *text, const char *token, size_t offset, const char *msg_part)
{
	struct netem_spec s;
	struct netem_error e;
	int rc = netem_spec_parse(text, &s, &e);
	if (rc != -1)
		fail_msg("parse(\"%s\") accepted", text);
	if (strcmp(e.token, token) != 0 || e.offset != offset)
		fail_msg("parse(\"%s\"): token \"%s\" at %zu, want \"%s\" at %zu (%s)", text,
			 e.token, e.offset, token, offset, e.message);
	if (msg_part && !strstr(e.message, msg_part))
		fail_msg("parse(\"%s\"): message \"%s\" lacks \"%s\"", text, e.message, msg_part);
}

static void assert_format(const char *text, const char *want)
{
	struct netem_spec s = parse_ok(text);
	char buf[512];
	netem_spec_format(&s, buf, sizeof buf);
	if (strcmp(buf, want) != 0)
		fail_msg("format(parse(\"%s\")) = \"%s\", want \"%s\"", text, buf, want);
}

/* iproute2's set_percent(): rint(fraction * UINT32_MAX). */
static uint32_t scaled(double pct)
{
	return (uint32_t)rint(pct / 100.0 * UINT32_MAX);
}

/* ---- delay and time units ---- */

static void test_time_units_follow_iproute2(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int64_t ns;
	} cases[] = {
		{ "delay 1s", 1000000000 },    { "delay 2sec", 2000000000 },
		{ "delay 1secs", 1000000000 }, { "delay 200ms", 200000000 },
		{ "delay 3msec", 3000000 },    { "delay 3MSECS", 3000000 },
		{ "delay 7us", 7000 },	       { "delay 7usec", 7000 },
		{ "delay 7usecs", 7000 },      { "delay 9ns", 9 },
		{ "delay 9nsec", 9 },	       { "delay 9nsecs", 9 },
		{ "delay 1.5ms", 1500000 },    { "delay 250", 250000 },
		{ "delay 0.5", 500 },	       { "delay 1e3us", 1000000 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct netem_spec s = parse_ok(cases[i].text);
		if (s.delay_ns != cases[i].ns)
			fail_msg("%s: %lld ns", cases[i].text, (long long)s.delay_ns);
		assert_true(s.present & NETEM_HAS_DELAY);
	}
}

static void test_bad_time_unit_is_rejected(void **state)
{
	(void)state;
	parse_fails("delay 10 minutes", "minutes", 9, "unknown keyword");
	parse_fails("delay 10m", "10m", 6, "expected a time");
	parse_fails("delay -5ms", "-5ms", 6, "expected a time");
	parse_fails("delay nanms", "nanms", 6, "expected a time");
	parse_fails("delay 10ms 1h", "1h", 11, "jitter");
}

static void test_delay_takes_jitter_and_correlation(void **state)
{
	(void)state;
	struct netem_spec s = parse_ok("delay 100ms 10ms 25%");
	assert_int_equal(s.delay_ns, 100000000);
	assert_int_equal(s.jitter_ns, 10000000);
	assert_int_equal(s.delay_corr.scaled, scaled(25));
	assert_int_equal(s.n_delay_args, 3);
	s = parse_ok("delay 100ms 10ms");
	assert_int_equal(s.n_delay_args, 2);
	assert_int_equal(s.delay_corr.scaled, 0);
}

static void test_optional_number_needs_leading_digit(void **state)
{
	(void)state;
	/* iproute2's NEXT_IS_NUMBER(): ".5ms" is not taken as jitter, so it is read as
	 * the next keyword. */
	parse_fails("delay 10ms .5ms", ".5ms", 11, "unknown keyword");
	struct netem_spec s = parse_ok("delay .5ms");
	assert_int_equal(s.delay_ns, 500000);
}

static void test_latency_is_an_alias_of_delay(void **state)
{
	(void)state;
	struct netem_spec a = parse_ok("latency 5ms 1ms");
	struct netem_spec b = parse_ok("delay 5ms 1ms");
	assert_true(netem_spec_equal(&a, &b));
}

/* ---- keywords ---- */

static void test_abbreviations_follow_iproute2_match_order(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		uint32_t field;
	} cases[] = {
		{ "d 1ms", NETEM_HAS_DELAY },
		{ "de 1ms", NETEM_HAS_DELAY },
		{ "la 1ms", NETEM_HAS_DELAY },
		{ "l 5", NETEM_HAS_LIMIT },
		{ "lo 1%", NETEM_HAS_LOSS },
		{ "dr 1%", NETEM_HAS_LOSS },
		{ "du 1%", NETEM_HAS_DUPLICATE },
		{ "c 1%", NETEM_HAS_CORRUPT },
		{ "r 0%", NETEM_HAS_REORDER },
		{ "ra 1mbit", NETEM_HAS_RATE },
		{ "s 1ms", NETEM_HAS_SLOT },
		{ "se 1", NETEM_HAS_SEED },
		{ "delay 1ms 1ms di normal", NETEM_HAS_DELAY | NETEM_HAS_DIST },
		{ "lo 1% e", NETEM_HAS_LOSS | NETEM_HAS_ECN },
		{ "d 1ms re 5% g 3", NETEM_HAS_DELAY | NETEM_HAS_REORDER | NETEM_HAS_GAP },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct netem_spec s = parse_ok(cases[i].text);
		if (s.present != cases[i].field)
			fail_msg("%s: present 0x%x want 0x%x", cases[i].text, s.present,
				 cases[i].field);
	}
}

static void test_unknown_keyword_is_named_with_offset(void **state)
{
	(void)state;
	parse_fails("delay 200ms lossy 2%", "lossy", 12, "unknown keyword");
	parse_fails("delays 1ms", "delays", 0, "unknown keyword");
	parse_fails("help", "help", 0, "unknown keyword");
	parse_fails("  delay 1ms   x", "x", 14, "unknown keyword");
}

static void test_error_formats_token_and_offset(void **state)
{
	(void)state;
	struct netem_spec s;
	struct netem_error e;
	assert_int_equal(netem_spec_parse("delay 200ms lossy 2%", &s, &e), -1);
	char buf[256];
	netem_error_format(&e, buf, sizeof buf);
	assert_string_equal(buf, "netem: \"lossy\" (at 12): unknown keyword");
	assert_int_equal(netem_spec_parse("delay 200ms lossy 2%", &s, NULL), -1);
}

static void test_missing_value_names_the_keyword(void **state)
{
	(void)state;
	parse_fails("delay", "delay", 0, "needs");
	parse_fails("loss 1% limit", "limit", 8, "needs");
	parse_fails("loss", "loss", 0, "needs");
	parse_fails("loss random", "random", 5, "needs");
	parse_fails("loss state", "state", 5, "needs");
	parse_fails("loss gemodel", "gemodel", 5, "needs");
	parse_fails("rate", "rate", 0, "needs");
	parse_fails("slot", "slot", 0, "needs");
	parse_fails("slot distribution", "distribution", 5, "needs");
	parse_fails("slot distribution normal", "normal", 18, "needs");
	parse_fails("slot distribution normal 1ms", "1ms", 25, "needs");
	parse_fails("slot 1ms packets", "packets", 9, "needs");
	parse_fails("slot 1ms bytes", "bytes", 9, "needs");
	parse_fails("gap", "gap", 0, "needs");
	parse_fails("seed", "seed", 0, "needs");
	parse_fails("distribution", "distribution", 0, "needs");
	parse_fails("duplicate", "duplicate", 0, "needs");
	parse_fails("corrupt", "corrupt", 0, "needs");
	parse_fails("reorder", "reorder", 0, "needs");
}

static void test_repeated_keyword_is_rejected(void **state)
{
	(void)state;
	parse_fails("delay 1ms latency 2ms", "latency", 10, "twice");
	parse_fails("loss 1% drop 2%", "drop", 8, "twice");
	parse_fails("limit 5 limit 6", "limit", 8, "twice");
}

static void test_overlong_word_is_rejected(void **state)
{
	(void)state;
	char text[200];
	memset(text, 'x', sizeof text);
	memcpy(text, "delay ", 6);
	text[sizeof text - 1] = '\0';
	struct netem_spec s;
	struct netem_error e;
	assert_int_equal(netem_spec_parse(text, &s, &e), -1);
	assert_int_equal(e.offset, 6);
	assert_int_equal(strlen(e.token), 63);
	assert_int_equal(netem_spec_parse(text + 6, &s, &e), -1);
	assert_string_equal(e.message, "word too long");
}

static void test_empty_and_none_give_an_empty_spec(void **state)
{
	(void)state;
	const char *texts[] = { "", "   \t\n", "none" };
	for (size_t i = 0; i < 3; i++) {
		struct netem_spec s = parse_ok(texts[i]);
		assert_int_equal(s.present, 0);
		assert_int_equal(s.limit_packets, NETEM_LIMIT_DEFAULT);
	}
	struct netem_spec s;
	assert_int_equal(netem_spec_parse(NULL, &s, NULL), 0);
	parse_fails("none delay 1ms", "none", 0, "cannot be combined");
	parse_fails("delay 1ms none", "none", 10, "unknown keyword");
}

/* ---- percentages ---- */

static void test_percent_with_or_without_sign_scales_like_kernel(void **state)
{
	(void)state;
	struct netem_spec a = parse_ok("loss 2%");
	struct netem_spec b = parse_ok("loss 2");
	assert_true(netem_spec_equal(&a, &b));
	assert_int_equal(a.loss.scaled, scaled(2));
	assert_true(a.loss.pct == 2.0);
	assert_int_equal(parse_ok("loss 100%").loss.scaled, UINT32_MAX);
	assert_int_equal(parse_ok("loss 0%").loss.scaled, 0);
	assert_int_equal(parse_ok("loss 50%").loss.scaled, 2147483648u);
	assert_int_equal(parse_ok("duplicate 0.001%").duplicate.scaled, 42950);
}

static void test_percent_out_of_range_is_rejected(void **state)
{
	(void)state;
	parse_fails("loss 101%", "101%", 5, "percentage");
	parse_fails("loss 100.0001", "100.0001", 5, "percentage");
	parse_fails("duplicate -1%", "-1%", 10, "percentage");
	parse_fails("corrupt 5%%", "5%%", 8, "percentage");
	parse_fails("corrupt 5x", "5x", 8, "percentage");
	parse_fails("reorder nan", "nan", 8, "percentage");
	parse_fails("loss 5% 200%", "200%", 8, "correlation");
	parse_fails("duplicate 5% 1000", "1000", 13, "correlation");
}

/* ---- loss models ---- */

static void test_loss_random_forms_are_the_same(void **state)
{
	(void)state;
	struct netem_spec a = parse_ok("loss 2% 25%");
	struct netem_spec b = parse_ok("loss random 2% 25%");
	struct netem_spec c = parse_ok("drop random 2 25");
	assert_true(netem_spec_equal(&a, &b));
	assert_true(netem_spec_equal(&a, &c));
	assert_int_equal(a.loss_model, NETEM_LOSS_RANDOM);
	assert_int_equal(a.loss_corr.scaled, scaled(25));
	assert_int_equal(a.n_loss_args, 2);
}

static void test_loss_model_names_are_not_abbreviated(void **state)
{
	(void)state;
	/* iproute2 compares random/state/gemodel with strcmp. */
	parse_fails("loss rand 2%", "rand", 5, "unknown loss model");
	parse_fails("loss ge 2%", "ge", 5, "unknown loss model");
	parse_fails("loss .5%", ".5%", 5, "unknown loss model");
}

static void test_loss_state_defaults_follow_iproute2(void **state)
{
	(void)state;
	struct netem_spec s = parse_ok("loss state 5%");
	assert_int_equal(s.loss_model, NETEM_LOSS_STATE);
	assert_int_equal(s.p13.scaled, scaled(5));
	assert_int_equal(s.p31.scaled, scaled(95));
	assert_int_equal(s.p32.scaled, 0);
	assert_int_equal(s.p23.scaled, UINT32_MAX);
	assert_int_equal(s.p14.scaled, 0);
	assert_int_equal(s.n_loss_args, 1);
	s = parse_ok("loss state 1 2 3 4 5");
	assert_int_equal(s.p31.scaled, scaled(2));
	assert_int_equal(s.p32.scaled, scaled(3));
	assert_int_equal(s.p23.scaled, scaled(4));
	assert_int_equal(s.p14.scaled, scaled(5));
	assert_int_equal(s.n_loss_args, 5);
	s = parse_ok("loss state 1 2 3");
	assert_int_equal(s.p23.scaled, UINT32_MAX);
	assert_int_equal(s.n_loss_args, 3);
	parse_fails("loss state 1 2 3 4 500", "500", 19, "p14");
}

static void test_loss_gemodel_defaults_and_h_inversion(void **state)
{
	(void)state;
	struct netem_spec s = parse_ok("loss gemodel 1%");
	assert_int_equal(s.loss_model, NETEM_LOSS_GEMODEL);
	assert_int_equal(s.ge_p.scaled, scaled(1));
	assert_int_equal(s.ge_r.scaled, scaled(99));
	assert_int_equal(s.ge_h_scaled, 0); /* 1-h = 100%: every frame in bad state lost */
	assert_int_equal(s.ge_1k.scaled, 0);
	s = parse_ok("loss gemodel 1% 10% 70% 0.1%");
	assert_int_equal(s.ge_r.scaled, scaled(10));
	assert_int_equal(s.ge_1h.scaled, scaled(70));
	assert_int_equal(s.ge_h_scaled, UINT32_MAX - scaled(70));
	assert_int_equal(s.ge_1k.scaled, scaled(0.1));
	assert_int_equal(s.n_loss_args, 4);
}

/* ---- combination rules ---- */

static void test_reorder_without_delay_is_rejected(void **state)
{
	(void)state;
	parse_fails("reorder 25%", "reorder", 0, "reordering not possible without");
	parse_fails("loss 1% reo 25% 50%", "reo", 8, "without specifying some delay");
	parse_fails("delay 0ms reorder 25%", "reorder", 10, "delay");
}

static void test_reorder_zero_needs_no_delay(void **state)
{
	(void)state;
	/* iproute2 checks the probability, not the keyword. */
	parse_ok("reorder 0%");
	parse_ok("delay 10ms reorder 25% 50% gap 5");
}

static void test_gap_without_reorder_is_rejected(void **state)
{
	(void)state;
	parse_fails("delay 10ms gap 5", "gap", 11, "gap specified without reorder");
	parse_fails("delay 10ms reorder 0% gap 5", "gap", 22, "without reorder");
	parse_ok("delay 10ms gap 0");
}

static void test_ecn_without_loss_model_is_rejected(void **state)
{
	(void)state;
	parse_fails("ecn", "ecn", 0, "ecn requested without loss model");
	parse_fails("delay 1ms e", "e", 10, "without loss model");
	parse_fails("loss 0% ecn", "ecn", 8, "without loss model");
	parse_ok("loss 1% ecn");
	parse_ok("ecn loss state 1%");
	parse_ok("loss gemodel 0% ecn");
}

static void test_distribution_needs_delay_and_jitter(void **state)
{
	(void)state;
	parse_fails("distribution normal", "distribution", 0, "no latency and jitter");
	parse_fails("delay 10ms dist normal", "dist", 11, "no latency and jitter");
	parse_fails("delay 0 1ms distribution pareto", "distribution", 12, "latency");
	struct netem_spec s = parse_ok("distribution paretonormal delay 10ms 2ms");
	assert_int_equal(s.dist, NETEM_DIST_PARETONORMAL);
}

static void test_distribution_names(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		enum netem_dist_kind kind;
	} cases[] = { { "uniform", NETEM_DIST_UNIFORM },
		      { "normal", NETEM_DIST_NORMAL },
		      { "pareto", NETEM_DIST_PARETO },
		      { "paretonormal", NETEM_DIST_PARETONORMAL },
		      { "experimental", NETEM_DIST_EXPERIMENTAL } };
	for (size_t i = 0; i < 5; i++) {
		char text[80];
		snprintf(text, sizeof text, "delay 10ms 1ms distribution %s", cases[i].name);
		assert_int_equal(parse_ok(text).dist, cases[i].kind);
		assert_string_equal(netem_dist_kind_name(cases[i].kind), cases[i].name);
	}
	parse_fails("delay 10ms 1ms distribution norm", "norm", 28, "unknown distribution");
	parse_fails("delay 10ms 1ms distribution ../etc/x", "../etc/x", 28, "unknown");
	assert_string_equal(netem_dist_kind_name(NETEM_DIST_NONE), "");
	assert_string_equal(netem_dist_kind_name((enum netem_dist_kind)99), "");
}

/* ---- rate ---- */

static void test_rate_units_follow_tc(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		uint64_t bytes_per_s;
	} cases[] = {
		{ "rate 1mbit", 125000 },
		{ "rate 1Mbit", 125000 },
		{ "rate 1.5mbit", 187500 },
		{ "rate 8kbit", 1000 },
		{ "rate 1gbit", 125000000 },
		{ "rate 1tbit", 125000000000 },
		{ "rate 1kibit", 128 },
		{ "rate 1mibit", 131072 },
		{ "rate 1gibit", 134217728 },
		{ "rate 1tibit", 137438953472 },
		{ "rate 100bit", 12 },
		{ "rate 100", 12 },
		{ "rate 1bps", 1 },
		{ "rate 8kbps", 8000 }, /* tc: kbps = kilobytes/s */
		{ "rate 1KBps", 1000 },
		{ "rate 1mbps", 1000000 },
		{ "rate 1gbps", 1000000000 },
		{ "rate 1tbps", 1000000000000 },
		{ "rate 1kibps", 1024 },
		{ "rate 1mibps", 1048576 },
		{ "rate 1gibps", 1073741824 },
		{ "rate 1tibps", 1099511627776 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct netem_spec s = parse_ok(cases[i].text);
		if (s.rate_bytes_per_s != cases[i].bytes_per_s)
			fail_msg("%s: %llu B/s", cases[i].text,
				 (unsigned long long)s.rate_bytes_per_s);
	}
}

static void test_rate_bad_values_are_rejected(void **state)
{
	(void)state;
	parse_fails("rate 1mbits", "1mbits", 5, "expected a rate");
	parse_fails("rate 7bit", "7bit", 5, "at least 8bit");
	parse_fails("rate 0", "0", 5, "at least");
	parse_fails("rate fast", "fast", 5, "expected a rate");
	parse_fails("rate 50%", "50%", 5, "percentage of the link speed");
	parse_fails("rate 1e30bit", "1e30bit", 5, "expected a rate");
}

static void test_rate_overheads_are_optional_and_signed(void **state)
{
	(void)state;
	struct netem_spec s = parse_ok("rate 1mbit 20 48 -3");
	assert_int_equal(s.rate_packet_overhead_bytes, 20);
	assert_int_equal(s.rate_cell_size_bytes, 48);
	assert_int_equal(s.rate_cell_overhead_bytes, -3);
	assert_int_equal(s.n_rate_args, 4);
	s = parse_ok("rate 1mbit -14");
	assert_int_equal(s.rate_packet_overhead_bytes, -14);
	assert_int_equal(s.n_rate_args, 2);
	/* The cell size is unsigned: "-48" is not taken, and then is no keyword. */
	parse_fails("rate 1mbit 20 -48", "-48", 14, "unknown keyword");
	parse_fails("rate 1mbit 2x", "2x", 11, "packet overhead");
	parse_fails("rate 1mbit -", "-", 11, "packet overhead");
	parse_fails("rate 1mbit 20 4x", "4x", 14, "cell size");
	parse_fails("rate 1mbit 20 48 -3x", "-3x", 17, "cell overhead");
	parse_fails("rate 1mbit 9999999999", "9999999999", 11, "packet overhead");
}

/* ---- slot ---- */

static void test_slot_forms(void **state)
{
	(void)state;
	struct netem_spec s = parse_ok("slot 1ms");
	assert_int_equal(s.slot_min_delay_ns, 1000000);
	assert_int_equal(s.slot_max_delay_ns, 1000000);
	assert_false(s.slot_max_given);
	s = parse_ok("slot 1ms 2ms pack 3 by 64kb");
	assert_int_equal(s.slot_max_delay_ns, 2000000);
	assert_int_equal(s.slot_max_packets, 3);
	assert_int_equal(s.slot_max_bytes, 65536);
	s = parse_ok("slot 1ms bytes 1500");
	assert_true(s.slot_bytes_given);
	assert_false(s.slot_packets_given);
	s = parse_ok("slot distribution pareto 10ms 2ms packets 8");
	assert_true(s.slot_is_dist);
	assert_int_equal(s.slot_dist, NETEM_DIST_PARETO);
	assert_int_equal(s.slot_dist_delay_ns, 10000000);
	assert_int_equal(s.slot_dist_jitter_ns, 2000000);
	assert_int_equal(s.slot_max_packets, 8);
}

static void test_slot_bad_values_are_rejected(void **state)
{
	(void)state;
	parse_fails("slot 2ms 1ms", "1ms", 9, "less than min_delay");
	parse_fails("slot foo", "foo", 5, "unknown slot parameter");
	parse_fails("slot distribution normal 1ms 0", "0", 29, "positive");
	parse_fails("slot distribution uniform 1ms 1ms", "uniform", 18, "slot distribution");
	parse_fails("slot distribution bogus 1ms 1ms", "bogus", 18, "slot distribution");
	parse_fails("slot 1ms bytes 100 packets 3", "packets", 19, "unknown keyword");
	parse_fails("slot 1ms packets 0", "0", 17, "positive");
	parse_fails("slot 1ms packets x", "x", 17, "positive");
	parse_fails("slot 1ms bytes 1.5", "1.5", 15, "whole");
	parse_fails("slot 1ms bytes 3gb", "3gb", 15, "whole");
	parse_fails("slot 1ms bytes 1q", "1q", 15, "whole");
	parse_fails("slot 1ms x", "x", 9, "unknown keyword");
	parse_fails("slot 1x", "1x", 5, "slot min_delay");
	parse_fails("slot 1ms 2x", "2x", 9, "slot max_delay");
	parse_fails("slot distribution normal x 1ms", "x", 25, "slot delay");
}

static void test_slot_size_units(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		uint32_t bytes;
	} cases[] = {
		{ "slot 1ms bytes 10b", 10 },	      { "slot 1ms bytes 1k", 1024 },
		{ "slot 1ms bytes 1KB", 1024 },	      { "slot 1ms bytes 1m", 1048576 },
		{ "slot 1ms bytes 1mb", 1048576 },    { "slot 1ms bytes 1g", 1073741824 },
		{ "slot 1ms bytes 1gb", 1073741824 }, { "slot 1ms bytes 8kbit", 1024 },
		{ "slot 1ms bytes 8mbit", 1048576 },  { "slot 1ms bytes 8gbit", 1073741824 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (parse_ok(cases[i].text).slot_max_bytes != cases[i].bytes)
			fail_msg("%s", cases[i].text);
}

/* ---- integers ---- */

static void test_limit_gap_and_seed_integers(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("limit 5").limit_packets, 5);
	assert_int_equal(parse_ok("limit 0x10").limit_packets, 16);
	/* get_u32(..., 0): a leading 0 is octal, as in tc. */
	assert_int_equal(parse_ok("delay 1ms reorder 1% gap 010").gap, 8);
	assert_int_equal(parse_ok("limit 4294967295").limit_packets, UINT32_MAX);
	assert_true(parse_ok("seed 18446744073709551615").seed == UINT64_MAX);
	parse_fails("limit 4294967296", "4294967296", 6, "limit");
	parse_fails("limit -1", "-1", 6, "limit");
	parse_fails("limit 08", "08", 6, "limit");
	parse_fails("limit many", "many", 6, "limit");
	parse_fails("delay 1ms reorder 1% gap x", "x", 25, "gap");
	parse_fails("seed 0x10", "0x10", 5, "decimal");
	parse_fails("seed 18446744073709551616", "18446744073709551616", 5, "decimal");
}

/* ---- normalised text ---- */

static void test_format_is_canonical(void **state)
{
	(void)state;
	assert_format("loss 2% delay 200ms 50ms", "delay 200ms 50ms loss 2%");
	assert_format("lat 0.2s 50000 drop random 2", "delay 200ms 50ms loss 2%");
	assert_format("delay 1.5ms 10ns 0.1", "delay 1500us 10ns 0.1%");
	assert_format("rate 8kbps", "rate 64kbit");
	assert_format("rate 100", "rate 96bit");
	assert_format("rate 1gbit -4 48 2", "rate 1gbit -4 48 2");
	assert_format("corrupt 33.3333333333333333", "corrupt 33.333333333333336%");
	assert_format("loss 0.0000001", "loss 0.0000001%");
	assert_format("se 7 l 10 e lo state 1 d 1ms 1ms di normal du 10 c 5 5 r 50 g 2",
		      "limit 10 delay 1ms 1ms distribution normal loss state 1% ecn "
		      "duplicate 10% corrupt 5% 5% reorder 50% gap 2 seed 7");
	assert_format("loss gemodel 1 10 70 0.1 ecn", "loss gemodel 1% 10% 70% 0.1% ecn");
	assert_format("slot 1ms 2ms packets 3 bytes 1k", "slot 1ms 2ms packets 3 bytes 1024");
	assert_format("slot distribution normal 1s 1ms", "slot distribution normal 1s 1ms");
	assert_format("", "none");
	assert_format("delay 0", "delay 0s");
}

static void test_format_reports_needed_length_and_truncates(void **state)
{
	(void)state;
	struct netem_spec s = parse_ok("delay 200ms 50ms loss 2%");
	size_t need = netem_spec_format(&s, NULL, 0);
	assert_int_equal(need, strlen("delay 200ms 50ms loss 2%"));
	char small[8];
	assert_int_equal(netem_spec_format(&s, small, sizeof small), need);
	assert_string_equal(small, "delay 2");
}

static void test_round_trip_reproduces_the_spec(void **state)
{
	(void)state;
	static const char *const corpus[] = {
		"",
		"delay 200ms 50ms 25% distribution normal loss 2% 25%",
		"limit 0 delay 7ns",
		"delay 1.0000001ms 3 0.3",
		"loss state 0.1 99.9 1e-3",
		"loss state 1 2 3 4 5 ecn",
		"loss gemodel 33.3333 66.6667",
		"loss gemodel 1 2 3 4",
		"duplicate 1 2 corrupt 3 4 delay 1s reorder 5 6 gap 7",
		"rate 12345bit",
		"rate 1.5gbit 20",
		"rate 1kbps 0 53",
		"slot 0 3ms pa 9 by 1234",
		"slot distribution experimental 1us 1ns bytes 2m",
		"seed 0 limit 1",
		"delay 1ms 1ms dist uniform",
	};
	for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
		struct netem_spec a = parse_ok(corpus[i]);
		char t1[512], t2[512];
		netem_spec_format(&a, t1, sizeof t1);
		struct netem_spec b = parse_ok(t1);
		if (!netem_spec_equal(&a, &b))
			fail_msg("round trip changed \"%s\" (text \"%s\")", corpus[i], t1);
		netem_spec_format(&b, t2, sizeof t2);
		assert_string_equal(t1, t2);
	}
}

static void test_equal_sees_each_difference(void **state)
{
	(void)state;
	static const char *const pairs[][2] = {
		{ "delay 1ms", "delay 2ms" },
		{ "delay 1ms 1ms", "delay 1ms 2ms" },
		{ "delay 1ms 1ms 0", "delay 1ms 1ms" },
		{ "loss 1", "loss 1 0" },
		{ "loss state 1", "loss state 1 99" },
		{ "loss gemodel 1 2", "loss gemodel 1 3" },
		{ "rate 1mbit", "rate 2mbit" },
		{ "slot 1ms", "slot 1ms 1ms" },
		{ "seed 1", "seed 2" },
		{ "", "limit 1000" },
	};
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		struct netem_spec a = parse_ok(pairs[i][0]), b = parse_ok(pairs[i][1]);
		if (netem_spec_equal(&a, &b))
			fail_msg("\"%s\" == \"%s\"", pairs[i][0], pairs[i][1]);
	}
}

/* ---- table form ---- */

static void test_table_form_matches_string_form(void **state)
{
	(void)state;
	const char *kv[] = { "loss", "2%", "delay", "200ms 50ms" };
	struct netem_spec t, s = parse_ok("delay 200ms 50ms loss 2%");
	struct netem_error e;
	assert_int_equal(netem_spec_parse_table(kv, 2, &t, &e), 0);
	assert_true(netem_spec_equal(&t, &s));
	char buf[128];
	netem_spec_format(&t, buf, sizeof buf);
	assert_string_equal(buf, "delay 200ms 50ms loss 2%");
}

static void test_table_form_takes_aliases_and_bare_keywords(void **state)
{
	(void)state;
	const char *kv[] = { "ecn", "",	   "drop", "gemodel 1%", "latency", "10ms",  "seed",
			     "3",   "reo", "5%",   "gap",	 "2",	    "limit", NULL };
	struct netem_spec t;
	struct netem_error e;
	/* "limit" with no value: the spec reports the missing number. */
	assert_int_equal(netem_spec_parse_table(kv, 7, &t, &e), -1);
	assert_int_equal(netem_spec_parse_table(kv, 6, &t, &e), 0);
	struct netem_spec s = parse_ok("delay 10ms loss gemodel 1% ecn reorder 5% gap 2 seed 3");
	assert_true(netem_spec_equal(&t, &s));
}

static void test_table_form_rules_are_the_string_rules(void **state)
{
	(void)state;
	struct netem_spec t;
	struct netem_error e;
	const char *reorder_only[] = { "reorder", "25%" };
	assert_int_equal(netem_spec_parse_table(reorder_only, 1, &t, &e), -1);
	assert_string_equal(e.token, "reorder");
	const char *twice[] = { "delay", "1ms", "latency", "2ms" };
	assert_int_equal(netem_spec_parse_table(twice, 2, &t, &e), -1);
	assert_string_equal(e.message, "given twice");
	/* Offsets refer to the joined canonical text "delay 1ms loss 2x". */
	const char *bad_value[] = { "loss", "2x", "delay", "1ms" };
	assert_int_equal(netem_spec_parse_table(bad_value, 2, &t, &e), -1);
	assert_string_equal(e.token, "2x");
	assert_int_equal(e.offset, 15);
}

static void test_table_form_unknown_key_is_named(void **state)
{
	(void)state;
	struct netem_spec t;
	struct netem_error e;
	const char *kv[] = { "delay", "1ms", "lossy", "2%" };
	assert_int_equal(netem_spec_parse_table(kv, 2, &t, &e), -1);
	assert_string_equal(e.token, "lossy");
	assert_int_equal(e.offset, 0);
	assert_string_equal(e.message, "unknown keyword");
	const char *null_key[] = { NULL, "2%" };
	assert_int_equal(netem_spec_parse_table(null_key, 1, &t, &e), -1);
	assert_int_equal(netem_spec_parse_table(kv, 0, &t, &e), 0);
	assert_int_equal(t.present, 0);
}

static void test_table_form_too_long_is_rejected(void **state)
{
	(void)state;
	static char value[3000];
	memset(value, ' ', sizeof value - 1);
	memcpy(value, "1ms", 3);
	const char *kv[] = { "delay", value };
	struct netem_spec t;
	struct netem_error e;
	assert_int_equal(netem_spec_parse_table(kv, 1, &t, &e), -1);
	assert_string_equal(e.message, "spec too long");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_units_follow_iproute2),
		cmocka_unit_test(test_bad_time_unit_is_rejected),
		cmocka_unit_test(test_delay_takes_jitter_and_correlation),
		cmocka_unit_test(test_optional_number_needs_leading_digit),
		cmocka_unit_test(test_latency_is_an_alias_of_delay),
		cmocka_unit_test(test_abbreviations_follow_iproute2_match_order),
		cmocka_unit_test(test_unknown_keyword_is_named_with_offset),
		cmocka_unit_test(test_error_formats_token_and_offset),
		cmocka_unit_test(test_missing_value_names_the_keyword),
		cmocka_unit_test(test_repeated_keyword_is_rejected),
		cmocka_unit_test(test_overlong_word_is_rejected),
		cmocka_unit_test(test_empty_and_none_give_an_empty_spec),
		cmocka_unit_test(test_percent_with_or_without_sign_scales_like_kernel),
		cmocka_unit_test(test_percent_out_of_range_is_rejected),
		cmocka_unit_test(test_loss_random_forms_are_the_same),
		cmocka_unit_test(test_loss_model_names_are_not_abbreviated),
		cmocka_unit_test(test_loss_state_defaults_follow_iproute2),
		cmocka_unit_test(test_loss_gemodel_defaults_and_h_inversion),
		cmocka_unit_test(test_reorder_without_delay_is_rejected),
		cmocka_unit_test(test_reorder_zero_needs_no_delay),
		cmocka_unit_test(test_gap_without_reorder_is_rejected),
		cmocka_unit_test(test_ecn_without_loss_model_is_rejected),
		cmocka_unit_test(test_distribution_needs_delay_and_jitter),
		cmocka_unit_test(test_distribution_names),
		cmocka_unit_test(test_rate_units_follow_tc),
		cmocka_unit_test(test_rate_bad_values_are_rejected),
		cmocka_unit_test(test_rate_overheads_are_optional_and_signed),
		cmocka_unit_test(test_slot_forms),
		cmocka_unit_test(test_slot_bad_values_are_rejected),
		cmocka_unit_test(test_slot_size_units),
		cmocka_unit_test(test_limit_gap_and_seed_integers),
		cmocka_unit_test(test_format_is_canonical),
		cmocka_unit_test(test_format_reports_needed_length_and_truncates),
		cmocka_unit_test(test_round_trip_reproduces_the_spec),
		cmocka_unit_test(test_equal_sees_each_difference),
		cmocka_unit_test(test_table_form_matches_string_form),
		cmocka_unit_test(test_table_form_takes_aliases_and_bare_keywords),
		cmocka_unit_test(test_table_form_rules_are_the_string_rules),
		cmocka_unit_test(test_table_form_unknown_key_is_named),
		cmocka_unit_test(test_table_form_too_long_is_rejected),
	};
	return vh_run_tests(tests, NULL, NULL);
}
