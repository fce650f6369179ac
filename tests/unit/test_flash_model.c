/* Unit tests for the flash model's pure core (harness/flash/flash_model.c):
 * a small "backing file" in memory stands in for disk-<device>.img. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flash_model.h"
#include "test_skip.h"

#define DISK_SIZE 8192u

struct rig {
	struct flash_model m;
	uint8_t file[DISK_SIZE]; /* the backing file */
};

static void rig_init(struct rig *r)
{
	flash_model_init(&r->m);
	memset(r->file, 0, sizeof(r->file));
}

static void rig_write(struct rig *r, uint64_t offset, uint32_t len, uint8_t fill, bool fua)
{
	uint8_t *data = malloc(len);
	assert_non_null(data);
	memset(data, fill, len);
	if (fua)
		flash_model_write_fua(&r->m, offset, len, data);
	else
		flash_model_write(&r->m, offset, len, data);
}

/* What the shell does: writes the durable writes to the file, in order. */
static void rig_drain(struct rig *r)
{
	struct flash_writes *l;
	while ((l = flash_model_take_durable(&r->m))) {
		for (struct flash_write *w = l->head; w; w = w->next)
			memcpy(r->file + w->offset, w->data, w->len);
		flash_model_drained(&r->m);
	}
	assert_true(flash_model_settled(&r->m));
}

/* What a read returns: the file with the model's writes over it. */
static uint8_t rig_read_byte(struct rig *r, uint64_t offset)
{
	uint8_t b = r->file[offset];
	flash_model_overlay(&r->m, &b, offset, 1);
	return b;
}

static void rig_cut(struct rig *r, enum flash_cut_mode mode, uint64_t seed,
		    struct flash_cut_report *rep)
{
	flash_model_cut(&r->m, mode, seed, rep);
	rig_drain(r);
	assert_int_equal(r->m.pending.count, 0);
}

static void test_flash_mode_names_round_trip_and_reject_others(void **state)
{
	(void)state;
	const char *names[] = { "volatile", "torn", "ordered", "durable" };
	for (int i = 0; i < 4; i++) {
		assert_int_equal(flash_cut_mode_parse(names[i]), i);
		assert_string_equal(flash_cut_mode_name((enum flash_cut_mode)i), names[i]);
	}
	assert_int_equal(flash_cut_mode_parse("Volatile"), -1);
	assert_int_equal(flash_cut_mode_parse(""), -1);
	assert_int_equal(flash_cut_mode_parse(NULL), -1);
}

static void test_flash_reads_see_pending_writes_not_yet_in_the_file(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	rig_write(&r, 512, 1024, 0xab, false);
	assert_int_equal(rig_read_byte(&r, 511), 0);
	assert_int_equal(rig_read_byte(&r, 512), 0xab);
	assert_int_equal(rig_read_byte(&r, 1535), 0xab);
	assert_int_equal(rig_read_byte(&r, 1536), 0);
	/* Pending: nothing for the file yet. */
	assert_null(flash_model_take_durable(&r.m));
	assert_int_equal(r.file[512], 0);
	flash_model_free(&r.m);
}

static void test_flash_later_overlapping_write_wins_in_reads_and_in_the_file(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	rig_write(&r, 0, 4096, 0x11, false);
	rig_write(&r, 1024, 512, 0x22, false);
	flash_model_flush(&r.m);
	rig_write(&r, 1024, 4096, 0x33, false); /* straddles the first, pending */
	assert_int_equal(rig_read_byte(&r, 1023), 0x11);
	assert_int_equal(rig_read_byte(&r, 1024), 0x33);
	assert_int_equal(rig_read_byte(&r, 5119), 0x33);
	rig_drain(&r);
	assert_int_equal(r.file[1024], 0x22); /* the flushed state only */
	assert_int_equal(r.file[0], 0x11);
	assert_int_equal(rig_read_byte(&r, 1024), 0x33); /* still pending on top */
	flash_model_free(&r.m);
}

static void test_flash_volatile_cut_loses_everything_since_the_last_flush(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	rig_write(&r, 0, 512, 0xaa, false);
	flash_model_flush(&r.m);
	rig_write(&r, 512, 512, 0xbb, false);
	rig_write(&r, 0, 512, 0xcc, false);
	struct flash_cut_report rep;
	rig_cut(&r, FLASH_CUT_VOLATILE, 1, &rep);
	assert_int_equal(rep.pending_writes, 2);
	assert_int_equal(rep.pending_bytes, 1024);
	assert_int_equal(rep.survived_writes, 0);
	assert_string_equal(rep.survived, "");
	assert_int_equal(r.file[0], 0xaa);
	assert_int_equal(r.file[512], 0);
	assert_int_equal(rig_read_byte(&r, 0), 0xaa);
	assert_int_equal(r.m.flushes, 1);
	assert_int_equal(r.m.lost_writes, 2);
	flash_model_free(&r.m);
}

