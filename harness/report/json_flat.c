/* Flat JSON objects: see json_flat.h. */
#include "json_flat.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

static size_t put_utf8(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int hex4(const char *p, uint32_t *out)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Parses a string at *pp (at its opening quote) into a new buffer. */
static char *parse_string(const char **pp, char *err, size_t errlen)
{
	const char *p = *pp + 1;
	/* Decoded text is never longer than its escaped form. */
	const char *end = p;
	while (*end && *end != '"')
		end += (*end == '\\' && end[1]) ? 2 : 1;
	if (*end != '"') {
		fail(err, errlen, "unterminated string");
		return NULL;
	}
	char *out = malloc((size_t)(end - p) + 1), *o = out;
	if (!out) {
		fail(err, errlen, "out of memory");
		return NULL;
	}
	while (p < end) {
		if (*p != '\\') {
			*o++ = *p++;
			continue;
		}
		p++;
		char c = *p++;
		uint32_t cp;
		switch (c) {
		case '"':
		case '\\':
		case '/':
			*o++ = c;
			break;
		case 'b':
			*o++ = '\b';
			break;
		case 'f':
			*o++ = '\f';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'u':
			if (end - p < 4 || hex4(p, &cp) < 0) {
				free(out);
				fail(err, errlen, "bad \\u escape");
				return NULL;
			}
			p += 4;
			if (cp >= 0xd800 && cp < 0xdc00 && end - p >= 6 && p[0] == '\\' &&
			    p[1] == 'u') {
				uint32_t lo;
				if (hex4(p + 2, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					p += 6;
				}
			}
			if (cp == 0 || (cp >= 0xd800 && cp < 0xe000))
				cp = 0xfffd;
			/* A \u escape of n bytes decodes to at most n bytes. */
			o += put_utf8(o, cp);
			break;
		default:
			free(out);
			fail(err, errlen, "bad escape \\%c", c ? c : '0');
			return NULL;
		}
	}
	*o = '\0';
	*pp = end + 1;
	return out;
}

/* A number or literal: copied as written. */
static char *parse_scalar(const char **pp, bool *is_null, char *err, size_t errlen)
{
	const char *p = *pp;
	size_t n = strspn(p, "0123456789+-.eEtruefalsn");
	if (n == 0) {
		fail(err, errlen,
		     *p == '{' || *p == '[' ? "nested values are not events" : "a value expected");
		return NULL;
	}
	*is_null = n == 4 && !strncmp(p, "null", 4);
	char *out = strndup(p, n);
	if (!out)
		fail(err, errlen, "out of memory");
	*pp = p + n;
	return out;
}

int json_flat_parse(const char *line, struct json_flat *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	const char *p = skip_space(line);
	if (*p != '{')
		return fail(err, errlen, "not a JSON object");
	p = skip_space(p + 1);
	if (*p == '}')
		return *skip_space(p + 1) ? fail(err, errlen, "text after the object") : 0;
	for (;;) {
		if (*p != '"')
			return fail(err, errlen, "a key expected");
		if (out->n == JSON_FLAT_MAX_FIELDS)
			return fail(err, errlen, "more than %d fields", JSON_FLAT_MAX_FIELDS);
		char *key = parse_string(&p, err, errlen);
		if (!key)
			return -1;
		out->keys[out->n] = key;
		p = skip_space(p);
		if (*p != ':') {
			out->n++;
			return fail(err, errlen, "':' expected after \"%s\"", key);
		}
		p = skip_space(p + 1);
		bool is_null = false, is_string = *p == '"';
		char *value = *p == '"' ? parse_string(&p, err, errlen)
					: parse_scalar(&p, &is_null, err, errlen);
		out->is_string[out->n] = is_string;
		out->n++;
		if (!value)
			return -1;
		if (is_null)
			free(value), value = NULL;
		out->values[out->n - 1] = value;
		p = skip_space(p);
		if (*p == ',') {
			p = skip_space(p + 1);
			continue;
		}
		if (*p != '}')
			return fail(err, errlen, "',' or '}' expected");
		return *skip_space(p + 1) ? fail(err, errlen, "text after the object") : 0;
	}
}

void json_flat_free(struct json_flat *j)
{
	for (int i = 0; i < j->n; i++) {
		free(j->keys[i]);
		free(j->values[i]);
	}
	j->n = 0;
}

const char *json_flat_get(const struct json_flat *j, const char *key)
{
	for (int i = 0; i < j->n; i++)
		if (!strcmp(j->keys[i], key))
			return j->values[i];
	return NULL;
}
