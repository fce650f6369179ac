/* Unit tests for live progress (harness/run/progress.c, progress_render.c,
 * progress_term.c): the model fed events and console lines as a run feeds
 * them, the plain lines and the terminal block it is told in, and the
 * choice of mode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ev.h"
#include "progress.h"
#include "progress_term.h"
#include "test_skip.h"

static int setup(void **state)
{
	(void)state;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return 0;
}

/* The notes queued so far, rendered plain, in one string. */
static char *plain(struct progress *p)
{
	size_t n;
	struct progress_note *notes = progress_take_notes(p, &n);
	char *out = strdup("");
	for (size_t i = 0; i < n; i++) {
		char *line = progress_render_note(&notes[i], false);
		char *joined = NULL;
		assert_true(asprintf(&joined, "%s%s", out, line) > 0);
		free(out);
		free(line);
		out = joined;
		free(notes[i].text);
	}
	free(notes);
	return out;
}

/* A device that boots, is offered an update and downloads it, as the
 * run's events and its console say. */
static void boot_and_download(struct progress *p)
{
	const char *dev[] = { "device", "dut", "ip", "10.77.0.2", NULL };
	progress_event(p, 0.01, "device", dev);
	const char *on[] = { "device",
			     "dut",
			     "boot",
			     "\x01"
			     "1",
			     "pid",
			     "\x01"
			     "42",
			     NULL };
	progress_event(p, 0.5, "power_on", on);
	progress_line(p, "dut", 1.0, "[    0.000000] Linux version 6.1.0");
	progress_line(p, "dut", 2.25, "vh-agent: boot slot=a version=1.0.0 bootcount=0");
	progress_line(p, "dut", 3.0, "vh# vh-agent: update offered version=2.0.0 size=9000");
	progress_line(p, "dut", 4.0, "vh-agent: download progress=40 bytes=3600");
}

static void test_model_follows_boot_slot_version_and_download(void **state)
{
	(void)state;
	struct progress p;
	progress_init(&p);
	boot_and_download(&p);
	const struct progress_device *d = progress_find(&p, "dut");
	assert_non_null(d);
	assert_string_equal(d->power, "on");
	assert_int_equal(d->boots, 1);
	assert_string_equal(d->slot, "a");
	assert_string_equal(d->version, "1.0.0");
	assert_string_equal(d->activity, "download 40%");
	assert_string_equal(d->agent, "download progress=40 bytes=3600");
	/* A power cut: the device is cut, and the note says what it was doing. */
	const char *cut[] = { "device", "dut", "reason", "power_cut{on=\"install\"}", NULL };
	progress_event(&p, 5.5, "power_cut", cut);
	assert_string_equal(progress_find(&p, "dut")->power, "cut");
	char *out = plain(&p);
	/* One line per significant event: progress percentages stay in the
	 * block; the agent's marker is not repeated. */
	assert_string_equal(out, "[    0.500] dut: power on (boot 1)\n"
				 "[    2.250] dut: boot slot=a version=1.0.0 bootcount=0\n"
				 "[    3.000] dut: update offered version=2.0.0 size=9000\n"
				 "[    5.500] dut: power cut (power_cut{on=\"install\"}) during "
				 "download 40%\n");
	free(out);
	progress_free(&p);
}

