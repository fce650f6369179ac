/* Unit tests for wire/bundle_header.c, the bundle header codec the harness
 * and the agent share. The cases marked "was:" pin a rule on which the two
 * parsers this codec replaced (harness/ota/bundle.c and the agent's
 * agent_bundle.c) used to disagree. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bundle_header.h"
#include "test_skip.h"

#define SHA "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA_UPPER "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"
#define TAIL "kernel_size=1\ninitrd_size=1\nsha256=" SHA "\n\n"

static const char good[] = "VHFW1\n"
			   "version=2.0.0\n"
			   "bugs=no-fsync-before-flip,commit-before-healthy\n"
			   "kernel_size=10\n"
			   "initrd_size=20\n"
			   "sha256=" SHA "\n"
			   "\n"
			   "payload...";

/* Parses a NUL-free text; a failure must come with a message. */
static int parse(const char *s, struct bundle_header *h)
{
	char err[160] = "";
	int rc = bundle_header_parse((const uint8_t *)s, strlen(s), h, err, sizeof(err));

	if (rc != 0)
		assert_true(err[0] != '\0');
	return rc;
}

static void test_header_fields_and_size_are_read(void **state)
{
	(void)state;
	struct bundle_header h;

	assert_int_equal(parse(good, &h), 0);
	assert_string_equal(h.version, "2.0.0");
	assert_string_equal(h.bugs, "no-fsync-before-flip,commit-before-healthy");
	assert_int_equal(h.kernel_size, 10);
	assert_int_equal(h.initrd_size, 20);
	assert_string_equal(h.sha256, SHA);
	assert_int_equal(h.header_size, strlen(good) - strlen("payload..."));
	assert_int_equal(bundle_total_size(&h), h.header_size + 30);
}

static void test_every_prefix_of_a_header_asks_for_more(void **state)
{
	(void)state;
	struct bundle_header h;
	char err[128];
	size_t full = strlen(good) - strlen("payload...");

	for (size_t n = 0; n < full; n++)
		assert_int_equal(
			bundle_header_parse((const uint8_t *)good, n, &h, err, sizeof(err)),
			-ENODATA);
	assert_int_equal(bundle_header_parse((const uint8_t *)good, full, &h, err, sizeof(err)), 0);
	/* a wrong magic is wrong at once, however little has arrived */
	assert_int_equal(bundle_header_parse((const uint8_t *)"VHX", 3, &h, err, sizeof(err)),
			 -EINVAL);
}

static void test_malformed_headers_are_rejected(void **state)
{
	(void)state;
	struct bundle_header h;
	const char *bad[] = {
		"VHFW2\nversion=1\n" TAIL,
		"vhfw1\nversion=1\n" TAIL,
		"VHFW1\n" TAIL,					       /* no version */
		"VHFW1\nversion=1\ninitrd_size=1\nsha256=" SHA "\n\n", /* no kernel_size */
		"VHFW1\nversion=1\nkernel_size=1\nsha256=" SHA "\n\n", /* no initrd_size */
		"VHFW1\nversion=1\nkernel_size=1\ninitrd_size=1\n\n",  /* no sha256 */
		"VHFW1\nversion=1\nkernel_size=-1\ninitrd_size=1\nsha256=" SHA "\n\n",
		"VHFW1\nversion=1\nkernel_size=+1\ninitrd_size=1\nsha256=" SHA "\n\n",
		"VHFW1\nversion=1\nkernel_size=1x\ninitrd_size=1\nsha256=" SHA "\n\n",
		"VHFW1\nversion=1\nkernel_size= 1\ninitrd_size=1\nsha256=" SHA "\n\n",
		"VHFW1\nversion=1\nkernel_size=\ninitrd_size=1\nsha256=" SHA "\n\n",
		"VHFW1\nversion=1\nkernel_size=1\ninitrd_size=1\nsha256=abc\n\n",
		"VHFW1\nversion=1\nkernel_size=1\ninitrd_size=1\nsha256=" SHA "0\n\n",
		"VHFW1\nversion=1\nkernel_size=1\ninitrd_size=1\nsha256=g"
		"a7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n\n",
		"VHFW1\nversion=\n" TAIL,
		"VHFW1\nversion=1\nno equals sign\n" TAIL,
		"VHFW1\nversion=1\n=value\n" TAIL, /* empty key */
		"VHFW1\nversion=1\r\n" TAIL,	   /* CRLF lines */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(bad[i], &h);

		if (rc != -EINVAL)
			fail_msg("case %zu: rc %d", i, rc);
	}
}

