/* Impairment backends (DESIGN.md §6): which one a run uses. A device's NIC
 * on the chosen backend is nic.h. */
#ifndef VH_IMPAIRMENT_H
#define VH_IMPAIRMENT_H

#include <stdbool.h>
#include <stddef.h>

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

#endif
