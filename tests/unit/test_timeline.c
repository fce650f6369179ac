/* Unit tests for reading a run back into a timeline
 * (harness/report/json_flat.c, timeline.c) and for trace.json
 * (harness/report/trace_json.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json_flat.h"
#include "report.h"
#include "test_skip.h"
#include "timeline.h"
#include "trace_json.h"

/* --- json_flat --- */

static void test_json_flat_reads_strings_numbers_and_literals(void **state)
{
	(void)state;
	struct json_flat j;
	char err[128];
	assert_int_equal(
		json_flat_parse("{\"t\":1.250000,\"event\":\"expect\",\"ok\":true,"
				"\"none\":null,\"s\":\"a\\\"b\\\\c\\n\\u00e9\\ud83d\\ude00\"}",
				&j, err, sizeof(err)),
		0);
	assert_int_equal(j.n, 5);
	assert_string_equal(json_flat_get(&j, "t"), "1.250000");
	assert_false(j.is_string[0]);
	assert_string_equal(json_flat_get(&j, "event"), "expect");
	assert_true(j.is_string[1]);
	assert_string_equal(json_flat_get(&j, "ok"), "true");
	assert_null(json_flat_get(&j, "none"));
	assert_null(json_flat_get(&j, "absent"));
	assert_string_equal(json_flat_get(&j, "s"), "a\"b\\c\n\xc3\xa9\xf0\x9f\x98\x80");
	json_flat_free(&j);
}

static void test_json_flat_turns_nul_and_lone_surrogates_into_replacement(void **state)
{
	(void)state;
	struct json_flat j;
	char err[128];
	assert_int_equal(json_flat_parse("{\"s\":\"a\\u0000b\\ud800c\"}", &j, err, sizeof(err)), 0);
	assert_string_equal(json_flat_get(&j, "s"), "a\xEF\xBF\xBD"
						    "b\xEF\xBF\xBD"
						    "c");
	json_flat_free(&j);
}

static void test_json_flat_rejects_what_no_event_is(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",
		"[1]",
		"{\"a\":{\"b\":1}}",
		"{\"a\":[1]}",
		"{\"a\":1} x",
		"{\"a\":\"unterminated}",
		"{\"a\":\"\\x\"}",
		"{\"a\":\"\\u12\"}",
		"{\"a\" 1}",
		"{\"a\":1,}",
		"{a:1}",
		"{\"t\":1.0,\"event\":\"power_on\",\"dev",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct json_flat j;
		char err[128] = "";
		assert_int_equal(json_flat_parse(bad[i], &j, err, sizeof(err)), -1);
		assert_true(err[0] != '\0');
		json_flat_free(&j);
	}
	/* More fields than an event has. */
	char line[JSON_FLAT_MAX_FIELDS * 16 + 16] = "{";
	for (int i = 0; i <= JSON_FLAT_MAX_FIELDS; i++)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s\"k%d\":1",
			 i ? "," : "", i);
	strcat(line, "}");
	struct json_flat j;
	char err[128];
	assert_int_equal(json_flat_parse(line, &j, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "fields"));
	json_flat_free(&j);
	assert_int_equal(json_flat_parse(" { } ", &j, err, sizeof(err)), 0);
	assert_int_equal(j.n, 0);
}

/* --- the timeline of a flaky update --- */

