/* Facts about the host that choose how guests are started: the TSC rate
 * (microvm guests need it under TCG) and whether KVM really works. */
#ifndef VH_HOSTINFO_H
#define VH_HOSTINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The host TSC rate in kHz, measured once per process against
 * CLOCK_MONOTONIC_RAW (about 0.1% accurate, 30 ms). 0 on non-x86 hosts.
 * Under TCG the guest's TSC is the host's, so this is what the guest's
 * kernel must be told (tsc_early_khz=): without it, the Debian kernel on
 * microvm hangs in about one boot of five calibrating against the PIT. */
uint32_t hostinfo_tsc_khz(void);

/* True when /dev/kvm opens and answers KVM_GET_API_VERSION; why says what failed. */
bool hostinfo_kvm_device_ok(char *why, size_t whylen);

/* Proves KVM with a probe boot: starts qemu_binary with -accel kvm on the
 * given kernel and waits up to timeout_ms for the kernel's first line.
 * (Here /dev/kvm exists but a KVM guest hangs in the boot stub.) The answer
 * is cached per (QEMU binary, kernel, host kernel) in
 * $XDG_CACHE_HOME/vharness/ unless fresh is true. */
bool hostinfo_kvm_probe(const char *qemu_binary, const char *kernel, int timeout_ms, bool fresh,
			char *why, size_t whylen);

#endif
