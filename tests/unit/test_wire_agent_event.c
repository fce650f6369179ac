/* Unit tests for wire/agent_event.c: the agent's console event lines, as the
 * agent formats them and the harness will parse them. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent_event.h"
#include "test_skip.h"

static int parse(const char *line, struct agent_event *ev)
{
	return agent_event_parse(line, strlen(line), ev);
}

/* "name|k=v|k=v" of a parsed event, to compare in one assertion. */
static const char *flat(const struct agent_event *ev)
{
	static char buf[1024];
	size_t n = (size_t)snprintf(buf, sizeof(buf), "%s", ev->name);

	for (size_t i = 0; i < ev->n_kv; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "|%s=%s", ev->kv[i].key,
				      ev->kv[i].value);
	return buf;
}

static void test_every_documented_v0_line_parses(void **state)
{
	(void)state;
	static const char *const lines[][2] = {
		{ "vh-agent: boot slot=a version=1.0.0 bootcount=0",
		  "boot|slot=a|version=1.0.0|bootcount=0" },
		{ "vh-agent: net up ip=10.77.0.2", "net up|ip=10.77.0.2" },
		{ "vh-agent: connected server=10.77.0.1:8080 attempt=1",
		  "connected|server=10.77.0.1:8080|attempt=1" },
		{ "vh-agent: disconnected reason=heartbeat_timeout",
		  "disconnected|reason=heartbeat_timeout" },
		{ "vh-agent: update offered version=2.0.0 size=17000000",
		  "update offered|version=2.0.0|size=17000000" },
		{ "vh-agent: download progress=10 bytes=1700000",
		  "download|progress=10|bytes=1700000" },
		{ "vh-agent: download resumed offset=3407872", "download resumed|offset=3407872" },
		{ "vh-agent: install slot=b progress=40", "install|slot=b|progress=40" },
		{ "vh-agent: install complete slot=b", "install complete|slot=b" },
		{ "vh-agent: reboot reason=update", "reboot|reason=update" },
		{ "vh-agent: commit slot=b", "commit|slot=b" },
		{ "vh-agent: rollback from=b to=a reason=bootlimit",
		  "rollback|from=b|to=a|reason=bootlimit" },
		{ "vh-agent: connect failed server=10.77.0.1:8080 attempt=3 reason=refused",
		  "connect failed|server=10.77.0.1:8080|attempt=3|reason=refused" },
		{ "vh-agent: download interrupted reason=timeout bytes=65536",
		  "download interrupted|reason=timeout|bytes=65536" },
		{ "vh-agent: update failed reason=sha256", "update failed|reason=sha256" },
		{ "vh-agent: commit failed errno=5", "commit failed|errno=5" },
		{ "vh-agent: release missing path=/etc/vh-release errno=2",
		  "release missing|path=/etc/vh-release|errno=2" },
	};
	struct agent_event ev;

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		if (parse(lines[i][0], &ev) != 0)
			fail_msg("'%s' does not parse", lines[i][0]);
		assert_string_equal(flat(&ev), lines[i][1]);
	}
	assert_string_equal(agent_event_get(&ev, "errno"), "2");
	assert_null(agent_event_get(&ev, "reason"));
}

static void test_agent_line_after_a_prompt_on_the_same_line_parses(void **state)
{
	(void)state;
	struct agent_event ev;

	assert_int_equal(parse("vh# vh-agent: boot slot=b version=2.0.0 bootcount=1", &ev), 0);
	assert_string_equal(flat(&ev), "boot|slot=b|version=2.0.0|bootcount=1");
	/* text glued to the marker, as when a kernel message lacks its newline */
	assert_int_equal(parse("[    1.2] random: crng init donevh-agent: commit slot=a", &ev), 0);
	assert_string_equal(flat(&ev), "commit|slot=a");
	/* the first marker counts */
	assert_int_equal(parse("vh-agent: note text=vh-agent: x", &ev), -EINVAL);
}

static void test_lines_without_the_marker_are_not_agent_lines(void **state)
{
	(void)state;
	struct agent_event ev;

	assert_int_equal(parse("vh# ", &ev), -ENOENT);
	assert_int_equal(parse("[    0.000000] Linux version 6.1.0", &ev), -ENOENT);
	assert_int_equal(parse("vh-agent:boot slot=a", &ev), -ENOENT);
	assert_int_equal(parse("", &ev), -ENOENT);
}

static void test_spacing_and_trailing_carriage_return_are_tolerated(void **state)
{
	(void)state;
	struct agent_event ev;

	assert_int_equal(parse("vh-agent:  net   up  ip=10.0.0.2   \r", &ev), 0);
	assert_string_equal(flat(&ev), "net up|ip=10.0.0.2");
	assert_int_equal(parse("vh-agent: ready", &ev), 0);
	assert_string_equal(flat(&ev), "ready");
	assert_int_equal(ev.n_kv, 0);
	/* empty values are values */
	assert_int_equal(parse("vh-agent: release version=1 bugs=", &ev), 0);
	assert_string_equal(agent_event_get(&ev, "bugs"), "");
}

