/* agent_checkin: the check-in channel's lines (docs/ota-protocol.md, "Update
 * server"): parsing "heartbeat seq=N" and "offer version=V size=BYTES
 * sha256=HEX url=PATH" (base/lines.h cuts the body into lines). Pure: no I/O. */
#ifndef VH_AGENT_CHECKIN_H
#define VH_AGENT_CHECKIN_H

#include <stdbool.h>
#include <stddef.h>

#include "agent_config.h"
#include "sha256.h"

/* longer check-in lines are cut to this (the splitter's buffer) */
#define AGENT_CHECKIN_LINE_MAX 512
#define AGENT_CHECKIN_URL_MAX 256

enum agent_checkin_type {
	AGENT_CHECKIN_HEARTBEAT,
	AGENT_CHECKIN_OFFER,
	AGENT_CHECKIN_OTHER, /* a line of a kind v0 does not know: still a sign of life */
};

struct agent_checkin_msg {
	enum agent_checkin_type type;
	unsigned long long seq;                /* heartbeat */
	char version[AGENT_CONFIG_STR_MAX];    /* offer */
	unsigned long long size;
	char sha256[SHA256_HEX_SIZE];    /* lowercase */
	char url[AGENT_CHECKIN_URL_MAX];
};

/* Parses one line (without its newline) into *msg. Keys may come in any
 * order and unknown keys are ignored; an offer needs version (no spaces),
 * size > 0, a 64-hex-digit sha256 and a url starting with '/'; a heartbeat
 * needs seq. Returns 0, or -1 when a known line type is malformed (the empty
 * line is malformed too). */
int agent_checkin_parse_line(const char *line, struct agent_checkin_msg *msg);

/* Formats the check-in request path "/checkin?device=D&version=V&slot=S"
 * into buf. Returns 0, or -1 when it does not fit. */
int agent_checkin_format_path(char *buf, size_t cap, const char *device, const char *version,
			      const char *slot);

#endif
