/* `vharness doctor`: what this machine can do for vharness. */
#ifndef VH_CMD_DOCTOR_H
#define VH_CMD_DOCTOR_H

#include "cli.h"

/* Prints one line per fact. Returns 0 when runs can work here, 3 when
 * something a run needs is missing (QEMU, tun, a network namespace). */
int cmd_doctor(const struct cli_opts *opts);

#endif