static void test_unknown_keys_are_skipped_and_bugs_default_to_empty(void **state)
{
	(void)state;
	struct bundle_header h;

	assert_int_equal(parse("VHFW1\nfuture_thing=a b=c\nversion=1.0-rc1+x\nkernel_size=0\n"
			       "initrd_size=0\nx2=\nsha256=" SHA "\n\n",
			       &h),
			 0);
	assert_string_equal(h.version, "1.0-rc1+x");
	assert_string_equal(h.bugs, "");
	assert_int_equal(parse("VHFW1\nversion=1\nbugs=\n" TAIL, &h), 0);
	assert_string_equal(h.bugs, "");
}

static void test_uppercase_sha256_is_rejected(void **state)
{
	(void)state;
	struct bundle_header h;

	/* was: the agent folded it to lowercase, the harness refused it */
	assert_int_equal(parse("VHFW1\nversion=1\nkernel_size=1\ninitrd_size=1\nsha256=" SHA_UPPER
			       "\n\n",
			       &h),
			 -EINVAL);
}

static void test_version_and_bugs_follow_the_harness_character_sets(void **state)
{
	(void)state;
	struct bundle_header h;
	char buf[1024];

	/* was: the agent took any bytes up to its field size */
	assert_int_equal(parse("VHFW1\nversion=has space\n" TAIL, &h), -EINVAL);
	assert_int_equal(parse("VHFW1\nversion=../x\n" TAIL, &h), -EINVAL);
	assert_int_equal(parse("VHFW1\nversion=1\nbugs=a b\n" TAIL, &h), -EINVAL);
	assert_int_equal(parse("VHFW1\nversion=1\nbugs=No-Backoff\n" TAIL, &h), -EINVAL);
	/* 63 version characters fit, 64 do not */
	snprintf(buf, sizeof(buf), "VHFW1\nversion=%063d\n" TAIL, 7);
	assert_int_equal(parse(buf, &h), 0);
	snprintf(buf, sizeof(buf), "VHFW1\nversion=%064d\n" TAIL, 7);
	assert_int_equal(parse(buf, &h), -EINVAL);
	/* was: the agent's bugs field held 255; the rule is 511 */
	char bugs[600];
	memset(bugs, 'x', sizeof(bugs));
	bugs[511] = '\0';
	snprintf(buf, sizeof(buf), "VHFW1\nversion=1\nbugs=%s\n" TAIL, bugs);
	assert_int_equal(parse(buf, &h), 0);
	assert_int_equal(strlen(h.bugs), 511);
	bugs[511] = 'x';
	bugs[512] = '\0';
	snprintf(buf, sizeof(buf), "VHFW1\nversion=1\nbugs=%s\n" TAIL, bugs);
	assert_int_equal(parse(buf, &h), -EINVAL);
}