static const char *const flaky_run[] = {
	"{\"t\":0.06,\"event\":\"run_start\",\"scenario\":\"flaky.lua\",\"seed\":42,\"pid\":1}",
	"{\"t\":0.30,\"event\":\"network\",\"network\":\"lan\",\"subnet\":\"10.77.0.0/24\"}",
	"{\"t\":0.31,\"event\":\"update_server\",\"server\":\"ota\",\"network\":\"lan\"}",
	"{\"t\":0.35,\"event\":\"device\",\"device\":\"dut\",\"ip\":\"10.77.0.2\"}",
	"{\"t\":0.55,\"event\":\"boot_choice\",\"device\":\"dut\",\"slot\":\"a\","
	"\"version\":\"1.0.0\",\"bootcount\":0,\"trial\":false}",
	"{\"t\":1.2,\"event\":\"power_on\",\"device\":\"dut\",\"boot\":1,\"pid\":9}",
	"{\"t\":9.0,\"event\":\"expect\",\"device\":\"dut\",\"pattern\":\"vh%-agent: boot\","
	"\"result\":\"matched\",\"seconds\":7.8,\"line\":\"vh-agent: boot slot=a\"}",
	"{\"t\":10,\"event\":\"impair\",\"network\":\"lan\",\"device\":\"dut\","
	"\"direction\":\"both\",\"spec\":\"delay 40ms loss 0.5%\",\"backend\":\"user\"}",
	"{\"t\":11,\"event\":\"checkin\",\"server\":\"ota\",\"conn\":\"1\",\"device\":\"dut\","
	"\"version\":\"1.0.0\",\"slot\":\"a\"}",
	"{\"t\":11.1,\"event\":\"offer\",\"server\":\"ota\",\"conn\":\"1\",\"device\":\"dut\","
	"\"version\":\"2.0.0\",\"size\":\"100\"}",
	"{\"t\":12,\"event\":\"partition\",\"network\":\"lan\",\"device\":\"dut\",\"backend\":"
	"\"user\"}",
	"{\"t\":19,\"event\":\"heal\",\"network\":\"lan\",\"device\":\"dut\",\"backend\":\"user\"}",
	"{\"t\":25,\"event\":\"http_request\",\"server\":\"ota\",\"conn\":\"2\","
	"\"peer\":\"10.77.0.2:40001\",\"method\":\"GET\","
	"\"path\":\"/fw\",\"range\":\"bytes=4096-\",\"status\":\"206\",\"bytes\":\"96\","
	"\"result\":\"ok\"}",
	"{\"t\":30,\"event\":\"power_cut\",\"device\":\"dut\",\"reason\":\"on install\"}",
	"{\"t\":31,\"event\":\"power_on\",\"device\":\"dut\",\"boot\":2,\"pid\":10}",
	"{\"t\":32,\"event\":\"clear\",\"network\":\"lan\",\"device\":\"dut\",\"backend\":"
	"\"user\"}",
	"{\"t\":40,\"event\":\"expect\",\"device\":\"dut\",\"pattern\":\"commit slot=b\","
	"\"result\":\"failed\",\"seconds\":5.0,\"line\":\"timed out\"}",
	"{\"t\":40.1,\"event\":\"verdict\",\"verdict\":\"FAIL\",\"seconds\":40.1,\"message\":"
	"\"flaky.lua:9: expect \\\"commit slot=b\\\" on dut: timed out (timeout 5s)\\nlast "
	"lines\"}",
	"{\"t\":40.2,\"event\":\"power_off\",\"device\":\"dut\",\"status\":\"stopped by the "
	"harness\","
	"\"reason\":\"end of run\"}",
	"{\"t\":40.3,\"event\":\"power_o", /* the harness died mid-line */
};

static void build_flaky(struct timeline *tl)
{
	timeline_init(tl);
	for (size_t i = 0; i < sizeof(flaky_run) / sizeof(flaky_run[0]); i++)
		timeline_add_event(tl, flaky_run[i]);
	timeline_add_serial_line(tl, "dut", 8.9, "vh-agent: boot slot=a version=1.0.0 bootcount=0");
	timeline_add_serial_line(tl, "dut", 20, "some kernel line");
	timeline_add_serial_line(tl, "dut", 34, "vh-agent: install complete slot=b");
	timeline_add_serial_line(tl, "dut", 41, "after the end");
	timeline_finish(tl);
}

