#include "hostinfo.h"

#include "ev.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>

static uint64_t mono_raw_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t measure_tsc_khz(void)
{
	/* Three short windows; the median shrugs off one preemption. */
	double khz[3];
	for (int i = 0; i < 3; i++) {
		uint64_t t0 = mono_raw_ns(), c0 = __rdtsc();
		struct timespec nap = { 0, 10 * 1000 * 1000 };
		nanosleep(&nap, NULL);
		uint64_t t1 = mono_raw_ns(), c1 = __rdtsc();
		khz[i] = (double)(c1 - c0) * 1e6 / (double)(t1 - t0);
	}
	double lo = khz[0] < khz[1] ? khz[0] : khz[1], hi = khz[0] < khz[1] ? khz[1] : khz[0];
	double mid = khz[2] < lo ? lo : khz[2] > hi ? hi : khz[2];
	return (uint32_t)(mid + 0.5);
}
#else
static uint32_t measure_tsc_khz(void)
{
	return 0;
}
#endif

uint32_t hostinfo_tsc_khz(void)
{
	static uint32_t khz;
	if (!khz)
		khz = measure_tsc_khz();
	return khz;
}

bool hostinfo_kvm_device_ok(char *why, size_t whylen)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, whylen, "cannot open /dev/kvm: %s", strerror(errno));
		return false;
	}
	/* KVM_GET_API_VERSION is _IO(0xAE, 0); the stable API answers 12. */
	int version = ioctl(fd, 0xAE00, 0);
	close(fd);
	if (version != 12) {
		snprintf(why, whylen, "/dev/kvm answers API version %d, not 12", version);
		return false;
	}
	return true;
}

static void cache_path(char *out, size_t len)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	if (xdg && *xdg)
		snprintf(out, len, "%s/vharness/kvm-probe", xdg);
	else
		snprintf(out, len, "%s/.cache/vharness/kvm-probe", home && *home ? home : "/tmp");
}

static void cache_key(const char *qemu, const char *kernel, char *out, size_t len)
{
	struct stat k = { 0 };
	stat(kernel, &k);
	struct utsname u;
	uname(&u);
	/* The QEMU binary is named on PATH; its version shows in the path we resolve. */
	char qpath[512] = "";
	const char *path = getenv("PATH");
	struct stat q = { 0 };
	if (path) {
		char *copy = strdup(path), *save = NULL;
		for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
			snprintf(qpath, sizeof(qpath), "%s/%s", dir, qemu);
			if (stat(qpath, &q) == 0)
				break;
		}
		free(copy);
	}
	snprintf(out, len, "%s:%lld:%lld %s:%lld:%lld %s", qemu, (long long)q.st_size,
		 (long long)q.st_mtime, kernel, (long long)k.st_size, (long long)k.st_mtime, u.release);
}

static int cache_lookup(const char *key, char *why, size_t whylen)
{
	char path[512], line[1024];
	cache_path(path, sizeof(path));
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	int result = -1;
	size_t klen = strlen(key);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) == 0 && line[klen] == '\t') {
			line[strcspn(line, "\n")] = '\0';
			result = line[klen + 1] == '1';
			snprintf(why, whylen, "%s (cached)", line + klen + 3);
		}
	}
	fclose(f);
	return result;
}

static void cache_store(const char *key, bool ok, const char *why)
{
	char path[512];
	cache_path(path, sizeof(path));
	char dir[512];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		char *parent = strrchr(dir, '/');
		if (parent) {
			*parent = '\0';
			mkdir(dir, 0755);
			*parent = '/';
		}
		mkdir(dir, 0755);
	}
	FILE *f = fopen(path, "a");
	if (!f)
		return;
	fprintf(f, "%s\t%d\t%s\n", key, ok ? 1 : 0, why);
	fclose(f);
}

static bool probe_boot(const char *qemu, const char *kernel, int timeout_ms, char *why, size_t whylen)
{
	int out[2];
	if (pipe2(out, O_CLOEXEC) < 0) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		return false;
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		dup2(out[1], 1);
		dup2(out[1], 2);
		execlp(qemu, qemu, "-M", "microvm", "-accel", "kvm", "-m", "96", "-nodefaults",
		       "-no-user-config", "-display", "none", "-no-reboot", "-serial", "stdio",
		       "-kernel", kernel, "-append", "console=ttyS0 panic=-1", (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	if (pid < 0) {
		close(out[0]);
		snprintf(why, whylen, "fork: %s", strerror(errno));
		return false;
	}
	char buf[8192];
	size_t len = 0;
	bool ok = false;
	uint64_t start = ev_clock_ms(), deadline = start + (uint64_t)timeout_ms;
	for (;;) {
		uint64_t now = ev_clock_ms();
		if (now >= deadline)
			break;
		struct pollfd pfd = { .fd = out[0], .events = POLLIN };
		if (poll(&pfd, 1, (int)(deadline - now)) <= 0)
			continue;
		ssize_t n = read(out[0], buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, "Linux version")) {
			ok = true;
			break;
		}
		if (len > sizeof(buf) / 2) { /* keep the tail only */
			memmove(buf, buf + len - 256, 256);
			len = 256;
		}
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(out[0]);
	if (ok) {
		snprintf(why, whylen, "KVM probe booted to the kernel's first line in %llu ms",
			 (unsigned long long)(ev_clock_ms() - start));
	} else {
		buf[len] = '\0';
		char *nl = strrchr(buf, '\n');
		while (nl && nl[1] == '\0' && nl > buf) {
			*nl = '\0';
			nl = strrchr(buf, '\n');
		}
		snprintf(why, whylen, "KVM probe saw no kernel output in %.1f s%s%.120s",
			 timeout_ms / 1000.0, len ? "; last: " : "", nl ? nl + 1 : buf);
	}
	return ok;
}

bool hostinfo_kvm_probe(const char *qemu_binary, const char *kernel, int timeout_ms, bool fresh,
			char *why, size_t whylen)
{
	if (!hostinfo_kvm_device_ok(why, whylen))
		return false;
	char key[1024];
	cache_key(qemu_binary, kernel, key, sizeof(key));
	if (!fresh) {
		int cached = cache_lookup(key, why, whylen);
		if (cached >= 0)
			return cached == 1;
	}
	bool ok = probe_boot(qemu_binary, kernel, timeout_ms, why, whylen);
	cache_store(key, ok, why);
	return ok;
}
