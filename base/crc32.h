/* CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum U-Boot and
 * libubootenv put in front of every environment copy. Identical to zlib's
 * crc32(): kept here so the static guest agent needs nothing beyond libc. */
#ifndef VH_CRC32_H
#define VH_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continues a CRC over len bytes of buf and returns the new CRC. Start with
 * crc = 0; crc32_update(crc32_update(0, a, n), b, m) equals the CRC of a
 * followed by b. buf may be NULL only when len is 0. Pure, thread-safe. */
uint32_t crc32_update(uint32_t crc, const uint8_t *buf, size_t len);

#endif
