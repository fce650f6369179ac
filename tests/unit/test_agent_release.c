/* The built vh-agent, run on the host (--once, no --firmware: it neither
 * touches the network nor the disk), reports the version and bugs of its
 * release file, whatever the kernel command line says. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_files.h"
#include "test_skip.h"

#ifndef VH_AGENT
#error "VH_AGENT must name the built vh-agent"
#endif
/* What runs the agent: empty, or the cross build's emulator followed by a
 * space (guest-agent/CMakeLists.txt). */
#ifndef VH_AGENT_RUNNER
#define VH_AGENT_RUNNER ""
#endif

/* Runs the agent with cmdline and release path; returns its stdout. */
static const char *agent(const char *cmdline, const char *release)
{
	static char out[4096];
	char cmd[1024];
	size_t n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s'%s' --once --cmdline '%s' --release '%s'", VH_AGENT_RUNNER,
		 VH_AGENT, cmdline, release);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
	return out;
}

static void test_boot_line_carries_the_release_version_not_the_command_line(void **state)
{
	(void)state;
	char path[256];

	path_in(path, sizeof(path), "vh-release");
	write_file(path, "VERSION=2.0.0\nBUGS=no-backoff\n", 30);
	assert_string_equal(
		agent("vh.slot=b vh.version=9.9.9 vh.bugs=never-healthy vh.bootcount=1", path),
		"vh-agent: boot slot=b version=2.0.0 bootcount=1\n");
	assert_string_equal(agent("vh.slot=a", path),
			    "vh-agent: boot slot=a version=2.0.0 bootcount=0\n");
}

static void test_missing_release_is_reported_and_the_version_is_unknown(void **state)
{
	(void)state;
	char path[256], want[512];

	path_in(path, sizeof(path), "no-such-release");
	snprintf(want, sizeof(want),
		 "vh-agent: release missing path=%s errno=2\n"
		 "vh-agent: boot slot=a version=unknown bootcount=0\n",
		 path);
	assert_string_equal(agent("vh.version=1.0.0", path), want);
}

static void test_broken_release_is_reported_and_the_version_is_unknown(void **state)
{
	(void)state;
	char path[256], want[512];

	path_in(path, sizeof(path), "bad-release");
	write_file(path, "VERSION=1 0\n", 12);
	snprintf(want, sizeof(want),
		 "vh-agent: release invalid path=%s\n"
		 "vh-agent: boot slot=a version=unknown bootcount=0\n",
		 path);
	assert_string_equal(agent("vh.version=1.0.0", path), want);
	/* a bug this agent does not know: said, and the version still holds */
	write_file(path, "VERSION=3.0.0\nBUGS=from-the-future\n", 35);
	snprintf(want, sizeof(want),
		 "vh-agent: release invalid path=%s key=BUGS\n"
		 "vh-agent: boot slot=a version=3.0.0 bootcount=0\n",
		 path);
	assert_string_equal(agent("", path), want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boot_line_carries_the_release_version_not_the_command_line),
		cmocka_unit_test(test_missing_release_is_reported_and_the_version_is_unknown),
		cmocka_unit_test(test_broken_release_is_reported_and_the_version_is_unknown),
	};
	return vh_run_tests(tests, test_files_setup, test_files_teardown);
}
