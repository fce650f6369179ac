/* Text from logs in an HTML page. Serial lines and scenario strings are
 * untrusted: a guest can print "</script><img onerror=...>". Everything
 * taken from a run goes into the page through these two functions. */
#ifndef VH_HTML_ESCAPE_H
#define VH_HTML_ESCAPE_H

#include <stdio.h>

/* s as HTML element text or a quoted attribute value: & < > " ' become
 * references; invalid UTF-8 becomes U+FFFD and C0 controls other than tab,
 * newline and carriage return are dropped (as xml_escape). NULL writes
 * nothing. */
void html_put_text(FILE *out, const char *s);

/* s as a JSON string literal, quotes included, that is safe inside a
 * <script> element: besides JSON's own escapes, every < > and & is written
 * as \u003c \u003e \u0026, so no "</script" or "<!--" can appear. NULL
 * writes null. */
void html_put_json_string(FILE *out, const char *s);

#endif
