/* How a run, a scenario or a request ended, as the exit codes CI sees
 * (README "Exit codes"). Lower layers report failures in these terms so
 * the run can take them as its verdict unchanged. */
#ifndef VH_OUTCOME_H
#define VH_OUTCOME_H

enum vh_outcome {
	VH_PASS = 0,   /* every check held */
	VH_FAIL = 1,   /* the firmware under test failed the scenario */
	VH_CONFIG = 2, /* usage or configuration error: nothing wrong with the firmware */
	VH_FAULT = 3,  /* the harness (or QEMU) failed */
	/* Cancelled by a signal: 128 + its number, as shells report it. */
	VH_CANCELLED_HUP = 129,
	VH_CANCELLED_INT = 130,
	VH_CANCELLED_TERM = 143,
};

#endif