static void test_malformed_agent_lines_are_rejected(void **state)
{
	(void)state;
	struct agent_event ev;
	static const char *const bad[] = {
		"vh-agent: ",
		"vh-agent: slot=a",		/* no name */
		"vh-agent: boot slot=a stray",	/* a bare word after the pairs */
		"vh-agent: boot =a",		/* empty key */
		"vh-agent: boot Slot=a",	/* key charset */
		"vh-agent: Boot slot=a",	/* name charset */
		"vh-agent: boot slot=a slot=b", /* a key twice */
		"vh-agent: e k0=0 k1=1 k2=2 k3=3 k4=4 k5=5 k6=6 k7=7 k8=8 k9=9 k10=a k11=b k12=c "
		"k13=d k14=e k15=f k16=g", /* 17 pairs */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], &ev) != -EINVAL)
			fail_msg("'%s' parsed", bad[i]);
	assert_int_equal(agent_event_parse("vh-agent: boot slot=a\0b", 23, &ev), -EINVAL);
	/* 16 pairs are fine */
	assert_int_equal(parse("vh-agent: e k0=0 k1=1 k2=2 k3=3 k4=4 k5=5 k6=6 k7=7 k8=8 k9=9 "
			       "k10=a k11=b k12=c k13=d k14=e k15=f",
			       &ev),
			 0);
	assert_string_equal(agent_event_get(&ev, "k15"), "f");
}

static void test_format_then_parse_round_trips(void **state)
{
	(void)state;
	char line[AGENT_EVENT_LINE_MAX];
	struct agent_event ev;
	size_t n = agent_event_format(line, sizeof(line), "boot slot=%s version=%s bootcount=%lu",
				      "a", "1.0.0", 3ul);

	assert_string_equal(line, "vh-agent: boot slot=a version=1.0.0 bootcount=3\n");
	assert_int_equal(n, strlen(line));
	assert_int_equal(agent_event_parse(line, n - 1, &ev), 0);
	assert_string_equal(flat(&ev), "boot|slot=a|version=1.0.0|bootcount=3");
}

static void test_format_keeps_one_event_on_one_line(void **state)
{
	(void)state;
	char line[AGENT_EVENT_LINE_MAX];
	char big[1000];
	struct agent_event ev;
	size_t n = agent_event_format(line, sizeof(line), "update failed reason=%s", "a\nb\rc\x1b");

	assert_string_equal(line, "vh-agent: update failed reason=a?b?c?\n");
	assert_int_equal(n, strlen(line));
	/* too long: cut to AGENT_EVENT_LINE_MAX - 1 bytes, newline kept */
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	n = agent_event_format(line, sizeof(line), "note text=%s", big);
	assert_int_equal(n, AGENT_EVENT_LINE_MAX - 1);
	assert_int_equal(strlen(line), n);
	assert_int_equal(line[n - 1], '\n');
	assert_int_equal(agent_event_parse(line, n - 1, &ev), 0);
	assert_int_equal(strlen(agent_event_get(&ev, "text")),
			 n - 1 - strlen("vh-agent: note text="));
	/* a small buffer cuts as well */
	n = agent_event_format(line, 16, "boot slot=%s", "a");
	assert_int_equal(n, 15);
	assert_string_equal(line, "vh-agent: boot\n");
}

static void test_writer_sends_one_line_in_one_write(void **state)
{
	(void)state;
	int fds[2];
	char buf[AGENT_EVENT_LINE_MAX + 16];
	ssize_t n;

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(agent_event(fds[1], "commit slot=%s", "b"), 0);
	n = read(fds[0], buf, sizeof(buf));
	assert_int_equal(n, (ssize_t)strlen("vh-agent: commit slot=b\n"));
	assert_memory_equal(buf, "vh-agent: commit slot=b\n", (size_t)n);
	close(fds[0]);
	/* a console that went away: reported, not fatal */
	assert_int_equal(agent_event(fds[0], "commit slot=%s", "b"), -1);
	close(fds[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_documented_v0_line_parses),
		cmocka_unit_test(test_agent_line_after_a_prompt_on_the_same_line_parses),
		cmocka_unit_test(test_lines_without_the_marker_are_not_agent_lines),
		cmocka_unit_test(test_spacing_and_trailing_carriage_return_are_tolerated),
		cmocka_unit_test(test_malformed_agent_lines_are_rejected),
		cmocka_unit_test(test_format_then_parse_round_trips),
		cmocka_unit_test(test_format_keeps_one_event_on_one_line),
		cmocka_unit_test(test_writer_sends_one_line_in_one_write),
	};
	return vh_run_tests(tests, NULL, NULL);
}
