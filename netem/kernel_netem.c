/* The kernel impairment backend: see kernel_netem.h. */
#include "kernel_netem.h"

#include "child.h"
#include "netem_spec.h"

#include <errno.h>
#include <limits.h>
#include <linux/if.h>
#include <linux/pkt_sched.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/tc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KN_IFNAME_SIZE 16
/* Root qdisc handles alternate between these majors: replacing the root with
 * a qdisc of another handle makes the kernel build a new one and graft it,
 * where the same handle would call netem_change(), which keeps fields the new
 * spec leaves out (rate, slot). */
#define KN_HANDLE_A 0x10u
#define KN_HANDLE_B 0x11u

struct kn_side {
	char ifname[KN_IFNAME_SIZE];
	int ifindex;
	struct netem_spec spec;
	bool has_spec;
	unsigned handle;	   /* major of our root qdisc; 0 when none is installed */
	bool installed_duplicates; /* the installed qdisc has `duplicate` */
	enum kernel_netem_path path;
};

struct kernel_netem {
	struct nl_sock *sock; /* one rtnetlink socket for every change */
	struct kn_side side[2];
	bool blocked;
};

const char *kernel_netem_tc_path(void)
{
	const char *env = getenv("VH_TC");
	if (env && *env)
		return env;
	if (access("/usr/sbin/tc", X_OK) == 0)
		return "/usr/sbin/tc";
	return "/sbin/tc";
}

/* tc answers in milliseconds; a tc that hangs (a wedged netlink socket)
 * must not hang the run. */
#define KN_TC_TIMEOUT_MS 10000

/* Runs tc with argv (argv[0] ignored), its output captured into err. 0 when
 * tc exits 0 within KN_TC_TIMEOUT_MS. */
