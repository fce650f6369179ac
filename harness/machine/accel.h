/* Which accelerator guests use, per QEMU binary, decided without ever
 * blocking the loop. "auto" is KVM where a probe boot proves it works (a
 * /dev/kvm that opens is not enough: here QEMU fails on it with "failed to
 * set MSR 0x10a"), else TCG; the probe is a QEMU child watched on the loop,
 * and its answer is cached per (QEMU binary, kernel, host kernel) in
 * $XDG_CACHE_HOME/vharness/ (hostinfo.h). "tcg" and "kvm" are taken as
 * given. The probe boots the guest arch's machine with the host's CPU
 * (qemu_probe_argv_build). Each binary is decided once per run; requests that arrive while its
 * probe runs wait for the same answer. */
#ifndef VH_ACCEL_H
#define VH_ACCEL_H

#include <stdbool.h>
#include <stddef.h>

struct ev_loop;
struct accel;
struct accel_request;

/* Told once per binary when it is decided (for the run's log and events). */
typedef void (*accel_notice_fn)(void *ctx, const char *binary, const char *requested,
				const char *accel, const char *why);
/* The answer: "kvm" or "tcg" (a static string). Called from the loop. */
typedef void (*accel_fn)(void *arg, const char *accel);

/* requested: "auto", "tcg" or "kvm"; notice may be NULL. */
struct accel *accel_new(struct ev_loop *loop, const char *requested, accel_notice_fn notice,
			void *ctx);
/* Ends running probes (killed and reaped); pending requests are dropped. */
void accel_free(struct accel *a);

/* Asks which accelerator binary runs kernel (an arch guest: "x86_64",
 * "aarch64") with. fn is called exactly once, always from the loop, unless
 * the request is cancelled first. kernel may be NULL (firmware with its own
 * bootloader): nothing to probe with, so auto means TCG; so does a guest
 * arch other than the host's, which KVM cannot run. */
struct accel_request *accel_get(struct accel *a, const char *arch, const char *binary,
				const char *kernel, accel_fn fn, void *arg);
/* Drops a request whose answer nobody wants any more. */
void accel_cancel(struct accel_request *r);

/* doctor: one fresh probe from start to end, on a loop of its own. True
 * when KVM booted the kernel; why says what was seen. */
bool accel_probe_kvm_now(const char *arch, const char *binary, const char *kernel, char *why,
			 size_t whylen);

#endif
