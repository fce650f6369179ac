/* Impairment backends (DESIGN.md §6) behind one dispatch: which backend a run
 * uses, and a device's NIC on it. Lua bindings and device.c call these and
 * never the backends themselves.
 *
 *   user:   QEMU's -netdev stream socket <-> netem/datapath.c <-> tap on the bridge
 *   kernel: QEMU's tap backend on a tap on the bridge, tc-netem on the tap
 *           (to the device) and on an IFB its ingress is redirected to (from
 *           the device), through netem/kernel_netem.c
 *
 * Everything here works in the run's network namespace (after sandbox_enter). */
#ifndef VH_IMPAIRMENT_H
#define VH_IMPAIRMENT_H

#include <stdbool.h>
#include <stddef.h>

struct netem_spec;
struct qemu_launch;
struct vh_device;

enum impairment_backend { IMPAIRMENT_USER, IMPAIRMENT_KERNEL };
enum impairment_dir { IMPAIRMENT_TO_DEVICE, IMPAIRMENT_FROM_DEVICE };

/* "user" or "kernel". */
const char *impairment_backend_name(enum impairment_backend backend);

/* Set to 1 to use --backend kernel without probing sch_netem first. */
#define IMPAIRMENT_NO_PROBE_ENV "VH_KERNEL_BACKEND_NO_PROBE"

/* Resolves `requested` ("auto", "kernel" or "user") here: auto is kernel when
 * a netem qdisc can be created in this namespace (kernel_netem_probe), else
 * user; kernel is probed too, unless $VH_KERNEL_BACKEND_NO_PROBE is 1. Returns 0
 * with *out and one line in why saying why ("auto: sch_netem loads"); -1 with
 * err when kernel was asked for and cannot work here (a configuration error). */
int impairment_resolve(const char *requested, enum impairment_backend *out, char *why,
		       size_t whylen, char *err, size_t errlen);

/* Creates the device's tap (dev->tap, on its network's bridge) and the run's
 * backend on it: the datapath (user) or the IFB and ingress redirect (kernel,
 * IFB dev->ifb). 0, or -1 with err; whatever was made is released by
 * impairment_detach(), which device_free() calls on every path. */
int impairment_attach(struct vh_device *dev, char *err, size_t errlen);

/* Sets the NIC fields of QEMU's launch: net_socket (user; the harness listens
 * on that abstract name) or the tap itself (kernel). */
void impairment_launch(const struct vh_device *dev, struct qemu_launch *l, const char *net_socket);

/* After qemu_spawn(): the user backend takes QEMU's connected stream socket
 * (dev->proc.net_fd becomes -1). 0 or -1 with err; the kernel backend has
 * nothing to do. */
int impairment_qemu_started(struct vh_device *dev, char *err, size_t errlen);

/* Replaces the impairment of one direction (spec NULL clears it). While the
 * device is partitioned the spec is kept and applies on unblock. 0, or -1 with
 * the backend's reason in err. A device without a NIC backend (dry run) does
 * nothing. */
int impairment_set_spec(struct vh_device *dev, enum impairment_dir dir,
			const struct netem_spec *spec, char *err, size_t errlen);

/* Partition (blocked) or heal: every frame of the device dropped both ways,
 * then the stored specs again. 0 or -1 with err. */
int impairment_set_blocked(struct vh_device *dev, bool blocked, char *err, size_t errlen);

/* How the last change of dir reached the kernel: "libnl", "tc", or NULL (the
 * user backend, or no qdisc). For the event log. */
const char *impairment_via(const struct vh_device *dev, enum impairment_dir dir);

/* Releases the backend (datapath, or qdiscs and IFB) and then deletes the tap.
 * Safe on a device with nothing attached. */
void impairment_detach(struct vh_device *dev);

#endif
