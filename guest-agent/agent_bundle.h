/* agent_bundle: the firmware bundle's text header (docs/ota-protocol.md,
 * "Firmware bundle"): "VHFW1\n", key=value lines, an empty line, then the
 * payload (kernel + initrd). Pure: no I/O. */
#ifndef VH_AGENT_BUNDLE_H
#define VH_AGENT_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "agent_config.h"
#include "sha256.h"

#define AGENT_BUNDLE_HEADER_MAX 4096

struct agent_bundle {
	size_t header_len;                 /* payload starts here */
	char version[AGENT_CONFIG_STR_MAX];
	char bugs[256];
	unsigned long long kernel_size, initrd_size;
	char sha256[SHA256_HEX_SIZE]; /* lowercase hex, over the payload */
};

/* Parses the header at buf[0..len) (len may exceed the header). Returns 0
 * with *b filled, 1 when the empty line has not been seen and len is below
 * AGENT_BUNDLE_HEADER_MAX (give it more bytes), or -1 when malformed: wrong
 * magic, a line without '=', a missing or bad version/kernel_size/
 * initrd_size/sha256, a header longer than AGENT_BUNDLE_HEADER_MAX. Unknown
 * keys are ignored. */
int agent_bundle_parse(const uint8_t *buf, size_t len, struct agent_bundle *b);

/* Total bundle size the header promises: header + kernel + initrd. */
unsigned long long agent_bundle_size(const struct agent_bundle *b);

#endif
