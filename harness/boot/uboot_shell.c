/* U-Boot's own handling of env values; see uboot_shell.h. */
#include "uboot_shell.h"

#include <string.h>

static unsigned uboot_digit(char c)
{
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (unsigned)(c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (unsigned)(c - 'A' + 10);
	return 256; /* above every base, as decode_digit's "invalid" */
}

uint64_t uboot_digits(const char *s, unsigned base)
{
	uint64_t v = 0;
	for (unsigned d; (d = uboot_digit(*s)) < base; s++)
		v = v * base + d;
	return v;
}

uint64_t uboot_strtoul(const char *s, unsigned base)
{
	/* _parse_integer_fixup_radix: "0x" wins over the caller's base */
	if (s[0] == '0') {
		if (s[1] == 'x' || s[1] == 'X') {
			base = 16;
			s += 2;
		} else if (base == 0) {
			base = 8;
		}
	}
	if (base == 0)
		base = 10;
	return uboot_digits(s, base);
}

int64_t uboot_strtol(const char *s, unsigned base)
{
	/* negate as unsigned: "-9223372036854775808" must not overflow */
	if (*s == '-')
		return (int64_t)(0 - uboot_strtoul(s + 1, base));
	return (int64_t)uboot_strtoul(s, base);
}

uint64_t uboot_env_ulong(const char *value, unsigned base, uint64_t def)
{
	return value ? uboot_strtoul(value, base) : def;
}

bool uboot_hush_plain(const char *value)
{
	return !value || value[strcspn(value, " \t\n\r\v\f'\"\\$;&|<>(){}#`")] == '\0';
}

bool uboot_test_unquoted_eq(const char *value, const char *lit)
{
	if (!value || !*value)
		return true;
	return strcmp(value, lit) == 0;
}
