/* Human durations for scenarios and the CLI: "30s", "500ms", "1.5s", "2m",
 * "1h", "250us" (rounded up to whole ms). A bare number means seconds. */
#ifndef VH_DURATION_H
#define VH_DURATION_H

#include <stdint.h>

/* Parses text into milliseconds. 0 on success; -1 when text is empty,
 * negative, has an unknown unit or trailing garbage, or overflows. */
int duration_parse_ms(const char *text, uint64_t *ms);

/* Formats ms as the shortest of "250ms", "1.5s", "30s", "2m" into buf. */
const char *duration_format(uint64_t ms, char *buf, int buflen);

#endif
