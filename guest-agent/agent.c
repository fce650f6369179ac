/* vh-agent: the reference firmware's in-guest agent.
 *
 * Started by /init in the background. Reads what this build is (version,
 * planted bugs) from its own /etc/vh-release and the bootloader's choices
 * from the kernel command line, reports boot, brings the network up, then,
 * given vh.server=, runs the OTA loop (agent_ota: check-in, update,
 * trial-boot commit); without it, stays alive doing nothing. Every report is a
 * DESIGN.md section 5 event line on stdout, which /init points at the
 * console. With vh.snapshot=1 it is a snapshot boot's template: it waits on
 * the console for the identity of the device it is restored as, and boots
 * on as that device (wire/agent_event.h, docs/ota-protocol.md).
 *
 * Options, for /init and for testing on a host:
 *   --ready-fd N    write "ready\n" to fd N and close it once the network
 *                   step is over (up, failed or not configured), so /init
 *                   can start the shell after the boot lines
 *   --cmdline TEXT  use TEXT instead of /proc/cmdline
 *   --release PATH  read PATH instead of /etc/vh-release
 *   --once          exit after the network step instead of staying alive
 *   --set-hostname  set the hostname to vh.device (off by default so that a
 *                   test run on a host never renames the host)
 *   --firmware      this is the device's own agent: it may write vh.disk (the
 *                   slots and the env) and reboot the machine. Off by default
 *                   so that a test run on a host can never write the host's
 *                   /dev/vda or reboot it. */
#include "agent_config.h"
#include "agent_event.h"
#include "agent_net.h"
#include "agent_ota.h"
#include "agent_snapshot.h"
#include "release.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct agent_options {
	int ready_fd;
	const char *cmdline;
	const char *release;
	bool once;
	bool set_hostname;
	bool firmware;
};

static int agent_parse_options(int argc, char **argv, struct agent_options *opt)
{
	opt->ready_fd = -1;
	opt->cmdline = NULL;
	opt->release = RELEASE_PATH;
	opt->once = false;
	opt->set_hostname = false;
	opt->firmware = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--ready-fd") == 0 && i + 1 < argc)
			opt->ready_fd = atoi(argv[++i]);
		else if (strcmp(argv[i], "--cmdline") == 0 && i + 1 < argc)
			opt->cmdline = argv[++i];
		else if (strcmp(argv[i], "--release") == 0 && i + 1 < argc)
			opt->release = argv[++i];
		else if (strcmp(argv[i], "--once") == 0)
			opt->once = true;
		else if (strcmp(argv[i], "--set-hostname") == 0)
			opt->set_hostname = true;
		else if (strcmp(argv[i], "--firmware") == 0)
			opt->firmware = true;
		else
			return -1;
	}
	return 0;
}

/* Reads /proc/cmdline into buf; an unreadable file leaves buf empty, which
 * means all defaults: the boot line matters more than the configuration. */
static void agent_read_cmdline(char *buf, size_t cap)
{
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n = -1;

	if (fd >= 0) {
		n = read(fd, buf, cap - 1);
		close(fd);
	}
	buf[n > 0 ? (size_t)n : 0] = '\0';
}

/* Takes this build's version and bugs from its release file at path. A
 * missing or broken file is reported and leaves the version "unknown" and no
 * bug on: the boot line still comes, and says the image does not know what
 * it is. */
static void agent_read_release(const char *path, struct agent_config *cfg)
{
	char text[RELEASE_MAX + 1];
	struct release r;
	ssize_t n = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	if (fd >= 0) {
		do {
			n = read(fd, text, sizeof(text));
		} while (n < 0 && errno == EINTR);
	}
	err = errno;
	if (fd >= 0)
		close(fd);
	if (n < 0) {
		agent_event(STDOUT_FILENO, "release missing path=%s errno=%d", path, err);
		return;
	}
	/* one read: the file is at most RELEASE_MAX bytes, and more is invalid */
	if (release_parse(text, (size_t)n, &r, NULL, 0) != 0) {
		agent_event(STDOUT_FILENO, "release invalid path=%s", path);
		return;
	}
	if (agent_config_apply_release(cfg, &r) != 0)
		agent_event(STDOUT_FILENO, "release invalid path=%s key=BUGS", path);
}

