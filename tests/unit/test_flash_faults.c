/* Unit tests for flash faults and slowness (harness/flash/flash_faults.c):
 * which request fails, the delay a request gets, wear-out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>

#include "flash_faults.h"
#include "test_skip.h"

#define MiB (1024u * 1024u)

static struct flash_fault_rule rule(enum flash_op op, uint64_t after, uint64_t count)
{
	return (struct flash_fault_rule){
		.op = op, .error = EIO, .armed = true, .after = after, .count = count
	};
}

static int decide(struct flash_faults *ff, enum flash_op op, uint64_t offset, uint64_t len)
{
	return flash_faults_decide(ff, op, offset, len).error;
}

static void test_faults_names_parse_and_print(void **state)
{
	(void)state;
	assert_int_equal(flash_op_parse("read"), FLASH_OP_READ);
	assert_int_equal(flash_op_parse("write"), FLASH_OP_WRITE);
	assert_int_equal(flash_op_parse("flush"), FLASH_OP_FLUSH);
	assert_int_equal(flash_op_parse("trim"), -1);
	assert_int_equal(flash_op_parse(NULL), -1);
	assert_string_equal(flash_op_name(FLASH_OP_FLUSH), "flush");
	assert_int_equal(flash_fault_error_parse("EIO"), EIO);
	assert_int_equal(flash_fault_error_parse("EPERM"), EPERM);
	assert_int_equal(flash_fault_error_parse("ENOSPC"), -1);
	assert_int_equal(flash_fault_error_parse("eio"), -1);
	assert_string_equal(flash_fault_error_name(EPERM), "EPERM");
	assert_string_equal(flash_fault_error_name(EIO), "EIO");
}

static void test_faults_bandwidth_units(void **state)
{
	(void)state;
	uint64_t b = 0;
	assert_int_equal(flash_bandwidth_parse("2MB/s", &b), 0);
	assert_int_equal(b, 2000000);
	assert_int_equal(flash_bandwidth_parse("512KiB/s", &b), 0);
	assert_int_equal(b, 512 * 1024);
	assert_int_equal(flash_bandwidth_parse("1GiB/s", &b), 0);
	assert_int_equal(b, 1024ull * 1024 * 1024);
	assert_int_equal(flash_bandwidth_parse("3kB", &b), 0);
	assert_int_equal(b, 3000);
	assert_int_equal(flash_bandwidth_parse("1000", &b), 0);
	assert_int_equal(b, 1000);
	assert_int_equal(flash_bandwidth_parse("7/s", &b), 0);
	assert_int_equal(b, 7);
	const char *bad[] = { "",	"0MB/s", "MB/s",
			      "2 MB/s", "2MB/h", "2TB/s",
			      "-1",	"2MiBs", "99999999999999999999",
			      NULL };
	for (int i = 0; bad[i]; i++)
		assert_int_equal(flash_bandwidth_parse(bad[i], &b), -1);
}

static void test_faults_no_rule_passes_everything(void **state)
{
	(void)state;
	struct flash_faults ff;
	flash_faults_init(&ff);
	assert_int_equal(decide(&ff, FLASH_OP_WRITE, 0, 4096), 0);
	assert_int_equal(decide(&ff, FLASH_OP_READ, 0, 4096), 0);
	assert_int_equal(decide(&ff, FLASH_OP_FLUSH, 0, 0), 0);
	assert_int_equal(ff.writes_done, 1);
}

static void test_faults_op_selects_the_requests(void **state)
{
	(void)state;
	struct flash_faults ff;
	flash_faults_init(&ff);
	struct flash_fault_rule r = rule(FLASH_OP_FLUSH, 0, 1);
	r.error = EPERM;
	assert_int_equal(flash_faults_add(&ff, &r), 0);
	assert_int_equal(decide(&ff, FLASH_OP_WRITE, 0, 512), 0);
	assert_int_equal(decide(&ff, FLASH_OP_READ, 0, 512), 0);
	struct flash_fault_hit h = flash_faults_decide(&ff, FLASH_OP_FLUSH, 0, 0);
	assert_int_equal(h.error, EPERM);
	assert_int_equal(h.rule, 0);
	assert_false(h.worn);
	assert_int_equal(decide(&ff, FLASH_OP_FLUSH, 0, 0), 0);
}

static void test_faults_after_and_count(void **state)
{
	(void)state;
	struct flash_faults ff;
	flash_faults_init(&ff);
	struct flash_fault_rule r = rule(FLASH_OP_WRITE, 2, 3);
	flash_faults_add(&ff, &r);
	int want[] = { 0, 0, EIO, EIO, EIO, 0, 0 };
	for (int i = 0; i < 7; i++)
		assert_int_equal(decide(&ff, FLASH_OP_WRITE, (uint64_t)i * 4096, 4096), want[i]);
	assert_int_equal(ff.rules[0].seen, 7);
	assert_int_equal(ff.rules[0].failed, 3);
	/* A failed write is not a write the flash made. */
	assert_int_equal(ff.writes_done, 4);
}

