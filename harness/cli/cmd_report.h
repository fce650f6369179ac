/* `vharness report DIR`: the report of an existing artifacts directory. */
#ifndef VH_CMD_REPORT_H
#define VH_CMD_REPORT_H

/* argv[0] is "report"; argv[1] the run's artifacts directory, or --help.
 * Writes DIR/report.html and DIR/trace.json and prints their paths; 0 when
 * written, 2 (usage) when DIR is missing, not a directory or holds no
 * events.jsonl, 3 when a file could not be written. */
int cmd_report(int argc, char **argv);

#endif
