/* boot_args: ${name} in a firmware's append (rules in the header). */
#include "boot_args.h"

#include <stdio.h>
#include <string.h>

static const char *const names[] = { "device", "ip", "prefix", "gateway", "server", "mac", NULL };

static const char *value_of(const struct boot_args_vars *v, int i)
{
	const char *const values[] = { v->device, v->ip, v->prefix, v->gateway, v->server, v->mac };
	return values[i];
}

/* The variable at s (just past "${"): its index and length, or -1. */
static int lookup(const char *s, size_t *len)
{
	const char *close = strchr(s, '}');
	if (!close)
		return -1;
	*len = (size_t)(close - s);
	for (int i = 0; names[i]; i++)
		if (strlen(names[i]) == *len && !strncmp(s, names[i], *len))
			return i;
	return -1;
}

/* The message for a "$" that starts no known variable at p. */
static void bad_token(const char *p, char *err, size_t errlen)
{
	const char *close = p[1] == '{' ? strchr(p, '}') : NULL;
	int tlen = close ? (int)(close - p) + 1 : p[1] == '{' ? (int)strlen(p) : p[1] ? 2 : 1;
	snprintf(err, errlen,
		 "append: %s \"%.*s\": use ${device}, ${ip}, ${prefix}, ${gateway}, ${server}, "
		 "${mac}, or $$ for a $",
		 p[1] == '{' && !close ? "unclosed" : "unknown", tlen, p);
}

/* Walks tmpl; with v, writes the expansion to out. */
static int walk(const char *tmpl, const struct boot_args_vars *v, char *out, size_t len, char *err,
		size_t errlen)
{
	size_t n = 0;
	for (const char *p = tmpl; *p;) {
		const char *piece = p;
		size_t plen = 1;
		if (*p == '$') {
			size_t vlen = 0;
			int i = p[1] == '{' ? lookup(p + 2, &vlen) : -1;
			if (p[1] == '$') {
				plen = 2;
				piece = "$";
			} else if (i < 0) {
				bad_token(p, err, errlen);
				return -1;
			} else {
				plen = vlen + 3;
				piece = v ? value_of(v, i) : "";
				if (!piece) {
					snprintf(err, errlen, "append: ${%s}: device %s has no %s",
						 names[i], v->device ? v->device : "?",
						 i == 4 ? "update server (server = ...)"
							: "network (network = ...)");
					return -1;
				}
			}
			if (v) {
				size_t k = strlen(piece);
				if (n + k >= len) {
					snprintf(err, errlen, "append: longer than %zu bytes",
						 len - 1);
					return -1;
				}
				memcpy(out + n, piece, k);
				n += k;
			}
			p += plen;
			continue;
		}
		if (v) {
			if (n + 1 >= len) {
				snprintf(err, errlen, "append: longer than %zu bytes", len - 1);
				return -1;
			}
			out[n++] = *piece;
		}
		p += plen;
	}
	if (v)
		out[n] = '\0';
	return 0;
}

int boot_args_check(const char *tmpl, char *err, size_t errlen)
{
	return walk(tmpl, NULL, NULL, 0, err, errlen);
}

int boot_args_expand(const char *tmpl, const struct boot_args_vars *v, char *out, size_t len,
		     char *err, size_t errlen)
{
	if (len == 0)
		return -1;
	return walk(tmpl, v, out, len, err, errlen);
}
