/* agent_snapshot: the guest side of a snapshot boot (wire/agent_event.h,
 * docs/ota-protocol.md "Snapshot boot"): the snapshot point, the identity
 * handshake on the console, and what a restored machine must not keep from
 * its template (disk caches, RNG state). */
#include "agent_snapshot.h"

#include "agent_event.h"
#include "agent_net.h"
#include "lines.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#define AGENT_SNAPSHOT_CONSOLE "/dev/console"

/* Reads console lines until one starts with AGENT_IDENTITY_PREFIX and copies
 * the words after it into buf (cap bytes, at least AGENT_CONFIG_CMDLINE_MAX).
 * Returns 0, -errno when reading fails, -ENODATA at EOF, -E2BIG for an
 * identity line that may not be whole. */
static int agent_snapshot_read_identity(int fd, char *buf, size_t cap)
{
	const size_t prefix_len = strlen(AGENT_IDENTITY_PREFIX);
	char line[AGENT_CONFIG_CMDLINE_MAX], chunk[256];
	struct lines l;

	lines_init(&l, line, sizeof(line));
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		size_t off = 0, used;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? -ENODATA : -errno;
		while (off < (size_t)n && lines_push(&l, chunk + off, (size_t)n - off, &used)) {
			off += used;
			/* The kernel's messages or a stray keypress: not for us. */
			if (strncmp(l.buf, AGENT_IDENTITY_PREFIX, prefix_len) != 0)
				continue;
			/* A cut identity would boot a different device. The tty
			 * cuts a canonical line at 4095 bytes without a sign, so
			 * a line that long may have been cut before it came. */
			if (l.truncated || l.len >= sizeof(line) - 1)
				return -E2BIG;
			snprintf(buf, cap, "%s", l.buf + prefix_len);
			return 0;
		}
	}
}

/* Announces the snapshot point, then waits on the console for the identity
 * and puts it into cmdline (cap bytes). Returns 0, or -errno with cmdline
 * untouched. */
static int agent_snapshot_identity(char *cmdline, size_t cap)
{
	int fd = open(AGENT_SNAPSHOT_CONSOLE, O_RDWR | O_NOCTTY | O_CLOEXEC), rc;
	struct termios saved, quiet;
	bool have_termios;

	if (fd < 0)
		return -errno;
	/* Echo off before the snapshot point: the harness's identity line must
	 * not come back out on the console, into the device's transcript. */
	have_termios = tcgetattr(fd, &saved) == 0;
	if (have_termios) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		tcsetattr(fd, TCSANOW, &quiet);
	}
	tcflush(fd, TCIFLUSH);
	agent_event(STDOUT_FILENO, AGENT_SNAPSHOT_POINT);
	rc = agent_snapshot_read_identity(fd, cmdline, cap);
	if (have_termios)
		tcsetattr(fd, TCSANOW, &saved);
	close(fd);
	return rc;
}

/* The restored machine's page cache still holds the template's disk blocks
 * and partition table, but its flash is the device's own. */
static void agent_snapshot_disk(const char *disk)
{
	int fd = open(disk, O_RDONLY | O_CLOEXEC);

	/* No disk at all is a device without one, not a failure. */
	if (fd < 0)
		return;
	if (ioctl(fd, BLKFLSBUF, 0) != 0)
		agent_event(STDOUT_FILENO, "snapshot disk failed op=flush errno=%d", errno);
	if (ioctl(fd, BLKRRPART, 0) != 0)
		agent_event(STDOUT_FILENO, "snapshot disk failed op=rereadpart errno=%d", errno);
	close(fd);
}

/* Every restored device starts with the template's kernel RNG state: the
 * device's seed makes later reads of it differ. */
static void agent_snapshot_mix_seed(const struct agent_config *cfg)
{
	int fd;

	if (!cfg->has_seed || (fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC)) < 0)
		return;
	if (write(fd, &cfg->seed, sizeof(cfg->seed)) < 0) {
		/* The agent's own jitter takes the seed directly (agent_ota). */
	}
	close(fd);
}

void agent_snapshot(struct agent_config *cfg, char *cmdline, size_t cap, bool firmware)
{
	int rc;

	/* eth0 must be in the saved machine, but not up: it goes up in the net
	 * step, with the device's MAC and address. A missing one is reported
	 * there. */
	agent_net_wait_iface(cfg->iface, cfg->net_wait_ms);
	rc = agent_snapshot_identity(cmdline, cap);
	if (rc != 0) {
		agent_event(STDOUT_FILENO, "snapshot identity missing errno=%d",
			    rc == -ENODATA ? 0 : -rc);
	} else {
		agent_config_defaults(cfg);
		agent_config_parse(cfg, cmdline);
		agent_snapshot_mix_seed(cfg);
	}
	if (firmware)
		agent_snapshot_disk(cfg->disk);
}