static void test_sizes_are_decimal_without_overflow_up_to_int64_max(void **state)
{
	(void)state;
	struct bundle_header h;
	char buf[512];
	const char *head = "VHFW1\nversion=1\nsha256=" SHA "\n";

	/* was: the agent refused 19 digits, the harness took any 19 digits */
	snprintf(buf, sizeof(buf), "%skernel_size=1000000000000000000\ninitrd_size=0\n\n", head);
	assert_int_equal(parse(buf, &h), 0);
	assert_int_equal(h.kernel_size, 1000000000000000000ull);
	/* the whole bundle must fit an off_t: header + kernel + initrd */
	size_t hdr = strlen(head) + strlen("kernel_size=9223372036854775000\ninitrd_size=0\n\n");
	snprintf(buf, sizeof(buf), "%skernel_size=%llu\ninitrd_size=0\n\n", head,
		 (unsigned long long)INT64_MAX - hdr);
	assert_int_equal(parse(buf, &h), 0);
	assert_int_equal(bundle_total_size(&h), (uint64_t)INT64_MAX);
	snprintf(buf, sizeof(buf), "%skernel_size=%llu\ninitrd_size=1\n\n", head,
		 (unsigned long long)INT64_MAX - hdr);
	assert_int_equal(parse(buf, &h), -EINVAL);
	snprintf(buf, sizeof(buf), "%skernel_size=1\ninitrd_size=18446744073709551615\n\n", head);
	assert_int_equal(parse(buf, &h), -EINVAL);
	snprintf(buf, sizeof(buf), "%skernel_size=18446744073709551616\ninitrd_size=0\n\n", head);
	assert_int_equal(parse(buf, &h), -EINVAL);
	snprintf(buf, sizeof(buf), "%skernel_size=99999999999999999999999\ninitrd_size=0\n\n",
		 head);
	assert_int_equal(parse(buf, &h), -EINVAL);
	/* one spelling: no leading zeros, but 0 itself */
	snprintf(buf, sizeof(buf), "%skernel_size=010\ninitrd_size=0\n\n", head);
	assert_int_equal(parse(buf, &h), -EINVAL);
	snprintf(buf, sizeof(buf), "%skernel_size=00\ninitrd_size=0\n\n", head);
	assert_int_equal(parse(buf, &h), -EINVAL);
}

static void test_nul_byte_anywhere_in_the_header_is_rejected(void **state)
{
	(void)state;
	struct bundle_header h;
	char err[128];
	const char value[] = "VHFW1\nversion=1\0x\n" TAIL;
	const char unknown[] = "VHFW1\nversion=1\nnote=a\0b\n" TAIL;
	const char unfinished[] = "VHFW1\nversion=1\nnote=a\0";

	/* was: the agent cut the value at the NUL and went on */
	assert_int_equal(bundle_header_parse((const uint8_t *)value, sizeof(value) - 1, &h, err,
					     sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "NUL"));
	assert_int_equal(bundle_header_parse((const uint8_t *)unknown, sizeof(unknown) - 1, &h, err,
					     sizeof(err)),
			 -EINVAL);
	/* no more bytes can make this a header: no "read more" */
	assert_int_equal(bundle_header_parse((const uint8_t *)unfinished, sizeof(unfinished) - 1,
					     &h, err, sizeof(err)),
			 -EINVAL);
	/* the payload after the blank line is not the header's business */
	const char payload[] = "VHFW1\nversion=1\n" TAIL "\0\0\0";
	assert_int_equal(bundle_header_parse((const uint8_t *)payload, sizeof(payload) - 1, &h, err,
					     sizeof(err)),
			 0);
}

static void test_repeated_key_is_rejected(void **state)
{
	(void)state;
	struct bundle_header h;

	/* was: both parsers took the last one */
	assert_int_equal(parse("VHFW1\nversion=1\nversion=2\n" TAIL, &h), -EINVAL);
	assert_int_equal(parse("VHFW1\nversion=1\n" TAIL "", &h), 0);
	assert_int_equal(parse("VHFW1\nversion=1\nbugs=\nbugs=no-backoff\n" TAIL, &h), -EINVAL);
	assert_int_equal(parse("VHFW1\nfuture=1\nversion=1\nfuture=2\n" TAIL, &h), -EINVAL);
	/* a key that is a prefix of another is not a repeat */
	assert_int_equal(parse("VHFW1\nversion_note=x\nversion=1\nversion2=y\n" TAIL, &h), 0);
	assert_string_equal(h.version, "1");
}

