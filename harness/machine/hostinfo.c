#include "hostinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
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
		for (char *dir = strtok_r(copy, ":", &save); dir;
		     dir = strtok_r(NULL, ":", &save)) {
			snprintf(qpath, sizeof(qpath), "%s/%s", dir, qemu);
			if (stat(qpath, &q) == 0)
				break;
		}
		free(copy);
	}
	snprintf(out, len, "%s:%lld:%lld %s:%lld:%lld %s", qemu, (long long)q.st_size,
		 (long long)q.st_mtime, kernel, (long long)k.st_size, (long long)k.st_mtime,
		 u.release);
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

int hostinfo_kvm_cache_lookup(const char *qemu_binary, const char *kernel, char *why, size_t whylen)
{
	char key[1024];
	cache_key(qemu_binary, kernel, key, sizeof(key));
	return cache_lookup(key, why, whylen);
}

void hostinfo_kvm_cache_store(const char *qemu_binary, const char *kernel, bool ok, const char *why)
{
	char key[1024];
	cache_key(qemu_binary, kernel, key, sizeof(key));
	cache_store(key, ok, why);
}
