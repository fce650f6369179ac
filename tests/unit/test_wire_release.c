/* Unit tests for wire/release.c: /etc/vh-release, what a firmware build says
 * about itself. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "release.h"
#include "test_skip.h"

static int parse(const char *text, struct release *r)
{
	char err[128] = "";
	int rc = release_parse(text, strlen(text), r, err, sizeof(err));

	if (rc != 0)
		assert_true(err[0] != '\0');
	return rc;
}

static void test_format_then_parse_round_trips(void **state)
{
	(void)state;
	struct release r = { .version = "2.0.0", .bugs = "no-backoff,single-env-copy" }, back;
	char buf[RELEASE_MAX];
	int n = release_format(&r, buf, sizeof(buf));

	assert_string_equal(buf, "VERSION=2.0.0\nBUGS=no-backoff,single-env-copy\n");
	assert_int_equal(n, (int)strlen(buf));
	assert_int_equal(parse(buf, &back), 0);
	assert_string_equal(back.version, "2.0.0");
	assert_string_equal(back.bugs, "no-backoff,single-env-copy");
	r.bugs[0] = '\0';
	assert_true(release_format(&r, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "VERSION=2.0.0\nBUGS=\n");
	assert_int_equal(release_format(&r, buf, 10), -ENOSPC);
	snprintf(r.version, sizeof(r.version), "a b");
	assert_int_equal(release_format(&r, buf, sizeof(buf)), -EINVAL);
}

static void test_comments_blank_lines_unknown_keys_and_a_missing_last_newline(void **state)
{
	(void)state;
	struct release r;

	assert_int_equal(parse("# built by vharness\n\nBUILD_ID=42\nVERSION=1.0.0", &r), 0);
	assert_string_equal(r.version, "1.0.0");
	assert_string_equal(r.bugs, "");
	assert_int_equal(parse("BUGS=never-healthy\nVERSION=3\n", &r), 0);
	assert_string_equal(r.bugs, "never-healthy");
}

static void test_malformed_release_files_are_rejected(void **state)
{
	(void)state;
	struct release r;
	char err[128];
	static const char *const bad[] = {
		"",
		"BUGS=no-backoff\n", /* no VERSION */
		"VERSION=\n",
		"VERSION=../x\n",
		"VERSION=1.0.0\r\n", /* CRLF */
		"VERSION=1\nBUGS=a b\n",
		"VERSION=1\nVERSION=2\n", /* a key twice */
		"VERSION=1\nX=1\nX=2\n",
		"version=1\n", /* keys are upper case */
		"VERSION=1\njunk\n",
		"VERSION=1\n=x\n",
		" VERSION=1\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], &r) != -EINVAL)
			fail_msg("case %zu parsed", i);
	assert_int_equal(release_parse("VERSION=1\0\n", 11, &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "NUL"));
	char big[RELEASE_MAX + 2];
	memset(big, '#', sizeof(big));
	memcpy(big, "VERSION=1\n", 10);
	assert_int_equal(release_parse(big, RELEASE_MAX, &r, err, sizeof(err)), 0);
	assert_int_equal(release_parse(big, RELEASE_MAX + 1, &r, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_then_parse_round_trips),
		cmocka_unit_test(test_comments_blank_lines_unknown_keys_and_a_missing_last_newline),
		cmocka_unit_test(test_malformed_release_files_are_rejected),
	};
	return vh_run_tests(tests, NULL, NULL);
}