static int run_tc(char *const argv[], char *err, size_t errlen)
{
	const char *tc = kernel_netem_tc_path();
	const char *args[64];
	int n = 0;
	args[n++] = tc;
	for (int i = 1; argv[i] && n < 63; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	struct child_spec spec = { .argv = args };
	char out[512], why[256];
	bool timed_out = false;
	int status =
		child_run(&spec, KN_TC_TIMEOUT_MS, out, sizeof(out), &timed_out, why, sizeof(why));
	if (status < 0) {
		snprintf(err, errlen, "%s (install iproute2)", why);
		return -1;
	}
	if (child_status_ok(status))
		return 0;
	/* tc's message, one line: "Error: Specified qdisc kind is unknown." */
	for (char *p = out; *p; p++)
		if (*p == '\n')
			*p = *(p + 1) ? ' ' : '\0';
	char cmd[256] = "tc";
	for (int i = 1; argv[i]; i++) {
		size_t len = strlen(cmd);
		snprintf(cmd + len, sizeof(cmd) - len, " %s", argv[i]);
	}
	if (timed_out)
		snprintf(out, sizeof(out), "no answer within %d s", KN_TC_TIMEOUT_MS / 1000);
	snprintf(err, errlen, "%s: %s", cmd,
		 *out ? out : child_status_text(status, why, sizeof(why)));
	return -1;
}

bool kernel_netem_libnl_covers(const struct netem_spec *s)
{
	const uint32_t libnl_fields = NETEM_HAS_LIMIT | NETEM_HAS_DELAY | NETEM_HAS_LOSS |
				      NETEM_HAS_DUPLICATE | NETEM_HAS_CORRUPT | NETEM_HAS_REORDER |
				      NETEM_HAS_GAP;
	if (s->present & ~libnl_fields)
		return false;
	if ((s->present & NETEM_HAS_LOSS) && s->loss_model != NETEM_LOSS_RANDOM)
		return false;
	/* libnl takes whole microseconds and sends 32-bit ticks (no LATENCY64). */
	const int64_t max_ns = INT64_C(60) * 1000 * 1000 * 1000;
	if (s->delay_ns % 1000 || s->jitter_ns % 1000 || s->delay_ns > max_ns ||
	    s->jitter_ns > max_ns)
		return false;
	/* libnl refuses a delay correlation without jitter, which tc accepts. */
	if (s->n_delay_args == 3 && s->jitter_ns == 0)
		return false;
	return s->limit_packets <= INT_MAX && s->gap <= INT_MAX;
}

static int ifindex_of(struct nl_sock *sock, const char *ifname, char *err, size_t errlen)
{
	struct rtnl_link *link = NULL;
	int rc = rtnl_link_get_kernel(sock, 0, ifname, &link);
	if (rc < 0) {
		snprintf(err, errlen, "link %s: %s", ifname, nl_geterror(rc));
		return -1;
	}
	int ifindex = rtnl_link_get_ifindex(link);
	rtnl_link_put(link);
	return ifindex;
}

static struct nl_sock *route_socket(char *err, size_t errlen)
{
	struct nl_sock *sock = nl_socket_alloc();
	if (!sock) {
		snprintf(err, errlen, "cannot allocate a netlink socket");
		return NULL;
	}
	int rc = nl_connect(sock, NETLINK_ROUTE);
	if (rc < 0) {
		snprintf(err, errlen, "cannot open rtnetlink: %s", nl_geterror(rc));
		nl_socket_free(sock);
		return NULL;
	}
	return sock;
}

/* libnl's "int prob" setters store the kernel's 32-bit scaled value as is. */
static int prob_arg(const struct netem_prob *p)
{
	return (int)p->scaled;
}

static int apply_libnl(struct nl_sock *sock, const char *ifname, int ifindex, unsigned handle_major,
		       const struct netem_spec *s, char *err, size_t errlen)
{
	int ret = -1;
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	if (!q) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
	rtnl_tc_set_handle(TC_CAST(q), TC_HANDLE(handle_major, 0));
	int rc = rtnl_tc_set_kind(TC_CAST(q), "netem");
	if (rc < 0) {
		snprintf(err, errlen, "libnl netem: %s", nl_geterror(rc));
		goto out;
	}
	if (s->present & NETEM_HAS_LIMIT)
		rtnl_netem_set_limit(q, (int)s->limit_packets);
	if (s->present & NETEM_HAS_DELAY) {
		rtnl_netem_set_delay(q, (int)(s->delay_ns / 1000));
		if (s->jitter_ns)
			rtnl_netem_set_jitter(q, (int)(s->jitter_ns / 1000));
		if (s->n_delay_args == 3)
			rtnl_netem_set_delay_correlation(q, prob_arg(&s->delay_corr));
	}
	if (s->present & NETEM_HAS_LOSS) {
		rtnl_netem_set_loss(q, prob_arg(&s->loss));
		if (s->n_loss_args >= 2)
			rtnl_netem_set_loss_correlation(q, prob_arg(&s->loss_corr));
	}
	if (s->present & NETEM_HAS_DUPLICATE) {
		rtnl_netem_set_duplicate(q, prob_arg(&s->duplicate));
		if (s->n_duplicate_args >= 2)
			rtnl_netem_set_duplicate_correlation(q, prob_arg(&s->duplicate_corr));
	}
	if (s->present & NETEM_HAS_CORRUPT) {
		rtnl_netem_set_corruption_probability(q, prob_arg(&s->corrupt));
		if (s->n_corrupt_args >= 2)
			rtnl_netem_set_corruption_correlation(q, prob_arg(&s->corrupt_corr));
	}
	if (s->present & NETEM_HAS_REORDER) {
		rtnl_netem_set_reorder_probability(q, prob_arg(&s->reorder));
		if (s->n_reorder_args >= 2)
			rtnl_netem_set_reorder_correlation(q, prob_arg(&s->reorder_corr));
		/* As tc: reorder without gap means gap 1 (libnl does the same). */
		rtnl_netem_set_gap(q, s->gap ? (int)s->gap : 1);
	}
	rc = rtnl_qdisc_add(sock, q, NLM_F_CREATE | NLM_F_REPLACE);
	if (rc < 0) {
		snprintf(err, errlen, "libnl: netem on %s: %s", ifname, nl_geterror(rc));
		goto out;
	}
	ret = 0;
out:
	rtnl_qdisc_put(q);
	return ret;
}

/* apply_libnl() on a link named by the caller, with a socket of its own. */
static int apply_libnl_once(const char *ifname, unsigned handle_major, const struct netem_spec *s,
			    char *err, size_t errlen)
{
	struct nl_sock *sock = route_socket(err, errlen);
	if (!sock)
		return -1;
	int ifindex = ifindex_of(sock, ifname, err, errlen);
	int ret =
		ifindex < 0 ? -1 : apply_libnl(sock, ifname, ifindex, handle_major, s, err, errlen);
	nl_socket_free(sock);
	return ret;
}

static int apply_tc(const char *ifname, unsigned handle_major, const struct netem_spec *s,
		    char *err, size_t errlen)
{
	char text[1024], handle[16];
	if (netem_spec_format(s, text, sizeof(text)) >= sizeof(text)) {
		snprintf(err, errlen, "netem spec too long for tc");
		return -1;
	}
	snprintf(handle, sizeof(handle), "%x:", handle_major);
	char *argv[96] = { "tc",   "qdisc",  "replace", "dev",	(char *)ifname,
			   "root", "handle", handle,	"netem" };
	int argc = 9;
	for (char *save = NULL, *w = strtok_r(text, " ", &save); w;
	     w = strtok_r(NULL, " ", &save)) {
		if (argc == 95) {
			snprintf(err, errlen, "netem spec has too many words for tc");
			return -1;
		}
		argv[argc++] = w;
	}
	argv[argc] = NULL;
	return run_tc(argv, err, errlen);
}

int kernel_netem_apply(const char *ifname, unsigned handle_major, const struct netem_spec *spec,
		       enum kernel_netem_path path, char *err, size_t errlen)
{
	if (path == KERNEL_NETEM_LIBNL)
		return apply_libnl_once(ifname, handle_major, spec, err, errlen);
	if (path == KERNEL_NETEM_TC)
		return apply_tc(ifname, handle_major, spec, err, errlen);
	snprintf(err, errlen, "no path to apply netem");
	return -1;
}

static int delete_root(const char *ifname, char *err, size_t errlen)
{
	char *argv[] = { "tc", "qdisc", "del", "dev", (char *)ifname, "root", NULL };
	return run_tc(argv, err, errlen);
}

int kernel_netem_probe(char *why, size_t whylen)
{
	struct netem_spec probe;
	netem_spec_parse("delay 1ms", &probe, NULL);
	char err[256];
	if (apply_libnl_once("lo", KN_HANDLE_A, &probe, err, sizeof(err)) < 0) {
		/* "libnl: netem on lo: Object not found" says little; tc's words are the known
		 * ones. */
		if (apply_tc("lo", KN_HANDLE_A, &probe, err, sizeof(err)) < 0) {
			const char *reason = strstr(err, ": Error: ");
			snprintf(why, whylen, "%s", reason ? reason + 9 : err);
			return -1;
		}
	}
	delete_root("lo", err, sizeof(err));
	return 0;
}

static const struct netem_spec *effective_spec(const struct kernel_netem *kn, int dir,
					       struct netem_spec *drop_all)
{
	if (kn->blocked) {
		netem_spec_parse("loss 100%", drop_all, NULL);
		return drop_all;
	}
	const struct kn_side *side = &kn->side[dir];
	return side->has_spec ? &side->spec : NULL;
}

/* Puts what dir should have into the kernel: the stored spec, the partition's
 * loss 100%, or nothing. */
static int sync_side(struct kernel_netem *kn, int dir, char *err, size_t errlen)
{
	struct kn_side *side = &kn->side[dir];
	struct netem_spec drop_all;
	const struct netem_spec *want = effective_spec(kn, dir, &drop_all);
	if (!want) {
		if (side->handle && delete_root(side->ifname, err, errlen) < 0)
			return -1;
		side->handle = 0;
		side->path = KERNEL_NETEM_NONE;
		return 0;
	}
	bool duplicates = want->present & NETEM_HAS_DUPLICATE;
	if (side->handle && (duplicates || side->installed_duplicates)) {
		/* Linux refuses to graft ("netem: cannot mix duplicating netems with
		 * other netems in tree", 6.1 stable and later), so this change goes
		 * delete-then-add: frames in that instant pass unimpaired. */
		if (delete_root(side->ifname, err, errlen) < 0)
			return -1;
		side->handle = 0;
		side->path = KERNEL_NETEM_NONE;
	}
	unsigned next = side->handle == KN_HANDLE_A ? KN_HANDLE_B : KN_HANDLE_A;
	enum kernel_netem_path path = KERNEL_NETEM_TC;
	/* When libnl fails, tc is tried: libnl reduces the kernel's reason to
	 * "Object not found", tc quotes it ("Specified qdisc kind is unknown"). */
	if (!kernel_netem_libnl_covers(want) ||
	    apply_libnl(kn->sock, side->ifname, side->ifindex, next, want, err, errlen) < 0) {
		if (apply_tc(side->ifname, next, want, err, errlen) < 0)
			return -1;
	} else {
		path = KERNEL_NETEM_LIBNL;
	}
	side->handle = next;
	side->path = path;
	side->installed_duplicates = duplicates;
	return 0;
}

static bool spec_empty(const struct netem_spec *spec)
{
	return !spec || spec->present == 0;
}

int kernel_netem_set_spec(struct kernel_netem *kn, enum kernel_netem_dir dir,
			  const struct netem_spec *spec, char *err, size_t errlen)
{
	struct kn_side *side = &kn->side[dir];
	struct netem_spec before = side->spec;
	bool had = side->has_spec;
	side->has_spec = !spec_empty(spec);
	if (side->has_spec)
		side->spec = *spec;
	if (sync_side(kn, (int)dir, err, errlen) < 0) {
		side->spec = before;
		side->has_spec = had;
		return -1;
	}
	return 0;
}

const struct netem_spec *kernel_netem_spec(const struct kernel_netem *kn, enum kernel_netem_dir dir)
{
	return kn->side[dir].has_spec ? &kn->side[dir].spec : NULL;
}

int kernel_netem_set_blocked(struct kernel_netem *kn, bool blocked, char *err, size_t errlen)
{
	if (kn->blocked == blocked)
		return 0;
	kn->blocked = blocked;
	for (int dir = 0; dir < 2; dir++) {
		if (sync_side(kn, dir, err, errlen) < 0) {
			kn->blocked = !blocked;
			sync_side(kn, 0, NULL, 0);
			sync_side(kn, 1, NULL, 0);
			return -1;
		}
	}
	return 0;
}

bool kernel_netem_blocked(const struct kernel_netem *kn)
{
	return kn->blocked;
}

enum kernel_netem_path kernel_netem_last_path(const struct kernel_netem *kn,
					      enum kernel_netem_dir dir)
{
	return kn->side[dir].path;
}

const char *kernel_netem_ifname(const struct kernel_netem *kn, enum kernel_netem_dir dir)
{
	return kn->side[dir].ifname;
}

static int ifb_create(struct nl_sock *sock, const char *name, char *err, size_t errlen)
{
	struct rtnl_link *link = rtnl_link_alloc();
	int ret = -1;
	int rc = link ? rtnl_link_set_type(link, "ifb") : -NLE_NOMEM;
	if (rc < 0) {
		snprintf(err, errlen, "IFB %s: %s (is ifb.ko available?)", name, nl_geterror(rc));
		goto out;
	}
	rtnl_link_set_name(link, name);
	rtnl_link_set_flags(link, IFF_UP);
	rc = rtnl_link_add(sock, link, NLM_F_CREATE | NLM_F_EXCL);
	if (rc < 0) {
		snprintf(err, errlen, "IFB %s: %s", name, nl_geterror(rc));
		goto out;
	}
	ret = 0;
out:
	if (link)
		rtnl_link_put(link);
	return ret;
}

static void ifb_delete(struct nl_sock *sock, const char *name)
{
	struct rtnl_link *link = rtnl_link_alloc();
	if (link) {
		rtnl_link_set_name(link, name);
		rtnl_link_delete(sock, link);
		rtnl_link_put(link);
	}
}

/* Sends everything arriving on ifname through the IFB's root qdisc. matchall
 * is the filter meant for this; u32 with an empty match does the same on
 * kernels built without cls_matchall (this host's is one). */
static int redirect_ingress(const char *ifname, const char *ifb, char *err, size_t errlen)
{
	char *ingress[] = { "tc",     "qdisc", "add",	  "dev", (char *)ifname,
			    "handle", "ffff:", "ingress", NULL };
	if (run_tc(ingress, err, errlen) < 0)
		return -1;
	char *matchall[] = { "tc",	  "filter", "add",	"dev",	    (char *)ifname,
			     "parent",	  "ffff:",  "protocol", "all",	    "matchall",
			     "action",	  "mirred", "egress",	"redirect", "dev",
			     (char *)ifb, NULL };
	char first[256];
	if (run_tc(matchall, first, sizeof(first)) == 0)
		return 0;
	char *u32[] = { "tc",	 "filter",    "add",	"dev",	  (char *)ifname, "parent",
			"ffff:", "protocol",  "all",	"u32",	  "match",	  "u32",
			"0",	 "0",	      "action", "mirred", "egress",	  "redirect",
			"dev",	 (char *)ifb, NULL };
	if (run_tc(u32, err, errlen) == 0)
		return 0;
	size_t len = strlen(err);
	snprintf(err + len, errlen - len, " (matchall: %s)", first);
	return -1;
}

struct kernel_netem *kernel_netem_attach(const char *ifname, const char *ifb_name, char *err,
					 size_t errlen)
{
	if (!ifname || !ifb_name || !*ifname || !*ifb_name || strlen(ifname) >= KN_IFNAME_SIZE ||
	    strlen(ifb_name) >= KN_IFNAME_SIZE) {
		snprintf(err, errlen, "kernel netem: link names must be 1..%d characters",
			 KN_IFNAME_SIZE - 1);
		return NULL;
	}
	struct kernel_netem *kn = calloc(1, sizeof(*kn));
	if (!kn) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	struct kn_side *to = &kn->side[KERNEL_NETEM_TO_DEVICE],
		       *from = &kn->side[KERNEL_NETEM_FROM_DEVICE];
	snprintf(to->ifname, KN_IFNAME_SIZE, "%s", ifname);
	snprintf(from->ifname, KN_IFNAME_SIZE, "%s", ifb_name);
	kn->sock = route_socket(err, errlen);
	if (!kn->sock)
		goto fail;
	/* An IFB of that name that we did not make is not ours to delete. */
	if ((to->ifindex = ifindex_of(kn->sock, ifname, err, errlen)) < 0 ||
	    ifb_create(kn->sock, ifb_name, err, errlen) < 0)
		goto fail_sock;
	if ((from->ifindex = ifindex_of(kn->sock, ifb_name, err, errlen)) < 0 ||
	    redirect_ingress(ifname, ifb_name, err, errlen) < 0) {
		char ignore[128];
		char *del[] = { "tc", "qdisc", "del", "dev", (char *)ifname, "ingress", NULL };
		run_tc(del, ignore, sizeof(ignore));
		ifb_delete(kn->sock, ifb_name);
		goto fail_sock;
	}
	return kn;
fail_sock:
	nl_socket_free(kn->sock);
fail:
	free(kn);
	return NULL;
}

void kernel_netem_detach(struct kernel_netem *kn)
{
	if (!kn)
		return;
	char ignore[256];
	struct kn_side *to = &kn->side[KERNEL_NETEM_TO_DEVICE];
	if (to->handle)
		delete_root(to->ifname, ignore, sizeof(ignore));
	char *del[] = { "tc", "qdisc", "del", "dev", to->ifname, "ingress", NULL };
	run_tc(del, ignore, sizeof(ignore));
	/* The IFB's qdisc goes with the IFB. */
	ifb_delete(kn->sock, kn->side[KERNEL_NETEM_FROM_DEVICE].ifname);
	nl_socket_free(kn->sock);
	free(kn);
}
