/* release: /etc/vh-release, what a reference firmware build says about
 * itself (docs/ota-protocol.md, "Release file"). The harness writes it into
 * each build's initramfs (harness/ota/ab_boot.c); the agent reads it at boot
 * and reports what the image says, not what the bootloader claims. Pure: no
 * I/O, no allocation.
 *
 *   VERSION=2.0.0\n
 *   BUGS=no-backoff,single-env-copy\n
 *
 * Rules (os-release-like, without quoting):
 * - At most RELEASE_MAX bytes, no NUL byte.
 * - Lines end with '\n' (the last one may lack it); empty lines and lines
 *   starting with '#' are skipped; '\r' is an ordinary byte.
 * - Every other line is KEY=value, KEY of [A-Z0-9_]+, each key at most once
 *   (as in the bundle header), unknown keys skipped.
 * - VERSION is required and follows bundle_version_valid; BUGS (the planted
 *   bugs of this build, comma-separated) follows bundle_bugs_valid and
 *   defaults to empty. */
#ifndef VH_RELEASE_H
#define VH_RELEASE_H

#include <stddef.h>

#include "bundle_header.h"

#define RELEASE_PATH "/etc/vh-release"
#define RELEASE_MAX 1024u

/* The defects a reference firmware build can be planted with
 * (docs/ota-protocol.md), NULL-terminated. The harness checks a scenario's
 * bugs against it; the agent parses BUGS with it, bug i being bit i of its
 * mask, so a name is only ever appended. */
extern const char *const release_bug_names[];

struct release {
	char version[BUNDLE_VERSION_MAX];
	char bugs[BUNDLE_BUGS_MAX];
};

/* Formats "VERSION=<version>\nBUGS=<bugs>\n" into buf (cap bytes,
 * NUL-terminated). Returns the length, -EINVAL when a field breaks the
 * rules, or -ENOSPC. */
int release_format(const struct release *r, char *buf, size_t cap);

/* Parses text[0..len) into *r. Returns 0, or -EINVAL with a message in err
 * (may be NULL). */
int release_parse(const char *text, size_t len, struct release *r, char *err, size_t errlen);

#endif
