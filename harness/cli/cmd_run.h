/* `vharness run` and `vharness check`. */
#ifndef VH_CMD_RUN_H
#define VH_CMD_RUN_H

#include <stddef.h>

#include "cli.h"

/* Runs (or checks) every scenario of this shard; returns the worst exit
 * code (3 > 2 > 1 > 0). */
int cmd_run(const struct cli_opts *opts);

/* The reference image directory: --image-dir, else $VH_IMAGE_DIR, else the build's. */
const char *cmd_run_image_dir(const struct cli_opts *opts);

/* What --jobs auto means on this host now: runs at once, from its idle
 * cores and free memory (cli_auto_jobs; a vharness sweep's point runs are
 * runs too); why gets the numbers. */
int cmd_run_auto_jobs(char *why, size_t whylen);

#endif
