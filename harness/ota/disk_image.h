/* The reference firmware's disk image (docs/ota-protocol.md): a sparse file
 * with an MBR (p1 = slot a, p2 = slot b, p3 = data), two redundant U-Boot env
 * copies in the gap before p1, and one firmware bundle per slot. */
#ifndef VH_DISK_IMAGE_H
#define VH_DISK_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define DISK_IMAGE_MIB (1024u * 1024u)
#define DISK_IMAGE_SECTOR 512u
#define DISK_IMAGE_SLOT_A_OFFSET (1ull * DISK_IMAGE_MIB)
#define DISK_IMAGE_SLOT_B_OFFSET (41ull * DISK_IMAGE_MIB)
#define DISK_IMAGE_SLOT_SIZE (40ull * DISK_IMAGE_MIB)
#define DISK_IMAGE_DATA_OFFSET (81ull * DISK_IMAGE_MIB)
#define DISK_IMAGE_DATA_SIZE (8ull * DISK_IMAGE_MIB)
#define DISK_IMAGE_SIZE (89ull * DISK_IMAGE_MIB)
/* MBR disk signature ("VHFW" little-endian): fixed so images are reproducible */
#define DISK_IMAGE_DISK_ID 0x57464856u

/* Byte offset of slot 'a' or 'b' in the image, or -1 for any other char. */
int64_t disk_image_slot_offset(char slot);

/* Fills mbr (512 bytes) with the v0 partition table: three primary type
 * 0x83 partitions at the contract's LBA starts and sizes, CHS fields as
 * fdisk computes them for 255 heads / 63 sectors (capped at 1023/254/63),
 * no boot flag, disk id DISK_IMAGE_DISK_ID, signature 0x55 0xAA. Pure. */
void disk_image_mbr(uint8_t mbr[DISK_IMAGE_SECTOR]);

/* Creates (or truncates and recreates) the disk image at path: a sparse
 * DISK_IMAGE_SIZE file with the MBR, both env copies holding the defaults
 * boot_slot=a upgrade_available=0 bootcount=0 bootlimit=3 version_a=V
 * (V = version_a, or the bundle's own version when version_a is NULL), and
 * the bundle at bundle_path_for_slot_a copied into slot a (NULL leaves slot a
 * empty, i.e. unbootable; version_a is then omitted when NULL). Slot b is
 * left empty. The file is fsynced. On failure the partial image is removed.
 * Returns 0 or a negative errno (-EINVAL: not a bundle or too big for a
 * slot) with a message in err. */
int disk_image_create(const char *path, const char *bundle_path_for_slot_a, const char *version_a,
		      char *err, size_t errlen);

/* Copies the bundle file at bundle_path into slot 'a' or 'b' of the existing
 * image at path after checking that it parses and fits the slot, then
 * fsyncs. The env is not touched. Returns 0 or a negative errno with a
 * message in err. */
int disk_image_write_slot(const char *path, char slot, const char *bundle_path, char *err,
			  size_t errlen);

#endif
