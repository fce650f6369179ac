/* The report of one run's artifacts directory: report.html and trace.json
 * (and reconnects.txt when the run healed a partition) next to its
 * events.jsonl, from events.jsonl and serial-*.log. Written at
 * the end of every run and by `vharness report DIR`. */
#ifndef VH_REPORT_H
#define VH_REPORT_H

#include <stddef.h>

/* Reads dir and writes dir/report.html and dir/trace.json (each to a
 * temporary name, then renamed). Returns 0, or -1 with a message in err:
 * dir has no events.jsonl (-2 then, a usage error for the CLI), or a file
 * could not be written. */
int report_write_dir(const char *dir, char *err, size_t errlen);

#endif
