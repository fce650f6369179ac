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

/* The answer an earlier KVM probe boot (accel.h) gave for (QEMU binary,
 * kernel, this host's kernel), from $XDG_CACHE_HOME/vharness/kvm-probe:
 * 1 KVM works, 0 it does not, -1 never probed. why gets the probe's words. */
int hostinfo_kvm_cache_lookup(const char *qemu_binary, const char *kernel, char *why,
			      size_t whylen);
/* Records a probe's answer for hostinfo_kvm_cache_lookup. Best effort. */
void hostinfo_kvm_cache_store(const char *qemu_binary, const char *kernel, bool ok,
			      const char *why);

#endif
