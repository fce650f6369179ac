/* Impairment backends behind one const struct each: see impairment.h. */
#include "impairment.h"

#include "datapath.h"
#include "device.h"
#include "kernel_netem.h"
#include "link.h"
#include "network.h"
#include "qemu_argv.h"
#include "run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One backend: how a device's NIC is made, given to QEMU, changed and freed. */
struct impairment_ops {
	int (*attach)(struct vh_device *dev, char *err, size_t errlen);
	void (*launch)(const struct vh_device *dev, struct qemu_launch *l, const char *net_socket);
	int (*qemu_started)(struct vh_device *dev, char *err, size_t errlen);
	int (*set_spec)(struct vh_device *dev, enum impairment_dir dir,
			const struct netem_spec *spec, char *err, size_t errlen);
	int (*set_blocked)(struct vh_device *dev, bool blocked, char *err, size_t errlen);
	const char *(*via)(const struct vh_device *dev, enum impairment_dir dir);
	void (*detach)(struct vh_device *dev);
};

/* --- user: the harness relays frames between QEMU's socket and the tap --- */

static enum datapath_dir datapath_dir_of(enum impairment_dir dir)
{
	return dir == IMPAIRMENT_TO_DEVICE ? DATAPATH_TO_DEVICE : DATAPATH_FROM_DEVICE;
}

static int user_attach(struct vh_device *dev, char *err, size_t errlen)
{
	struct vh_run *run = dev->run;
	if (link_tap_create(run->links, dev->tap, dev->net->bridge_ifindex, err, errlen) < 0)
		return -1;
	int tap_fd = link_tap_open(dev->tap, err, errlen);
	if (tap_fd < 0)
		return -1;
	struct datapath_config cfg = {
		.loop = run->loop,
		.tap_fd = tap_fd,
		.qemu_fd = -1,
		.framing = DATAPATH_STREAM,
		.seed = run->cfg.seed,
		.link_id = (uint32_t)run->n_devices,
		.corr_mode = IMPAIR_CORR_MARKOV,
	};
	if (datapath_new(&cfg, &dev->dp, err, errlen) < 0) {
		close(tap_fd);
		return -1;
	}
	datapath_set_capture(dev->dp, dev->net->capture);
	return 0;
}

static void user_launch(const struct vh_device *dev, struct qemu_launch *l, const char *net_socket)
{
	l->net_socket = dev->dp ? net_socket : NULL;
}

static int user_qemu_started(struct vh_device *dev, char *err, size_t errlen)
{
	if (!dev->dp)
		return 0;
	if (datapath_attach_qemu(dev->dp, dev->proc.net_fd, DATAPATH_STREAM, err, errlen) < 0)
		return -1;
	dev->proc.net_fd = -1; /* the datapath owns it now */
	return 0;
}

static int user_set_spec(struct vh_device *dev, enum impairment_dir dir,
			 const struct netem_spec *spec, char *err, size_t errlen)
{
	if (!dev->dp)
		return 0;
	return datapath_set_spec(dev->dp, datapath_dir_of(dir), spec, err, errlen);
}

static int user_set_blocked(struct vh_device *dev, bool blocked, char *err, size_t errlen)
{
	(void)err, (void)errlen;
	if (dev->dp)
		datapath_set_blocked(dev->dp, blocked);
	return 0;
}

static const char *user_via(const struct vh_device *dev, enum impairment_dir dir)
{
	(void)dev, (void)dir;
	return NULL;
}

static void user_detach(struct vh_device *dev)
{
	datapath_free(dev->dp);
	dev->dp = NULL;
}

static const struct impairment_ops user_ops = {
	.attach = user_attach,
	.launch = user_launch,
	.qemu_started = user_qemu_started,
	.set_spec = user_set_spec,
	.set_blocked = user_set_blocked,
	.via = user_via,
	.detach = user_detach,
};

/* --- kernel: QEMU writes to the tap itself; tc-netem on the tap and an IFB --- */

