/* A run's timeline: what events.jsonl and the serial-<device>.log files of
 * one artifacts directory say happened, as lanes (the scenario, each
 * device, each network, each update server) holding markers (instants and
 * spans). The model the report page and trace.json are drawn from; built
 * without I/O by timeline_add_event / timeline_add_serial_line so unit
 * tests feed it lines, and from files by timeline_load. */
#ifndef VH_TIMELINE_H
#define VH_TIMELINE_H

#include "json_flat.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum timeline_lane_kind { TIMELINE_SCENARIO, TIMELINE_DEVICE, TIMELINE_NETWORK, TIMELINE_SERVER };

struct timeline_line {
	double t; /* seconds since the run's start, when the line's first byte came */
	char *text;
};

/* A device's traffic in one second of the run, [second, second + 1), from
 * the network captures: IPv4 frames to and from its address that were
 * delivered, and those dropped (either way). */
struct timeline_traffic {
	uint32_t frames_to, frames_from, frames_dropped;
	uint64_t bytes_to, bytes_from, bytes_dropped;
};

struct timeline_lane {
	enum timeline_lane_kind kind;
	char *name;
	char *ip; /* a device's address on its network, NULL when none */
	/* A device's traffic by second (index = second of the run). */
	struct timeline_traffic *traffic;
	size_t n_traffic;
	/* A device's serial log, in time order. */
	struct timeline_line *lines;
	size_t n_lines, cap_lines;
	int n_failures;
	long open_power; /* the power span still open, or -1 */
};

struct timeline_marker {
	int lane;
	double t;     /* start */
	double t_end; /* end of a span; t for an instant */
	bool span;
	/* power, boot, reboot, power_cut, reset, link, agent, send, expect,
	 * expect_not, impair, partition, server_down, checkin, offer, publish,
	 * http, check, log, verdict, event (anything else) */
	const char *kind;
	char *label;   /* one short line */
	char *message; /* a failure: what failed; NULL otherwise */
	bool failed;
	int device_lane;	 /* the lane whose serial log this marker opens, -1 none */
	long serial_line;	 /* that log's last line at or before t, -1 none */
	struct json_flat fields; /* the event as written, for details */
	size_t seq;		 /* the order it was added in */
};

struct timeline {
	struct timeline_lane *lanes;
	int n_lanes;
	struct timeline_marker *markers;
	size_t n_markers, cap_markers;
	double t_end; /* the last time anything happened */
	char *scenario;
	char *seed;
	char *verdict; /* "PASS", "FAIL", ...; NULL when the run has none */
	char *verdict_message;
	double seconds; /* the verdict's; -1 when unknown */
	int bad_lines;	/* lines of events.jsonl that were not events (a torn last line) */
	/* The wall clock at t = 0 (from run_start), to place captured frames;
	 * 0 when unknown (then captures are not read). */
	double unix_start;
};

void timeline_init(struct timeline *tl);
void timeline_free(struct timeline *tl);

/* Adds one line of events.jsonl. Returns 0, or -1 (and counts it in
 * bad_lines) when the line is not an event; out of memory aborts. */
int timeline_add_event(struct timeline *tl, const char *line);

/* Splits a serial log line "[   12.345678] text" into its time and text
 * (pointing into line). Returns 0, or -1 when it has no stamp. */
int timeline_parse_serial_line(const char *line, double *t, const char **text);

/* Adds one line of device's serial log (the device's lane is made if it
 * is not there); an agent line ("vh-agent: ...") also becomes a marker. */
void timeline_add_serial_line(struct timeline *tl, const char *device, double t, const char *text);

/* After the last line: closes open spans at the end of the run, sorts the
 * markers by time, points each at its serial line and words each failure's
 * message (the verdict's own text where it is about that failure). */
void timeline_finish(struct timeline *tl);

/* Adds one captured IPv4 frame, stamped unix_time (wall clock), of len
 * bytes from src to dst (dotted quads) to the traffic of the device lanes
 * with those addresses: delivered (to or from), or dropped. Frames before
 * the run or without a device are ignored. */
void timeline_add_frame(struct timeline *tl, double unix_time, const char *src, const char *dst,
			uint32_t len, bool dropped);

/* Reads a classic pcap file (Ethernet, microsecond or nanosecond stamps,
 * either byte order) into timeline_add_frame. Returns the number of frames
 * read, or -1 when path is missing or not such a file. */
long timeline_add_pcap(struct timeline *tl, const char *path, bool dropped);

/* The lane of that kind and name, or -1. */
int timeline_find_lane(const struct timeline *tl, enum timeline_lane_kind kind, const char *name);

/* Reads dir/events.jsonl, dir/serial-*.log and, when events.jsonl has no
 * verdict, dir/verdict.txt, then finishes. Returns 0, or -1 with a message
 * in err when dir has no readable events.jsonl. */
int timeline_load(struct timeline *tl, const char *dir, char *err, size_t errlen);

#endif
