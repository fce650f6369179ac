/* Builds QEMU's command line for one guest: a pure function, unit-tested,
 * so the machine configuration we measured (FACTS.md) lives in one place. */
#ifndef VH_QEMU_ARGV_H
#define VH_QEMU_ARGV_H

#include <stdbool.h>
#include <stddef.h>

struct qemu_launch {
	const char *binary; /* NULL: qemu-system-<arch> */
	const char *arch;   /* "x86_64" or "aarch64" */
	const char *accel;  /* "tcg" or "kvm" */
	unsigned memory_mib;
	/* x86 microvm with acpi=off: QEMU then lists the virtio-mmio devices on
	 * the kernel command line (virtio_mmio.device=) and in the MP table. For
	 * kernels whose ACPI cannot load microvm's tables (the small kernel,
	 * docs/fleet.md). */
	bool no_acpi;
	/* TCG's translation buffer in MiB; 0: 32. Most of an idle guest's host
	 * memory is QEMU's own, and this buffer a large part of it. */
	unsigned tb_size_mib;
	const char *kernel;
	const char *initrd; /* may be NULL */
	const char *append; /* whole kernel command line, may be NULL */
	const char *bios;   /* firmware with its own bootloader; NULL: -kernel boot */
	const char *disk;   /* raw image on virtio-blk, may be NULL */
	/* The disk served by the harness over NBD on this abstract socket
	 * (export "flash", harness/flash): wins over disk. */
	const char *disk_nbd_socket;
	const char *tap_ifname; /* NIC on this tap (QEMU's tap backend) */
	/* NIC on -netdev stream to this abstract socket the harness listens on
	 * (the user-space impairment datapath); wins over tap_ifname. */
	const char *net_socket;
	const char *mac;	   /* "52:54:00:xx:xx:xx", used with tap_ifname */
	const char *serial_socket; /* abstract unix socket name the harness listens on */
	const char *qmp_socket;	   /* abstract unix socket name the harness listens on */
	/* Snapshot boot (harness/machine/snapshot.h). Guest RAM in this file:
	 * shared (a template writes its RAM there, for every device to map) or
	 * private (a device's own copy-on-write view of the template's RAM). */
	const char *ram_file;
	bool ram_shared;
	bool incoming;	    /* -incoming defer: the machine state comes over QMP */
	bool disk_snapshot; /* disk writes go to a throwaway overlay (a template's) */
	bool nic_unplugged; /* the NIC without a backend: a template's, sends nowhere */
};

struct qemu_argv {
	char **argv; /* NULL-terminated; owned */
	int argc;
	int cap;
};

/* Fills a with the command line for l. 0, or -1 when l is incomplete or the
 * arch is unknown (err says which field). Free with qemu_argv_free. */
int qemu_argv_build(const struct qemu_launch *l, struct qemu_argv *a, char *err, size_t errlen);
void qemu_argv_free(struct qemu_argv *a);

/* The default QEMU binary for arch ("qemu-system-x86_64"). */
const char *qemu_binary_for_arch(const char *arch);
/* The guest console device for arch ("ttyS0", "ttyAMA0"). */
const char *qemu_console_for_arch(const char *arch);
/* True for the guest architectures vharness boots: "x86_64", "aarch64". */
bool qemu_arch_known(const char *arch);
/* The architecture this harness was built for, as a guest arch name
 * ("x86_64", "aarch64"): the default guest architecture, and the only one
 * KVM can run. NULL on any other host. */
const char *qemu_host_arch(void);

/* Fills a with the command line of a KVM probe boot (accel.h): binary (NULL:
 * qemu-system-<arch>) boots kernel under KVM with the console on stdio and
 * the CPU and interrupt controller the host has, so that its first console
 * line proves KVM runs this arch's guests here. -1 with err for an unknown
 * arch or no kernel. */
int qemu_probe_argv_build(const char *arch, const char *binary, const char *kernel,
			  struct qemu_argv *a, char *err, size_t errlen);

#endif
