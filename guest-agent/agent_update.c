/* agent_update: pure decisions of the OTA path. */
#include "agent_update.h"

#include <stdio.h>
#include <string.h>

const char *agent_update_other_slot(const char *slot)
{
	if (strcmp(slot, "a") == 0)
		return "b";
	if (strcmp(slot, "b") == 0)
		return "a";
	return NULL;
}

int agent_update_partition_path(char *buf, size_t cap, const char *disk, const char *slot)
{
	size_t len = strlen(disk);
	const char *sep;
	int n;

	if (strcmp(slot, "a") != 0 && strcmp(slot, "b") != 0)
		return -1;
	sep = len > 0 && disk[len - 1] >= '0' && disk[len - 1] <= '9' ? "p" : "";
	n = snprintf(buf, cap, "%s%s%c", disk, sep, slot[0] == 'a' ? '1' : '2');
	return n >= 0 && (size_t)n < cap ? 0 : -1;
}

enum agent_offer_verdict agent_update_judge_offer(const struct checkin_msg *offer,
						  const char *own_version,
						  const char *failed_sha256,
						  unsigned long long slot_bytes)
{
	if (strcmp(offer->version, own_version) == 0)
		return AGENT_OFFER_SAME_VERSION;
	if (strcmp(offer->sha256, failed_sha256) == 0)
		return AGENT_OFFER_KNOWN_BAD;
	if (offer->size > slot_bytes)
		return AGENT_OFFER_TOO_LARGE;
	return AGENT_OFFER_ACCEPT;
}

unsigned long long agent_update_resume_offset(struct agent_download_state *st,
					      const struct checkin_msg *offer, unsigned bugs)
{
	if (strcmp(st->version, offer->version) != 0 || strcmp(st->sha256, offer->sha256) != 0 ||
	    st->size != offer->size) {
		snprintf(st->version, sizeof(st->version), "%s", offer->version);
		snprintf(st->sha256, sizeof(st->sha256), "%s", offer->sha256);
		st->size = offer->size;
		st->written = 0;
	}
	/* Planted bug "no-range-resume": throw away what is already written. */
	if (bugs & AGENT_BUG_NO_RANGE_RESUME)
		st->written = 0;
	return st->written;
}

void agent_progress_init(struct agent_progress *p, unsigned long long total)
{
	p->total = total;
	p->last_decile = 0;
}

unsigned agent_progress_step(struct agent_progress *p, unsigned long long done)
{
	unsigned decile;

	if (p->total == 0)
		return 0;
	decile = done >= p->total ? 10 : (unsigned)(done * 10 / p->total);
	if (decile <= p->last_decile)
		return 0;
	p->last_decile = decile;
	return decile * 10;
}

void agent_trial_init(struct agent_trial *t, bool upgrade, unsigned bugs,
		      unsigned long long start_ms)
{
	t->pending = upgrade;
	t->may_connect = !(upgrade && (bugs & AGENT_BUG_NEVER_HEALTHY));
	t->commit_at_once = upgrade && (bugs & AGENT_BUG_COMMIT_BEFORE_HEALTHY);
	t->deadline_ms = start_ms + AGENT_UPDATE_TRIAL_MS;
}

enum agent_trial_action agent_trial_step(struct agent_trial *t, unsigned long long now_ms,
					 bool connected)
{
	if (!t->pending)
		return AGENT_TRIAL_NONE;
	/* Planted bug "commit-before-healthy": commit without any evidence. */
	if (t->commit_at_once || connected) {
		t->pending = false;
		return AGENT_TRIAL_COMMIT;
	}
	if (now_ms >= t->deadline_ms) {
		t->pending = false;
		return AGENT_TRIAL_REBOOT_UNHEALTHY;
	}
	return AGENT_TRIAL_NONE;
}

static int agent_update_env_bootlimit(struct ubootenv *env)
{
	return ubootenv_get(env, "bootlimit") ? 0 : ubootenv_set(env, "bootlimit", "3");
}

int agent_update_env_flip(struct ubootenv *env, const char *slot)
{
	int rc;

	if ((rc = ubootenv_set(env, "boot_slot", slot)) < 0 ||
	    (rc = ubootenv_set(env, "upgrade_available", "1")) < 0 ||
	    (rc = ubootenv_set(env, "bootcount", "0")) < 0)
		return rc;
	return agent_update_env_bootlimit(env);
}

int agent_update_env_commit(struct ubootenv *env)
{
	int rc;

	if ((rc = ubootenv_set(env, "upgrade_available", "0")) < 0 ||
	    (rc = ubootenv_set(env, "bootcount", "0")) < 0)
		return rc;
	return agent_update_env_bootlimit(env);
}
