/* Live capture on the event loop: see capture_live.h. */
#include "capture_live.h"

#include "capture.h"
#include "ev.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

enum {
	/* Room for a burst (a TCG guest downloading at full speed) between two
	 * turns of the loop; the kernel drops what does not fit. */
	CAPTURE_LIVE_BUFFER_BYTES = 4 << 20,
	/* Frames handled per readable event, so one busy link cannot starve
	 * the consoles; the fd stays readable and the loop comes back. */
	CAPTURE_LIVE_BATCH = 256,
};

struct capture_live {
	struct ev_loop *loop;
	pcap_t *pcap;
	int fd;
	struct capture *out;
};

static void on_packet(u_char *arg, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct capture_live *cl = (struct capture_live *)arg;
	uint64_t ts_ns = (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec * 1000u;
	/* A write error is kept by the capture and reported when it closes. */
	capture_frame(cl->out, ts_ns, bytes, h->caplen);
}

static void on_readable(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	(void)loop, (void)fd, (void)events;
	struct capture_live *cl = arg;
	if (pcap_dispatch(cl->pcap, CAPTURE_LIVE_BATCH, on_packet, (u_char *)cl) < 0) {
		/* The link went away under us: nothing more will come. */
		ev_del_fd(cl->loop, cl->fd);
		cl->fd = -1;
	}
}

struct capture_live *capture_live_open(struct ev_loop *loop, const char *ifname,
				       struct capture *out, char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p = pcap_create(ifname, perr);
	if (!p) {
		snprintf(err, errlen, "capture on %s: %s", ifname, perr);
		return NULL;
	}
	pcap_set_snaplen(p, (int)CAPTURE_SNAPLEN);
	pcap_set_promisc(p, 1);
	/* Each frame as it comes, not when a ring block fills or times out. */
	pcap_set_immediate_mode(p, 1);
	pcap_set_buffer_size(p, CAPTURE_LIVE_BUFFER_BYTES);
	int rc = pcap_activate(p);
	if (rc < 0) {
		/* PCAP_ERROR's text is in the handle; the others are statuses. */
		snprintf(err, errlen, "capture on %s: %s", ifname,
			 rc == PCAP_ERROR ? pcap_geterr(p) : pcap_statustostr(rc));
		pcap_close(p);
		return NULL;
	}
	int fd = -1;
	if (pcap_datalink(p) != DLT_EN10MB) {
		snprintf(err, errlen, "capture on %s: not an Ethernet link", ifname);
	} else if (pcap_setnonblock(p, 1, perr) < 0) {
		snprintf(err, errlen, "capture on %s: %s", ifname, perr);
	} else if ((fd = pcap_get_selectable_fd(p)) < 0) {
		snprintf(err, errlen, "capture on %s: no selectable fd", ifname);
	}
	/* libpcap leaves its socket inheritable: QEMU and tc must not keep a
	 * promiscuous copy of the bridge's traffic queued for nobody. */
	if (fd >= 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		snprintf(err, errlen, "capture on %s: close-on-exec: %s", ifname, strerror(errno));
		fd = -1;
	}
	struct capture_live *cl = fd >= 0 ? calloc(1, sizeof(*cl)) : NULL;
	if (fd >= 0 && !cl)
		snprintf(err, errlen, "out of memory");
	if (!cl) {
		pcap_close(p);
		return NULL;
	}
	*cl = (struct capture_live){ .loop = loop, .pcap = p, .fd = fd, .out = out };
	int r = ev_add_fd(loop, fd, EPOLLIN, on_readable, cl);
	ev_fd_component(loop, fd, ev_component(loop, "capture"));
	if (r < 0) {
		snprintf(err, errlen, "capture on %s: cannot watch its fd: %s", ifname,
			 strerror(-r));
		pcap_close(p);
		free(cl);
		return NULL;
	}
	return cl;
}

void capture_live_close(struct capture_live *cl)
{
	if (!cl)
		return;
	if (cl->fd >= 0) {
		ev_del_fd(cl->loop, cl->fd);
		/* Whatever arrived since the loop last looked; non-blocking, so
		 * this ends when the kernel has nothing more. */
		while (pcap_dispatch(cl->pcap, CAPTURE_LIVE_BATCH, on_packet, (u_char *)cl) > 0)
			;
	}
	pcap_close(cl->pcap);
	free(cl);
}
