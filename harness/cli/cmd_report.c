/* `vharness report`: a thin shell around report_write_dir. */
#include "cmd_report.h"

#include "report.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char usage[] =
	"usage: vharness report DIR\n"
	"Writes DIR/report.html (the run's timeline as one self-contained page) and\n"
	"DIR/trace.json (the same as Chrome trace events, for Perfetto or\n"
	"chrome://tracing) from DIR/events.jsonl and DIR/serial-*.log. DIR is one run's\n"
	"artifacts directory (what `vharness run --artifacts DIR` wrote, or DIR/<run>/\n"
	"of a suite). `vharness run` writes both at the end of every run; this\n"
	"rewrites them, e.g. for artifacts of an older vharness.\n"
	"Exit status: 0 written, 2 DIR is not a run's artifacts directory, 3 cannot write.\n";

int cmd_report(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc != 2 || argv[1][0] == '\0') {
		fprintf(stderr, "vharness: report %s\n%s",
			argc < 2 ? "needs a run's artifacts directory" : "takes one directory",
			usage);
		return 2;
	}
	const char *dir = argv[1];
	struct stat st;
	if (stat(dir, &st) != 0) {
		fprintf(stderr, "vharness: report: %s: %s\n", dir, strerror(errno));
		return 2;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "vharness: report: %s is not a directory\n", dir);
		return 2;
	}
	char err[600];
	int rc = report_write_dir(dir, err, sizeof(err));
	if (rc == -2) {
		fprintf(stderr,
			"vharness: report: %s is not a run's artifacts directory: %s\n"
			"(a suite's root has one directory per run: vharness report %s/<run>)\n",
			dir, err, dir);
		return 2;
	}
	if (rc < 0) {
		fprintf(stderr, "vharness: report: %s\n", err);
		return 3;
	}
	printf("%s/report.html\n%s/trace.json\n", dir, dir);
	return 0;
}
