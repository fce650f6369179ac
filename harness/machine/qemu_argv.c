#include "qemu_argv.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void push(struct qemu_argv *a, const char *fmt, ...)
{
	if (a->argc + 2 > a->cap) {
		a->cap = a->cap ? a->cap * 2 : 32;
		a->argv = realloc(a->argv, (size_t)a->cap * sizeof(char *));
		if (!a->argv)
			abort();
	}
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&a->argv[a->argc], fmt, ap) < 0)
		abort();
	va_end(ap);
	a->argv[++a->argc] = NULL;
}

const char *qemu_binary_for_arch(const char *arch)
{
	if (arch && !strcmp(arch, "aarch64"))
		return "qemu-system-aarch64";
	return "qemu-system-x86_64";
}

const char *qemu_console_for_arch(const char *arch)
{
	if (arch && !strcmp(arch, "aarch64"))
		return "ttyAMA0";
	return "ttyS0";
}

bool qemu_arch_known(const char *arch)
{
	return arch && (!strcmp(arch, "x86_64") || !strcmp(arch, "aarch64"));
}

const char *qemu_host_arch(void)
{
#if defined(__x86_64__)
	return "x86_64";
#elif defined(__aarch64__)
	return "aarch64";
#else
	return NULL;
#endif
}

/* -M and -cpu for arch. x86: microvm boots fastest here (FACTS.md: 1.95 s
 * vs q35 2.07 s); its virtio-mmio devices are found through ACPI, and the
 * CPU is QEMU's default. aarch64: virt, whose virtio-mmio devices the
 * kernel finds in the device tree QEMU writes. Under TCG a Cortex-A53: "max"
 * emulates pointer authentication with QARMA, which made boots 4x slower,
 * and even with pauth-impdef=on it booted no faster than the A53 here
 * (README "aarch64 guests"). Under KVM the host's own CPU, and the host's
 * GIC version: virt's default GICv2 does not exist on GICv3-only hosts. */
static void push_machine(struct qemu_argv *a, bool x86, bool kvm, bool no_acpi, bool ram_file)
{
	const char *ram = ram_file ? ",memory-backend=ram0" : "";
	push(a, "-M");
	if (x86) {
		push(a, "microvm%s%s", no_acpi ? ",acpi=off" : "", ram);
		return;
	}
	push(a, "%s%s", kvm ? "virt,gic-version=host" : "virt", ram);
	push(a, "-cpu");
	push(a, kvm ? "host" : "cortex-a53");
}

void qemu_argv_free(struct qemu_argv *a)
{
	for (int i = 0; i < a->argc; i++)
		free(a->argv[i]);
	free(a->argv);
	memset(a, 0, sizeof(*a));
}

