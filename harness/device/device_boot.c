/* The harness's part of a power-on: see device_boot.h. */
#include "device_boot.h"

#include "ab_boot.h"
#include "boot_args.h"
#include "device.h"
#include "hostinfo.h"
#include "network.h"
#include "qemu_argv.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The kernel command line: the console, boot parameters that make microvm
 * reliable under TCG, and for the reference firmware its vh.* settings from
 * the boot chooser. */
static int build_append(const struct device_boot_in *in, const struct ab_boot *ab, char *out,
			size_t len, char *err, size_t errlen)
{
	const char *arch = device_firmware_arch(in->fw);
	bool x86 = !strcmp(arch, "x86_64");
	size_t n = 0;
#define APPEND(...) (n += n < len ? (size_t)snprintf(out + n, len - n, __VA_ARGS__) : 0)
	APPEND("console=%s", qemu_console_for_arch(arch));
	if (ab) {
		const struct boot_choice *c = &ab->choice;
		/* What the bootloader knows, as U-Boot passes root=: the slot and
		 * its counters. The firmware's version and planted bugs are in
		 * the image itself (/etc/vh-release), not here. */
		/* reboot=t (a triple fault) is an x86 reboot method, which any
		 * x86 machine takes as a reset and -no-reboot turns into QEMU's
		 * exit; arm64 reboots through PSCI on virt, and has no use for it. */
		APPEND(" quiet panic=-1%s vh.device=%s vh.slot=%c vh.bootcount=%u vh.upgrade=%d",
		       x86 ? " reboot=t" : "", in->device, c->slot, c->bootcount, c->trial ? 1 : 0);
		if (c->rolled_back)
			APPEND(" vh.rollback_from=%c", c->rollback_from);
		if (in->member) {
			char gw[16];
			network_host_ip(in->member->net, gw, sizeof(gw));
			APPEND(" vh.ip=%s/%d vh.gw=%s", in->member->ip, in->member->net->prefix,
			       gw);
		}
		if (in->server && in->server[0])
			APPEND(" vh.server=%s", in->server);
	}
	/* Under TCG the guest's TSC is the host's: give the kernel its rate
	 * (without it microvm hangs in one boot of five calibrating against the
	 * PIT), and tell it the TSC is reliable: otherwise its watchdog, which
	 * compares against jiffies, takes the ticks a loaded host delays for TSC
	 * drift, switches to jiffies, and the guest's clock then loses time
	 * (a 200 ms RTT measured as 188 ms). */
	uint32_t khz = hostinfo_tsc_khz();
	if (x86 && !strcmp(in->accel, "tcg") && khz)
		APPEND(" tsc_early_khz=%u tsc=reliable", khz);
	/* Debian's arm64 kernel reserves 64 MiB for CMA at boot, which a 96 MiB
	 * guest cannot give, and says so on the console ("cma: Failed to
	 * reserve"): nothing here needs contiguous DMA memory. */
	if (!x86)
		APPEND(" cma=0");
	if (in->fw->append) {
		char ip_prefix[8] = "", gateway[16] = "", mac[18] = "", args[1024];
		struct boot_args_vars v = { .device = in->device,
					    .server = in->server && in->server[0] ? in->server
										  : NULL };
		if (in->member) {
			const uint8_t *m = in->member->mac;
			snprintf(ip_prefix, sizeof(ip_prefix), "%d", in->member->net->prefix);
			network_host_ip(in->member->net, gateway, sizeof(gateway));
			snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
				 m[2], m[3], m[4], m[5]);
			v.ip = in->member->ip, v.prefix = ip_prefix, v.gateway = gateway,
			v.mac = mac;
		}
		if (boot_args_expand(in->fw->append, &v, args, sizeof(args), err, errlen) < 0)
			return -1;
		APPEND(" %s", args);
	}
#undef APPEND
	return 0;
}

/* Moves the vh.* words of the append to the identity: what differs between
 * devices and boots never reaches the template, so one template serves every
 * device that boots the same payload. */
static void split_identity(struct device_boot *b)
{
	char kernel[sizeof(b->append)];
	size_t nk = 0, ni = 0;
	b->identity[0] = '\0';
	for (const char *p = b->append; *p;) {
		size_t len = strcspn(p, " ");
		bool vh = !strncmp(p, "vh.", 3);
		char *dst = vh ? b->identity : kernel;
		size_t *n = vh ? &ni : &nk;
		if (len) {
			*n += (size_t)snprintf(dst + *n, sizeof(kernel) - *n, "%s%.*s",
					       *n ? " " : "", (int)len, p);
			if (*n >= sizeof(kernel))
				*n = sizeof(kernel) - 1;
		}
		p += len;
		p += strspn(p, " ");
	}
	kernel[nk] = '\0';
	snprintf(b->append, sizeof(b->append), "%.2000s vh.snapshot=1", kernel);
	b->snapshot = true;
}

