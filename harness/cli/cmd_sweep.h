/* `vharness sweep`: a power cut at every cut point of a scenario. */
#ifndef VH_CMD_SWEEP_H
#define VH_CMD_SWEEP_H

/* argv[0] is "sweep". Returns the exit code: 0 every point passed, 1 one
 * failed, 2 usage or configuration, 3 harness fault. */
int cmd_sweep(int argc, char **argv);

#endif
