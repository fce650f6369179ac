/* Escaping for the report page: see html_escape.h. Both reuse the
 * artifacts' escapers (UTF-8 checks, control characters) and add what HTML
 * needs on top. */
#include "html_escape.h"

#include "artifacts.h"

#include <stdlib.h>
#include <string.h>

/* A buffer for one escaped string: the escapers say how much they need. */
static char *escaped(size_t (*escape)(const char *, char *, size_t), const char *s)
{
	char small[512];
	size_t n = escape(s, small, sizeof(small));
	char *out = malloc(n + 1);
	if (!out)
		abort();
	if (n < sizeof(small))
		memcpy(out, small, n + 1);
	else
		escape(s, out, n + 1);
	return out;
}

void html_put_text(FILE *out, const char *s)
{
	if (!s)
		return;
	char *e = escaped(xml_escape, s);
	fputs(e, out);
	free(e);
}

void html_put_json_string(FILE *out, const char *s)
{
	if (!s) {
		fputs("null", out);
		return;
	}
	char *e = escaped(json_escape, s);
	putc('"', out);
	/* json_escape leaves < > & as they are and never puts them inside an
	 * escape of its own, so replacing them here is safe. */
	for (const char *p = e; *p; p++) {
		if (*p == '<')
			fputs("\\u003c", out);
		else if (*p == '>')
			fputs("\\u003e", out);
		else if (*p == '&')
			fputs("\\u0026", out);
		else
			putc(*p, out);
	}
	putc('"', out);
	free(e);
}