static const struct timeline_marker *find(const struct timeline *tl, const char *kind, int nth)
{
	for (size_t i = 0; i < tl->n_markers; i++)
		if (!strcmp(tl->markers[i].kind, kind) && nth-- == 0)
			return &tl->markers[i];
	return NULL;
}

static void test_timeline_has_a_lane_per_device_network_and_server(void **state)
{
	(void)state;
	struct timeline tl;
	build_flaky(&tl);
	assert_int_equal(tl.n_lanes, 4);
	assert_int_equal(tl.lanes[0].kind, TIMELINE_SCENARIO);
	int dut = timeline_find_lane(&tl, TIMELINE_DEVICE, "dut");
	int lan = timeline_find_lane(&tl, TIMELINE_NETWORK, "lan");
	int ota = timeline_find_lane(&tl, TIMELINE_SERVER, "ota");
	assert_true(dut > 0 && lan > 0 && ota > 0);
	assert_int_equal(tl.bad_lines, 1);
	assert_string_equal(tl.scenario, "flaky.lua");
	assert_string_equal(tl.seed, "42");
	assert_string_equal(tl.verdict, "FAIL");
	assert_true(tl.seconds > 40.0 && tl.seconds < 40.2);
	assert_int_equal(tl.lanes[dut].n_lines, 4);
	assert_int_equal(find(&tl, "boot", 0)->lane, dut);
	assert_string_equal(find(&tl, "boot", 0)->label, "boot slot a, 1.0.0, bootcount 0");
	assert_int_equal(find(&tl, "checkin", 0)->lane, ota);
	assert_int_equal(find(&tl, "offer", 0)->lane, ota);
	const struct timeline_marker *http = find(&tl, "http", 0);
	assert_int_equal(http->lane, ota);
	assert_non_null(strstr(http->label, "Range bytes=4096-"));
	assert_non_null(strstr(http->label, "96 bytes"));
	/* The request names its client by address: the device's serial log
	 * opens from it. */
	assert_int_equal(http->device_lane, dut);
	assert_int_equal(find(&tl, "checkin", 0)->device_lane, dut);
	/* Agent lines become markers on their device's lane; others do not. */
	assert_int_equal(find(&tl, "agent", 0)->lane, dut);
	assert_string_equal(find(&tl, "agent", 1)->label, "install complete slot=b");
	assert_null(find(&tl, "agent", 2));
	timeline_free(&tl);
}

static void test_timeline_pairs_power_impairment_and_partition_spans(void **state)
{
	(void)state;
	struct timeline tl;
	build_flaky(&tl);
	const struct timeline_marker *on1 = find(&tl, "power", 0), *on2 = find(&tl, "power", 1);
	assert_true(on1->span && on2->span);
	assert_true(on1->t == 1.2 && on1->t_end == 30);	 /* to the power cut */
	assert_true(on2->t == 31 && on2->t_end == 40.2); /* to the power off at the end */
	assert_string_equal(on2->label, "power on (boot 2)");
	const struct timeline_marker *cut = find(&tl, "power_cut", 0);
	assert_false(cut->span);
	assert_non_null(strstr(cut->label, "on install"));
	const struct timeline_marker *impair = find(&tl, "impair", 0);
	assert_true(impair->t == 10 && impair->t_end == 32); /* to the clear */
	assert_non_null(strstr(impair->label, "delay 40ms loss 0.5%"));
	const struct timeline_marker *part = find(&tl, "partition", 0);
	assert_true(part->t == 12 && part->t_end == 19); /* to the heal */
	assert_non_null(find(&tl, "heal", 0));
	/* A matched expect spans its wait. */
	const struct timeline_marker *ex = find(&tl, "expect", 0);
	assert_true(ex->span && ex->t > 1.19 && ex->t < 1.21 && ex->t_end == 9.0);
	assert_false(ex->failed);
	timeline_free(&tl);
}