static void test_faults_range_must_overlap(void **state)
{
	(void)state;
	struct flash_faults ff;
	flash_faults_init(&ff);
	struct flash_fault_rule r = rule(FLASH_OP_WRITE, 0, 100);
	r.has_range = true;
	r.offset = 41 * MiB;
	r.length = 40 * MiB;
	flash_faults_add(&ff, &r);
	assert_int_equal(decide(&ff, FLASH_OP_WRITE, 0x2000, 4096), 0);		 /* the env */
	assert_int_equal(decide(&ff, FLASH_OP_WRITE, 41 * MiB - 4096, 4096), 0); /* ends at it */
	assert_int_equal(decide(&ff, FLASH_OP_WRITE, 41 * MiB - 4096, 4097), EIO);
	assert_int_equal(decide(&ff, FLASH_OP_WRITE, 41 * MiB, 65536), EIO);
	assert_int_equal(decide(&ff, FLASH_OP_WRITE, 81 * MiB - 1, 1), EIO);
	assert_int_equal(decide(&ff, FLASH_OP_WRITE, 81 * MiB, 4096), 0); /* just past it */
	/* Requests outside the range do not count towards after/count. */
	assert_int_equal(ff.rules[0].seen, 3);
	/* A flush has no offset: a range does not keep it from matching. */
	struct flash_fault_rule f = rule(FLASH_OP_FLUSH, 0, 1);
	f.has_range = true;
	f.offset = 41 * MiB;
	f.length = 1;
	flash_faults_add(&ff, &f);
	assert_int_equal(decide(&ff, FLASH_OP_FLUSH, 0, 0), EIO);
}

static void test_faults_rule_waits_to_be_armed(void **state)
{
	(void)state;
	struct flash_faults ff;
	flash_faults_init(&ff);
	struct flash_fault_rule r = rule(FLASH_OP_READ, 1, 1);
	r.armed = false;
	int i = flash_faults_add(&ff, &r);
	assert_int_equal(decide(&ff, FLASH_OP_READ, 0, 512), 0);
	assert_int_equal(decide(&ff, FLASH_OP_READ, 0, 512), 0);
	assert_int_equal(ff.rules[0].seen, 0); /* `after` counts from the line */
	flash_faults_arm(&ff, i);
	assert_int_equal(decide(&ff, FLASH_OP_READ, 0, 512), 0);
	assert_int_equal(decide(&ff, FLASH_OP_READ, 0, 512), EIO);
	assert_int_equal(decide(&ff, FLASH_OP_READ, 0, 512), 0);
	flash_faults_arm(&ff, 7); /* no such rule: ignored */
}

static void test_faults_rules_count_independently_first_gives_the_error(void **state)
{
	(void)state;
	struct flash_faults ff;
	flash_faults_init(&ff);
	struct flash_fault_rule a = rule(FLASH_OP_WRITE, 1, 1);
	struct flash_fault_rule b = rule(FLASH_OP_WRITE, 1, 2);
	b.error = EPERM;
	flash_faults_add(&ff, &a);
	flash_faults_add(&ff, &b);
	assert_int_equal(decide(&ff, FLASH_OP_WRITE, 0, 512), 0);
	struct flash_fault_hit h = flash_faults_decide(&ff, FLASH_OP_WRITE, 0, 512);
	assert_int_equal(h.error, EIO);
	assert_int_equal(h.rule, 0);
	h = flash_faults_decide(&ff, FLASH_OP_WRITE, 0, 512);
	assert_int_equal(h.error, EPERM);
	assert_int_equal(h.rule, 1);
	assert_int_equal(decide(&ff, FLASH_OP_WRITE, 0, 512), 0);
}

static void test_faults_table_is_bounded(void **state)
{
	(void)state;
	struct flash_faults ff;
	flash_faults_init(&ff);
	struct flash_fault_rule r = rule(FLASH_OP_WRITE, 0, 1);
	for (int i = 0; i < FLASH_FAULT_RULES_MAX; i++)
		assert_int_equal(flash_faults_add(&ff, &r), i);
	assert_int_equal(flash_faults_add(&ff, &r), -1);
}