static enum kernel_netem_dir kernel_dir_of(enum impairment_dir dir)
{
	return dir == IMPAIRMENT_TO_DEVICE ? KERNEL_NETEM_TO_DEVICE : KERNEL_NETEM_FROM_DEVICE;
}

static int kernel_attach(struct vh_device *dev, char *err, size_t errlen)
{
	struct vh_run *run = dev->run;
	/* Not opened here: QEMU's tap backend attaches to it by name, and a
	 * second queue held by the harness would take a share of the frames. */
	if (link_tap_create(run->links, dev->tap, dev->net->bridge_ifindex, err, errlen) < 0)
		return -1;
	dev->kn = kernel_netem_attach(dev->tap, dev->ifb, err, errlen);
	return dev->kn ? 0 : -1;
}

static void kernel_launch(const struct vh_device *dev, struct qemu_launch *l,
			  const char *net_socket)
{
	(void)net_socket;
	l->tap_ifname = dev->kn ? dev->tap : NULL;
}

static int kernel_qemu_started(struct vh_device *dev, char *err, size_t errlen)
{
	(void)dev, (void)err, (void)errlen;
	return 0;
}

static int kernel_set_spec(struct vh_device *dev, enum impairment_dir dir,
			   const struct netem_spec *spec, char *err, size_t errlen)
{
	if (!dev->kn)
		return 0;
	return kernel_netem_set_spec(dev->kn, kernel_dir_of(dir), spec, err, errlen);
}

static int kernel_set_blocked(struct vh_device *dev, bool blocked, char *err, size_t errlen)
{
	if (!dev->kn)
		return 0;
	return kernel_netem_set_blocked(dev->kn, blocked, err, errlen);
}

static const char *kernel_via(const struct vh_device *dev, enum impairment_dir dir)
{
	if (!dev->kn)
		return NULL;
	switch (kernel_netem_last_path(dev->kn, kernel_dir_of(dir))) {
	case KERNEL_NETEM_LIBNL:
		return "libnl";
	case KERNEL_NETEM_TC:
		return "tc";
	default:
		return NULL;
	}
}

static void kernel_detach(struct vh_device *dev)
{
	kernel_netem_detach(dev->kn);
	dev->kn = NULL;
}

static const struct impairment_ops kernel_ops = {
	.attach = kernel_attach,
	.launch = kernel_launch,
	.qemu_started = kernel_qemu_started,
	.set_spec = kernel_set_spec,
	.set_blocked = kernel_set_blocked,
	.via = kernel_via,
	.detach = kernel_detach,
};

static const struct impairment_ops *ops_of(const struct vh_device *dev)
{
	return dev->run->backend == IMPAIRMENT_KERNEL ? &kernel_ops : &user_ops;
}

int impairment_attach(struct vh_device *dev, char *err, size_t errlen)
{
	return ops_of(dev)->attach(dev, err, errlen);
}

void impairment_launch(const struct vh_device *dev, struct qemu_launch *l, const char *net_socket)
{
	ops_of(dev)->launch(dev, l, net_socket);
}

int impairment_qemu_started(struct vh_device *dev, char *err, size_t errlen)
{
	return ops_of(dev)->qemu_started(dev, err, errlen);
}

int impairment_set_spec(struct vh_device *dev, enum impairment_dir dir,
			const struct netem_spec *spec, char *err, size_t errlen)
{
	return ops_of(dev)->set_spec(dev, dir, spec, err, errlen);
}

int impairment_set_blocked(struct vh_device *dev, bool blocked, char *err, size_t errlen)
{
	return ops_of(dev)->set_blocked(dev, blocked, err, errlen);
}

const char *impairment_via(const struct vh_device *dev, enum impairment_dir dir)
{
	return ops_of(dev)->via(dev, dir);
}

void impairment_detach(struct vh_device *dev)
{
	ops_of(dev)->detach(dev);
	/* The backend first: kernel_netem_detach removes qdiscs from the tap. */
	if (dev->tap[0] && dev->run->links && !dev->run->cfg.dry_run)
		link_delete(dev->run->links, dev->tap, NULL, 0);
}
