/* bundle_header: the firmware bundle's text header (docs/ota-protocol.md,
 * "Firmware bundle"), the one codec the harness (builds, publishes and boots
 * bundles) and the guest agent (verifies what it downloaded) share. Pure: no
 * I/O, no allocation.
 *
 *   VHFW1\n version=V\n bugs=B\n kernel_size=N\n initrd_size=M\n
 *   sha256=<hex of the payload>\n \n <kernel><initrd>
 *
 * The rules, one set for both sides:
 * - The header starts with exactly "VHFW1\n" and ends at the first empty
 *   line; magic to blank line inclusive is at most BUNDLE_HEADER_MAX bytes.
 * - No NUL byte anywhere in it. Lines end with '\n' alone ('\r' is an
 *   ordinary byte, so "\r\n" lines fail the value rules below).
 * - Every other line is key=value, the key 1+ chars of [a-z0-9_] and the
 *   value everything after the first '='. Each key at most once: a header
 *   with two version= lines means two things, so it is rejected.
 * - Unknown keys are skipped (a newer writer may add fields), after the same
 *   syntax checks.
 * - Required: version, kernel_size, initrd_size, sha256. bugs defaults to "".
 * - version: bundle_version_valid; bugs: bundle_bugs_valid.
 * - kernel_size, initrd_size: decimal digits, no sign, no leading zero
 *   ("0" itself is fine), and header + kernel + initrd <= INT64_MAX so every
 *   offset into the bundle fits an off_t.
 * - sha256: exactly 64 lowercase hex digits. One spelling only: the digest is
 *   compared as a string everywhere (offer line, download state, the hash the
 *   agent computes), and the writer is ours; accepting "ABC" too would give
 *   one bundle two identities. */
#ifndef VH_BUNDLE_HEADER_H
#define VH_BUNDLE_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BUNDLE_MAGIC "VHFW1\n"
/* the header, blank line included, never exceeds this */
#define BUNDLE_HEADER_MAX 4096u
#define BUNDLE_VERSION_MAX 64u
#define BUNDLE_BUGS_MAX 512u

struct bundle_header {
	char version[BUNDLE_VERSION_MAX]; /* bundle_version_valid */
	char bugs[BUNDLE_BUGS_MAX];	  /* bundle_bugs_valid, may be empty */
	uint64_t kernel_size;
	uint64_t initrd_size;
	char sha256[65];    /* lowercase hex of kernel+initrd bytes */
	size_t header_size; /* bytes up to and including the blank line */
};

/* Total bytes of the bundle h describes: header + kernel + initrd (never
 * wraps for a parsed header). */
uint64_t bundle_total_size(const struct bundle_header *h);

/* True when s is a valid bundle version: 1..63 chars of [A-Za-z0-9._+-],
 * without "..", so it is safe in a URL path, a file name and the kernel
 * command line. */
bool bundle_version_valid(const char *s);

/* True when s is a valid bugs list: up to 511 chars of [a-z0-9_,-] (no
 * spaces: it goes into k=v lines). The empty list is valid. */
bool bundle_bugs_valid(const char *s);

/* Parses the header at the start of buf (len bytes, may hold more than the
 * header) by the rules above. Returns 0 and fills *h; -ENODATA when buf ends
 * before the blank line, len < BUNDLE_HEADER_MAX and nothing seen so far is
 * wrong (read more and retry); -EINVAL for anything malformed, with a
 * message in err (may be NULL). *h is only meaningful after 0. */
int bundle_header_parse(const uint8_t *buf, size_t len, struct bundle_header *h, char *err,
			size_t errlen);

/* Formats the header for h's fields into out (outlen bytes, NUL-terminated)
 * and returns its length (what bundle_header_parse would give as
 * header_size), or -EINVAL (a field breaks the rules) / -ENOSPC (outlen too
 * small). h's header_size is ignored. */
int bundle_header_format(const struct bundle_header *h, char *out, size_t outlen);

#endif
