#include "capture.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct capture_file {
	pcap_t *dead; /* pcap_dump_open needs a handle for the link type and snaplen */
	pcap_dumper_t *dumper;
	uint64_t count;
};

struct capture {
	struct capture_file main, dropped;
	char error[256]; /* first failure; "" while all is well */
};

uint64_t capture_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int file_open(struct capture_file *f, const char *path, char *err, size_t errlen)
{
	f->dead = pcap_open_dead(DLT_EN10MB, (int)CAPTURE_SNAPLEN);
	if (!f->dead) {
		snprintf(err, errlen, "%s: pcap_open_dead failed", path);
		return -1;
	}
	f->dumper = pcap_dump_open(f->dead, path);
	if (!f->dumper) {
		snprintf(err, errlen, "%s: %s", path, pcap_geterr(f->dead));
		pcap_close(f->dead);
		f->dead = NULL;
		return -1;
	}
	/* The header reaches the disk now, so even an empty capture is a valid file. */
	pcap_dump_flush(f->dumper);
	return 0;
}

static int file_close(struct capture_file *f)
{
	int rc = 0;
	if (f->dumper) {
		if (pcap_dump_flush(f->dumper) < 0)
			rc = -1;
		FILE *fp = pcap_dump_file(f->dumper);
		/* pcap_dump_close() hides fclose's result: close the FILE ourselves. */
		if (fp && fclose(fp) != 0)
			rc = -1;
		else if (!fp)
			pcap_dump_close(f->dumper);
		/* The dumper struct is the FILE itself in libpcap; nothing else to free. */
	}
	if (f->dead)
		pcap_close(f->dead);
	f->dumper = NULL;
	f->dead = NULL;
	return rc;
}

struct capture *capture_open(const char *path, const char *dropped_path, char *err, size_t errlen)
{
	struct capture *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (file_open(&c->main, path, err, errlen) < 0) {
		free(c);
		return NULL;
	}
	if (dropped_path && file_open(&c->dropped, dropped_path, err, errlen) < 0) {
		file_close(&c->main);
		free(c);
		return NULL;
	}
	return c;
}

static int file_write(struct capture *c, struct capture_file *f, uint64_t ts_unix_ns,
		      const void *frame, size_t len)
{
	if (!f->dumper)
		return 0;
	struct pcap_pkthdr h;
	memset(&h, 0, sizeof h);
	h.ts.tv_sec = (time_t)(ts_unix_ns / 1000000000u);
	h.ts.tv_usec = (suseconds_t)(ts_unix_ns % 1000000000u / 1000u);
	h.len = len > UINT32_MAX ? UINT32_MAX : (bpf_u_int32)len;
	h.caplen = len > CAPTURE_SNAPLEN ? CAPTURE_SNAPLEN : (bpf_u_int32)len;
	/* pcap_dump returns nothing: a failed write shows in the FILE's error flag. */
	pcap_dump((u_char *)f->dumper, &h, frame);
	FILE *fp = pcap_dump_file(f->dumper);
	if (pcap_dump_flush(f->dumper) < 0 || (fp && ferror(fp))) {
		if (!c->error[0])
			snprintf(c->error, sizeof c->error, "capture write failed: %s",
				 strerror(errno));
		return -1;
	}
	f->count++;
	return 0;
}

int capture_frame(struct capture *c, uint64_t ts_unix_ns, const void *frame, size_t len)
{
	return file_write(c, &c->main, ts_unix_ns, frame, len);
}

int capture_dropped(struct capture *c, uint64_t ts_unix_ns, const void *frame, size_t len)
{
	return file_write(c, &c->dropped, ts_unix_ns, frame, len);
}

const char *capture_error(const struct capture *c)
{
	return c->error[0] ? c->error : NULL;
}

uint64_t capture_count(const struct capture *c)
{
	return c->main.count;
}

uint64_t capture_dropped_count(const struct capture *c)
{
	return c->dropped.count;
}

int capture_close(struct capture *c)
{
	if (!c)
		return 0;
	int rc = c->error[0] ? -1 : 0;
	if (file_close(&c->main) < 0)
		rc = -1;
	if (file_close(&c->dropped) < 0)
		rc = -1;
	free(c);
	return rc;
}
