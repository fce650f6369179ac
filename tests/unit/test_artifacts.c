/* Unit tests for run artifacts (harness/report/artifacts.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "artifacts.h"
#include "test_skip.h"

static char tmpdir[64];

static int make_tmpdir(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/vh-test-artifacts-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *path_in_tmp(const char *name)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* A tiny JSON reader, enough for one flat events.jsonl object: string keys,
 * values that are strings (decoded, \u escapes to UTF-8), numbers or
 * literals (kept as text). Returns false on anything RFC 8259 rejects. */
struct json_pair {
	char key[64];
	char val[512];
	bool is_string;
};

static bool json_parse_string(const char **pp, char *out, size_t cap)
{
	const char *p = *pp;
	size_t n = 0;

	if (*p++ != '"')
		return false;
	while (*p != '"') {
		unsigned char c = (unsigned char)*p;
		unsigned long cp;

		if (c == '\0' || c < 0x20)
			return false;
		if (c != '\\') {
			if (n + 1 >= cap)
				return false;
			out[n++] = (char)c;
			p++;
			continue;
		}
		p++;
		switch (*p) {
		case '"':
		case '\\':
		case '/':
			cp = (unsigned char)*p;
			break;
		case 'b':
			cp = '\b';
			break;
		case 'f':
			cp = '\f';
			break;
		case 'n':
			cp = '\n';
			break;
		case 'r':
			cp = '\r';
			break;
		case 't':
			cp = '\t';
			break;
		case 'u': {
			char hex[5];
			char *end;

			memcpy(hex, p + 1, 4);
			hex[4] = '\0';
			cp = strtoul(hex, &end, 16);
			if (end != hex + 4)
				return false;
			p += 4;
			break;
		}
		default:
			return false;
		}
		p++;
		if (n + 4 >= cap)
			return false;
		if (cp < 0x80) {
			out[n++] = (char)cp;
		} else if (cp < 0x800) {
			out[n++] = (char)(0xC0 | (cp >> 6));
			out[n++] = (char)(0x80 | (cp & 0x3F));
		} else {
			out[n++] = (char)(0xE0 | (cp >> 12));
			out[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
			out[n++] = (char)(0x80 | (cp & 0x3F));
		}
	}
	out[n] = '\0';
	*pp = p + 1;
	return true;
}

static int json_parse_object(const char *line, struct json_pair *pairs, int max)
{
	const char *p = line;
	int n = 0;

	if (*p++ != '{')
		return -1;
	while (n < max) {
		const char *v;

		if (!json_parse_string(&p, pairs[n].key, sizeof(pairs[n].key)) || *p++ != ':')
			return -1;
		if (*p == '"') {
			if (!json_parse_string(&p, pairs[n].val, sizeof(pairs[n].val)))
				return -1;
			pairs[n].is_string = true;
		} else {
			v = p;
			while (*p && *p != ',' && *p != '}')
				p++;
			if (p == v || (size_t)(p - v) >= sizeof(pairs[n].val))
				return -1;
			memcpy(pairs[n].val, v, (size_t)(p - v));
			pairs[n].val[p - v] = '\0';
			pairs[n].is_string = false;
			if (strcmp(pairs[n].val, "true") && strcmp(pairs[n].val, "false") &&
			    strcmp(pairs[n].val, "null") &&
			    strspn(pairs[n].val, "-0123456789.eE+") != strlen(pairs[n].val))
				return -1;
		}
		n++;
		if (*p == '}')
			return p[1] == '\0' ? n : -1;
		if (*p++ != ',')
			return -1;
	}
	return -1;
}

static void test_artifacts_mkdir_p_creates_parents_and_accepts_existing(void **state)
{
	struct stat st;
	char file[300];
	FILE *f;

	(void)state;
	umask(022);
	assert_int_equal(artifacts_mkdir_p(path_in_tmp("a/b//c/")), 0);
	assert_int_equal(stat(path_in_tmp("a/b/c"), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0755);
	assert_int_equal(artifacts_mkdir_p(path_in_tmp("a/b/c")), 0);

	snprintf(file, sizeof(file), "%s", path_in_tmp("plain"));
	f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(artifacts_mkdir_p(file), -ENOTDIR);
	assert_int_equal(artifacts_mkdir_p(path_in_tmp("plain/sub")), -ENOTDIR);
	assert_int_equal(artifacts_mkdir_p(""), -ENOENT);
}

static void test_json_escape_escapes_quotes_backslashes_and_control_chars(void **state)
{
	char out[128];
	size_t n;

	(void)state;
	n = json_escape("a\"b\\c\n\t\r\b\f\x01\x1f\x7f/", out, sizeof(out));
	assert_string_equal(out, "a\\\"b\\\\c\\n\\t\\r\\b\\f\\u0001\\u001f\\u007f/");
	assert_int_equal(n, strlen(out));
}

static void test_json_escape_replaces_invalid_utf8_and_keeps_valid(void **state)
{
	char out[128];

	(void)state;
	/* é, €, 😀 pass through; a lone 0xff, a truncated sequence, an overlong
	 * '/' and a UTF-16 surrogate do not. */
	json_escape("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\xff|\xe2\x82|\xc0\xaf|\xed\xa0\x80", out,
		    sizeof(out));
	assert_string_equal(out, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\\ufffd|\\ufffd\\ufffd|"
				 "\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd");
}

static void test_json_escape_truncates_without_splitting_an_escape(void **state)
{
	char out[6];
	size_t n;

	(void)state;
	n = json_escape("ab\x01zz", out, sizeof(out));
	assert_int_equal(n, strlen("ab\\u0001zz"));
	assert_string_equal(out, "ab");
	assert_int_equal(json_escape("x", NULL, 0), 1);
}

static void test_event_log_writes_one_parseable_object_per_line(void **state)
{
	const char *path = path_in_tmp("events.jsonl");
	char err[256] = "";
	struct event_log *log = event_log_open(path, err, sizeof(err));
	const char *kv1[] = { "device",
			      "dut",
			      "pattern",
			      "boot \"slot\"=a\\\n\x01\x02\xff",
			      "timeout_s",
			      "\x01"
			      "30",
			      NULL };
	const char *kv2[] = { "ok",	 "\x01true", "bad_raw", "\x01not json", "n", "\x01-1.5e3",
			      "missing", NULL,	     NULL };
	struct json_pair pairs[8];
	char *text, *line, *save = NULL;
	int lines = 0;

	(void)state;
	assert_non_null(log);
	event_log_write(log, 1.25, "expect", kv1);
	event_log_write(log, 2.0, "verdict", kv2);
	event_log_write(log, 3.0, "power_on", NULL);
	event_log_close(log);

	text = read_all(path);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int n = json_parse_object(line, pairs, 8);

		assert_true(n >= 2);
		assert_string_equal(pairs[0].key, "t");
		assert_false(pairs[0].is_string);
		assert_string_equal(pairs[1].key, "event");
		if (lines == 0) {
			assert_int_equal(n, 5);
			assert_string_equal(pairs[0].val, "1.250000");
			assert_string_equal(pairs[1].val, "expect");
			assert_string_equal(pairs[2].val, "dut");
			assert_string_equal(pairs[3].key, "pattern");
			assert_string_equal(pairs[3].val,
					    "boot \"slot\"=a\\\n\x01\x02\xef\xbf\xbd");
			assert_false(pairs[4].is_string);
			assert_string_equal(pairs[4].val, "30");
		} else if (lines == 1) {
			assert_int_equal(n, 6);
			assert_false(pairs[2].is_string);
			assert_string_equal(pairs[2].val, "true");
			/* An invalid raw value falls back to a string. */
			assert_true(pairs[3].is_string);
			assert_string_equal(pairs[3].val, "not json");
			assert_string_equal(pairs[4].val, "-1.5e3");
			assert_false(pairs[5].is_string);
			assert_string_equal(pairs[5].val, "null");
		} else {
			assert_int_equal(n, 2);
			assert_string_equal(pairs[1].val, "power_on");
		}
		lines++;
	}
	assert_int_equal(lines, 3);
	free(text);
}

static void test_event_log_flushes_each_event_before_close(void **state)
{
	const char *path = path_in_tmp("flush.jsonl");
	char err[256];
	struct event_log *log = event_log_open(path, err, sizeof(err));
	char *text;

	(void)state;
	assert_non_null(log);
	event_log_write(log, 0.5, "fault", NULL);
	text = read_all(path);
	assert_string_equal(text, "{\"t\":0.500000,\"event\":\"fault\"}\n");
	free(text);
	event_log_close(log);
}

static void test_event_log_open_reports_error(void **state)
{
	char err[256] = "";

	(void)state;
	assert_null(event_log_open(path_in_tmp("no/such/dir/e.jsonl"), err, sizeof(err)));
	assert_non_null(strstr(err, "No such file or directory"));
	assert_null(serial_log_open(path_in_tmp("no/such/dir/s.log"), err, sizeof(err)));
}

static void test_xml_escape_escapes_markup_and_strips_invalid_chars(void **state)
{
	char out[128];
	size_t n;

	(void)state;
	n = xml_escape("<a href=\"x\">&'\x01\x1b[0m\tb\nc\r\xef\xbf\xbe\xff\xc3\xa9", out,
		       sizeof(out));
	assert_string_equal(out, "&lt;a href=&quot;x&quot;&gt;&amp;&apos;[0m\tb\nc&#13;"
				 "\xef\xbf\xbd\xc3\xa9");
	assert_int_equal(n, strlen(out));
	/* Truncation keeps whole entities only. */
	n = xml_escape("a&b", out, 4);
	assert_string_equal(out, "a");
	assert_int_equal(n, 7);
}

static const struct junit_case junit_cases[] = {
	{ "ok.lua", "vharness", 1.5, 0, NULL, NULL },
	{ "power_cut.lua", "vharness", 12.25, 1, "expect \"slot=b\" timed out after 30s <&>",
	  "[ 1.0] boot\x01\x1b[31m red\r\n]]> \"quoted\" & done\n" },
	{ "bad.lua", NULL, 0.0, 2, "unknown option 'foo'", NULL },
	{ "crash.lua", "vharness", 3.0, 3, NULL, "qemu died\tsignal 11\n" },
};

static void test_junit_counts_failures_and_errors_and_escapes(void **state)
{
	const char *path = path_in_tmp("junit.xml");
	char err[256] = "";
	char *text, *p;

	(void)state;
	assert_int_equal(junit_write(path, junit_cases, 4, err, sizeof(err)), 0);
	text = read_all(path);
	assert_non_null(strstr(text, "<testsuites tests=\"4\" failures=\"1\" errors=\"2\" "
				     "skipped=\"0\" time=\"16.750\">"));
	assert_non_null(strstr(
		text, "<testsuite name=\"vharness\" tests=\"4\" failures=\"1\" errors=\"2\""));
	assert_non_null(
		strstr(text, "<testcase name=\"ok.lua\" classname=\"vharness\" time=\"1.500\"/>"));
	assert_non_null(strstr(text,
			       "<failure message=\"expect &quot;slot=b&quot; timed out after 30s "
			       "&lt;&amp;&gt;\" type=\"failure\">[ 1.0] boot[31m red&#13;\n"
			       "]]&gt; &quot;quoted&quot; &amp; done\n</failure>"));
	assert_non_null(
		strstr(text, "<testcase name=\"bad.lua\" classname=\"vharness\" time=\"0.000\">"));
	assert_non_null(strstr(
		text,
		"<error message=\"unknown option &apos;foo&apos;\" type=\"config\"></error>"));
	assert_non_null(strstr(text, "<error message=\"harness fault\" type=\"harness\">qemu "
				     "died\tsignal 11\n</error>"));
	for (p = text; *p; p++)
		assert_true((unsigned char)*p >= 0x20 || *p == '\n' || *p == '\t');
	/* No temporary file is left behind. */
	assert_int_equal(access(path_in_tmp("junit.xml.tmp"), F_OK), -1);
	free(text);
}

static void test_junit_is_well_formed_xml(void **state)
{
	const char *path = path_in_tmp("wf.xml");
	char err[256] = "";
	char cmd[512];

	(void)state;
	if (system("command -v xmllint >/dev/null 2>&1") != 0)
		vh_skip("no xmllint in PATH (libxml2-utils)");
	assert_int_equal(junit_write(path, junit_cases, 4, err, sizeof(err)), 0);
	snprintf(cmd, sizeof(cmd), "xmllint --noout '%s'", path);
	assert_int_equal(system(cmd), 0);
	/* An empty suite is well-formed too. */
	assert_int_equal(junit_write(path, NULL, 0, err, sizeof(err)), 0);
	assert_int_equal(system(cmd), 0);
}

static void test_junit_write_reports_unwritable_path(void **state)
{
	char err[256] = "";

	(void)state;
	assert_int_equal(
		junit_write(path_in_tmp("missing/junit.xml"), junit_cases, 1, err, sizeof(err)),
		-ENOENT);
	assert_non_null(strstr(err, "missing/junit.xml"));
}

static void test_serial_log_stamps_lines_with_time_of_first_byte(void **state)
{
	const char *path = path_in_tmp("serial-dut.log");
	char err[256];
	struct serial_log *log = serial_log_open(path, err, sizeof(err));
	char *text;

	(void)state;
	assert_non_null(log);
	serial_log_append(log, 1.0, "hel", 3);
	serial_log_append(log, 2.5, "lo\r\nwor", 7);
	serial_log_append(log, 3.0, "ld\r", 3);
	serial_log_append(log, 3.5, "\n", 1);
	serial_log_append(log, 4.0, "\n", 1);
	serial_log_append(log, 12345.125, "pro\0mpt# ", 9);
	text = read_all(path);
	/* Complete lines are on disk before close. */
	assert_non_null(strstr(text, "[    2.500000] world\n"));
	free(text);
	serial_log_close(log);

	text = read_all(path);
	assert_string_equal(text, "[    1.000000] hello\n"
				  "[    2.500000] world\n"
				  "[    4.000000] \n"
				  "[12345.125000] prompt# \n");
	free(text);
}

static int put_text(FILE *f, const void *arg)
{
	fputs(arg, f);
	return 0;
}

static int put_half_then_fail(FILE *f, const void *arg)
{
	fputs(arg, f);
	return -1;
}

static void test_write_whole_replaces_only_a_complete_file(void **state)
{
	(void)state;
	char err[256];
	char path[256];
	snprintf(path, sizeof(path), "%s", path_in_tmp("whole.txt"));
	assert_int_equal(artifacts_write_whole(path, put_text, "first\n", err, sizeof(err)), 0);
	char *text = read_all(path);
	assert_string_equal(text, "first\n");
	free(text);
	/* A writer that fails half way leaves the old file and no .tmp behind. */
	assert_int_equal(artifacts_write_whole(path, put_half_then_fail, "sec", err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "whole.txt"));
	text = read_all(path);
	assert_string_equal(text, "first\n");
	free(text);
	char tmp[300];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(access(tmp, F_OK), -1);
	/* An unwritable place is named. */
	assert_int_equal(
		artifacts_write_whole("/nonexistent/dir/x.txt", put_text, "x", err, sizeof(err)),
		-1);
	assert_non_null(strstr(err, "/nonexistent/dir/x.txt"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_artifacts_mkdir_p_creates_parents_and_accepts_existing),
		cmocka_unit_test(test_json_escape_escapes_quotes_backslashes_and_control_chars),
		cmocka_unit_test(test_json_escape_replaces_invalid_utf8_and_keeps_valid),
		cmocka_unit_test(test_json_escape_truncates_without_splitting_an_escape),
		cmocka_unit_test(test_event_log_writes_one_parseable_object_per_line),
		cmocka_unit_test(test_event_log_flushes_each_event_before_close),
		cmocka_unit_test(test_event_log_open_reports_error),
		cmocka_unit_test(test_xml_escape_escapes_markup_and_strips_invalid_chars),
		cmocka_unit_test(test_junit_counts_failures_and_errors_and_escapes),
		cmocka_unit_test(test_junit_is_well_formed_xml),
		cmocka_unit_test(test_junit_write_reports_unwritable_path),
		cmocka_unit_test(test_serial_log_stamps_lines_with_time_of_first_byte),
		cmocka_unit_test(test_write_whole_replaces_only_a_complete_file),
	};

	return vh_run_tests(tests, make_tmpdir, remove_tmpdir);
}
