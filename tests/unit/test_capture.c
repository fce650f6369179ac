/* Captures: files written by capture.c read back with libpcap's own reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture.h"
#include "test_skip.h"

struct tmpdir {
	char path[64];
	char main[128];
	char dropped[128];
};

static void tmpdir_make(struct tmpdir *t)
{
	snprintf(t->path, sizeof t->path, "/tmp/vh-capture-XXXXXX");
	assert_non_null(mkdtemp(t->path));
	snprintf(t->main, sizeof t->main, "%s/lan.pcap", t->path);
	snprintf(t->dropped, sizeof t->dropped, "%s/lan-dropped.pcap", t->path);
}

static void tmpdir_remove(struct tmpdir *t)
{
	unlink(t->main);
	unlink(t->dropped);
	rmdir(t->path);
}

static void fill(uint8_t *buf, size_t len, uint8_t salt)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 7u + salt);
}

/* Reads the next record of p and checks its stamp (to the microsecond), lengths and
 * bytes against what was written. */
static void expect_record(pcap_t *p, uint64_t ts_ns, const uint8_t *frame, size_t len)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	assert_int_equal(pcap_next_ex(p, &h, &data), 1);
	assert_int_equal(h->ts.tv_sec, (long)(ts_ns / 1000000000u));
	assert_int_equal(h->ts.tv_usec, (long)(ts_ns % 1000000000u / 1000u));
	assert_int_equal(h->len, len);
	size_t cap = len > CAPTURE_SNAPLEN ? CAPTURE_SNAPLEN : len;
	assert_int_equal(h->caplen, cap);
	assert_memory_equal(data, frame, cap);
}

static pcap_t *open_offline(const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, errbuf);
	if (!p)
		fail_msg("pcap_open_offline(%s): %s", path, errbuf);
	assert_int_equal(pcap_datalink(p), DLT_EN10MB);
	assert_int_equal(pcap_snapshot(p), (int)CAPTURE_SNAPLEN);
	return p;
}

static void test_capture_reads_back_frames_lengths_and_timestamps(void **state)
{
	(void)state;
	struct tmpdir t;
	tmpdir_make(&t);
	char err[256];
	struct capture *c = capture_open(t.main, NULL, err, sizeof err);
	assert_non_null(c);

	static uint8_t big[70000];
	uint8_t small[60], mid[1514];
	fill(small, sizeof small, 1);
	fill(mid, sizeof mid, 2);
	fill(big, sizeof big, 3);
	uint64_t t0 = UINT64_C(1700000000123456789);
	assert_int_equal(capture_frame(c, t0, small, sizeof small), 0);
	assert_int_equal(capture_frame(c, t0 + 1500000, mid, sizeof mid), 0);
	assert_int_equal(capture_frame(c, t0 + 2000000000, big, sizeof big), 0);
	/* No dropped file: recording a drop is a no-op, not an error. */
	assert_int_equal(capture_dropped(c, t0, small, sizeof small), 0);
	assert_int_equal(capture_count(c), 3);
	assert_int_equal(capture_dropped_count(c), 0);
	assert_null(capture_error(c));
	assert_int_equal(capture_close(c), 0);

	pcap_t *p = open_offline(t.main);
	expect_record(p, t0, small, sizeof small);
	expect_record(p, t0 + 1500000, mid, sizeof mid);
	expect_record(p, t0 + 2000000000, big, sizeof big); /* truncated to the snaplen */
	struct pcap_pkthdr *h;
	const u_char *data;
	assert_int_equal(pcap_next_ex(p, &h, &data), PCAP_ERROR_BREAK);
	pcap_close(p);
	assert_int_equal(access(t.dropped, F_OK), -1);
	tmpdir_remove(&t);
}

static void test_capture_writes_dropped_frames_to_their_own_file(void **state)
{
	(void)state;
	struct tmpdir t;
	tmpdir_make(&t);
	char err[256];
	struct capture *c = capture_open(t.main, t.dropped, err, sizeof err);
	assert_non_null(c);
	uint8_t a[64], b[98];
	fill(a, sizeof a, 9);
	fill(b, sizeof b, 10);
	assert_int_equal(capture_frame(c, 1000, a, sizeof a), 0);
	assert_int_equal(capture_dropped(c, 2000000, b, sizeof b), 0);
	assert_int_equal(capture_count(c), 1);
	assert_int_equal(capture_dropped_count(c), 1);
	assert_int_equal(capture_close(c), 0);

	pcap_t *p = open_offline(t.main);
	expect_record(p, 1000, a, sizeof a);
	pcap_close(p);
	p = open_offline(t.dropped);
	expect_record(p, 2000000, b, sizeof b);
	pcap_close(p);
	tmpdir_remove(&t);
}

/* A harness killed mid-run never reaches capture_close: what it wrote must be readable. */
static void test_capture_survives_a_killed_writer(void **state)
{
	(void)state;
	struct tmpdir t;
	tmpdir_make(&t);
	uint8_t a[60];
	fill(a, sizeof a, 4);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char err[256];
		struct capture *c = capture_open(t.main, t.dropped, err, sizeof err);
		if (!c)
			_exit(1);
		for (int i = 0; i < 5; i++)
			capture_frame(c, 5000 + (uint64_t)i * 1000, a, sizeof a);
		capture_dropped(c, 42000, a, 20);
		raise(SIGKILL);
		_exit(2);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));

	pcap_t *p = open_offline(t.main);
	for (int i = 0; i < 5; i++)
		expect_record(p, 5000 + (uint64_t)i * 1000, a, sizeof a);
	pcap_close(p);
	p = open_offline(t.dropped);
	expect_record(p, 42000, a, 20);
	pcap_close(p);
	tmpdir_remove(&t);
}

static void test_capture_open_reports_unwritable_path(void **state)
{
	(void)state;
	char err[256] = "";
	struct capture *c = capture_open("/nonexistent-dir/x.pcap", NULL, err, sizeof err);
	assert_null(c);
	assert_non_null(strstr(err, "/nonexistent-dir/x.pcap"));

	struct tmpdir t;
	tmpdir_make(&t);
	c = capture_open(t.main, "/nonexistent-dir/d.pcap", err, sizeof err);
	assert_null(c);
	assert_non_null(strstr(err, "d.pcap"));
	tmpdir_remove(&t);
	assert_int_equal(capture_close(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capture_reads_back_frames_lengths_and_timestamps),
		cmocka_unit_test(test_capture_writes_dropped_frames_to_their_own_file),
		cmocka_unit_test(test_capture_survives_a_killed_writer),
		cmocka_unit_test(test_capture_open_reports_unwritable_path),
	};
	return vh_run_tests(tests, NULL, NULL);
}
