/* Unit tests for netem/peer_filter.c: which frames a device's datapath
 * passes while its network is split into islands. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "peer_filter.h"

static const uint8_t a[6] = { 0x52, 0x54, 0, 0, 0, 0x0a };
static const uint8_t b[6] = { 0x52, 0x54, 0, 0, 0, 0x0b };
static const uint8_t c[6] = { 0x52, 0x54, 0, 0, 0, 0x0c };
static const uint8_t host[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };

/* a and b in island 1, c in island 2; the host in no entry. */
static struct peer_filter_entry entries[3];
static struct peer_filter filter = { .entries = entries, .n = 3 };

static int setup(void **state)
{
	(void)state;
	memcpy(entries[0].mac, a, 6);
	entries[0].group = 1;
	memcpy(entries[1].mac, b, 6);
	entries[1].group = 1;
	memcpy(entries[2].mac, c, 6);
	entries[2].group = 2;
	return 0;
}

static const uint8_t *frame(const uint8_t dst[6], const uint8_t src[6])
{
	static uint8_t f[64];
	memset(f, 0, sizeof(f));
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	return f;
}

static void test_peer_filter_unknown_mac_is_the_hosts_side(void **state)
{
	(void)state;
	assert_int_equal(peer_filter_group(&filter, host), 0);
	assert_int_equal(peer_filter_group(&filter, b), 1);
	assert_int_equal(peer_filter_group(&filter, c), 2);
}

static void test_peer_filter_passes_inside_an_island_both_ways(void **state)
{
	(void)state;
	assert_true(peer_filter_pass(&filter, 1, true, frame(a, b), 64));
	assert_true(peer_filter_pass(&filter, 1, false, frame(b, a), 64));
}

static void test_peer_filter_drops_between_islands_both_ways(void **state)
{
	(void)state;
	assert_false(peer_filter_pass(&filter, 1, true, frame(a, c), 64));
	assert_false(peer_filter_pass(&filter, 1, false, frame(c, a), 64));
	assert_false(peer_filter_pass(&filter, 2, true, frame(c, a), 64));
}

static void test_peer_filter_drops_the_host_for_an_island_and_keeps_it_for_the_rest(void **state)
{
	(void)state;
	assert_false(peer_filter_pass(&filter, 1, true, frame(a, host), 64));
	assert_false(peer_filter_pass(&filter, 1, false, frame(host, a), 64));
	/* A device in no island (group 0) talks to the host, not to islands. */
	assert_true(peer_filter_pass(&filter, 0, true, frame(host, host), 64));
	assert_false(peer_filter_pass(&filter, 0, true, frame(host, a), 64));
}

static void
test_peer_filter_lets_group_addressed_frames_leave_but_not_arrive_from_elsewhere(void **state)
{
	(void)state;
	assert_true(peer_filter_pass(&filter, 1, false, frame(bcast, a), 64));
	assert_true(peer_filter_pass(&filter, 1, false, frame(mcast, a), 64));
	/* c's broadcast reaches a's datapath and stops there. */
	assert_false(peer_filter_pass(&filter, 1, true, frame(bcast, c), 64));
	assert_true(peer_filter_pass(&filter, 1, true, frame(bcast, b), 64));
}

static void test_peer_filter_drops_runt_frames(void **state)
{
	(void)state;
	assert_false(peer_filter_pass(&filter, 1, true, frame(a, b), 11));
}

static void test_peer_filter_parses_macs_exactly(void **state)
{
	(void)state;
	uint8_t m[6];
	assert_int_equal(peer_filter_parse_mac("52:54:00:ab:cd:ef", m), 0);
	assert_int_equal(m[3], 0xab);
	assert_int_equal(m[5], 0xef);
	assert_int_equal(peer_filter_parse_mac("52:54:00:ab:cd", m), -1);
	assert_int_equal(peer_filter_parse_mac("52:54:00:ab:cd:ef:", m), -1);
	assert_int_equal(peer_filter_parse_mac("52:54:00:ab:cd:eg", m), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peer_filter_unknown_mac_is_the_hosts_side),
		cmocka_unit_test(test_peer_filter_passes_inside_an_island_both_ways),
		cmocka_unit_test(test_peer_filter_drops_between_islands_both_ways),
		cmocka_unit_test(
			test_peer_filter_drops_the_host_for_an_island_and_keeps_it_for_the_rest),
		cmocka_unit_test(
			test_peer_filter_lets_group_addressed_frames_leave_but_not_arrive_from_elsewhere),
		cmocka_unit_test(test_peer_filter_drops_runt_frames),
		cmocka_unit_test(test_peer_filter_parses_macs_exactly),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
