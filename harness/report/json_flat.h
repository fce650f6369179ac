/* Reading back one line of events.jsonl: a flat JSON object whose values
 * are strings, numbers, true, false or null (what event_log_write writes).
 * A pure parser, so the report reads exactly what the harness wrote and
 * unit tests reach every branch. */
#ifndef VH_JSON_FLAT_H
#define VH_JSON_FLAT_H

#include <stdbool.h>
#include <stddef.h>

#define JSON_FLAT_MAX_FIELDS 48

struct json_flat {
	int n;
	char *keys[JSON_FLAT_MAX_FIELDS];
	/* Decoded: strings unescaped to UTF-8 (\u0000 becomes U+FFFD, lone
	 * surrogates too); numbers and literals as written; null as NULL. */
	char *values[JSON_FLAT_MAX_FIELDS];
	bool is_string[JSON_FLAT_MAX_FIELDS];
};

/* Parses line (without its newline) into out, which the caller frees with
 * json_flat_free (also after a failure). Returns 0, or -1 with a message
 * in err: not an object, a nested value, a bad escape, more than
 * JSON_FLAT_MAX_FIELDS fields, trailing text. */
int json_flat_parse(const char *line, struct json_flat *out, char *err, size_t errlen);
void json_flat_free(struct json_flat *j);

/* The value of key (NULL when absent or null). */
const char *json_flat_get(const struct json_flat *j, const char *key);

#endif