static void test_timeline_marks_flash_faults_on_the_device_lane(void **state)
{
	(void)state;
	struct timeline tl;
	timeline_init(&tl);
	timeline_add_event(&tl, "{\"t\":1,\"event\":\"device\",\"device\":\"dut\"}");
	timeline_add_event(&tl, "{\"t\":5,\"event\":\"flash_fault\",\"device\":\"dut\","
				"\"op\":\"write\",\"offset\":43057152,\"length\":65536,"
				"\"error\":\"EIO\",\"why\":\"rule\",\"rule\":1}");
	timeline_add_event(&tl, "{\"t\":6,\"event\":\"flash_fault\",\"device\":\"dut\","
				"\"op\":\"flush\",\"offset\":0,\"length\":0,"
				"\"error\":\"EIO\",\"why\":\"wear_out\"}");
	timeline_finish(&tl);
	const struct timeline_marker *w = find(&tl, "flash_fault", 0);
	const struct timeline_marker *f = find(&tl, "flash_fault", 1);
	assert_non_null(w);
	assert_non_null(f);
	assert_string_equal(tl.lanes[w->lane].name, "dut");
	assert_true(w->t == 5 && !w->span);
	assert_string_equal(w->label, "flash fault: write EIO at 43057152+65536 (rule 1)");
	assert_string_equal(f->label, "flash fault: flush EIO (worn out)");
	timeline_free(&tl);
}

/* dut:mark() turns chosen serial lines into markers on the device's lane,
 * labelled by the scenario; the mark_lines event that set it up is not one. */
static void test_timeline_shows_lines_the_scenario_marks(void **state)
{
	(void)state;
	struct timeline tl;
	timeline_init(&tl);
	timeline_add_event(&tl, "{\"t\":1,\"event\":\"device\",\"device\":\"dut\"}");
	timeline_add_event(&tl, "{\"t\":1.5,\"event\":\"mark_lines\",\"device\":\"dut\","
				"\"pattern\":\"mender\",\"label\":\"client\"}");
	timeline_add_event(&tl, "{\"t\":7,\"event\":\"mark\",\"device\":\"dut\","
				"\"label\":\"client\",\"line\":\"mender: installing\"}");
	timeline_finish(&tl);
	const struct timeline_marker *m = find(&tl, "mark", 0);
	assert_non_null(m);
	assert_null(find(&tl, "mark", 1));
	assert_string_equal(tl.lanes[m->lane].name, "dut");
	assert_true(m->t == 7 && !m->span);
	assert_string_equal(m->label, "client: mender: installing");
	timeline_free(&tl);
}

static void test_timeline_marks_a_failed_expect_with_its_message_and_serial_line(void **state)
{
	(void)state;
	struct timeline tl;
	build_flaky(&tl);
	const struct timeline_marker *ex = find(&tl, "expect", 1);
	int dut = timeline_find_lane(&tl, TIMELINE_DEVICE, "dut");
	assert_true(ex->failed);
	assert_int_equal(ex->lane, dut);
	assert_int_equal(tl.lanes[dut].n_failures, 1);
	/* The verdict's first line, with the scenario's file:line. */
	assert_string_equal(ex->message,
			    "flaky.lua:9: expect \"commit slot=b\" on dut: timed out (timeout 5s)");
	/* The last serial line before it gave up (t 34, the third). */
	assert_int_equal(ex->device_lane, dut);
	assert_int_equal(ex->serial_line, 2);
	const struct timeline_marker *v = find(&tl, "verdict", 0);
	assert_true(v->failed);
	assert_non_null(strstr(v->message, "last lines"));
	/* Sorted by time. */
	for (size_t i = 1; i < tl.n_markers; i++)
		assert_true(tl.markers[i - 1].t <= tl.markers[i].t);
	timeline_free(&tl);
}

