/* Unit tests for the report's escaping (harness/report/html_escape.c) and
 * for what reaches report.html from a hostile serial line
 * (harness/report/report_html.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html_escape.h"
#include "json_flat.h"
#include "report_html.h"
#include "test_skip.h"
#include "timeline.h"

static const char injection[] = "</script><img src=x onerror=\"alert(1)\">&'";

/* What fn writes for s, as a string the caller frees. */
static char *written(void (*fn)(FILE *, const char *), const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	fn(f, s);
	fclose(f);
	return buf;
}

static size_t count(const char *haystack, const char *needle)
{
	size_t n = 0;
	for (const char *p = haystack; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void test_html_text_escapes_markup_quotes_and_ampersands(void **state)
{
	(void)state;
	char *out = written(html_put_text, injection);
	assert_string_equal(out, "&lt;/script&gt;&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"
				 "&amp;&apos;");
	free(out);
}

static void test_html_text_replaces_bad_utf8_and_drops_control_characters(void **state)
{
	(void)state;
	char *out = written(html_put_text, "a\x01\x1b[31mb\xff"
					   "c\té");
	assert_string_equal(out, "a[31mb\xEF\xBF\xBD"
				 "c\té");
	free(out);
	out = written(html_put_text, NULL);
	assert_string_equal(out, "");
	free(out);
}

static void test_json_string_has_no_markup_characters_and_round_trips(void **state)
{
	(void)state;
	char *out = written(html_put_json_string, injection);
	assert_null(strchr(out, '<'));
	assert_null(strchr(out, '>'));
	assert_null(strchr(out, '&'));
	assert_non_null(strstr(out, "\\u003c/script\\u003e"));
	/* A JSON parser reads back exactly the original text. */
	char line[600];
	snprintf(line, sizeof(line), "{\"v\":%s}", out);
	struct json_flat j;
	char err[128];
	assert_int_equal(json_flat_parse(line, &j, err, sizeof(err)), 0);
	assert_string_equal(json_flat_get(&j, "v"), injection);
	json_flat_free(&j);
	free(out);
	out = written(html_put_json_string, NULL);
	assert_string_equal(out, "null");
	free(out);
}

static void test_json_string_escapes_quotes_backslashes_and_newlines(void **state)
{
	(void)state;
	char *out = written(html_put_json_string, "a\"b\\c\nd");
	assert_string_equal(out, "\"a\\\"b\\\\c\\nd\"");
	free(out);
}

/* The page of a run whose guest printed the injection, whose scenario
 * sent it and whose verdict quotes it: it appears only escaped, and the
 * page's own two script elements are the only ones. */
static void test_report_page_never_carries_markup_from_the_run(void **state)
{
	(void)state;
	struct timeline tl;
	timeline_init(&tl);
	char line[1024], *json = written(html_put_json_string, injection);
	snprintf(line, sizeof(line),
		 "{\"t\":0.1,\"event\":\"run_start\",\"scenario\":%s,\"seed\":1}", json);
	assert_int_equal(timeline_add_event(&tl, line), 0);
	assert_int_equal(
		timeline_add_event(&tl, "{\"t\":0.2,\"event\":\"device\",\"device\":\"dut\"}"), 0);
	snprintf(line, sizeof(line), "{\"t\":1,\"event\":\"send\",\"device\":\"dut\",\"text\":%s}",
		 json);
	assert_int_equal(timeline_add_event(&tl, line), 0);
	timeline_add_serial_line(&tl, "dut", 1.5, injection);
	timeline_add_serial_line(&tl, "dut", 1.6, "vh-agent: </script><script>alert(2)</script>");
	snprintf(line, sizeof(line),
		 "{\"t\":4,\"event\":\"expect\",\"device\":\"dut\",\"pattern\":%s,"
		 "\"result\":\"failed\",\"seconds\":3.0,\"line\":\"timed out\"}",
		 json);
	assert_int_equal(timeline_add_event(&tl, line), 0);
	snprintf(line, sizeof(line),
		 "{\"t\":4.1,\"event\":\"verdict\",\"verdict\":\"FAIL\",\"seconds\":4.1,"
		 "\"message\":%s}",
		 json);
	assert_int_equal(timeline_add_event(&tl, line), 0);
	timeline_finish(&tl);

	char *page = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&page, &len);
	assert_int_equal(report_html_write(f, &tl), 0);
	fclose(f);
	assert_int_equal(count(page, "</script"), 2);
	assert_int_equal(count(page, "<script"), 2);
	assert_int_equal(count(page, "<img"), 0);
	assert_int_equal(count(page, "@@"), 0); /* every slot filled */
	/* The header's copies are HTML-escaped. */
	assert_non_null(strstr(page, "&lt;/script&gt;&lt;img src=x onerror=&quot;alert(1)&quot;"));
	free(page);
	free(json);
	timeline_free(&tl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_html_text_escapes_markup_quotes_and_ampersands),
		cmocka_unit_test(test_html_text_replaces_bad_utf8_and_drops_control_characters),
		cmocka_unit_test(test_json_string_has_no_markup_characters_and_round_trips),
		cmocka_unit_test(test_json_string_escapes_quotes_backslashes_and_newlines),
		cmocka_unit_test(test_report_page_never_carries_markup_from_the_run),
	};
	return vh_run_tests(tests, NULL, NULL);
}
