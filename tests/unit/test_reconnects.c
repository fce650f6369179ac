/* Tests for the reconnect-storm histogram (harness/report/reconnects.c),
 * from events.jsonl lines as the harness writes them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reconnects.h"
#include "test_skip.h"

static int read_text(const char *text, struct reconnects *r)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	assert_non_null(f);
	int n = reconnects_read(f, r);
	fclose(f);
	return n;
}

static char *print(const struct reconnects *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(reconnects_print(f, r), 0);
	fclose(f);
	return buf;
}

/* Three devices healed at 10.0 s: two reconnect in the first window, one
 * 1.25 s later; traffic before the heal and after the next partition does
 * not count, nor does a line that is not JSON. */
static const char run_text[] =
	"{\"t\":9.5,\"event\":\"http_connect\",\"conn\":\"1\",\"peer\":\"10.77.0.2:4000\"}\n"
	"{\"t\":9.9,\"event\":\"partition\",\"network\":\"lan\",\"device\":\"d000\"}\n"
	"{\"t\":10.0,\"event\":\"heal\",\"network\":\"lan\",\"device\":\"d000\"}\n"
	"{\"t\":10.001,\"event\":\"heal\",\"network\":\"lan\",\"device\":\"d001\"}\n"
	"{\"t\":10.002,\"event\":\"heal\",\"network\":\"lan\",\"device\":\"d002\"}\n"
	"{\"t\":10.03,\"event\":\"http_connect\",\"conn\":\"2\"}\n"
	"{\"t\":10.05,\"event\":\"checkin\",\"conn\":\"2\",\"device\":\"d000\"}\n"
	"{\"t\":10.09,\"event\":\"http_connect\",\"conn\":\"3\"}\n"
	"not json\n"
	"{\"t\":11.25,\"event\":\"http_connect\",\"conn\":\"4\"}\n"
	"{\"t\":11.26,\"event\":\"checkin\",\"conn\":\"4\",\"device\":\"d002\"}\n"
	"{\"t\":12.0,\"event\":\"partition\",\"network\":\"lan\",\"device\":\"d000\"}\n"
	"{\"t\":12.5,\"event\":\"http_connect\",\"conn\":\"5\"}\n"
	"{\"t\":13.0,\"event\":\"verdict\",\"verdict\":\"pass\"}\n";

static void test_a_heal_bins_what_follows_until_the_next_partition(void **state)
{
	(void)state;
	struct reconnects *r = malloc(sizeof(*r));
	assert_int_equal(read_text(run_text, r), 1);
	const struct reconnect_storm *s = &r->storms[0];
	assert_int_equal(s->healed, 3);
	assert_string_equal(s->network, "lan");
	assert_true(s->heal_t == 10.0 && s->end_t == 12.0);
	assert_int_equal(s->connects[0], 2);
	assert_int_equal(s->checkins[0], 1);
	assert_int_equal(s->connects[12], 1);
	assert_int_equal(s->checkins[12], 1);
	int total = 0;
	for (int i = 0; i < RECONNECTS_BINS; i++)
		total += s->connects[i];
	assert_int_equal(total, 3);

	char *text = print(r);
	assert_non_null(strstr(text,
			       "heal of 3 devices on lan at 10.000 s: 3 connections and 2 "
			       "check-ins in the next 2.0 s; peak 2 connections in one 100 ms "
			       "window (+0.0 s)\n"));
	assert_non_null(strstr(text, "  +  0.0           2         1  ##\n"));
	assert_non_null(strstr(text, "  +  1.2           1         1  #\n"));
	/* empty windows are left out */
	assert_null(strstr(text, "  +  0.1 "));
	free(text);
	free(r);
}

/* Two heals in a row make two storms; one far from the next is cut at
 * RECONNECTS_SPAN_S; a run without a heal has none. */
static void test_storms_end_at_the_next_heal_or_after_their_span(void **state)
{
	(void)state;
	struct reconnects *r = malloc(sizeof(*r));
	static const char text[] =
		"{\"t\":1.0,\"event\":\"heal\",\"network\":\"lan\",\"device\":\"a\"}\n"
		"{\"t\":1.5,\"event\":\"http_connect\",\"conn\":\"1\"}\n"
		"{\"t\":5.0,\"event\":\"heal\",\"network\":\"lan\",\"device\":\"b\"}\n"
		"{\"t\":5.2,\"event\":\"http_connect\",\"conn\":\"2\"}\n"
		"{\"t\":40.0,\"event\":\"http_connect\",\"conn\":\"3\"}\n"
		"{\"t\":50.0,\"event\":\"verdict\",\"verdict\":\"pass\"}\n";
	assert_int_equal(read_text(text, r), 2);
	assert_true(r->storms[0].end_t == 5.0);
	assert_int_equal(r->storms[0].connects[5], 1);
	assert_true(r->storms[1].end_t == 5.0 + RECONNECTS_SPAN_S);
	assert_int_equal(r->storms[1].connects[2], 1);
	assert_int_equal(read_text("{\"t\":1.0,\"event\":\"http_connect\",\"conn\":\"1\"}\n", r),
			 0);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_heal_bins_what_follows_until_the_next_partition),
		cmocka_unit_test(test_storms_end_at_the_next_heal_or_after_their_span),
	};
	return vh_run_tests(tests, NULL, NULL);
}