static void test_a_failed_expect_is_a_failure_with_its_context_and_line(void **state)
{
	(void)state;
	struct progress p;
	progress_init(&p);
	boot_and_download(&p);
	free(plain(&p));
	progress_line(&p, "dut", 4.5, "line two\x1b[31m red");
	progress_line(&p, "dut", 4.55, " ");
	progress_line(&p, "dut", 4.6, "line three");
	progress_line(&p, "dut", 4.7, "line four");
	progress_set_where(&p, "flaky.lua:9");
	const char *kv[] = { "device",
			     "dut",
			     "pattern",
			     "commit slot=b",
			     "result",
			     "failed",
			     "seconds",
			     "\x01"
			     "30.004",
			     "line",
			     "timed out",
			     NULL };
	progress_event(&p, 34.7, "expect", kv);
	size_t n;
	struct progress_note *notes = progress_take_notes(&p, &n);
	assert_int_equal(n, 1);
	assert_true(notes[0].failure);
	char *out = progress_render_note(&notes[0], false);
	/* The last PROGRESS_CONTEXT_LINES lines, oldest first; the guest's
	 * escape byte shown as '?'. */
	assert_string_equal(out, "[   34.700] dut: expect \"commit slot=b\" FAILED after 30.0s: "
				 "timed out (at flaky.lua:9)\n"
				 "    dut | vh# vh-agent: update offered version=2.0.0 size=9000\n"
				 "    dut | vh-agent: download progress=40 bytes=3600\n"
				 "    dut | line two?[31m red\n"
				 "    dut | line three\n"
				 "    dut | line four\n");
	free(out);
	/* In colour only the failure's own line is red. */
	out = progress_render_note(&notes[0], true);
	assert_true(!strncmp(out, "[   34.700] \x1b[31mdut: expect \"commit slot=b\" FAILED", 51));
	assert_non_null(strstr(out, "(at flaky.lua:9)\x1b[0m\n    dut | vh# vh-agent: update"));
	free(out);
	free(notes[0].text);
	free(notes);
	progress_free(&p);
}

static void test_matched_expects_checks_faults_and_the_verdict_are_noted(void **state)
{
	(void)state;
	struct progress p;
	progress_init(&p);
	const char *m[] = { "device",
			    "dut",
			    "pattern",
			    "net up",
			    "result",
			    "matched",
			    "seconds",
			    "\x01"
			    "2.000",
			    "line",
			    "vh-agent: net up ip=10.77.0.2",
			    NULL };
	progress_event(&p, 3, "expect", m);
	/* A try_expect that misses is an answer, not a failure. */
	const char *tried[] = { "device",
				"dut",
				"pattern",
				"TCP%-SENT",
				"result",
				"failed",
				"seconds",
				"\x01"
				"3.000",
				"line",
				"timed out",
				"try",
				"\x01"
				"true",
				NULL };
	progress_event(&p, 3.5, "expect", tried);
	assert_int_equal(p.n_notes, 2);
	assert_false(p.notes[1].failure);
	const char *imp[] = { "network", "lan",		"device",  "dut",  "direction", "both",
			      "spec",	 "delay 200ms", "backend", "user", NULL };
	progress_event(&p, 4, "impair", imp);
	const char *part[] = { "network", "lan", "device", "dut", NULL };
	progress_event(&p, 5, "partition", part);
	const char *down[] = { "server", "ota", NULL };
	progress_event(&p, 6, "server_down", down);
	const char *http[] = { "server", "ota", "method", "GET", NULL };
	progress_event(&p, 6.5, "http_request", http); /* too many to tell */
	progress_set_where(&p, "x.lua:4");
	const char *chk[] = { "what", "slot is b", "result", "fail", NULL };
	progress_event(&p, 7, "check", chk);
	const char *v[] = { "verdict", "FAIL", "seconds",
			    "\x01"
			    "7.1",
			    NULL };
	progress_event(&p, 7.1, "verdict", v);
	/* The verdict's own line follows it: not one to print over a block. */
	assert_false(p.notes[p.n_notes - 1].failure);
	/* After the verdict nothing is news: the guests being shut down. */
	const char *off[] = { "device", "dut", "status", "stopped by the harness", NULL };
	progress_event(&p, 7.2, "power_off", off);
	progress_line(&p, "dut", 7.3, "vh-agent: boot slot=b version=2.0.0 bootcount=1");
	char *out = plain(&p);
	assert_string_equal(out,
			    "[    3.000] dut: expect \"net up\" matched after 2.0s\n"
			    "[    3.500] dut: try_expect \"TCP%-SENT\" not matched after 3.0s: "
			    "timed out\n"
			    "[    4.000] lan: impair dut both: delay 200ms\n"
			    "[    5.000] lan: partition dut\n"
			    "[    6.000] ota: server down\n"
			    "[    7.000] check FAILED: slot is b (at x.lua:4)\n"
			    "[    7.100] verdict FAIL\n");
	free(out);
	assert_true(p.finished);
	assert_string_equal(p.verdict, "FAIL");
	progress_free(&p);
}

