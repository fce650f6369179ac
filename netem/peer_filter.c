/* Group partitions on the user backend: see peer_filter.h. */
#include "peer_filter.h"

#include <stdio.h>
#include <string.h>

uint32_t peer_filter_group(const struct peer_filter *f, const uint8_t mac[6])
{
	for (size_t i = 0; i < f->n; i++)
		if (!memcmp(f->entries[i].mac, mac, 6))
			return f->entries[i].group;
	return 0;
}

bool peer_filter_pass(const struct peer_filter *f, uint32_t own, bool to_device,
		      const uint8_t *frame, size_t len)
{
	if (len < 12)
		return false;
	const uint8_t *dst = frame, *src = frame + 6;
	if (to_device)
		return peer_filter_group(f, src) == own;
	/* The I/G bit of the first octet: broadcast and multicast. */
	if (dst[0] & 1)
		return true;
	return peer_filter_group(f, dst) == own;
}

int peer_filter_parse_mac(const char *text, uint8_t mac[6])
{
	unsigned b[6];
	char tail;
	if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != 6 ||
	    strlen(text) != 17)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}
