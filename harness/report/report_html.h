/* report.html: one run's timeline as a self-contained page (inline CSS and
 * script, no network), from report_page.html with the run's data in it. */
#ifndef VH_REPORT_HTML_H
#define VH_REPORT_HTML_H

#include "timeline.h"

#include <stdio.h>

/* Writes the page for tl to out. Everything from the run is escaped
 * (html_escape.h). Returns 0, or -1 when out failed. */
int report_html_write(FILE *out, const struct timeline *tl);

/* The timeline as the page's JSON data (also used by tests):
 * {"t_end":S,"lanes":[{"k":"device","n":NAME,"fail":N,
 *            "tr":[[SECOND,FRAMES_TO,BYTES_TO,FRAMES_FROM,BYTES_FROM,FRAMES_DROPPED,
 *                   BYTES_DROPPED],...],"lines":[[T,TEXT],...]}],
 *  "markers":[{"l":LANE,"t":S,"e":S,"k":KIND,"x":LABEL,"f":0|1,"m":MESSAGE|null,
 *              "d":DEVICE_LANE,"s":SERIAL_LINE,"a":[[KEY,VALUE],...]}]} */
void report_html_data(FILE *out, const struct timeline *tl);

#endif