static void test_block_is_a_header_and_a_line_per_device_cut_to_width(void **state)
{
	(void)state;
	struct progress p;
	progress_init(&p);
	boot_and_download(&p);
	progress_set_where(&p, "flaky.lua:23");
	int lines;
	char *block = progress_render_block(&p, 12.34, 200, false, &lines);
	assert_int_equal(lines, 2);
	assert_string_equal(block, "vharness  flaky.lua:23  12.3s\n"
				   "  dut  on         boot 1   slot a  1.0.0     download 40%    "
				   "download progress=40 bytes=3600\n");
	free(block);
	/* 40 columns: each line stops at 39, so the terminal never wraps it
	 * (a wrapped line would throw the redraw's line count off). */
	block = progress_render_block(&p, 12.34, 40, false, &lines);
	assert_string_equal(block, "vharness  flaky.lua:23  12.3s\n"
				   "  dut  on         boot 1   slot a  1.0.\n");
	free(block);
	/* Colour: the name bold, the power state green, progress cyan, the
	 * agent's line dim; the same text between the codes. */
	block = progress_render_block(&p, 12.34, 200, true, &lines);
	assert_string_equal(block, "\x1b[1mvharness\x1b[0m  flaky.lua:23  12.3s\n"
				   "  dut  \x1b[32mon       \x1b[0m  boot 1   slot a  1.0.0     "
				   "\x1b[36mdownload 40%  \x1b[0m  "
				   "\x1b[2mdownload progress=40 bytes=3600\x1b[0m\n");
	free(block);
	progress_free(&p);
}

static void test_block_sums_up_a_fleet(void **state)
{
	(void)state;
	struct progress p;
	progress_init(&p);
	for (int i = 0; i < 20; i++) {
		char name[16];
		snprintf(name, sizeof(name), "d%03d", i);
		const char *on[] = { "device", name, "boot",
				     "\x01"
				     "1",
				     NULL };
		progress_event(&p, 1, i % 2 ? "power_on" : "device", on);
	}
	int lines;
	char *block = progress_render_block(&p, 2, 200, false, &lines);
	assert_int_equal(lines, 1 + PROGRESS_BLOCK_DEVICES);
	/* d011..d019 summed up: the odd ones powered on. */
	assert_non_null(strstr(block, "  d010  off  "));
	assert_null(strstr(block, "d011"));
	assert_non_null(strstr(block, "  ... and 9 more: 5 on, 4 off, 0 cut or rebooting\n"));
	free(block);
	free(plain(&p));
	progress_free(&p);
}

static void test_mode_follows_the_terminal_term_no_color_and_flags(void **state)
{
	(void)state;
	struct progress_choice c = progress_choose(false, false, true, "xterm", NULL);
	assert_int_equal(c.mode, PROGRESS_TTY);
	assert_true(c.color);
	c = progress_choose(false, false, true, "xterm", "");
	assert_true(c.color); /* NO_COLOR counts only when it is not empty */
	c = progress_choose(false, false, true, "xterm", "1");
	assert_int_equal(c.mode, PROGRESS_TTY);
	assert_false(c.color);
	c = progress_choose(false, false, true, "dumb", NULL);
	assert_int_equal(c.mode, PROGRESS_PLAIN);
	assert_false(c.color);
	c = progress_choose(false, false, false, "xterm", NULL);
	assert_int_equal(c.mode, PROGRESS_PLAIN);
	assert_false(c.color);
	c = progress_choose(false, true, true, "xterm", NULL);
	assert_int_equal(c.mode, PROGRESS_PLAIN);
	c = progress_choose(true, false, true, "xterm", NULL);
	assert_int_equal(c.mode, PROGRESS_OFF);
}

