#include "cli_children.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

void cli_stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

void cli_on_stop_signals(void (*handler)(int))
{
	struct sigaction sa = { .sa_handler = handler };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

uint64_t cli_random_seed(void)
{
	uint64_t seed = 0;
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = (uint64_t)getpid() * 2654435761u ^ (uint64_t)ts.tv_nsec ^
		       (uint64_t)time(NULL);
	}
	return seed % 1000000000u;
}

int cli_auto_jobs(long cores, double load1, long mem_mib, long mib_per_job, int max)
{
	long n = (cores > 0 ? cores : 1) - (long)(load1 + 0.5);
	if (mem_mib > 0 && mib_per_job > 0 && mem_mib / mib_per_job < n)
		n = mem_mib / mib_per_job;
	return n < 1 ? 1 : n > max ? max : (int)n;
}

int cli_auto_jobs_here(long mib_per_job, int max, char *why, size_t whylen)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN), mib = 0;
	double load[1] = { 0 };
	if (getloadavg(load, 1) < 1)
		load[0] = 0;
	FILE *f = fopen("/proc/meminfo", "re");
	char line[128];
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %ld kB", &mib) == 1)
			mib /= 1024;
	if (f)
		fclose(f);
	snprintf(why, whylen, "%ld cores, load %.1f, %ld MiB free", cores, load[0], mib);
	return cli_auto_jobs(cores, load[0], mib, mib_per_job, max);
}