static void test_timeline_marks_a_failed_check_on_the_scenario_lane(void **state)
{
	(void)state;
	struct timeline tl;
	timeline_init(&tl);
	timeline_add_event(
		&tl, "{\"t\":1,\"event\":\"check\",\"what\":\"slot is b\",\"result\":\"pass\"}");
	timeline_add_event(
		&tl, "{\"t\":2,\"event\":\"check\",\"what\":\"slot is a\",\"result\":\"fail\"}");
	timeline_add_event(
		&tl, "{\"t\":2.5,\"event\":\"expect_not\",\"device\":\"d\",\"pattern\":"
		     "\"panic\",\"result\":\"seen\",\"seconds\":1.5,\"line\":\"Kernel panic\"}");
	timeline_add_event(&tl, "{\"t\":3,\"event\":\"something_new\",\"x\":1}");
	timeline_finish(&tl);
	const struct timeline_marker *ok = find(&tl, "check", 0), *bad = find(&tl, "check", 1);
	assert_false(ok->failed);
	assert_true(bad->failed);
	assert_int_equal(bad->lane, 0);
	assert_string_equal(bad->message, "check failed: slot is a");
	const struct timeline_marker *seen = find(&tl, "expect_not", 0);
	assert_true(seen->failed);
	assert_non_null(strstr(seen->message, "Kernel panic"));
	assert_string_equal(find(&tl, "event", 0)->label, "something_new");
	assert_null(tl.verdict);
	timeline_free(&tl);
}

static void test_serial_lines_split_into_time_and_text(void **state)
{
	(void)state;
	double t;
	const char *text;
	assert_int_equal(timeline_parse_serial_line("[   12.345678] [    0.9] PCI: x", &t, &text),
			 0);
	assert_true(t > 12.3456 && t < 12.3457);
	assert_string_equal(text, "[    0.9] PCI: x");
	assert_int_equal(timeline_parse_serial_line("[    1.000000] ", &t, &text), 0);
	assert_string_equal(text, "");
	assert_int_equal(timeline_parse_serial_line("no stamp", &t, &text), -1);
	assert_int_equal(timeline_parse_serial_line("[abc] x", &t, &text), -1);
}

/* --- from an artifacts directory --- */

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vh-test-timeline-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void put(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *slurp(const char *name)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n = getdelim(&buf, &cap, '\0', f);
	fclose(f);
	assert_true(n > 0);
	return buf;
}

static void test_load_without_events_says_what_is_missing(void **state)
{
	(void)state;
	struct timeline tl;
	timeline_init(&tl);
	char err[512];
	assert_int_equal(timeline_load(&tl, dir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "events.jsonl"));
	timeline_free(&tl);
	assert_int_equal(report_write_dir(dir, err, sizeof(err)), -2);
}

static void test_load_reads_serial_logs_and_the_verdict_file(void **state)
{
	(void)state;
	/* A run killed before its verdict event: the suite runner's
	 * verdict.txt tells it. */
	put("events.jsonl",
	    "{\"t\":0.1,\"event\":\"run_start\",\"scenario\":\"s.lua\",\"seed\":7}\n"
	    "{\"t\":0.2,\"event\":\"device\",\"device\":\"a\"}\n");
	put("serial-a.log", "[    1.000000] hello\n[    2.500000] vh-agent: boot slot=a\n");
	put("serial-b.log", "[    3.000000] from a device with no event\n");
	put("verdict.txt", "verdict HARNESS FAULT\nexit 3\nseconds 9.500\nseed 7\n"
			   "message 12\nkilled by 9\n\n");
	struct timeline tl;
	timeline_init(&tl);
	char err[512];
	assert_int_equal(timeline_load(&tl, dir, err, sizeof(err)), 0);
	assert_string_equal(tl.verdict, "HARNESS FAULT");
	assert_string_equal(tl.verdict_message, "killed by 9\n");
	assert_true(tl.seconds == 9.5);
	int a = timeline_find_lane(&tl, TIMELINE_DEVICE, "a");
	int b = timeline_find_lane(&tl, TIMELINE_DEVICE, "b");
	assert_true(a > 0 && b > 0);
	assert_int_equal(tl.lanes[a].n_lines, 2);
	assert_string_equal(tl.lanes[a].lines[1].text, "vh-agent: boot slot=a");
	assert_int_equal(tl.lanes[b].n_lines, 1);
	assert_true(tl.t_end == 3.0);
	assert_true(find(&tl, "verdict", 0)->failed);
	timeline_free(&tl);

	/* Both report files, complete. */
	assert_int_equal(report_write_dir(dir, err, sizeof(err)), 0);
	char *page = slurp("report.html"), *trace = slurp("trace.json");
	assert_non_null(page);
	assert_non_null(strstr(page, "</html>"));
	assert_non_null(strstr(page, "HARNESS FAULT"));
	assert_non_null(trace);
	assert_non_null(strstr(trace, "\"traceEvents\""));
	free(page);
	free(trace);
}