/* What the terminal side wrote so far (the pipe is non-blocking). */
static char *drain(int fd)
{
	static char buf[8192];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static bool ends(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && !strcmp(s + n - k, suffix);
}

static void test_terminal_redraws_in_place_and_prints_above_the_block(void **state)
{
	(void)state;
	int fds[2];
	assert_int_equal(pipe2(fds, O_NONBLOCK), 0);
	struct ev_loop *loop = ev_loop_new();
	struct progress_choice tty = { .mode = PROGRESS_TTY, .color = false };
	struct progress_term *t = progress_term_new(loop, fds[1], tty, NULL, NULL);
	struct progress *p = progress_term_model(t);
	/* No device yet: no block, the line alone. */
	progress_term_say(t, "vharness: impairment backend user");
	assert_string_equal(drain(fds[0]), "vharness: impairment backend user\n");
	const char *on[] = { "device", "dut", "boot", "1", NULL };
	progress_event(p, 0.5, "power_on", on);
	progress_term_update(t);
	/* On a terminal the block tells a power-on: nothing printed yet. */
	assert_string_equal(drain(fds[0]), "");
	/* Someone else's line, then the block under it; each block line
	 * clears what a longer old one left, and below it all is cleared. */
	progress_term_say(t, "vharness: a notice");
	char *out = drain(fds[0]);
	assert_true(starts(out, "vharness: a notice\nvharness  "));
	assert_non_null(strstr(out, "s\033[K\n  dut  on         boot 1 "));
	assert_true(ends(out, "\033[K\n\033[J"));
	/* The next line goes where the block was: up two lines, cleared. */
	progress_term_say(t, "again");
	out = drain(fds[0]);
	assert_true(starts(out, "\r\033[2A\033[Jagain\nvharness  "));
	/* A failure is printed above the block at once. */
	const char *kv[] = { "device",	"dut", "pattern", "x",	       "result", "failed",
			     "seconds", "1",   "line",	  "timed out", NULL };
	progress_event(p, 1.5, "expect", kv);
	progress_term_update(t);
	out = drain(fds[0]);
	assert_true(starts(out, "\r\033[2A\033[J[    1.500] dut: expect \"x\" FAILED"));
	/* The timer redraws in place (the elapsed time changed). */
	uint64_t until = ev_clock_ms() + PROGRESS_REDRAW_MS + 150;
	while (ev_clock_ms() < until)
		ev_run_once(loop, 50);
	out = drain(fds[0]);
	assert_true(starts(out, "\r\033[2Avharness  "));
	assert_true(ends(out, "\033[K\n\033[J"));
	/* At the end the block stays; what follows is printed plainly under it. */
	progress_term_end(t);
	drain(fds[0]);
	progress_term_say(t, "after");
	assert_string_equal(drain(fds[0]), "after\n");
	progress_term_free(t);
	ev_loop_free(loop);
	close(fds[0]);
	close(fds[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_follows_boot_slot_version_and_download),
		cmocka_unit_test(test_a_failed_expect_is_a_failure_with_its_context_and_line),
		cmocka_unit_test(test_matched_expects_checks_faults_and_the_verdict_are_noted),
		cmocka_unit_test(test_block_is_a_header_and_a_line_per_device_cut_to_width),
		cmocka_unit_test(test_block_sums_up_a_fleet),
		cmocka_unit_test(test_mode_follows_the_terminal_term_no_color_and_flags),
		cmocka_unit_test(test_terminal_redraws_in_place_and_prints_above_the_block),
	};
	return vh_run_tests(tests, setup, teardown);
}
