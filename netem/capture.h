/* Captures (DESIGN §7 `<network>.pcap`): classic pcap files (DLT_EN10MB, snaplen
 * 65535, microsecond timestamps) written through libpcap, optionally with a second
 * file for frames the user backend dropped (`<network>-dropped.pcap`). Every frame is
 * flushed as it is written, so a harness that is killed leaves readable files. */
#ifndef VH_CAPTURE_H
#define VH_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

/* The longest part of a frame kept in the file; longer frames are truncated, with
 * their original length recorded. */
#define CAPTURE_SNAPLEN 65535u

struct capture;

/* Creates (truncates) the pcap file `path` and, when dropped_path is not NULL, a
 * second one for dropped frames. Returns a capture the caller owns and releases with
 * capture_close(), or NULL with a one-line reason in err (nothing is left open; a
 * file already created stays on disk). */
struct capture *capture_open(const char *path, const char *dropped_path, char *err, size_t errlen);

/* Appends one frame of len bytes stamped ts_unix_ns (ns since the Unix epoch, as
 * CLOCK_REALTIME gives: pcap readers show wall time) to the main file and flushes it.
 * The frame is copied; the caller keeps it. Returns 0, or -1 when the write failed
 * (the first failure is kept for capture_error()). */
int capture_frame(struct capture *c, uint64_t ts_unix_ns, const void *frame, size_t len);

/* As capture_frame(), to the dropped-frames file; 0 and nothing written when the
 * capture has none. */
int capture_dropped(struct capture *c, uint64_t ts_unix_ns, const void *frame, size_t len);

/* The first write error as one line, or NULL when every write succeeded. Owned by c. */
const char *capture_error(const struct capture *c);

/* Frames written so far to the main and the dropped file. */
uint64_t capture_count(const struct capture *c);
uint64_t capture_dropped_count(const struct capture *c);

/* Flushes and closes both files and frees c; NULL is ignored. Returns 0, or -1 when
 * a write or the close failed at any time during the capture. */
int capture_close(struct capture *c);

/* CLOCK_REALTIME now, in ns: the stamp capture_frame() expects. */
uint64_t capture_now_ns(void);

#endif
