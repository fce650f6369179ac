/* fw_env_fixture: what the interop tests against Debian's libubootenv-tool
 * (fw_printenv / fw_setenv) share: a scratch directory with an env image and
 * an fw_env.config naming both redundant copies (the v0 layout), ways to run
 * the tools on it, and the CHECK that counts failures and leaves the test.
 *
 * A test's main calls fwenv_setup() first (it exits 77 when the tools are
 * missing, so the test is reported as skipped) and returns fwenv_finish(). */
#ifndef VH_FW_ENV_FIXTURE_H
#define VH_FW_ENV_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ubootenv.h"

/* The image and the two-copy config, valid after fwenv_setup(). */
extern const char *fwenv_image, *fwenv_config;
extern int fwenv_failures;

/* A failed check reports and leaves the test function: the checks after it
 * would only report the same cause again. */
#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond);                 \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			fwenv_failures++;                                                          \
			return;                                                                    \
		}                                                                                  \
	} while (0)

/* Exits 77 without fw_printenv/fw_setenv, 1 if the scratch files cannot be
 * made. tag names the directory under /tmp, so a leftover says whose it is;
 * image_size is what fwenv_fresh_image() makes. */
void fwenv_setup(const char *tag, size_t image_size);
/* 0 if every check passed (printing "<what>: all passed"), else 1. */
int fwenv_finish(const char *what);

/* A path for name in the scratch directory, removed at exit with the rest,
 * even when a failed CHECK left the test before its own clean-up. */
const char *fwenv_file(const char *name);
/* The image, all zeroes: no valid copy. Exits on error. */
void fwenv_fresh_image(void);

/* Runs argv (no shell: values may hold spaces) with stdout captured into out
 * (NUL-terminated, truncated to outlen-1; may be NULL) and stderr discarded.
 * The exit status, or -1 if it could not start or did not exit normally. */
int fwenv_run(char *const argv[], char *out, size_t outlen);
/* fw_printenv's value of key, newline stripped, in a static buffer; NULL
 * if fw_printenv failed (key unset, or no valid copy). */
const char *fwenv_get(const char *key);
/* fw_setenv key value; value NULL deletes. The exit status. */
int fwenv_set(const char *key, const char *value);
/* Whether fw_printenv lists exactly env; if not, prints both listings. */
bool fwenv_printenv_agrees(const struct ubootenv *env);

#endif
