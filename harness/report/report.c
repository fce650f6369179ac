/* One run's report files: see report.h. */
#include "report.h"

#include "artifacts.h"
#include "reconnects.h"
#include "report_html.h"
#include "timeline.h"
#include "trace_json.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct timeline_writer {
	const struct timeline *tl;
	int (*writer)(FILE *, const struct timeline *);
};

static int put_timeline(FILE *f, const void *arg)
{
	const struct timeline_writer *w = arg;
	return w->writer(f, w->tl);
}

static int write_file(const char *dir, const char *name, const struct timeline *tl,
		      int (*writer)(FILE *, const struct timeline *), char *err, size_t errlen)
{
	char path[4100];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	struct timeline_writer w = { tl, writer };
	return artifacts_write_whole(path, put_timeline, &w, err, errlen);
}

int report_write_dir(const char *dir, char *err, size_t errlen)
{
	struct timeline tl;
	timeline_init(&tl);
	if (timeline_load(&tl, dir, err, errlen) < 0) {
		timeline_free(&tl);
		return -2;
	}
	int rc = write_file(dir, "report.html", &tl, report_html_write, err, errlen) < 0 ||
				 write_file(dir, "trace.json", &tl, trace_json_write, err, errlen) <
					 0 ||
				 reconnects_write_dir(dir, err, errlen) < 0
			 ? -1
			 : 0;
	timeline_free(&tl);
	return rc;
}
