/* A device's traffic from the network captures (see timeline.h): frames
 * binned by second of the run, matched to devices by IPv4 address. Reads
 * the classic pcap files netem/capture.c writes, without libpcap, so the
 * report builds and reads artifacts anywhere. */
#include "timeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void count(struct timeline_lane *L, size_t second, uint32_t len, int way)
{
	if (second >= L->n_traffic) {
		size_t n = second + 1;
		struct timeline_traffic *grown = realloc(L->traffic, n * sizeof(*grown));
		if (!grown)
			abort();
		memset(grown + L->n_traffic, 0, (n - L->n_traffic) * sizeof(*grown));
		L->traffic = grown;
		L->n_traffic = n;
	}
	struct timeline_traffic *b = &L->traffic[second];
	if (way == 0)
		b->frames_to++, b->bytes_to += len;
	else if (way == 1)
		b->frames_from++, b->bytes_from += len;
	else
		b->frames_dropped++, b->bytes_dropped += len;
}

void timeline_add_frame(struct timeline *tl, double unix_time, const char *src, const char *dst,
			uint32_t len, bool dropped)
{
	double t = unix_time - tl->unix_start;
	/* A day past the start is a clock that jumped, not a frame to draw. */
	if (tl->unix_start <= 0 || t < 0 || t > 86400)
		return;
	size_t second = (size_t)t;
	for (int i = 0; i < tl->n_lanes; i++) {
		struct timeline_lane *L = &tl->lanes[i];
		if (L->kind != TIMELINE_DEVICE || !L->ip)
			continue;
		bool to = !strcmp(L->ip, dst), from = !strcmp(L->ip, src);
		if (to || from)
			count(L, second, len, dropped ? 2 : to ? 0 : 1);
	}
	if (t > tl->t_end)
		tl->t_end = t;
}

static uint32_t u32(const unsigned char *p, bool swap)
{
	return swap ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
		    : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static void dotted(char *out, size_t len, const unsigned char *ip)
{
	snprintf(out, len, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
}

long timeline_add_pcap(struct timeline *tl, const char *path, bool dropped)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	unsigned char head[24], rec[16], frame[34];
	if (fread(head, 1, sizeof(head), f) != sizeof(head)) {
		fclose(f);
		return -1;
	}
	uint32_t magic = u32(head, false);
	bool swap = magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1;
	bool nano = magic == 0xa1b23c4d || magic == 0x4d3cb2a1;
	if (!swap && magic != 0xa1b2c3d4 && !nano) {
		fclose(f);
		return -1;
	}
	if (u32(head + 20, swap) != 1) { /* LINKTYPE_ETHERNET */
		fclose(f);
		return -1;
	}
	long n = 0;
	while (fread(rec, 1, sizeof(rec), f) == sizeof(rec)) {
		uint32_t sec = u32(rec, swap), frac = u32(rec + 4, swap);
		uint32_t caplen = u32(rec + 8, swap), len = u32(rec + 12, swap);
		if (caplen > (1u << 24))
			break; /* not a record: a torn file */
		size_t head_len = caplen < sizeof(frame) ? caplen : sizeof(frame);
		if (fread(frame, 1, head_len, f) != head_len ||
		    fseek(f, (long)(caplen - head_len), SEEK_CUR) != 0)
			break;
		n++;
		/* IPv4 (ethertype 0x0800) with its addresses at 26 and 30. */
		if (head_len < 34 || frame[12] != 0x08 || frame[13] != 0x00)
			continue;
		char src[16], dst[16];
		dotted(src, sizeof(src), frame + 26);
		dotted(dst, sizeof(dst), frame + 30);
		double t = sec + frac / (nano ? 1e9 : 1e6);
		timeline_add_frame(tl, t, src, dst, len, dropped);
	}
	fclose(f);
	return n;
}
