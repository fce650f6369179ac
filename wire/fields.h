/* The small pieces the wire formats (bundle header, check-in lines and
 * path, release file) read their text with, so every format applies the same
 * rule to the same kind of field. Pure. */
#ifndef VH_WIRE_FIELDS_H
#define VH_WIRE_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A key: 1+ chars of [a-z0-9_], or [A-Z0-9_] when uppercase. */
bool wire_key_valid(const char *k, size_t len, bool uppercase);

/* Whether "key=" starts a field of text[0..end) (fields start at 0 or
 * after sep): a key given twice is found before the second one is read. */
bool wire_field_seen(const char *text, size_t end, char sep, const char *key, size_t key_len);

/* Copies val[0..len) as a string into out (cap bytes); false when it does
 * not fit. */
bool wire_copy_value(char *out, size_t cap, const char *val, size_t len);

/* Decimal digits only: no sign, no leading zero ("0" itself is fine), no
 * overflow. */
bool wire_decimal_u64(const char *s, size_t len, uint64_t *out);

/* Exactly 64 lowercase hex digits: one spelling of a digest. */
bool wire_sha256_valid(const char *s, size_t len);

/* The value of a hex digit (either case), or -1. */
int wire_hex_digit(int c);

#endif
