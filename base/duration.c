#include "duration.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int duration_parse_ms(const char *text, uint64_t *ms)
{
	static const struct {
		const char *unit;
		double ms;
	} units[] = {
		{ "", 1000.0 },	 { "s", 1000.0 },  { "sec", 1000.0 },  { "ms", 1.0 },
		{ "us", 0.001 }, { "m", 60000.0 }, { "min", 60000.0 }, { "h", 3600000.0 },
	};
	if (!text)
		return -1;
	while (isspace((unsigned char)*text))
		text++;
	if (!isdigit((unsigned char)*text) && *text != '.')
		return -1;
	char *end;
	double v = strtod(text, &end);
	if (end == text || !isfinite(v) || v < 0)
		return -1;
	size_t ulen = strlen(end);
	while (ulen > 0 && isspace((unsigned char)end[ulen - 1]))
		ulen--;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strlen(units[i].unit) == ulen && strncmp(end, units[i].unit, ulen) == 0) {
			double us = v * units[i].ms * 1000.0;
			if (us > 1e15)
				return -1;
			/* Whole microseconds first, so "2.007s" is 2007 ms and not
			 * 2008 through floating-point noise; then round up to ms. */
			uint64_t whole_us = (uint64_t)llround(us);
			*ms = (whole_us + 999) / 1000;
			return 0;
		}
	}
	return -1;
}

const char *duration_format(uint64_t ms, char *buf, int buflen)
{
	if (ms < 1000)
		snprintf(buf, (size_t)buflen, "%llums", (unsigned long long)ms);
	else if (ms % 60000 == 0)
		snprintf(buf, (size_t)buflen, "%llum", (unsigned long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(buf, (size_t)buflen, "%llus", (unsigned long long)(ms / 1000));
	else {
		char frac[8];
		snprintf(frac, sizeof(frac), "%03llu", (unsigned long long)(ms % 1000));
		for (int i = 2; i > 0 && frac[i] == '0'; i--)
			frac[i] = '\0';
		snprintf(buf, (size_t)buflen, "%llu.%ss", (unsigned long long)(ms / 1000), frac);
	}
	return buf;
}
