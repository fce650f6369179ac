/* The run's private namespaces: see sandbox.h. */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* The uid the probe drops to when the caller is root, so that it answers for an
 * unprivileged user rather than for root (who can always unshare). */
#define SANDBOX_PROBE_UID 65534

static int sandbox_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = strlen(text);
	ssize_t n = write(fd, text, len);
	int saved = errno;
	close(fd);
	if (n != (ssize_t)len) {
		errno = n < 0 ? saved : EIO;
		return -1;
	}
	return 0;
}

/* The uid/gid are those of the caller before unshare(CLONE_NEWUSER): inside the
 * new namespace getuid() reports the overflow id until the map is written. */
static int sandbox_map_root(uid_t uid, gid_t gid, char *err, size_t errlen)
{
	char line[64];

	/* The kernel refuses an unprivileged gid_map until setgroups is denied,
	 * so a mapped root cannot drop supplementary groups it was denied by. */
	if (sandbox_write_file("/proc/self/setgroups", "deny") < 0 && errno != ENOENT) {
		snprintf(err, errlen, "cannot deny setgroups in the user namespace: %s",
			 strerror(errno));
		return -1;
	}
	snprintf(line, sizeof line, "0 %u 1", (unsigned)uid);
	if (sandbox_write_file("/proc/self/uid_map", line) < 0) {
		snprintf(err, errlen, "cannot write uid_map \"%s\": %s", line, strerror(errno));
		return -1;
	}
	snprintf(line, sizeof line, "0 %u 1", (unsigned)gid);
	if (sandbox_write_file("/proc/self/gid_map", line) < 0) {
		snprintf(err, errlen, "cannot write gid_map \"%s\": %s", line, strerror(errno));
		return -1;
	}
	return 0;
}

static void sandbox_unshare_error(int flags, int errnum, char *err, size_t errlen)
{
	const char *what =
		flags & CLONE_NEWUSER ? "a user and network namespace" : "a network namespace";
	const char *hint = "";

	/* A private mount namespace needs an unshared fs_struct, which threads share. */
	if (errnum == EINVAL)
		hint = " (the process already has threads? call sandbox_enter() before starting "
		       "any)";
	else if (errnum == EPERM && (flags & CLONE_NEWUSER))
		hint = " (user namespaces disabled? sysctl kernel.unprivileged_userns_clone, "
		       "kernel.apparmor_restrict_unprivileged_userns)";
	else if (errnum == EPERM)
		hint = " (needs root or CAP_SYS_ADMIN)";
	else if (errnum == ENOSPC)
		hint = " (namespace limit reached: sysctl user.max_user_namespaces, "
		       "user.max_net_namespaces)";
	snprintf(err, errlen, "cannot create %s: %s%s", what, strerror(errnum), hint);
}

/* Mounts made from here on stay in our mount namespace; the fresh sysfs is
 * tied to the network namespace we are in now, so /sys/class/net lists our
 * links (and only those). */
static int sandbox_mount_sysfs(char *err, size_t errlen)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) {
		snprintf(err, errlen, "cannot make / a slave mount in the sandbox: %s",
			 strerror(errno));
		return -1;
	}
	if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		snprintf(err, errlen, "cannot mount a private sysfs on /sys in the sandbox: %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}

int sandbox_enter(char *err, size_t errlen)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	int flags = CLONE_NEWNET | CLONE_NEWNS;

	if (uid == 0) {
		if (unshare(flags) == 0)
			return sandbox_mount_sysfs(err, errlen);
		/* Root without CAP_SYS_ADMIN (a container) may still own a user namespace. */
		if (errno != EPERM) {
			sandbox_unshare_error(flags, errno, err, errlen);
			return -1;
		}
	}
	flags |= CLONE_NEWUSER;
	if (unshare(flags) < 0) {
		sandbox_unshare_error(flags, errno, err, errlen);
		return -1;
	}
	if (sandbox_map_root(uid, gid, err, errlen) < 0)
		return -1;
	return sandbox_mount_sysfs(err, errlen);
}

bool sandbox_userns_available(void)
{
	pid_t pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		uid_t uid = geteuid();
		gid_t gid = getegid();
		if (uid == 0) {
			if (setgroups(0, NULL) < 0 || setgid(SANDBOX_PROBE_UID) < 0 ||
			    setuid(SANDBOX_PROBE_UID) < 0)
				_exit(1);
			/* setuid cleared dumpable, which makes /proc/self/uid_map root's. */
			prctl(PR_SET_DUMPABLE, 1);
			uid = gid = SANDBOX_PROBE_UID;
		}
		char err[256];
		if (unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS) < 0)
			_exit(1);
		if (sandbox_map_root(uid, gid, err, sizeof err) < 0)
			_exit(1);
		if (sandbox_mount_sysfs(err, sizeof err) < 0)
			_exit(1);
		/* _exit: the child must not flush the parent's stdio buffers. */
		_exit(0);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}
