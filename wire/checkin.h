/* checkin: the check-in channel (docs/ota-protocol.md, "Update server"), the
 * one codec the update server and the guest agent share. Pure: no I/O, no
 * allocation.
 *
 *   device -> server  GET /checkin?device=D&version=V&slot=S
 *   server -> device  heartbeat seq=N\n
 *                     offer version=V size=B sha256=H url=/firmware/V.bundle\n
 *
 * The v0 bytes are fixed; the rules that read them:
 * - Path: exactly "/checkin?" then '&'-separated key=value pairs, each key
 *   at most once, unknown keys skipped. device, version and slot are
 *   required, non-empty, at most CHECKIN_VALUE_MAX - 1 bytes once decoded. Values are
 * percent-encoded except [A-Za-z0-9._~+-], which go as they are ('+' too: it is literal, never a
 * space), so every v0 path is unchanged and any device name still arrives whole. %00 and malformed
 * escapes are rejected.
 * - Lines: a type word, then words of key=value (key [a-z0-9_]+) separated by
 *   spaces, in any order. Unknown keys are skipped; a key given twice
 *   rejects the line (as in the bundle header). A line of an unknown type is
 *   CHECKIN_OTHER: still a sign of life, its words unchecked.
 * - heartbeat needs seq; offer needs version (bundle_version_valid), size
 *   (> 0, <= INT64_MAX), sha256 (64 lowercase hex, as in the bundle header)
 *   and url (starts with '/'). Numbers are decimal, no sign, no leading
 *   zero. */
#ifndef VH_CHECKIN_H
#define VH_CHECKIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bundle_header.h"

/* device, version and slot of a check-in, NUL included */
#define CHECKIN_VALUE_MAX 64u
/* a check-in path: three values, each up to 3x when percent-encoded */
#define CHECKIN_PATH_MAX 640u
/* a server line, newline included, fits this */
#define CHECKIN_LINE_MAX 512u
#define CHECKIN_URL_MAX 256u

struct checkin_request {
	char device[CHECKIN_VALUE_MAX];
	char version[CHECKIN_VALUE_MAX];
	char slot[CHECKIN_VALUE_MAX];
};

/* Formats "/checkin?device=D&version=V&slot=S" into buf (cap bytes,
 * NUL-terminated), percent-encoding as above. Returns the length, -EINVAL
 * when a value is empty or too long, or -ENOSPC. */
int checkin_format_path(char *buf, size_t cap, const char *device, const char *version,
			const char *slot);

/* Parses a request target (path and query, as on the request line) into
 * *req. Returns 0, or -EINVAL with a message in err (may be NULL). */
int checkin_parse_path(const char *target, struct checkin_request *req, char *err, size_t errlen);

/* "/firmware/V.bundle", where the server serves version V and an offer
 * points. Returns the length, -EINVAL for an invalid version, or -ENOSPC. */
int checkin_format_firmware_path(char *buf, size_t cap, const char *version);

enum checkin_type {
	CHECKIN_HEARTBEAT,
	CHECKIN_OFFER,
	CHECKIN_OTHER, /* a type v0 does not know */
};

struct checkin_msg {
	enum checkin_type type;
	uint64_t seq;			  /* heartbeat */
	char version[BUNDLE_VERSION_MAX]; /* offer */
	uint64_t size;			  /* the whole bundle */
	char sha256[65];		  /* the bundle header's */
	char url[CHECKIN_URL_MAX];
};

/* Formats "heartbeat seq=N\n" into buf. Returns the length or -ENOSPC. */
int checkin_format_heartbeat(char *buf, size_t cap, uint64_t seq);

/* Formats "offer version=V size=B sha256=H url=/firmware/V.bundle\n" into
 * buf. Returns the length, -EINVAL when a field breaks the rules, or
 * -ENOSPC. */
int checkin_format_offer(char *buf, size_t cap, const char *version, uint64_t size,
			 const char *sha256);

/* Parses one line (line[0..len), without its "\n" or "\r\n", as from
 * base/lines.h) into *msg. Returns 0, or -EINVAL for the empty line, a NUL
 * byte, a line that starts with a space (no kind word), or a heartbeat/offer
 * that breaks the rules. */
int checkin_parse_line(const char *line, size_t len, struct checkin_msg *msg);

#endif
