/* Unit tests for agent_bundle: the firmware bundle header. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "agent_bundle.h"

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define GOOD "VHFW1\nversion=2.0.0\nbugs=no-backoff,never-healthy\nkernel_size=10\n" \
	     "initrd_size=20\nsha256=" SHA "\n\n"

static int parse(const char *text, struct agent_bundle *b)
{
	return agent_bundle_parse((const uint8_t *)text, strlen(text), b);
}

static void test_bundle_header_parses(void **state)
{
	struct agent_bundle b;

	(void)state;
	assert_int_equal(parse(GOOD "KERNEL....", &b), 0);
	assert_int_equal(b.header_len, strlen(GOOD));
	assert_string_equal(b.version, "2.0.0");
	assert_string_equal(b.bugs, "no-backoff,never-healthy");
	assert_int_equal(b.kernel_size, 10);
	assert_int_equal(b.initrd_size, 20);
	assert_string_equal(b.sha256, SHA);
	assert_int_equal(agent_bundle_size(&b), strlen(GOOD) + 30);
	/* bugs= may be empty or absent; unknown keys are ignored; hex case folds. */
	assert_int_equal(parse("VHFW1\nversion=1\nbugs=\nx=y\nkernel_size=0\ninitrd_size=0\nsha256="
			       "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\n\n", &b), 0);
	assert_string_equal(b.bugs, "");
	assert_string_equal(b.sha256, SHA);
}

static void test_bundle_header_needs_more_until_blank_line(void **state)
{
	struct agent_bundle b;

	(void)state;
	for (size_t i = 0; i < strlen(GOOD); i++)
		assert_int_equal(agent_bundle_parse((const uint8_t *)GOOD, i, &b), 1);
}

static void test_bundle_header_rejects_malformed(void **state)
{
	static const char *bad[] = {
		"VHFW2\n", "vhfw1\nversion=1\n\n", "VHFW1\nversion=1\nnoequals\n\n",
		"VHFW1\nversion=\nkernel_size=1\ninitrd_size=1\nsha256=" SHA "\n\n",
		"VHFW1\nversion=1\nkernel_size=x\ninitrd_size=1\nsha256=" SHA "\n\n",
		"VHFW1\nversion=1\nkernel_size=\ninitrd_size=1\nsha256=" SHA "\n\n",
		"VHFW1\nversion=1\nkernel_size=1\ninitrd_size=1234567890123456789\nsha256=" SHA "\n\n",
		"VHFW1\nversion=1\nkernel_size=1\ninitrd_size=1\nsha256=abc\n\n",
		"VHFW1\nversion=1\nkernel_size=1\ninitrd_size=1\n\n",
		"VHFW1\nkernel_size=1\ninitrd_size=1\nsha256=" SHA "\n\n",
		"VHFW1\nversion=1\nkernel_size=1\nsha256=" SHA "\n\n",
		"VHFW1\nversion=1\nkernel_size=1\ninitrd_size=1\nsha256=z123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n\n",
	};
	struct agent_bundle b;
	char big[AGENT_BUNDLE_HEADER_MAX + 100];
	char vlong[200];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(bad[i], &b), -1);
	/* No blank line within the first 4096 bytes. */
	memset(big, 'x', sizeof(big));
	memcpy(big, "VHFW1\nversion=", 14);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(parse(big, &b), -1);
	/* A version longer than the field. */
	snprintf(vlong, sizeof(vlong), "VHFW1\nversion=%080d\n\n", 1);
	assert_int_equal(parse(vlong, &b), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bundle_header_parses),
		cmocka_unit_test(test_bundle_header_needs_more_until_blank_line),
		cmocka_unit_test(test_bundle_header_rejects_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