/* The bootloader's part: choose the slot and extract it. */
static int ab_prepare(const struct device_boot_in *in, struct ab_boot *ab, enum vh_outcome *status,
		      char *err, size_t errlen)
{
	int r = ab_boot_prepare(in->fw->disk, in->artifacts_dir, in->device, ab, err, errlen);
	if (r < 0) {
		*status = r == -ENOENT ? VH_FAIL : VH_FAULT;
		if (r == -ENOENT) {
			char msg[1100];
			snprintf(msg, sizeof(msg), "%s does not boot: %s", in->device, err);
			snprintf(err, errlen, "%s", msg);
		}
		return -1;
	}
	return 0;
}

/* Each run of a user image's bootloader: the profile, what it did with
 * which variables, and why. */
static void report_user(const struct device_boot *b, const char *device,
			void (*event)(void *ctx, const char *event, const char *const *kv),
			void *ctx)
{
	static const char *const actions[] = { "boot", "reset", "halt" };
	for (int i = 0; i < b->ub.n_passes; i++) {
		const struct boot_decision *d = &b->ub.passes[i];
		char vars[1024] = "", pass[16], part[16] = "";
		size_t n = 0;
		for (size_t v = 0; v < d->nvars && n < sizeof(vars); v++) {
			const struct boot_var *bv = &d->vars[v];
			if (bv->written)
				n += (size_t)snprintf(vars + n, sizeof(vars) - n, "%s%s=%s->%s",
						      n ? " " : "", bv->name,
						      bv->had_old ? bv->old : "(unset)",
						      bv->has_new ? bv->new : "(unset)");
		}
		snprintf(pass, sizeof(pass), "\x01%d", i + 1);
		bool last = i == b->ub.n_passes - 1;
		if (last && d->action == BOOT_ACTION_BOOT)
			snprintf(part, sizeof(part), "\x01%d", b->ub.partition);
		const char *kv[] = { "device",
				     device,
				     "profile",
				     d->profile,
				     "pass",
				     pass,
				     "action",
				     actions[d->action],
				     "slot",
				     d->slot_name,
				     "trial",
				     d->trial ? "\x01"
						"true"
					      : "\x01"
						"false",
				     "written",
				     vars,
				     "why",
				     d->why,
				     part[0] ? "partition" : NULL,
				     part,
				     NULL };
		event(ctx, "boot_choice", kv);
	}
}

void device_boot_report(const struct device_boot *b, const char *device,
			void (*event)(void *ctx, const char *event, const char *const *kv),
			void *ctx)
{
	if (b->user) {
		report_user(b, device, event, ctx);
		return;
	}
	if (!b->reference)
		return;
	const struct boot_choice *c = &b->ab.choice;
	char slot[2] = { c->slot, 0 }, from[2] = { c->rollback_from, 0 }, count[16];
	snprintf(count, sizeof(count), "\x01%u", c->bootcount);
	const char *kv[] = { "device",
			     device,
			     "slot",
			     slot,
			     "version",
			     b->ab.bundle.version,
			     "bootcount",
			     count,
			     "trial",
			     c->trial ? "\x01"
					"true"
				      : "\x01"
					"false",
			     c->rolled_back ? "rollback_from" : NULL,
			     from,
			     NULL };
	event(ctx, "boot_choice", kv);
}

int device_boot_prepare(const struct device_boot_in *in, struct device_boot *out,
			enum vh_outcome *status, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	struct ab_boot *ab = &out->ab;
	out->reference = in->fw->reference;
	out->user = in->fw->user != NULL;
	if (in->fw->user) {
		/* The device's flash, made from the image at its first power-on. */
		if (access(in->fw->disk, F_OK) != 0 &&
		    user_fw_copy_disk(in->fw->user->disk, in->fw->disk, err, errlen) < 0) {
			*status = VH_FAULT;
			return -1;
		}
		if (user_fw_boot(in->fw->user, in->fw->disk, in->artifacts_dir, in->device,
				 &out->ub, status, err, errlen) < 0)
			return -1;
		snprintf(out->kernel, sizeof(out->kernel), "%s", out->ub.kernel_path);
		snprintf(out->initrd, sizeof(out->initrd), "%s", out->ub.initrd_path);
		out->has_append = true;
		if (build_append(in, NULL, out->append, sizeof(out->append), err, errlen) < 0) {
			*status = VH_CONFIG;
			return -1;
		}
		size_t n = strlen(out->append);
		snprintf(out->append + n, sizeof(out->append) - n, " %s", out->ub.args);
		return 0;
	}
	if (in->fw->reference) {
		if (ab_prepare(in, ab, status, err, errlen) < 0)
			return -1;
		snprintf(out->kernel, sizeof(out->kernel), "%s", ab->kernel_path);
		snprintf(out->initrd, sizeof(out->initrd), "%s", ab->initrd_path);
	} else {
		snprintf(out->kernel, sizeof(out->kernel), "%s",
			 in->fw->kernel ? in->fw->kernel : "");
		snprintf(out->initrd, sizeof(out->initrd), "%s",
			 in->fw->initrd ? in->fw->initrd : "");
	}
	/* Firmware that boots through its own bootloader gets no command line. */
	out->has_append = in->fw->kernel != NULL;
	if (out->has_append && build_append(in, in->fw->reference ? ab : NULL, out->append,
					    sizeof(out->append), err, errlen) < 0) {
		*status = VH_CONFIG;
		return -1;
	}
	if (in->snapshot && in->fw->reference && out->has_append)
		split_identity(out);
	return 0;
}
