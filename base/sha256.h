/* SHA-256 (FIPS 180-4), shared by the harness (bundle builder, update server)
 * and the static guest agent (verifies a downloaded slot). libc only, no I/O:
 * the same bytes hash the same on both sides by construction. */
#ifndef VH_SHA256_H
#define VH_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32u
/* 64 hex digits and the terminating NUL */
#define SHA256_HEX_SIZE 65u

struct sha256_ctx {
	uint32_t state[8];
	uint64_t total_bytes;
	uint8_t block[64];
	size_t block_len;
};

/* Starts a new hash in *ctx (no allocation; nothing to free). */
void sha256_init(struct sha256_ctx *ctx);

/* Feeds len bytes of data; any split of the input gives the same digest. */
void sha256_update(struct sha256_ctx *ctx, const void *data, size_t len);

/* Writes the digest of everything fed so far to out. *ctx is spent
 * afterwards: sha256_init it again before reuse. */
void sha256_final(struct sha256_ctx *ctx, uint8_t out[SHA256_DIGEST_SIZE]);

/* Writes digest as 64 lowercase hex digits plus NUL to hex. */
void sha256_to_hex(const uint8_t digest[SHA256_DIGEST_SIZE], char hex[SHA256_HEX_SIZE]);

/* One-shot: the lowercase hex digest of len bytes of data. */
void sha256_hex(const void *data, size_t len, char hex[SHA256_HEX_SIZE]);

#endif
