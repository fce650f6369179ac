/* A device's NIC on one of the impairment backends, each a const ops struct:
 * see nic.h. */
#include "nic.h"

#include "datapath.h"
#include "kernel_netem.h"
#include "link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct nic;

/* One backend: how a NIC is made, handed to QEMU, changed and freed. */
struct nic_ops {
	int (*attach)(struct nic *nic, const struct nic_config *cfg, char *err, size_t errlen);
	const char *(*qemu_tap)(const struct nic *nic);
	int (*qemu_connected)(struct nic *nic, int fd, char *err, size_t errlen);
	int (*set_spec)(struct nic *nic, enum impairment_dir dir, const struct netem_spec *spec,
			char *err, size_t errlen);
	int (*set_blocked)(struct nic *nic, bool blocked, char *err, size_t errlen);
	void (*set_peers)(struct nic *nic, const struct peer_filter *peers, uint32_t island);
	const char *(*via)(const struct nic *nic, enum impairment_dir dir);
	void (*detach)(struct nic *nic);
};

struct nic {
	const struct nic_ops *ops;
	struct link_ctx *links;
	char tap[LINK_NAME_SIZE];
	bool tap_made;
	struct datapath *dp;	 /* user */
	struct kernel_netem *kn; /* kernel */
};

/* --- user: the harness relays frames between QEMU's socket and the tap --- */

static enum datapath_dir datapath_dir_of(enum impairment_dir dir)
{
	return dir == IMPAIRMENT_TO_DEVICE ? DATAPATH_TO_DEVICE : DATAPATH_FROM_DEVICE;
}

static int user_attach(struct nic *nic, const struct nic_config *cfg, char *err, size_t errlen)
{
	int tap_fd = link_tap_open(nic->tap, err, errlen);
	if (tap_fd < 0)
		return -1;
	struct datapath_config dc = {
		.loop = cfg->loop,
		.tap_fd = tap_fd,
		.qemu_fd = -1,
		.framing = DATAPATH_STREAM,
		.seed = cfg->seed,
		.link_id = cfg->link_id,
		.corr_mode = IMPAIR_CORR_MARKOV,
	};
	if (datapath_new(&dc, &nic->dp, err, errlen) < 0) {
		close(tap_fd);
		return -1;
	}
	datapath_set_capture(nic->dp, cfg->capture);
	return 0;
}

static const char *user_qemu_tap(const struct nic *nic)
{
	(void)nic;
	return NULL;
}

static int user_qemu_connected(struct nic *nic, int fd, char *err, size_t errlen)
{
	if (datapath_attach_qemu(nic->dp, fd, DATAPATH_STREAM, err, errlen) < 0) {
		close(fd);
		return -1;
	}
	return 0;
}

static int user_set_spec(struct nic *nic, enum impairment_dir dir, const struct netem_spec *spec,
			 char *err, size_t errlen)
{
	return datapath_set_spec(nic->dp, datapath_dir_of(dir), spec, err, errlen);
}

static int user_set_blocked(struct nic *nic, bool blocked, char *err, size_t errlen)
{
	(void)err, (void)errlen;
	datapath_set_blocked(nic->dp, blocked);
	return 0;
}

static void user_set_peers(struct nic *nic, const struct peer_filter *peers, uint32_t island)
{
	datapath_set_peers(nic->dp, peers, island);
}

static const char *user_via(const struct nic *nic, enum impairment_dir dir)
{
	(void)nic, (void)dir;
	return NULL;
}

static void user_detach(struct nic *nic)
{
	datapath_free(nic->dp);
	nic->dp = NULL;
}

static const struct nic_ops user_ops = {
	.attach = user_attach,
	.qemu_tap = user_qemu_tap,
	.qemu_connected = user_qemu_connected,
	.set_spec = user_set_spec,
	.set_blocked = user_set_blocked,
	.set_peers = user_set_peers,
	.via = user_via,
	.detach = user_detach,
};

/* --- kernel: QEMU writes to the tap itself; tc-netem on the tap and an IFB --- */

static enum kernel_netem_dir kernel_dir_of(enum impairment_dir dir)
{
	return dir == IMPAIRMENT_TO_DEVICE ? KERNEL_NETEM_TO_DEVICE : KERNEL_NETEM_FROM_DEVICE;
}

