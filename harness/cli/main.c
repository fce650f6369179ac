/* vharness: the command line. Each scenario runs in a child process that
 * enters its own network namespace, so the host's is never touched and
 * everything the run made dies with that child. */
#include "cli.h"
#include "cmd_doctor.h"
#include "cmd_image.h"
#include "cmd_netem.h"
#include "cmd_report.h"
#include "cmd_run.h"
#include "cmd_sweep.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef VH_VERSION
#define VH_VERSION "0.0.0"
#endif
#ifndef VH_BINARY_DIR
#define VH_BINARY_DIR "."
#endif
#ifndef VH_MENDER_IMAGE_DIR
#define VH_MENDER_IMAGE_DIR VH_BINARY_DIR "/image-mender"
#endif
#ifndef VH_RAUC_IMAGE_DIR
#define VH_RAUC_IMAGE_DIR VH_BINARY_DIR "/image-rauc"
#endif

int main(int argc, char **argv)
{
	/* A guest can end (reboot, crash) while we write to its console or QMP
	 * socket; that is an error to handle, not a reason to die. */
	signal(SIGPIPE, SIG_IGN);
	struct cli_opts opts;
	char err[512];
	if (cli_parse(argc, argv, &opts, err, sizeof(err)) < 0) {
		fprintf(stderr, "vharness: %s\n", err);
		return 2;
	}
	switch (opts.command) {
	case CLI_HELP:
		cli_usage(stdout);
		return 0;
	case CLI_VERSION:
		printf("vharness %s\n", VH_VERSION);
		return 0;
	case CLI_NETEM:
		return cmd_netem(opts.rest_argc, opts.rest_argv);
	case CLI_IMAGE:
		return cmd_image(opts.rest_argc, opts.rest_argv, VH_BINARY_DIR, VH_MENDER_IMAGE_DIR,
				 VH_RAUC_IMAGE_DIR);
	case CLI_REPORT:
		return cmd_report(opts.rest_argc, opts.rest_argv);
	case CLI_SWEEP:
		return cmd_sweep(opts.rest_argc, opts.rest_argv);
	case CLI_DOCTOR:
		return cmd_doctor(&opts);
	case CLI_RUN:
	case CLI_CHECK:
		return cmd_run(&opts);
	}
	return 2;
}
