/* agent_sha256: SHA-256 (FIPS 180-4) for verifying a firmware bundle's
 * payload. Pure, libc only: the agent is a static binary without libraries.
 * Temporary: guest-agent/shared/sha256 may replace it (one of the two goes). */
#ifndef VH_AGENT_SHA256_H
#define VH_AGENT_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define AGENT_SHA256_DIGEST_SIZE 32
#define AGENT_SHA256_HEX_SIZE 65 /* 64 hex digits + NUL */

struct agent_sha256 {
	uint32_t state[8];
	uint64_t total_bytes;
	uint8_t block[64];
	size_t block_len;
};

/* Starts a new hash in *ctx. */
void agent_sha256_init(struct agent_sha256 *ctx);

/* Adds len bytes at data (any length, any alignment) to the hash. */
void agent_sha256_update(struct agent_sha256 *ctx, const void *data, size_t len);

/* Finishes the hash into digest; *ctx must be re-initialised before reuse. */
void agent_sha256_final(struct agent_sha256 *ctx, uint8_t digest[AGENT_SHA256_DIGEST_SIZE]);

/* Writes digest as 64 lowercase hex digits and a NUL into hex. */
void agent_sha256_hex(const uint8_t digest[AGENT_SHA256_DIGEST_SIZE],
		      char hex[AGENT_SHA256_HEX_SIZE]);

#endif