/* One pcap record: an Ethernet frame with IPv4 addresses, len bytes long on
 * the wire (only its first 34 bytes kept, as a short snaplen would). */
static void put_frame(FILE *f, uint32_t sec, uint32_t usec, const uint8_t src[4],
		      const uint8_t dst[4], uint32_t len)
{
	uint8_t frame[34] = { 0 };
	frame[12] = 0x08; /* IPv4 */
	memcpy(frame + 26, src, 4);
	memcpy(frame + 30, dst, 4);
	uint32_t rec[4] = { sec, usec, sizeof(frame), len };
	fwrite(rec, sizeof(rec), 1, f);
	fwrite(frame, sizeof(frame), 1, f);
}

static void put_pcap(const char *name, int frames, const uint8_t (*src)[4], const uint8_t (*dst)[4],
		     const uint32_t *secs, const uint32_t *lens)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	/* magic, version 2.4, zone, sigfigs, snaplen, LINKTYPE_ETHERNET */
	uint32_t head[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1 };
	fwrite(head, sizeof(head), 1, f);
	for (int i = 0; i < frames; i++)
		put_frame(f, secs[i], 500000, src[i], dst[i], lens[i]);
	fclose(f);
}

static void test_load_bins_captured_frames_by_device_and_second(void **state)
{
	(void)state;
	/* The run started at wall time 1000 (its t = 0.5 at 1000.5). */
	put("events.jsonl",
	    "{\"t\":0.5,\"event\":\"run_start\",\"scenario\":\"n.lua\",\"unix_time\":1000.5}\n"
	    "{\"t\":0.6,\"event\":\"network\",\"network\":\"lan\"}\n"
	    "{\"t\":0.7,\"event\":\"device\",\"device\":\"a\",\"ip\":\"10.0.0.2\"}\n"
	    "{\"t\":0.8,\"event\":\"device\",\"device\":\"b\",\"ip\":\"10.0.0.3\"}\n");
	/* host to a, a to host, a to b, host to host */
	const uint8_t srcs[4][4] = {
		{ 10, 0, 0, 1 }, { 10, 0, 0, 2 }, { 10, 0, 0, 2 }, { 10, 0, 0, 1 }
	};
	const uint8_t dsts[4][4] = {
		{ 10, 0, 0, 2 }, { 10, 0, 0, 1 }, { 10, 0, 0, 3 }, { 10, 0, 0, 1 }
	};
	/* 1002.5 is second 2; 999 is before the run; host to host is no device's. */
	const uint32_t secs[] = { 1002, 1002, 1003, 999 }, lens[] = { 100, 60, 1500, 42 };
	put_pcap("lan.pcap", 4, srcs, dsts, secs, lens);
	const uint32_t dsecs[] = { 1004 }, dlens[] = { 700 };
	put_pcap("lan-dropped.pcap", 1, srcs, dsts, dsecs, dlens);
	struct timeline tl;
	timeline_init(&tl);
	char err[512];
	assert_int_equal(timeline_load(&tl, dir, err, sizeof(err)), 0);
	assert_true(tl.unix_start == 1000.0);
	const struct timeline_lane *la = &tl.lanes[timeline_find_lane(&tl, TIMELINE_DEVICE, "a")];
	const struct timeline_lane *lb = &tl.lanes[timeline_find_lane(&tl, TIMELINE_DEVICE, "b")];
	assert_int_equal(la->n_traffic, 5);
	assert_int_equal(la->traffic[2].frames_to, 1);
	assert_int_equal(la->traffic[2].bytes_to, 100);
	assert_int_equal(la->traffic[2].frames_from, 1);
	assert_int_equal(la->traffic[2].bytes_from, 60);
	assert_int_equal(la->traffic[3].bytes_from, 1500); /* a to b: from a ... */
	assert_int_equal(lb->traffic[3].bytes_to, 1500);   /* ... and to b */
	assert_int_equal(la->traffic[4].frames_dropped, 1);
	assert_int_equal(la->traffic[4].bytes_dropped, 700);
	assert_int_equal(la->traffic[0].frames_to + la->traffic[1].frames_to, 0);
	timeline_free(&tl);
	/* Not a pcap. */
	timeline_init(&tl);
	assert_int_equal(timeline_add_pcap(&tl, "/dev/null", false), -1);
	timeline_free(&tl);
}