static int kernel_attach(struct nic *nic, const struct nic_config *cfg, char *err, size_t errlen)
{
	/* The tap is not opened here: QEMU's tap backend attaches to it by name,
	 * and a second queue held by the harness would take a share of the frames. */
	nic->kn = kernel_netem_attach(nic->tap, cfg->ifb, err, errlen);
	return nic->kn ? 0 : -1;
}

static const char *kernel_qemu_tap(const struct nic *nic)
{
	return nic->tap;
}

static int kernel_qemu_connected(struct nic *nic, int fd, char *err, size_t errlen)
{
	(void)nic, (void)err, (void)errlen;
	close(fd);
	return 0;
}

static int kernel_set_spec(struct nic *nic, enum impairment_dir dir, const struct netem_spec *spec,
			   char *err, size_t errlen)
{
	return kernel_netem_set_spec(nic->kn, kernel_dir_of(dir), spec, err, errlen);
}

static int kernel_set_blocked(struct nic *nic, bool blocked, char *err, size_t errlen)
{
	return kernel_netem_set_blocked(nic->kn, blocked, err, errlen);
}

static void kernel_set_peers(struct nic *nic, const struct peer_filter *peers, uint32_t island)
{
	(void)nic, (void)peers, (void)island; /* the bridge's rules do it */
}

static const char *kernel_via(const struct nic *nic, enum impairment_dir dir)
{
	switch (kernel_netem_last_path(nic->kn, kernel_dir_of(dir))) {
	case KERNEL_NETEM_LIBNL:
		return "libnl";
	case KERNEL_NETEM_TC:
		return "tc";
	default:
		return NULL;
	}
}

static void kernel_detach(struct nic *nic)
{
	kernel_netem_detach(nic->kn);
	nic->kn = NULL;
}

static const struct nic_ops kernel_ops = {
	.attach = kernel_attach,
	.qemu_tap = kernel_qemu_tap,
	.qemu_connected = kernel_qemu_connected,
	.set_spec = kernel_set_spec,
	.set_blocked = kernel_set_blocked,
	.set_peers = kernel_set_peers,
	.via = kernel_via,
	.detach = kernel_detach,
};

/* --- the dispatch --- */

struct nic *nic_new(const struct nic_config *cfg, char *err, size_t errlen)
{
	struct nic *nic = calloc(1, sizeof(*nic));
	if (!nic) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	nic->ops = cfg->backend == IMPAIRMENT_KERNEL ? &kernel_ops : &user_ops;
	nic->links = cfg->links;
	snprintf(nic->tap, sizeof(nic->tap), "%s", cfg->tap);
	if (link_tap_create(cfg->links, nic->tap, cfg->bridge_ifindex, err, errlen) < 0) {
		free(nic);
		return NULL;
	}
	nic->tap_made = true;
	if (nic->ops->attach(nic, cfg, err, errlen) < 0) {
		nic_free(nic);
		return NULL;
	}
	return nic;
}

void nic_free(struct nic *nic)
{
	if (!nic)
		return;
	/* The backend first: kernel_netem_detach removes qdiscs from the tap. */
	if (nic->dp || nic->kn)
		nic->ops->detach(nic);
	if (nic->tap_made)
		link_delete(nic->links, nic->tap, NULL, 0);
	free(nic);
}

const char *nic_qemu_tap(const struct nic *nic)
{
	return nic->ops->qemu_tap(nic);
}

int nic_qemu_connected(struct nic *nic, int fd, char *err, size_t errlen)
{
	return nic->ops->qemu_connected(nic, fd, err, errlen);
}

int nic_set_spec(struct nic *nic, enum impairment_dir dir, const struct netem_spec *spec, char *err,
		 size_t errlen)
{
	return nic->ops->set_spec(nic, dir, spec, err, errlen);
}

int nic_set_blocked(struct nic *nic, bool blocked, char *err, size_t errlen)
{
	return nic->ops->set_blocked(nic, blocked, err, errlen);
}

void nic_set_peers(struct nic *nic, const struct peer_filter *peers, uint32_t island)
{
	nic->ops->set_peers(nic, peers, island);
}

const char *nic_via(const struct nic *nic, enum impairment_dir dir)
{
	return nic->ops->via(nic, dir);
}
