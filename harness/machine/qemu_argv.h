/* Builds QEMU's command line for one guest: a pure function, unit-tested,
 * so the machine configuration we measured (FACTS.md) lives in one place. */
#ifndef VH_QEMU_ARGV_H
#define VH_QEMU_ARGV_H

#include <stddef.h>

struct qemu_launch {
	const char *binary;      /* NULL: qemu-system-<arch> */
	const char *arch;        /* "x86_64" or "aarch64" */
	const char *accel;       /* "tcg" or "kvm" */
	unsigned memory_mib;
	const char *kernel;
	const char *initrd;      /* may be NULL */
	const char *append;      /* whole kernel command line, may be NULL */
	const char *bios;        /* firmware with its own bootloader; NULL: -kernel boot */
	const char *disk;        /* raw image on virtio-blk, may be NULL */
	/* The disk served by the harness over NBD on this abstract socket
	 * (export "flash", harness/flash): wins over disk. */
	const char *disk_nbd_socket;
	const char *tap_ifname;  /* NIC on this tap (QEMU's tap backend) */
	/* NIC on -netdev stream to this abstract socket the harness listens on
	 * (the user-space impairment datapath); wins over tap_ifname. */
	const char *net_socket;
	const char *mac;         /* "52:54:00:xx:xx:xx", used with tap_ifname */
	const char *serial_socket; /* abstract unix socket name the harness listens on */
	const char *qmp_socket;    /* abstract unix socket name the harness listens on */
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

#endif
