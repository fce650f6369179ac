/* One run's report files: see report.h. */
#include "report.h"

#include "report_html.h"
#include "timeline.h"
#include "trace_json.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int write_file(const char *dir, const char *name, const struct timeline *tl,
		      int (*writer)(FILE *, const struct timeline *), char *err, size_t errlen)
{
	char path[4200], tmp[4210];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "we");
	if (!f) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		return -1;
	}
	int bad = writer(f, tl);
	if (fclose(f) != 0 || bad < 0 || rename(tmp, path) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
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
					 0
			 ? -1
			 : 0;
	timeline_free(&tl);
	return rc;
}
