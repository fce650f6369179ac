/* U-Boot environment block codec, shared by the harness (host side, edits the
 * disk image) and the static guest agent (edits its own disk).
 *
 * Format (libubootenv, redundant environment): each copy is
 *   [crc32 LE u32 over the data area][flags u8][data: "key=value\0"... "\0"]
 * padded to the copy size; the data area is everything after the flags byte.
 * Two copies live at fixed offsets of the disk image (v0 contract, DESIGN §5).
 *
 * Which copy is current follows libubootenv 0.3.2 exactly (checked against
 * Debian's fw_printenv/fw_setenv, see tests/integration/):
 *   - a copy is valid when its CRC matches; one valid copy wins outright;
 *   - both valid: the larger flags byte wins, ties go to copy 0, except the
 *     wrap pairs 255/0 where the copy with 0 wins;
 *   - a store writes the OTHER copy with flags = current flags + 1 (mod 256),
 *     so a write torn by a power cut leaves the current copy untouched.
 *
 * The core (init/get/set/decode/encode/free) does no I/O; ubootenv_file_load
 * and ubootenv_file_store are the thin fd shell around it. */
#ifndef VH_UBOOTENV_H
#define VH_UBOOTENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* v0 disk layout: two redundant copies of 128 KiB. */
#define UBOOTENV_COPY_SIZE 0x20000u
#define UBOOTENV_COPY0_OFFSET 0x2000u
#define UBOOTENV_COPY1_OFFSET 0x22000u
/* crc32 + flags byte in front of the data area */
#define UBOOTENV_HEADER_SIZE 5u
/* an environment kept in one copy has the crc32 alone */
#define UBOOTENV_SINGLE_HEADER_SIZE 4u

/* Where an environment lives in a file: one copy, or two redundant ones of
 * the same size (a line each of fw_env.config). */
struct ubootenv_layout {
	uint64_t offset[2];
	size_t size;
	int copies; /* 1 or 2 */
};
/* The reference firmware's: two copies of 128 KiB at 0x2000 and 0x22000. */
extern const struct ubootenv_layout ubootenv_layout_v0;

struct ubootenv_pair {
	char *key;   /* owned by the env, never contains '=' */
	char *value; /* owned by the env */
};

struct ubootenv {
	struct ubootenv_pair *pairs; /* in block order; new keys are appended */
	size_t count, cap;
	int active;    /* copy the pairs were read from (0, 1), -1 if none */
	uint8_t flags; /* flags byte of the active copy (see decode for -1) */
	/* Planted-bug mode: read and write copy 0 only, in place, so a torn write
	 * destroys the only copy the reader looks at. Never set it in real use. */
	bool single_copy;
	/* Planted-bug mode: a store writes through the page cache and never
	 * fsyncs, so the new copy is not on the flash until someone syncs. */
	bool no_sync;
};

/* Makes *env an empty environment with no active copy (a store then writes
 * copy 1 with flags 1, as libubootenv does on a blank image). Does not free
 * anything: use it on fresh memory only. */
void ubootenv_init(struct ubootenv *env);

/* Releases every pair and leaves *env empty (as after ubootenv_init, but
 * the planted-bug modes are kept). Safe to call twice. */
void ubootenv_free(struct ubootenv *env);

/* Returns the value of key, or NULL if absent. The string belongs to env and
 * stays valid until the next set/decode/free that touches it. */
const char *ubootenv_get(const struct ubootenv *env, const char *key);

/* Sets key to a copy of value, keeping the key's position when it exists and
 * appending it otherwise; value == NULL deletes the key (no error if absent).
 * Returns 0, -EINVAL for an empty key or one containing '=', -ENOMEM.
 * Space in the block is only checked by ubootenv_encode. */
int ubootenv_set(struct ubootenv *env, const char *key, const char *value);

/* Picks the current copy among copy0 and copy1 (each size bytes, header
 * included) with libubootenv's rule and loads its pairs into env, replacing
 * what env held (env must be initialised; single_copy is kept). copy1 may be
 * NULL: only copy0 is considered. Lines without '=' are skipped and a repeated
 * key keeps its last value, as libubootenv does; an unterminated last line is
 * ignored. Returns the copy used (0 or 1), or -1 when neither is valid: env is
 * then empty and usable, env->active is -1 and env->flags is copy0's raw flags
 * byte (what libubootenv increments in that case); the caller decides the
 * defaults; also -1 when size does not exceed UBOOTENV_HEADER_SIZE, and
 * -ENOMEM (env empty) when the pairs cannot be allocated. */
int ubootenv_decode(const uint8_t *copy0, const uint8_t *copy1, size_t size, struct ubootenv *env);

/* Loads a copy of an environment kept without redundancy (crc32, then
 * data: no flags byte). Returns 0, or -1 when its CRC does not match (env is
 * then empty), or -ENOMEM. */
int ubootenv_decode_single(const uint8_t *copy, size_t size, struct ubootenv *env);

/* Bytes of data area env needs: every "key=value\0" plus the final "\0". */
size_t ubootenv_data_size(const struct ubootenv *env);

/* Which copy the next store overwrites: the inactive one (1 when there is no
 * active copy, as libubootenv), or 0 in single_copy mode. */
int ubootenv_target_copy(const struct ubootenv *env);

/* Serialises env as one complete copy of size bytes into out (caller-owned),
 * with flags = env->flags + 1 mod 256, written to *flags_out if non-NULL. The
 * data area is padded with 0x00. env is not modified: call ubootenv_committed
 * once the copy is durably written. Returns 0, -ENOSPC when the pairs do not
 * fit (out is then untouched), -EINVAL when size is too small for a header. */
int ubootenv_encode(const struct ubootenv *env, uint8_t *out, size_t size, uint8_t *flags_out);

/* Serialises env as a copy kept without redundancy (crc32, data). 0,
 * -ENOSPC, -EINVAL as ubootenv_encode. */
int ubootenv_encode_single(const struct ubootenv *env, uint8_t *out, size_t size);

/* Records that a copy encoded with flags is now durably stored as copy, so it
 * becomes the active one and the next store goes to the other copy. */
void ubootenv_committed(struct ubootenv *env, int copy, uint8_t flags);

/* As ubootenv_file_load and ubootenv_file_store, for the environment at
 * layout l of the file (a user's disk image, from its fw_env.config). With
 * one copy the store writes it in place. */
int ubootenv_file_load_layout(const char *path, const struct ubootenv_layout *l,
			      struct ubootenv *env, char *err, size_t errlen);
int ubootenv_file_store_layout(const char *path, const struct ubootenv_layout *l,
			       struct ubootenv *env, char *err, size_t errlen);

/* Reads both copies from the file or block device at path (v0 offsets) and
 * decodes them into env (initialised by the caller; only copy 0 is read in
 * single_copy mode). Returns the copy used, -ENODATA when neither copy is
 * valid (env empty and usable, as for decode), or another negative errno on
 * I/O failure (short file included). On failure a message goes to err. */
int ubootenv_file_load(const char *path, struct ubootenv *env, char *err, size_t errlen);

/* Encodes env and writes it over the inactive copy of the file at path with
 * one pwrite, then fsyncs; only then does env record the new copy as active.
 * The old copy is never touched, so a power cut at any point leaves a valid
 * environment (the old or the new one). env should come from
 * ubootenv_file_load of the same file, or be fresh from ubootenv_init. Returns
 * 0 or a negative errno (-ENOSPC: env too large) with a message in err. */
int ubootenv_file_store(const char *path, struct ubootenv *env, char *err, size_t errlen);

#endif