static void test_trace_json_has_a_process_per_lane_and_microsecond_events(void **state)
{
	(void)state;
	struct timeline tl;
	build_flaky(&tl);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	assert_int_equal(trace_json_write(f, &tl), 0);
	fclose(f);
	assert_non_null(strstr(out, "{\"displayTimeUnit\":\"ms\",\"traceEvents\":["));
	assert_non_null(strstr(out, "\"name\":\"process_name\",\"pid\":2,\"tid\":0,"
				    "\"args\":{\"name\":\"network lan\"}"));
	/* The power span from 1.2 s to the cut at 30 s. */
	assert_non_null(strstr(out, "\"name\":\"power on (boot 1)\",\"cat\":\"power\",\"pid\":4,"
				    "\"tid\":1,\"ts\":1200000,\"ph\":\"X\",\"dur\":28800000"));
	/* The power cut, an instant. */
	assert_non_null(strstr(out, "\"cat\":\"power_cut\",\"pid\":4,\"tid\":2,\"ts\":30000000,"
				    "\"ph\":\"i\",\"s\":\"t\""));
	/* The failure carries its message. */
	assert_non_null(strstr(out, "\"cat\":\"expect,failed\""));
	assert_non_null(strstr(out, "\"failure\":\"flaky.lua:9: expect \\\"commit slot=b\\\""));
	assert_non_null(strstr(out, "\n]}\n"));
	free(out);
	timeline_free(&tl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_flat_reads_strings_numbers_and_literals),
		cmocka_unit_test(test_json_flat_turns_nul_and_lone_surrogates_into_replacement),
		cmocka_unit_test(test_json_flat_rejects_what_no_event_is),
		cmocka_unit_test(test_timeline_has_a_lane_per_device_network_and_server),
		cmocka_unit_test(test_timeline_pairs_power_impairment_and_partition_spans),
		cmocka_unit_test(test_timeline_marks_flash_faults_on_the_device_lane),
		cmocka_unit_test(test_timeline_shows_lines_the_scenario_marks),
		cmocka_unit_test(
			test_timeline_marks_a_failed_expect_with_its_message_and_serial_line),
		cmocka_unit_test(test_timeline_marks_a_failed_check_on_the_scenario_lane),
		cmocka_unit_test(test_serial_lines_split_into_time_and_text),
		cmocka_unit_test(test_load_without_events_says_what_is_missing),
		cmocka_unit_test(test_load_reads_serial_logs_and_the_verdict_file),
		cmocka_unit_test(test_load_bins_captured_frames_by_device_and_second),
		cmocka_unit_test(test_trace_json_has_a_process_per_lane_and_microsecond_events),
	};
	return vh_run_tests(tests, setup, teardown);
}
