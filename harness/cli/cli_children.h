/* What the commands that run scenarios as child processes (`run`, `sweep`)
 * share: the signals that stop them, which they pass on to their children,
 * and a fresh seed when none was given. */
#ifndef VH_CLI_CHILDREN_H
#define VH_CLI_CHILDREN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* SIGINT, SIGTERM and SIGHUP, in *set. */
void cli_stop_signals(sigset_t *set);

/* Calls handler on each of them (it passes the signal on to the children). */
void cli_on_stop_signals(void (*handler)(int));

/* --jobs auto's rule: one run per idle core (cores minus the 1-minute load
 * average, rounded), at most one per `mib_per_job` of free memory, between
 * 1 and max. A loaded machine gets fewer: a guest under TCG that shares its
 * core boots slower than the scenarios' timeouts allow (at load 15-28 on 2
 * cores, boots took over 30 s). mem_mib <= 0 means unknown. */
int cli_auto_jobs(long cores, double load1, long mem_mib, long mib_per_job, int max);

/* cli_auto_jobs with this machine's cores, load and MemAvailable; why gets
 * the numbers it used ("2 cores, load 0.4, 20480 MiB free"). */
int cli_auto_jobs_here(long mib_per_job, int max, char *why, size_t whylen);

/* A seed short enough to type back with --seed. */
uint64_t cli_random_seed(void);

#endif
