/* The word-level pieces every command's option parser uses (cli.c for
 * run/check/..., sweep.c for sweep), so the options read alike everywhere. */
#ifndef VH_CLI_ARGS_H
#define VH_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Formats the message into err and returns -1, for `return usage_error(...)`. */
int cli_usage_error(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Decimal only (a zero-padded seed must replay as the same number): 0, or
 * -1 for anything else, empty, or out of range. */
int cli_parse_u64(const char *s, uint64_t *out);

/* --seed's value (run and sweep): 0, or -1 with the usage error in err. */
int cli_parse_seed(const char *v, uint64_t *seed, char *err, size_t errlen);

/* True when arg is name or name=value. */
bool cli_is_option(const char *arg, const char *name);

/* The option's value, from "--opt=value" or the next word (advancing *i);
 * NULL when missing. */
const char *cli_option_value(int argc, char **argv, int *i, const char *name);

#endif