static void agent_signal_ready(int fd)
{
	static const char msg[] = "ready\n";

	if (fd < 0)
		return;
	if (write(fd, msg, sizeof(msg) - 1) < 0) {
		/* /init stops waiting at its own timeout; nothing else to do. */
	}
	close(fd);
}

static void agent_net_step(const struct agent_config *cfg)
{
	char ip[INET_ADDRSTRLEN];
	const char *step = "unknown";
	int rc;

	if (!cfg->has_ip) {
		if (strcmp(cfg->bad_key, "vh.ip") == 0)
			agent_event(STDOUT_FILENO, "net failed reason=bad_config key=vh.ip");
		return;
	}
	if (agent_net_wait_iface(cfg->iface, cfg->net_wait_ms) != 0) {
		agent_event(STDOUT_FILENO, "net failed reason=no_interface iface=%s waited_ms=%lu",
			    cfg->iface, cfg->net_wait_ms);
		return;
	}
	rc = agent_net_up(cfg, &step);
	if (rc != 0) {
		agent_event(STDOUT_FILENO, "net failed reason=%s iface=%s errno=%d", step,
			    cfg->iface, -rc);
		return;
	}
	inet_ntop(AF_INET, &cfg->ip, ip, sizeof(ip));
	agent_event(STDOUT_FILENO, "net up ip=%s", ip);
}

int main(int argc, char **argv)
{
	struct agent_options opt;
	struct agent_config cfg;
	char cmdline[AGENT_CONFIG_CMDLINE_MAX];
	unsigned long long start_ms = agent_ota_now_ms();

	if (agent_parse_options(argc, argv, &opt) != 0) {
		fprintf(stderr, "usage: vh-agent [--ready-fd N] [--cmdline TEXT] [--release PATH] "
				"[--once] [--set-hostname] [--firmware]\n");
		return 2;
	}
	if (opt.cmdline != NULL)
		snprintf(cmdline, sizeof(cmdline), "%s", opt.cmdline);
	else
		agent_read_cmdline(cmdline, sizeof(cmdline));

	agent_config_defaults(&cfg);
	agent_config_parse(&cfg, cmdline);
	if (cfg.snapshot) {
		agent_snapshot(&cfg, cmdline, sizeof(cmdline), opt.firmware);
		/* The trial boot's 20 s count from the restore, not from the
		 * template's boot. */
		start_ms = agent_ota_now_ms();
	}
	agent_read_release(opt.release, &cfg);
	agent_event(STDOUT_FILENO, "boot slot=%s version=%s bootcount=%lu", cfg.slot, cfg.version,
		    cfg.bootcount);
	if (cfg.rollback_from[0] != '\0')
		agent_event(STDOUT_FILENO, "rollback from=%s to=%s reason=bootlimit",
			    cfg.rollback_from, cfg.slot);
	if (cfg.bad_key[0] != '\0')
		agent_event(STDOUT_FILENO, "config invalid key=%s", cfg.bad_key);
	/* The device name doubles as the shell's hostname, which tells the
	 * consoles of several devices apart in a transcript. */
	if (opt.set_hostname && sethostname(cfg.device, strlen(cfg.device)) != 0) {
		/* Not worth an event line: nothing depends on the hostname. */
	}

	agent_net_step(&cfg);
	agent_signal_ready(opt.ready_fd);
	if (opt.once)
		return 0;
	if (cfg.has_server)
		agent_ota_run(&cfg, opt.firmware, start_ms);
	for (;;)
		pause();
}
