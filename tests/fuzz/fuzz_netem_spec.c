/* Fuzz target: the tc-netem spec parser (netem/netem_spec.h).
 *
 * Input: the spec text (bytes after a NUL are ignored, as the C string
 * interface would). Properties:
 *   - parse either succeeds or fails with an error whose offset lies inside
 *     the text and whose token and message are NUL-terminated strings;
 *   - round trip, the header's promise: parse(format(x)) succeeds and is
 *     netem_spec_equal to x, and formatting that again gives the same text;
 *   - netem_spec_format behaves like snprintf: the same length for any
 *     buffer size, always NUL-terminated, a prefix of the full text. */
#include "fuzz.h"
#include "netem_spec.h"

#include <stdlib.h>
#include <string.h>

/* The table form joins into 2 KiB; the text form has no limit of its own, but
 * long inputs only repeat what short ones reach. */
#define FUZZ_NETEM_TEXT_MAX 4096
#define FUZZ_NETEM_FORMAT_MAX 2048

static void check_error(const struct netem_error *err, size_t text_len)
{
	char line[512];

	FUZZ_CHECK(memchr(err->token, '\0', sizeof(err->token)) != NULL,
		   "error token not terminated");
	FUZZ_CHECK(memchr(err->message, '\0', sizeof(err->message)) != NULL,
		   "error message not terminated");
	FUZZ_CHECK(err->message[0] != '\0', "failure without a message");
	FUZZ_CHECK(err->offset <= text_len, "error offset %zu past the text (%zu bytes)",
		   err->offset, text_len);
	FUZZ_CHECK(netem_error_format(err, line, sizeof(line)) > 0, "empty error text");
}

static void check_format_truncation(const struct netem_spec *s, const char *full, size_t need)
{
	char small[64];

	for (size_t cap = 0; cap <= sizeof(small) && cap <= need + 1; cap += 7) {
		memset(small, 'X', sizeof(small));
		size_t n = netem_spec_format(s, small, cap);

		FUZZ_CHECK(n == need, "format into %zu bytes needed %zu, not %zu", cap, n, need);
		if (cap == 0)
			continue;
		size_t got = strnlen(small, cap);
		FUZZ_CHECK(got < cap, "format into %zu bytes left no NUL", cap);
		FUZZ_CHECK(got == (need < cap ? need : cap - 1),
			   "format into %zu bytes wrote %zu chars of %zu", cap, got, need);
		FUZZ_CHECK(memcmp(small, full, got) == 0,
			   "format into %zu bytes is not a prefix of \"%s\"", cap, full);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[FUZZ_NETEM_TEXT_MAX + 1];
	static char formatted[FUZZ_NETEM_FORMAT_MAX], again[FUZZ_NETEM_FORMAT_MAX];
	struct netem_spec spec, reparsed;
	struct netem_error err;
	size_t len = size < FUZZ_NETEM_TEXT_MAX ? size : FUZZ_NETEM_TEXT_MAX;

	memcpy(text, data, len);
	text[len] = '\0';
	len = strlen(text);

	if (netem_spec_parse(text, &spec, &err) != 0) {
		check_error(&err, len);
		return 0;
	}

	size_t need = netem_spec_format(&spec, formatted, sizeof(formatted));
	FUZZ_CHECK(need < sizeof(formatted), "normalised text of \"%s\" is %zu bytes", text, need);
	FUZZ_CHECK(strlen(formatted) == need, "format returned %zu for \"%s\"", need, formatted);
	check_format_truncation(&spec, formatted, need);

	if (netem_spec_parse(formatted, &reparsed, &err) != 0) {
		char why[512];

		netem_error_format(&err, why, sizeof(why));
		FUZZ_CHECK(false, "\"%s\" formats as \"%s\", which does not parse: %s", text,
			   formatted, why);
	}
	FUZZ_CHECK(netem_spec_equal(&spec, &reparsed),
		   "\"%s\" formats as \"%s\", which parses to a different spec", text, formatted);
	netem_spec_format(&reparsed, again, sizeof(again));
	FUZZ_CHECK(strcmp(formatted, again) == 0, "format is not stable: \"%s\" then \"%s\"",
		   formatted, again);
	return 0;
}