static void test_flash_durable_cut_keeps_every_write_in_order(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	rig_write(&r, 0, 512, 0xaa, false);
	rig_write(&r, 0, 512, 0xbb, false);
	rig_write(&r, 4096, 100, 0xcc, false);
	struct flash_cut_report rep;
	rig_cut(&r, FLASH_CUT_DURABLE, 7, &rep);
	assert_int_equal(rep.survived_writes, 3);
	assert_int_equal(rep.survived_bytes, 1124);
	assert_string_equal(rep.survived, "1-3");
	assert_int_equal(r.file[0], 0xbb);
	assert_int_equal(r.file[4195], 0xcc);
	assert_int_equal(r.file[4196], 0);
	flash_model_free(&r.m);
}

static void test_flash_fua_write_is_durable_with_everything_before_it(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	rig_write(&r, 0, 512, 0x01, false);
	rig_write(&r, 512, 512, 0x02, true);
	rig_write(&r, 1024, 512, 0x03, false);
	assert_int_equal(r.m.flushes, 0); /* FUA is not a flush */
	struct flash_cut_report rep;
	rig_cut(&r, FLASH_CUT_VOLATILE, 3, &rep);
	assert_int_equal(rep.pending_writes, 1);
	assert_int_equal(r.file[0], 0x01);
	assert_int_equal(r.file[512], 0x02);
	assert_int_equal(r.file[1024], 0);
	flash_model_free(&r.m);
}

static void test_flash_failed_flush_loses_the_pending_writes(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	rig_write(&r, 0, 512, 0x01, false);
	flash_model_flush_failed(&r.m);
	assert_int_equal(rig_read_byte(&r, 0), 0);
	assert_int_equal(r.m.failed_flushes, 1);
	assert_int_equal(r.m.lost_writes, 1);
	flash_model_free(&r.m);
}

/* Ten one-sector writes, each of its own fill, at sectors 0..9. */
static void write_ten(struct rig *r)
{
	for (int i = 0; i < 10; i++)
		rig_write(r, (uint64_t)i * 512, 512, (uint8_t)(i + 1), false);
}

static void test_flash_ordered_cut_keeps_a_prefix_and_seeds_vary_it(void **state)
{
	(void)state;
	bool seen_len[11] = { false };
	for (uint64_t seed = 0; seed < 200; seed++) {
		struct rig r;
		rig_init(&r);
		write_ten(&r);
		struct flash_cut_report rep;
		rig_cut(&r, FLASH_CUT_ORDERED, seed, &rep);
		size_t k = rep.survived_writes;
		assert_true(k <= 10);
		seen_len[k] = true;
		for (size_t i = 0; i < 10; i++)
			assert_int_equal(r.file[i * 512], i < k ? i + 1 : 0);
		char want[48] = "";
		if (k == 1)
			snprintf(want, sizeof(want), "1");
		else if (k > 1)
			snprintf(want, sizeof(want), "1-%zu", k);
		assert_string_equal(rep.survived, want);
		flash_model_free(&r.m);
	}
	for (int k = 0; k <= 10; k++)
		assert_true(seen_len[k]); /* every prefix, the empty and whole one too */
}

static void test_flash_torn_cut_keeps_a_subset_and_tears_the_last_by_sectors(void **state)
{
	(void)state;
	bool gap_seen = false, torn_seen = false, last_whole_seen = false;
	for (uint64_t seed = 0; seed < 200; seed++) {
		struct rig r;
		rig_init(&r);
		write_ten(&r);
		rig_write(&r, 6144, 2048, 0xee, false); /* the last: four sectors */
		struct flash_cut_report rep;
		rig_cut(&r, FLASH_CUT_TORN, seed, &rep);
		bool prev_kept = true;
		uint64_t bytes = 0;
		for (size_t i = 0; i < 10; i++) {
			bool kept = r.file[i * 512] == i + 1;
			assert_true(kept || r.file[i * 512] == 0);
			if (kept && !prev_kept)
				gap_seen = true; /* not a prefix: a true subset */
			prev_kept = kept;
			bytes += kept ? 512 : 0;
		}
		/* The last write: whole sectors from its start, nothing after. */
		size_t done = 0;
		while (done < 4 && r.file[6144 + done * 512] == 0xee)
			done++;
		for (size_t s = done; s < 4; s++)
			assert_int_equal(r.file[6144 + s * 512], 0);
		for (size_t s = 0; s < done; s++)
			assert_int_equal(r.file[6144 + s * 512 + 511], 0xee);
		bytes += done * 512;
		assert_int_equal(rep.survived_bytes, bytes);
		if (done > 0 && done < 4) {
			torn_seen = true;
			assert_true(rep.torn);
			assert_int_equal(rep.torn_bytes, done * 512);
		}
		if (done == 4)
			last_whole_seen = true;
		flash_model_free(&r.m);
	}
	assert_true(gap_seen);
	assert_true(torn_seen);
	assert_true(last_whole_seen);
}