static void test_faults_wear_out_after_n_writes_reads_still_work(void **state)
{
	(void)state;
	struct flash_faults ff;
	flash_faults_init(&ff);
	ff.wear_out_after = 3;
	assert_false(flash_faults_decide(&ff, FLASH_OP_WRITE, 0, 512).wears);
	assert_false(flash_faults_decide(&ff, FLASH_OP_WRITE, 0, 512).wears);
	struct flash_fault_hit h = flash_faults_decide(&ff, FLASH_OP_WRITE, 0, 512);
	assert_int_equal(h.error, 0);
	assert_true(h.wears);
	for (int i = 0; i < 3; i++) {
		h = flash_faults_decide(&ff, FLASH_OP_WRITE, 0, 512);
		assert_int_equal(h.error, EIO);
		assert_true(h.worn);
		assert_int_equal(h.rule, -1);
	}
	assert_int_equal(decide(&ff, FLASH_OP_READ, 0, 512), 0);
	assert_int_equal(decide(&ff, FLASH_OP_FLUSH, 0, 0), 0);
	assert_int_equal(ff.writes_done, 3);
}

static void test_faults_wear_out_counts_only_writes_that_went_ahead(void **state)
{
	(void)state;
	struct flash_faults ff;
	flash_faults_init(&ff);
	ff.wear_out_after = 2;
	struct flash_fault_rule r = rule(FLASH_OP_WRITE, 0, 1);
	flash_faults_add(&ff, &r);
	assert_int_equal(decide(&ff, FLASH_OP_WRITE, 0, 512), EIO); /* the rule */
	assert_int_equal(decide(&ff, FLASH_OP_WRITE, 0, 512), 0);
	assert_int_equal(decide(&ff, FLASH_OP_WRITE, 0, 512), 0);
	assert_int_equal(decide(&ff, FLASH_OP_WRITE, 0, 512), EIO); /* worn */
}

static void test_faults_no_slowness_no_delay(void **state)
{
	(void)state;
	struct flash_faults ff;
	flash_faults_init(&ff);
	assert_int_equal(flash_faults_delay_us(&ff, 1000, FLASH_OP_WRITE, 1 * MiB), 0);
	assert_int_equal(flash_faults_delay_us(&ff, 1000, FLASH_OP_FLUSH, 0), 0);
	assert_int_equal(flash_faults_delay_us(&ff, 1000, FLASH_OP_READ, 4096), 0);
}

static void test_faults_latency_plus_bandwidth(void **state)
{
	(void)state;
	struct flash_faults ff;
	flash_faults_init(&ff);
	ff.write_latency_us = 5000;
	ff.bandwidth = 2000000; /* 2MB/s: 65536 bytes take 32768 us */
	assert_int_equal(flash_faults_delay_us(&ff, 0, FLASH_OP_WRITE, 65536), 5000 + 32768);
	/* Reads are not slowed, even while a write is programming. */
	assert_int_equal(flash_faults_delay_us(&ff, 10, FLASH_OP_READ, 65536), 0);
	/* One write at a time: the second starts when the first ends. */
	assert_int_equal(flash_faults_delay_us(&ff, 1000, FLASH_OP_WRITE, 2000),
			 (5000 + 32768 - 1000) + 5000 + 1000);
	/* A flush waits for both. */
	assert_int_equal(flash_faults_delay_us(&ff, 2000, FLASH_OP_FLUSH, 0),
			 5000 + 32768 + 6000 - 2000);
	/* An idle flash starts at once; a byte still takes a microsecond. */
	assert_int_equal(flash_faults_delay_us(&ff, 1000000, FLASH_OP_WRITE, 1), 5000 + 1);
	assert_int_equal(flash_faults_delay_us(&ff, 2000000, FLASH_OP_FLUSH, 0), 0);
	flash_faults_idle(&ff);
	assert_int_equal(ff.busy_until_us, 0);
}

static void test_faults_bandwidth_alone(void **state)
{
	(void)state;
	struct flash_faults ff;
	flash_faults_init(&ff);
	ff.bandwidth = 1024 * 1024; /* 1MiB/s */
	assert_int_equal(flash_faults_delay_us(&ff, 0, FLASH_OP_WRITE, 1 * MiB), 1000000);
	assert_int_equal(flash_faults_delay_us(&ff, 0, FLASH_OP_WRITE, 512 * 1024), 1500000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_faults_names_parse_and_print),
		cmocka_unit_test(test_faults_bandwidth_units),
		cmocka_unit_test(test_faults_no_rule_passes_everything),
		cmocka_unit_test(test_faults_op_selects_the_requests),
		cmocka_unit_test(test_faults_after_and_count),
		cmocka_unit_test(test_faults_range_must_overlap),
		cmocka_unit_test(test_faults_rule_waits_to_be_armed),
		cmocka_unit_test(test_faults_rules_count_independently_first_gives_the_error),
		cmocka_unit_test(test_faults_table_is_bounded),
		cmocka_unit_test(test_faults_wear_out_after_n_writes_reads_still_work),
		cmocka_unit_test(test_faults_wear_out_counts_only_writes_that_went_ahead),
		cmocka_unit_test(test_faults_no_slowness_no_delay),
		cmocka_unit_test(test_faults_latency_plus_bandwidth),
		cmocka_unit_test(test_faults_bandwidth_alone),
	};
	return vh_run_tests(tests, NULL, NULL);
}
