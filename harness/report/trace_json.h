/* trace.json: the run's timeline in Chrome's trace-event format, which
 * Perfetto and chrome://tracing open: {"traceEvents":[...]} with one
 * process (pid) per lane, named by metadata events; spans are complete
 * events (ph "X", ts and dur in microseconds), moments are instant events
 * (ph "i"); each event's fields are its args. A device's traffic is a
 * counter (ph "C", "traffic bytes/s") per second of the run. */
#ifndef VH_TRACE_JSON_H
#define VH_TRACE_JSON_H

#include "timeline.h"

#include <stdio.h>

/* Returns 0, or -1 when out failed. */
int trace_json_write(FILE *out, const struct timeline *tl);

#endif
