/* Runs a test body in a forked child that has entered its own user+net+mount
 * namespaces (base/sandbox.h), so privileged tests never touch the host's
 * network. Skips (test_skip.h) when namespaces are unavailable. Include after
 * <cmocka.h>; the body reports failures with child_check.h's CHECK and its exit
 * status. */
#ifndef VH_TEST_SANDBOXED_H
#define VH_TEST_SANDBOXED_H

#include "sandbox.h"
#include "test_skip.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* 0 when the kernel lets us create the namespaces, else why not (an errno), probed
 * without sandbox.c so that a bug there fails the tests instead of skipping them. */
static inline int sandboxed_namespaces_unavailable(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		int flags = CLONE_NEWNET | CLONE_NEWNS | (geteuid() == 0 ? 0 : CLONE_NEWUSER);
		_exit(unshare(flags) == 0 ? 0 : errno);
	}
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return ECHILD;
	return WIFEXITED(status) ? WEXITSTATUS(status) : ECHILD;
}

static inline ino_t sandboxed_netns_inode(void)
{
	struct stat st;
	if (stat("/proc/self/ns/net", &st) < 0)
		abort();
	return st.st_ino;
}

static inline void sandboxed_run(int (*fn)(void))
{
	int why = sandboxed_namespaces_unavailable();
	if (why) {
		char reason[160];
		snprintf(reason, sizeof reason, "cannot create network and mount namespaces: %s",
			 strerror(why));
		vh_skip(reason);
	}
	ino_t host_netns = sandboxed_netns_inode();
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char err[256];
		if (sandbox_enter(err, sizeof err) < 0) {
			fprintf(stderr, "sandbox_enter: %s\n", err);
			exit(3);
		}
		/* Never make links or send frames if the sandbox left us in the host's. */
		if (sandboxed_netns_inode() == host_netns)
			abort();
		exit(fn()); /* exit, not _exit: LeakSanitizer checks the child here */
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

#endif