static void test_header_of_exactly_4096_bytes_is_the_largest(void **state)
{
	(void)state;
	struct bundle_header h;
	char err[128];
	char *buf = malloc(BUNDLE_HEADER_MAX + 200);
	const char *start = "VHFW1\nversion=1\n" TAIL;
	size_t fixed = strlen(start) - 1; /* without the blank line */
	size_t pad = BUNDLE_HEADER_MAX - fixed - 1 - strlen("pad=\n");

	assert_non_null(buf);
	memcpy(buf, start, fixed);
	memcpy(buf + fixed, "pad=", 4);
	memset(buf + fixed + 4, 'p', pad);
	memcpy(buf + fixed + 4 + pad, "\n\n", 2);
	assert_int_equal(
		bundle_header_parse((uint8_t *)buf, BUNDLE_HEADER_MAX, &h, err, sizeof(err)), 0);
	assert_int_equal(h.header_size, BUNDLE_HEADER_MAX);
	/* one byte more and the blank line falls outside the limit */
	memset(buf + fixed + 4, 'p', pad + 1);
	memcpy(buf + fixed + 4 + pad + 1, "\n\n", 2);
	assert_int_equal(
		bundle_header_parse((uint8_t *)buf, BUNDLE_HEADER_MAX + 1, &h, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "4096"));
	/* the same prefix shorter than the limit only means "read more" */
	assert_int_equal(bundle_header_parse((uint8_t *)buf, 1000, &h, err, sizeof(err)), -ENODATA);
	free(buf);
}

static void test_format_then_parse_round_trips(void **state)
{
	(void)state;
	struct bundle_header h = { .version = "3.1.4",
				   .bugs = "no-backoff",
				   .kernel_size = 123456789,
				   .initrd_size = 42 };
	struct bundle_header back;
	char buf[BUNDLE_HEADER_MAX];
	int n;

	memcpy(h.sha256, SHA, 65);
	n = bundle_header_format(&h, buf, sizeof(buf));
	assert_true(n > 0);
	assert_string_equal(buf, "VHFW1\nversion=3.1.4\nbugs=no-backoff\nkernel_size=123456789\n"
				 "initrd_size=42\nsha256=" SHA "\n\n");
	assert_int_equal(parse(buf, &back), 0);
	assert_int_equal(back.header_size, (size_t)n);
	assert_string_equal(back.version, "3.1.4");
	assert_string_equal(back.bugs, "no-backoff");
	assert_int_equal(back.kernel_size, 123456789);
	assert_int_equal(back.initrd_size, 42);
	assert_string_equal(back.sha256, SHA);
	/* the formatter refuses what the parser would refuse */
	struct bundle_header bad = h;
	snprintf(bad.version, sizeof(bad.version), "x y");
	assert_int_equal(bundle_header_format(&bad, buf, sizeof(buf)), -EINVAL);
	bad = h;
	memcpy(bad.sha256, SHA_UPPER, 65);
	assert_int_equal(bundle_header_format(&bad, buf, sizeof(buf)), -EINVAL);
	bad = h;
	bad.kernel_size = UINT64_MAX;
	assert_int_equal(bundle_header_format(&bad, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(bundle_header_format(&h, buf, 20), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_fields_and_size_are_read),
		cmocka_unit_test(test_every_prefix_of_a_header_asks_for_more),
		cmocka_unit_test(test_malformed_headers_are_rejected),
		cmocka_unit_test(test_unknown_keys_are_skipped_and_bugs_default_to_empty),
		cmocka_unit_test(test_uppercase_sha256_is_rejected),
		cmocka_unit_test(test_version_and_bugs_follow_the_harness_character_sets),
		cmocka_unit_test(test_sizes_are_decimal_without_overflow_up_to_int64_max),
		cmocka_unit_test(test_nul_byte_anywhere_in_the_header_is_rejected),
		cmocka_unit_test(test_repeated_key_is_rejected),
		cmocka_unit_test(test_header_of_exactly_4096_bytes_is_the_largest),
		cmocka_unit_test(test_format_then_parse_round_trips),
	};
	return vh_run_tests(tests, NULL, NULL);
}
