/* agent_update: the update path's decisions (docs/ota-protocol.md, "Agent
 * update path"), kept apart from the I/O in agent_ota so unit tests reach
 * every branch: which slot and partition to write, whether to take an offer,
 * where a download resumes, when a progress line is due, what a trial boot
 * does next, and the env edits for the flip and the commit. */
#ifndef VH_AGENT_UPDATE_H
#define VH_AGENT_UPDATE_H

#include <stdbool.h>
#include <stddef.h>

#include "agent_config.h"
#include "checkin.h"
#include "sha256.h"
#include "ubootenv.h"

/* A trial boot must reach the server within this long of the agent's start. */
#define AGENT_UPDATE_TRIAL_MS 20000ull

/* "b" for "a", "a" for "b", NULL for anything else. */
const char *agent_update_other_slot(const char *slot);

/* The partition of slot ("a" = 1, "b" = 2) on disk: "/dev/vda" -> "/dev/vda2";
 * a disk name ending in a digit gets "p" first ("/dev/mmcblk0" ->
 * "/dev/mmcblk0p2"), as the kernel names them. Returns 0, or -1 for an
 * unknown slot or a path that does not fit. */
int agent_update_partition_path(char *buf, size_t cap, const char *disk, const char *slot);

/* What to do with an offer. */
enum agent_offer_verdict {
	AGENT_OFFER_ACCEPT,
	AGENT_OFFER_SAME_VERSION, /* already running it: ignore */
	AGENT_OFFER_KNOWN_BAD,	  /* this exact bundle failed verification before */
	AGENT_OFFER_TOO_LARGE,	  /* does not fit the slot */
};

/* Judges offer against the running version, the sha256 of a bundle that
 * already failed verification ("" if none), and the slot size in bytes. */
enum agent_offer_verdict agent_update_judge_offer(const struct checkin_msg *offer,
						  const char *own_version,
						  const char *failed_sha256,
						  unsigned long long slot_bytes);

/* Bytes of the current offer already in the slot, kept across broken
 * connections and re-offers (the server offers again on every check-in). */
struct agent_download_state {
	char version[AGENT_CONFIG_STR_MAX];
	char sha256[SHA256_HEX_SIZE];
	unsigned long long size;
	unsigned long long written; /* durably in the slot, from offset 0 */
};

/* Where the next request for offer starts: the bytes already written when
 * *st describes the same bundle, else 0 (and *st is reset to offer). The
 * planted bug no-range-resume always restarts from 0. */
unsigned long long agent_update_resume_offset(struct agent_download_state *st,
					      const struct checkin_msg *offer, unsigned bugs);

/* Progress reporting every 10%: the last decile printed. */
struct agent_progress {
	unsigned long long total;
	unsigned last_decile; /* 0..10 */
};

/* Starts progress reporting for total bytes (> 0). */
void agent_progress_init(struct agent_progress *p, unsigned long long total);

/* Returns the percentage (10, 20, ... 100) to print now that done bytes are
 * complete, or 0 when no new decile was reached. Deciles never repeat, even
 * when done goes back (a restarted download); a jump over several prints
 * only the highest. */
unsigned agent_progress_step(struct agent_progress *p, unsigned long long done);

/* A trial boot (vh.upgrade=1) and what it does next. */
struct agent_trial {
	bool pending;	     /* not committed yet */
	bool may_connect;    /* false under the planted bug never-healthy */
	bool commit_at_once; /* planted bug commit-before-healthy */
	unsigned long long deadline_ms;
};

enum agent_trial_action {
	AGENT_TRIAL_NONE,
	AGENT_TRIAL_COMMIT,
	AGENT_TRIAL_REBOOT_UNHEALTHY,
};

/* Sets up *t for a boot with the given vh.upgrade and the build's bugs, the agent
 * having started at start_ms (monotonic). */
void agent_trial_init(struct agent_trial *t, bool upgrade, unsigned bugs,
		      unsigned long long start_ms);

/* The action due at now_ms given whether the check-in channel is connected.
 * COMMIT and REBOOT_UNHEALTHY end the trial (pending becomes false). */
enum agent_trial_action agent_trial_step(struct agent_trial *t, unsigned long long now_ms,
					 bool connected);

/* Env edits: the flip to a freshly written slot (boot_slot=<slot>
 * upgrade_available=1 bootcount=0) and the commit of a trial boot
 * (upgrade_available=0 bootcount=0). A missing bootlimit is set to 3 so the
 * bootloader's rule still applies on an env that lost it. Return 0 or a
 * negative errno from ubootenv_set. */
int agent_update_env_flip(struct ubootenv *env, const char *slot);
int agent_update_env_commit(struct ubootenv *env);

#endif
