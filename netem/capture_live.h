/* A live capture of one link into a capture (capture.h): the kernel backend's
 * `<network>.pcap`, where frames never pass through the harness. libpcap reads
 * the link (the network's bridge) through a non-blocking, selectable fd on the
 * harness's event loop (base/ev.h) and hands each frame to capture_frame().
 *
 * On a bridge the handle is promiscuous: the bridge then passes every frame
 * it forwards up to its own port as well, so frames between two devices are
 * captured too, not only those to and from the host side. Call after
 * sandbox_enter(): the link is looked up in the current network namespace. */
#ifndef VH_CAPTURE_LIVE_H
#define VH_CAPTURE_LIVE_H

#include <stddef.h>
#include <stdint.h>

struct capture;
struct capture_live;
struct ev_loop;

/* Starts capturing ifname into out (which the caller keeps owning and must
 * not close before capture_live_close). Returns a handle the caller releases
 * with capture_live_close(), or NULL with libpcap's reason in err. */
struct capture_live *capture_live_open(struct ev_loop *loop, const char *ifname,
				       struct capture *out, char *err, size_t errlen);

/* Writes the frames the kernel still holds, stops watching the fd and closes
 * the handle; NULL is ignored. Call while the link still exists: a deleted
 * link's handle reports an error instead of its last frames. */
void capture_live_close(struct capture_live *cl);

#endif
