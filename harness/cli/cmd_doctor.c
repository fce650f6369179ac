#include "cmd_doctor.h"

#include "ab_boot.h"
#include "accel.h"
#include "child.h"
#include "cmd_run.h"
#include "hostinfo.h"
#include "impairment.h"
#include "qemu_argv.h"
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The first line a command prints (its version), "" when it cannot run. */
static void first_line_of(const char *const *argv, char *out, size_t len)
{
	struct child_spec spec = { .argv = argv };
	char err[256];
	int status = child_run(&spec, 10000, out, len, NULL, err, sizeof(err));
	if (status < 0 || !child_status_ok(status))
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
}

/* In a forked child: enters the sandbox and prints "kernel|user<TAB>why". */
static int probe_backend(void *arg)
{
	(void)arg;
	char err[512], reason[256];
	enum impairment_backend b;
	if (sandbox_enter(err, sizeof(err)) < 0)
		printf("?\t%s", err);
	else if (impairment_resolve("auto", &b, reason, sizeof(reason), err, sizeof(err)) < 0)
		printf("?\t%s", err);
	else
		printf("%s\t%s", impairment_backend_name(b), reason);
	fflush(stdout);
	return 0;
}

/* What `--backend auto` would pick, decided as a run decides it
 * (impairment_resolve) but in a throwaway namespace: a loaded, built-in or
 * autoloadable sch_netem all count, and the host's own qdiscs are never
 * touched. Writes "kernel|user" and why, or a reason why it could not ask;
 * 0 when the child answered. */
static int backend_in_child(char *backend, size_t blen, char *why, size_t wlen)
{
	char buf[600], err[256];
	snprintf(backend, blen, "?");
	fflush(NULL);
	struct child_spec spec = { .fn = probe_backend };
	if (child_run(&spec, 20000, buf, sizeof(buf), NULL, err, sizeof(err)) < 0) {
		snprintf(why, wlen, "cannot ask: %s", err);
		return -1;
	}
	char *tab = strchr(buf, '\t');
	if (!tab) {
		snprintf(why, wlen, "the probe died before answering");
		return -1;
	}
	*tab = '\0';
	snprintf(backend, blen, "%.15s", buf);
	snprintf(why, wlen, "%s", tab + 1);
	return 0;
}

int cmd_doctor(const struct cli_opts *opts)
{
	int result = 0;
	char line[512], why[512];
	printf("vharness doctor\n");

	static const char *const qemu_x86[] = { "qemu-system-x86_64", "--version", NULL };
	static const char *const qemu_arm[] = { "qemu-system-aarch64", "--version", NULL };
	first_line_of(qemu_x86, line, sizeof(line));
	printf("  qemu x86_64:      %s\n",
	       line[0] ? line : "MISSING (apt-get install qemu-system-x86)");
	if (!line[0])
		result = 3;
	first_line_of(qemu_arm, line, sizeof(line));
	printf("  qemu aarch64:     %s\n",
	       line[0] ? line : "missing (apt-get install qemu-system-arm)");

	/* KVM runs the host's own architecture only: probe with that image. */
	const char *host = qemu_host_arch() ? qemu_host_arch() : "x86_64";
	const char *image_root = cmd_run_image_dir(opts);
	char kernel[1100], dir[1024];
	bool have_image = false;
	static const char *const arches[] = { "x86_64", "aarch64" };
	for (size_t i = 0; i < sizeof(arches) / sizeof(arches[0]); i++) {
		char k[1100];
		ab_boot_image_dir(image_root, arches[i], dir, sizeof(dir));
		snprintf(k, sizeof(k), "%s/vmlinuz", dir);
		bool built = access(k, R_OK) == 0;
		printf("  %-7s image:    %s%s\n", arches[i], dir,
		       built ? "" : " (not built: vharness image build --arch ...)");
		if (!strcmp(arches[i], host)) {
			have_image = built;
			snprintf(kernel, sizeof(kernel), "%s", k);
		}
	}
	printf("  default --arch:   %s (this host's)\n", host);

	bool kvm = false;
	if (!hostinfo_kvm_device_ok(why, sizeof(why))) {
		printf("  kvm:              no (%s)\n", why);
	} else if (!have_image) {
		printf("  kvm:              /dev/kvm answers; not probed (no %s kernel to boot)\n",
		       host);
	} else {
		/* A fresh probe, which also refreshes the cache runs read. */
		kvm = accel_probe_kvm_now(host, qemu_binary_for_arch(host), kernel, why,
					  sizeof(why));
		printf("  kvm:              %s (%s)\n", kvm ? "yes" : "no", why);
	}
	printf("  accel auto picks: %s for %s guests, tcg for others\n", kvm ? "kvm" : "tcg", host);
	uint32_t khz = hostinfo_tsc_khz();
	if (khz)
		printf("  host TSC:         %u kHz (passed to microvm guests as tsc_early_khz)\n",
		       khz);

	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	printf("  tun:              %s\n", fd >= 0 ? "yes" : strerror(errno));
	if (fd >= 0)
		close(fd);
	else
		result = 3;
	bool userns = sandbox_userns_available();
	printf("  user namespaces:  %s\n",
	       userns ? "yes (rootless runs work)" : "no (runs need root)");
	if (!userns && geteuid() != 0)
		result = 3;

	char backend[16];
	backend_in_child(backend, sizeof(backend), why, sizeof(why));
	if (!strcmp(backend, "kernel"))
		printf("  sch_netem:        yes\n");
	else if (!strcmp(backend, "user"))
		printf("  sch_netem:        no\n");
	else
		printf("  sch_netem:        not probed\n");
	printf("  impairment auto:  %s (%s)\n", backend, why);
	return result;
}