/* The file a cut leaves, for replay checks. */
static void cut_file(enum flash_cut_mode mode, uint64_t seed, uint8_t *out,
		     struct flash_cut_report *rep)
{
	struct rig r;
	rig_init(&r);
	write_ten(&r);
	rig_write(&r, 6144, 2048, 0xee, false);
	rig_cut(&r, mode, seed, rep);
	memcpy(out, r.file, DISK_SIZE);
	flash_model_free(&r.m);
}

static void test_flash_same_seed_replays_the_same_cut_and_others_differ(void **state)
{
	(void)state;
	static uint8_t a[DISK_SIZE], b[DISK_SIZE];
	for (int mode = FLASH_CUT_TORN; mode <= FLASH_CUT_ORDERED; mode++) {
		struct flash_cut_report ra, rb;
		uint64_t seed = flash_model_cut_seed(42, "dut", 1);
		cut_file((enum flash_cut_mode)mode, seed, a, &ra);
		cut_file((enum flash_cut_mode)mode, seed, b, &rb);
		assert_memory_equal(a, b, DISK_SIZE);
		assert_string_equal(ra.survived, rb.survived);
		bool differs = false;
		for (uint64_t s = 1; s < 20 && !differs; s++) {
			cut_file((enum flash_cut_mode)mode, flash_model_cut_seed(42 + s, "dut", 1),
				 b, &rb);
			differs = memcmp(a, b, DISK_SIZE) != 0;
		}
		assert_true(differs);
	}
}

static void test_flash_cut_seed_differs_per_device_and_cut(void **state)
{
	(void)state;
	uint64_t s = flash_model_cut_seed(1, "dut", 1);
	assert_int_equal(s, flash_model_cut_seed(1, "dut", 1));
	assert_true(s != flash_model_cut_seed(1, "dut", 2));
	assert_true(s != flash_model_cut_seed(1, "dut2", 1));
	assert_true(s != flash_model_cut_seed(2, "dut", 1));
}

static void test_flash_survivor_list_is_cut_short_when_long(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	for (int i = 0; i < 200; i++)
		rig_write(&r, (uint64_t)(i % 16) * 512, 512, (uint8_t)i, false);
	struct flash_cut_report rep;
	rig_cut(&r, FLASH_CUT_TORN, 5, &rep);
	assert_true(strlen(rep.survived) < sizeof(rep.survived));
	assert_non_null(strstr(rep.survived, "..."));
	flash_model_free(&r.m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flash_mode_names_round_trip_and_reject_others),
		cmocka_unit_test(test_flash_reads_see_pending_writes_not_yet_in_the_file),
		cmocka_unit_test(test_flash_later_overlapping_write_wins_in_reads_and_in_the_file),
		cmocka_unit_test(test_flash_volatile_cut_loses_everything_since_the_last_flush),
		cmocka_unit_test(test_flash_durable_cut_keeps_every_write_in_order),
		cmocka_unit_test(test_flash_fua_write_is_durable_with_everything_before_it),
		cmocka_unit_test(test_flash_failed_flush_loses_the_pending_writes),
		cmocka_unit_test(test_flash_ordered_cut_keeps_a_prefix_and_seeds_vary_it),
		cmocka_unit_test(test_flash_torn_cut_keeps_a_subset_and_tears_the_last_by_sectors),
		cmocka_unit_test(test_flash_same_seed_replays_the_same_cut_and_others_differ),
		cmocka_unit_test(test_flash_cut_seed_differs_per_device_and_cut),
		cmocka_unit_test(test_flash_survivor_list_is_cut_short_when_long),
	};
	return vh_run_tests(tests, NULL, NULL);
}
