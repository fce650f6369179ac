/* Text fields of the wire formats: see fields.h. */
#include "fields.h"

#include <string.h>

bool wire_key_valid(const char *k, size_t len, bool uppercase)
{
	if (len == 0)
		return false;
	char lo = uppercase ? 'A' : 'a', hi = uppercase ? 'Z' : 'z';
	for (size_t i = 0; i < len; i++)
		if (!((k[i] >= lo && k[i] <= hi) || (k[i] >= '0' && k[i] <= '9') || k[i] == '_'))
			return false;
	return true;
}

bool wire_field_seen(const char *text, size_t end, char sep, const char *key, size_t key_len)
{
	for (size_t i = 0; i + key_len < end; i++)
		if ((i == 0 || text[i - 1] == sep) && memcmp(text + i, key, key_len) == 0 &&
		    text[i + key_len] == '=')
			return true;
	return false;
}

bool wire_copy_value(char *out, size_t cap, const char *val, size_t len)
{
	if (len >= cap)
		return false;
	memcpy(out, val, len);
	out[len] = '\0';
	return true;
}

bool wire_decimal_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	if (len == 0 || (len > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

bool wire_sha256_valid(const char *s, size_t len)
{
	if (len != 64)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int wire_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