int qemu_argv_build(const struct qemu_launch *l, struct qemu_argv *a, char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	const char *arch = l->arch ? l->arch : "x86_64";
	if (!qemu_arch_known(arch)) {
		snprintf(err, errlen, "unknown arch '%s' (x86_64 or aarch64)", arch);
		return -1;
	}
	bool x86 = !strcmp(arch, "x86_64");
	if (!l->kernel && !l->bios) {
		snprintf(err, errlen, "firmware needs a kernel or a bios");
		return -1;
	}
	if (!l->serial_socket || !l->qmp_socket) {
		snprintf(err, errlen, "serial and QMP sockets are required");
		return -1;
	}
	const char *accel = l->accel ? l->accel : "tcg";

	push(a, "%s", l->binary ? l->binary : qemu_binary_for_arch(arch));
	if (l->ram_file && strchr(l->ram_file, ',')) {
		snprintf(err, errlen, "RAM file %s: a ',' cannot be passed to QEMU", l->ram_file);
		return -1;
	}
	push_machine(a, x86, !strcmp(accel, "kvm"), l->no_acpi, l->ram_file != NULL);
	push(a, "-accel");
	/* tb-size=32 for the cloud kernel: 16 costs 0.3 s a boot, 8 costs 1.5 s,
	 * and the default (1 GiB) wastes RSS. An image that boots well in less
	 * says so in its manifest (the small kernel: 8, docs/fleet.md). */
	if (!strcmp(accel, "tcg"))
		push(a, "tcg,tb-size=%u", l->tb_size_mib ? l->tb_size_mib : 32);
	else
		push(a, "%s", accel);
	push(a, "-m");
	push(a, "%u", l->memory_mib ? l->memory_mib : 96);
	if (l->ram_file) {
		push(a, "-object");
		push(a, "memory-backend-file,id=ram0,size=%uM,mem-path=%s,share=%s",
		     l->memory_mib ? l->memory_mib : 96, l->ram_file, l->ram_shared ? "on" : "off");
	}
	push(a, "-smp");
	push(a, "1");
	push(a, "-nodefaults");
	push(a, "-no-user-config");
	push(a, "-display");
	push(a, "none");
	/* A guest reboot ends the process: the harness is the bootloader and
	 * chooses the slot for the next power-on. */
	push(a, "-no-reboot");
	/* Started stopped: the serial console is connected before the first byte. */
	push(a, "-S");
	push(a, "-chardev");
	push(a, "socket,id=ser0,path=%s,abstract=on,server=off", l->serial_socket);
	push(a, "-serial");
	push(a, "chardev:ser0");
	push(a, "-chardev");
	push(a, "socket,id=qmp0,path=%s,abstract=on,server=off", l->qmp_socket);
	push(a, "-mon");
	push(a, "chardev=qmp0,mode=control");
	if (l->bios) {
		push(a, "-bios");
		push(a, "%s", l->bios);
	}
	if (l->kernel) {
		push(a, "-kernel");
		push(a, "%s", l->kernel);
	}
	if (l->initrd) {
		push(a, "-initrd");
		push(a, "%s", l->initrd);
	}
	if (l->append) {
		push(a, "-append");
		push(a, "%s", l->append);
	}
	/* Disk and NIC are virtio-mmio devices on both machines: no PCI bus to
	 * enumerate, and the same kernel modules (virtio_mmio, virtio_blk,
	 * virtio_net) in both images. */
	if (l->disk_nbd_socket) {
		/* Every write and flush goes through the harness's flash model.
		 * cache.direct/no-flush stay at their defaults, so the guest sees
		 * a write cache and sends its flushes on. */
		push(a, "-blockdev");
		push(a,
		     "driver=nbd,node-name=disk0,server.type=unix,server.path=%s,"
		     "server.abstract=on,export=flash",
		     l->disk_nbd_socket);
		push(a, "-device");
		push(a, "virtio-blk-device,drive=disk0");
	} else if (l->disk) {
		push(a, "-drive");
		push(a, "file=%s,if=none,id=disk0,format=raw%s", l->disk,
		     l->disk_snapshot ? ",snapshot=on" : "");
		push(a, "-device");
		push(a, "virtio-blk-device,drive=disk0");
	}
	if (l->nic_unplugged) {
		push(a, "-device");
		push(a, "virtio-net-device");
	} else if (l->net_socket || l->tap_ifname) {
		push(a, "-netdev");
		if (l->net_socket)
			push(a,
			     "stream,id=net0,server=off,addr.type=unix,addr.path=%s,addr.abstract="
			     "on",
			     l->net_socket);
		else
			push(a, "tap,id=net0,ifname=%s,script=no,downscript=no", l->tap_ifname);
		push(a, "-device");
		if (l->mac)
			push(a, "virtio-net-device,netdev=net0,mac=%s", l->mac);
		else
			push(a, "virtio-net-device,netdev=net0");
	}
	if (l->incoming) {
		push(a, "-incoming");
		push(a, "defer");
	}
	return 0;
}

int qemu_probe_argv_build(const char *arch, const char *binary, const char *kernel,
			  struct qemu_argv *a, char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	arch = arch ? arch : "x86_64";
	if (!qemu_arch_known(arch)) {
		snprintf(err, errlen, "unknown arch '%s' (x86_64 or aarch64)", arch);
		return -1;
	}
	if (!kernel) {
		snprintf(err, errlen, "a KVM probe needs a kernel");
		return -1;
	}
	push(a, "%s", binary ? binary : qemu_binary_for_arch(arch));
	push_machine(a, !strcmp(arch, "x86_64"), true, false, false);
	push(a, "-accel");
	push(a, "kvm");
	push(a, "-m");
	push(a, "96");
	push(a, "-nodefaults");
	push(a, "-no-user-config");
	push(a, "-display");
	push(a, "none");
	push(a, "-no-reboot");
	push(a, "-serial");
	push(a, "stdio");
	push(a, "-kernel");
	push(a, "%s", kernel);
	push(a, "-append");
	push(a, "console=%s panic=-1", qemu_console_for_arch(arch));
	return 0;
}
