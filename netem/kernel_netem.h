/* The kernel impairment backend: tc-netem as the root qdisc of a link (frames
 * the link transmits, i.e. towards the device behind a tap) and of an IFB that
 * the link's ingress is redirected to (frames from the device). The netem qdisc
 * goes through libnl when libnl's netem API covers every field of the spec and
 * through iproute2's `tc` otherwise (rate, slot, loss state/gemodel, ecn, seed,
 * distribution tables); the ingress redirect is set up with `tc`.
 *
 * Like link.h, these functions change whatever network namespace the process
 * is in: call them after sandbox_enter(). Everything they create lives in that
 * namespace and dies with it. Errors are one line in err/errlen. */
#ifndef VH_KERNEL_NETEM_H
#define VH_KERNEL_NETEM_H

#include <stdbool.h>
#include <stddef.h>

struct netem_spec;
struct kernel_netem;

enum kernel_netem_dir {
	KERNEL_NETEM_TO_DEVICE,	  /* root qdisc of the link itself */
	KERNEL_NETEM_FROM_DEVICE, /* root qdisc of the link's IFB */
};

/* How a spec reached the kernel. */
enum kernel_netem_path {
	KERNEL_NETEM_NONE,  /* no netem qdisc (cleared, or never set) */
	KERNEL_NETEM_LIBNL, /* rtnl_netem_* through libnl */
	KERNEL_NETEM_TC,    /* `tc qdisc replace ... netem <netem_spec_format()>` */
};

/* 0 when a netem qdisc can be created in this network namespace: adds one to
 * `lo` (which makes the kernel load sch_netem on demand) and removes it again.
 * -1 with the kernel's reason in why ("Specified qdisc kind is unknown"). */
int kernel_netem_probe(char *why, size_t whylen);

/* Prepares the existing link `ifname` (a tap on a bridge, or a veth end):
 * creates IFB `ifb_name` (up), adds an ingress qdisc to ifname and a filter
 * (matchall, or u32 where matchall is missing) with a mirred egress redirect to
 * the IFB. No netem yet: frames pass unchanged. Returns the handle, or NULL
 * with err; on failure nothing is left behind. */
struct kernel_netem *kernel_netem_attach(const char *ifname, const char *ifb_name, char *err,
					 size_t errlen);

/* Replaces the impairment of one direction, atomically (the new qdisc is
 * grafted in place of the old one, so no field of an earlier spec survives and
 * no frame passes unimpaired in between). spec NULL or empty clears it. While
 * blocked, the spec is stored and applied on unblock. 0 or -1 with err
 * (naming the command or the libnl call and the kernel's reason). */
int kernel_netem_set_spec(struct kernel_netem *kn, enum kernel_netem_dir dir,
			  const struct netem_spec *spec, char *err, size_t errlen);

/* The stored spec of a direction; NULL when none. */
const struct netem_spec *kernel_netem_spec(const struct kernel_netem *kn,
					   enum kernel_netem_dir dir);

/* Blocked: both directions drop every frame (netem loss 100%) until unblocked,
 * which re-applies the stored specs. 0 or -1 with err. */
int kernel_netem_set_blocked(struct kernel_netem *kn, bool blocked, char *err, size_t errlen);
bool kernel_netem_blocked(const struct kernel_netem *kn);

/* Which path the last change of dir took (for tests and the event log). */
enum kernel_netem_path kernel_netem_last_path(const struct kernel_netem *kn,
					      enum kernel_netem_dir dir);

/* The link names this handle works on. */
const char *kernel_netem_ifname(const struct kernel_netem *kn, enum kernel_netem_dir dir);

/* Removes the root qdiscs, the ingress qdisc and the IFB, and frees kn. Errors
 * are ignored (the namespace takes whatever is left with it). NULL is ignored. */
void kernel_netem_detach(struct kernel_netem *kn);

/* True when libnl's netem API can express every field of spec. */
bool kernel_netem_libnl_covers(const struct netem_spec *spec);

/* Lower level, for the equivalence test: puts spec (non-empty) as root qdisc
 * of ifname with the given handle major through the chosen path. */
int kernel_netem_apply(const char *ifname, unsigned handle_major, const struct netem_spec *spec,
		       enum kernel_netem_path path, char *err, size_t errlen);

/* The tc binary used: $VH_TC when set, else the first of /usr/sbin/tc, /sbin/tc. */
const char *kernel_netem_tc_path(void);

#endif
