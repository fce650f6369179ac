/* The report page: see report_html.h. The template is report_page.html,
 * embedded at build time; its @@NAME@@ slots are filled here. */
#include "report_html.h"

#include "html_escape.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

extern const char report_page[];

static const char *const kind_names[] = {
	[TIMELINE_SCENARIO] = "scenario",
	[TIMELINE_DEVICE] = "device",
	[TIMELINE_NETWORK] = "network",
	[TIMELINE_SERVER] = "server",
};

void report_html_data(FILE *out, const struct timeline *tl)
{
	fprintf(out, "{\"t_end\":%.6f,\"lanes\":[", tl->t_end);
	for (int i = 0; i < tl->n_lanes; i++) {
		const struct timeline_lane *L = &tl->lanes[i];
		fprintf(out, "%s{\"k\":\"%s\",\"n\":", i ? "," : "", kind_names[L->kind]);
		html_put_json_string(out, L->name);
		fprintf(out, ",\"fail\":%d,\"tr\":[", L->n_failures);
		/* Traffic by second, the empty ones left out. */
		bool first = true;
		for (size_t k = 0; k < L->n_traffic; k++) {
			const struct timeline_traffic *b = &L->traffic[k];
			if (!b->frames_to && !b->frames_from && !b->frames_dropped)
				continue;
			fprintf(out, "%s[%zu,%u,%llu,%u,%llu,%u,%llu]", first ? "" : ",", k,
				b->frames_to, (unsigned long long)b->bytes_to, b->frames_from,
				(unsigned long long)b->bytes_from, b->frames_dropped,
				(unsigned long long)b->bytes_dropped);
			first = false;
		}
		fputs("],\"lines\":[", out);
		for (size_t k = 0; k < L->n_lines; k++) {
			fprintf(out, "%s\n[%.6f,", k ? "," : "", L->lines[k].t);
			html_put_json_string(out, L->lines[k].text);
			putc(']', out);
		}
		fputs("]}", out);
	}
	fputs("],\"markers\":[", out);
	for (size_t i = 0; i < tl->n_markers; i++) {
		const struct timeline_marker *m = &tl->markers[i];
		fprintf(out,
			"%s\n{\"l\":%d,\"t\":%.6f,\"e\":%.6f,\"k\":\"%s\",\"x\":", i ? "," : "",
			m->lane, m->t, m->t_end, m->kind);
		html_put_json_string(out, m->label);
		fprintf(out, ",\"f\":%d,\"m\":", m->failed);
		html_put_json_string(out, m->message);
		fprintf(out, ",\"d\":%d,\"s\":%ld,\"a\":[", m->device_lane, m->serial_line);
		for (int k = 0; k < m->fields.n; k++) {
			fputs(k ? ",[" : "[", out);
			html_put_json_string(out, m->fields.keys[k]);
			putc(',', out);
			html_put_json_string(out, m->fields.values[k]);
			putc(']', out);
		}
		fputs("]}", out);
	}
	fputs("]}", out);
}

static void put_header(FILE *out, const struct timeline *tl)
{
	const char *verdict = tl->verdict ? tl->verdict : "NO VERDICT";
	fputs("<h1>vharness: ", out);
	html_put_text(out, tl->scenario ? tl->scenario : "(unknown scenario)");
	fputs(" <span class=\"verdict ", out);
	html_put_text(out, strchr(verdict, ' ') ? "other" : verdict);
	fputs("\" id=\"verdict\">", out);
	html_put_text(out, verdict);
	fputs("</span></h1>\n<div class=\"facts\">", out);
	if (tl->seconds >= 0)
		fprintf(out, "<span>%.1f s</span>", tl->seconds);
	if (tl->seed) {
		fputs("<span>seed ", out);
		html_put_text(out, tl->seed);
		fputs("</span>", out);
	}
	int devices = 0;
	for (int i = 0; i < tl->n_lanes; i++)
		devices += tl->lanes[i].kind == TIMELINE_DEVICE;
	fprintf(out, "<span>%d device%s</span><span>%zu markers</span>", devices,
		devices == 1 ? "" : "s", tl->n_markers);
	if (tl->bad_lines)
		fprintf(out, "<span>%d unreadable lines in events.jsonl</span>", tl->bad_lines);
	fputs("<span>also: <a href=\"trace.json\">trace.json</a> (Perfetto, chrome://tracing), "
	      "<a href=\"events.jsonl\">events.jsonl</a></span></div>\n",
	      out);
	if (tl->verdict_message) {
		/* The first line says what failed and where; the rest (the
		 * serial tail) is folded: the Failures section shows it in
		 * context. */
		const char *msg = tl->verdict_message;
		size_t first = strcspn(msg, "\n");
		char *head = strndup(msg, first);
		fputs("<pre class=\"message\" id=\"verdict-message\">", out);
		html_put_text(out, head ? head : "");
		fputs("</pre>\n", out);
		free(head);
		if (msg[first] && msg[first + 1]) {
			fputs("<details><summary>the verdict's whole message</summary><pre>", out);
			html_put_text(out, msg + first + 1);
			fputs("</pre></details>\n", out);
		}
	}
}

int report_html_write(FILE *out, const struct timeline *tl)
{
	const char *p = report_page;
	for (;;) {
		const char *slot = strstr(p, "@@");
		if (!slot) {
			fputs(p, out);
			break;
		}
		fwrite(p, 1, (size_t)(slot - p), out);
		const char *name = slot + 2, *end = strstr(name, "@@");
		if (!end) {
			fputs(slot, out);
			break;
		}
		size_t n = (size_t)(end - name);
		if (n == 5 && !strncmp(name, "TITLE", n)) {
			fputs("vharness ", out);
			html_put_text(out, tl->verdict ? tl->verdict : "NO VERDICT");
			fputs(": ", out);
			html_put_text(out, tl->scenario ? tl->scenario : "run");
		} else if (n == 6 && !strncmp(name, "HEADER", n)) {
			put_header(out, tl);
		} else if (n == 4 && !strncmp(name, "DATA", n)) {
			report_html_data(out, tl);
		} else {
			fwrite(slot, 1, (size_t)(end + 2 - slot), out);
		}
		p = end + 2;
	}
	return ferror(out) ? -1 : 0;
}
