/* What U-Boot itself does with env values, for the profiles whose rules are
 * U-Boot scripts or U-Boot C code (mender, rauc, swupdate). Read from U-Boot
 * v2025.10+ (u-boot/u-boot at 6073c36b): lib/strto.c, env/common.c,
 * cmd/test.c, common/cli_hush.c. ulong is 64 bits, as on the 64-bit boards
 * vharness plays. */
#ifndef VH_UBOOT_SHELL_H
#define VH_UBOOT_SHELL_H

#include <stdbool.h>
#include <stdint.h>

/* simple_strtoul (lib/strto.c:58): base 0 takes "0x" as hex and a leading
 * "0" as octal; base 10 or 16 still skips a "0x" prefix (as hex, even for
 * base 10: _parse_integer_fixup_radix); digits are read until the first
 * one that is not below the base; no sign, no leading space; overflow
 * wraps. "" and "x" are 0. */
uint64_t uboot_strtoul(const char *s, unsigned base);

/* The digits of s in base (2..16) until the first that is not one, with
 * no prefix handling: simple_strtoul's loop (lib/strto.c:65-68). */
uint64_t uboot_digits(const char *s, unsigned base);

/* simple_strtol (lib/strto.c:115-121): a leading '-' negates; the rest as
 * uboot_strtoul, cast to a signed long (so 0xffffffffffffffff is -1). */
int64_t uboot_strtol(const char *s, unsigned base);

/* env_get_ulong (env/common.c:323): def when value is NULL (unset), else
 * uboot_strtoul(value, base). */
uint64_t uboot_env_ulong(const char *value, unsigned base, uint64_t def);

/* Whether value can be substituted unquoted into a hush command as one
 * word (or none, when empty or NULL) the way the scripts assume: no
 * whitespace, no quote, backslash, '$', ';', '&', '|', '<', '>', '(', ')',
 * '{', '}', '#' or '`'. U-Boot's hush re-parses a command after
 * substitution (make_string), so a value holding any of these runs other
 * commands or splits into several words: the profiles refuse to guess
 * what a script does with it. */
bool uboot_hush_plain(const char *value);

/* `test ${var} = lit` in U-Boot's hush, for a hush-plain value: an unset or
 * empty var expands to no word, leaving `test = lit`, which cmd/test.c
 * (its "i == ARRAY_SIZE(op_adv)" branch) evaluates as true; otherwise a
 * string comparison. */
bool uboot_test_unquoted_eq(const char *value, const char *lit);

#endif
