/* Chrome trace-event JSON: see trace_json.h. */
#include "trace_json.h"

#include "html_escape.h"

#include <string.h>

static long long micros(double s)
{
	return (long long)(s * 1e6 + 0.5);
}

/* Rows of a lane become threads, so overlapping spans stay readable. */
static int thread_of(const struct timeline_marker *m)
{
	if (!strcmp(m->kind, "power"))
		return 1;
	if (!strcmp(m->kind, "expect") || !strcmp(m->kind, "expect_not"))
		return 3;
	if (!strcmp(m->kind, "agent") || !strcmp(m->kind, "mark"))
		return 4;
	if (!strcmp(m->kind, "http"))
		return 5;
	if (!strcmp(m->kind, "impair") || !strcmp(m->kind, "partition"))
		return 6;
	return 2;
}

int trace_json_write(FILE *out, const struct timeline *tl)
{
	static const char *const kinds[] = { "scenario", "device", "network", "update server" };
	fputs("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[", out);
	for (int i = 0; i < tl->n_lanes; i++) {
		fprintf(out,
			"%s\n{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%d,\"tid\":0,"
			"\"args\":{\"name\":",
			i ? "," : "", i + 1);
		char name[600];
		snprintf(name, sizeof(name), "%s %s", kinds[tl->lanes[i].kind], tl->lanes[i].name);
		html_put_json_string(out, name);
		fprintf(out,
			"}},\n{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":%d,"
			"\"tid\":0,\"args\":{\"sort_index\":%d}}",
			i + 1, i);
	}
	for (size_t i = 0; i < tl->n_markers; i++) {
		const struct timeline_marker *m = &tl->markers[i];
		fputs(",\n{\"name\":", out);
		html_put_json_string(out, m->label);
		fprintf(out, ",\"cat\":\"%s%s\",\"pid\":%d,\"tid\":%d,\"ts\":%lld", m->kind,
			m->failed ? ",failed" : "", m->lane + 1, thread_of(m), micros(m->t));
		if (m->span)
			fprintf(out, ",\"ph\":\"X\",\"dur\":%lld", micros(m->t_end) - micros(m->t));
		else
			fputs(",\"ph\":\"i\",\"s\":\"t\"", out);
		fputs(",\"args\":{", out);
		int n = 0;
		if (m->message) {
			fputs("\"failure\":", out);
			html_put_json_string(out, m->message);
			n++;
		}
		for (int k = 0; k < m->fields.n; k++) {
			if (!strcmp(m->fields.keys[k], "t") ||
			    !strcmp(m->fields.keys[k], "failure"))
				continue;
			fputs(n++ ? "," : "", out);
			html_put_json_string(out, m->fields.keys[k]);
			putc(':', out);
			html_put_json_string(out, m->fields.values[k]);
		}
		fputs("}}", out);
	}
	/* Traffic as counters: Perfetto draws each as a track under its device. */
	for (int i = 0; i < tl->n_lanes; i++) {
		const struct timeline_lane *L = &tl->lanes[i];
		for (size_t k = 0; k < L->n_traffic; k++) {
			const struct timeline_traffic *b = &L->traffic[k];
			fprintf(out,
				",\n{\"name\":\"traffic "
				"bytes/s\",\"ph\":\"C\",\"pid\":%d,\"ts\":%lld,"
				"\"args\":{\"to device\":%llu,\"from "
				"device\":%llu,\"dropped\":%llu}}",
				i + 1, micros((double)k), (unsigned long long)b->bytes_to,
				(unsigned long long)b->bytes_from,
				(unsigned long long)b->bytes_dropped);
		}
	}
	fputs("\n]}\n", out);
	return ferror(out) ? -1 : 0;
}
