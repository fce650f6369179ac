/* What the commands that run scenarios as child processes (`run`, `sweep`)
 * share: the signals that stop them, which they pass on to their children,
 * and a fresh seed when none was given. */
#ifndef VH_CLI_CHILDREN_H
#define VH_CLI_CHILDREN_H

#include <signal.h>
#include <stdint.h>

/* SIGINT, SIGTERM and SIGHUP, in *set. */
void cli_stop_signals(sigset_t *set);

/* Calls handler on each of them (it passes the signal on to the children). */
void cli_on_stop_signals(void (*handler)(int));

/* A seed short enough to type back with --seed. */
uint64_t cli_random_seed(void);

#endif
