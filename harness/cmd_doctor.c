#include "cmd_doctor.h"

#include "cmd_run.h"
#include "hostinfo.h"
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void first_line_of(const char *cmd, char *out, size_t len)
{
	out[0] = '\0';
	FILE *p = popen(cmd, "r");
	if (!p)
		return;
	if (!fgets(out, (int)len, p))
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	pclose(p);
}

/* sch_netem is tried for real in a throwaway namespace: a loaded module,
 * a built-in one and an autoloadable one all count, and the host's own
 * qdiscs are never touched. */
static int netem_in_child(char *why, size_t len)
{
	int pipefd[2];
	if (pipe(pipefd) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		char err[256];
		if (sandbox_enter(err, sizeof(err)) < 0) {
			dprintf(pipefd[1], "%s", err);
			_exit(2);
		}
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		execlp("tc", "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms", (char *)NULL);
		dprintf(pipefd[1], "cannot run tc: %s", strerror(errno));
		_exit(3);
	}
	close(pipefd[1]);
	ssize_t n = read(pipefd[0], why, len - 1);
	why[n > 0 ? n : 0] = '\0';
	why[strcspn(why, "\n")] = '\0';
	close(pipefd[0]);
	int status;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 1 : 0;
}

int cmd_doctor(const struct cli_opts *opts)
{
	int result = 0;
	char line[512], why[512];
	printf("vharness doctor\n");

	first_line_of("qemu-system-x86_64 --version 2>/dev/null", line, sizeof(line));
	printf("  qemu x86_64:      %s\n", line[0] ? line : "MISSING (apt-get install qemu-system-x86)");
	if (!line[0])
		result = 3;
	first_line_of("qemu-system-aarch64 --version 2>/dev/null", line, sizeof(line));
	printf("  qemu aarch64:     %s\n", line[0] ? line : "missing (apt-get install qemu-system-arm)");

	const char *image_dir = cmd_run_image_dir(opts);
	char kernel[1024];
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", image_dir);
	bool have_image = access(kernel, R_OK) == 0;
	printf("  reference image:  %s%s\n", image_dir,
	       have_image ? "" : " (not built: cmake --build build, or vharness image build)");

	bool kvm = false;
	if (!hostinfo_kvm_device_ok(why, sizeof(why))) {
		printf("  kvm:              no (%s)\n", why);
	} else if (!have_image) {
		printf("  kvm:              /dev/kvm answers; not probed (no reference kernel to boot)\n");
	} else {
		/* A fresh probe, which also refreshes the cache runs read. */
		kvm = hostinfo_kvm_probe("qemu-system-x86_64", kernel, 4000, true, why, sizeof(why));
		printf("  kvm:              %s (%s)\n", kvm ? "yes" : "no", why);
	}
	printf("  accel auto picks: %s\n", kvm ? "kvm" : "tcg");
	uint32_t khz = hostinfo_tsc_khz();
	if (khz)
		printf("  host TSC:         %u kHz (passed to microvm guests as tsc_early_khz)\n", khz);

	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	printf("  tun:              %s\n", fd >= 0 ? "yes" : strerror(errno));
	if (fd >= 0)
		close(fd);
	else
		result = 3;
	bool userns = sandbox_userns_available();
	printf("  user namespaces:  %s\n", userns ? "yes (rootless runs work)" : "no (runs need root)");
	if (!userns && geteuid() != 0)
		result = 3;

	int netem = netem_in_child(why, sizeof(why));
	if (netem == 1)
		printf("  sch_netem:        yes\n");
	else
		printf("  sch_netem:        no (%s)\n", why[0] ? why : "tc failed");
	/* The kernel backend (tc-netem on the tap and an IFB) is not built yet:
	 * every run uses the harness's own datapath, which needs no sch_netem. */
	printf("  impairment auto:  user (harness datapath)%s\n",
	       netem == 1 ? "; the kernel backend is not implemented yet" : "");
	return result;
}
