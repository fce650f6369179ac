/* Unit tests for agent_update: the update path's decisions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "agent_update.h"
#include "test_skip.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static struct checkin_msg offer(const char *version, const char *sha, unsigned long long size)
{
	struct checkin_msg m;

	memset(&m, 0, sizeof(m));
	m.type = CHECKIN_OFFER;
	strcpy(m.version, version);
	strcpy(m.sha256, sha);
	m.size = size;
	strcpy(m.url, "/firmware/x.bundle");
	return m;
}

static void test_other_slot_and_partition_paths(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(agent_update_other_slot("a"), "b");
	assert_string_equal(agent_update_other_slot("b"), "a");
	assert_null(agent_update_other_slot("c"));
	assert_int_equal(agent_update_partition_path(buf, sizeof(buf), "/dev/vda", "a"), 0);
	assert_string_equal(buf, "/dev/vda1");
	assert_int_equal(agent_update_partition_path(buf, sizeof(buf), "/dev/vda", "b"), 0);
	assert_string_equal(buf, "/dev/vda2");
	assert_int_equal(agent_update_partition_path(buf, sizeof(buf), "/dev/mmcblk0", "b"), 0);
	assert_string_equal(buf, "/dev/mmcblk0p2");
	assert_int_equal(agent_update_partition_path(buf, sizeof(buf), "/dev/vda", "x"), -1);
	assert_int_equal(agent_update_partition_path(buf, 5, "/dev/vda", "a"), -1);
}

static void test_offer_verdicts(void **state)
{
	struct checkin_msg m = offer("2.0.0", SHA_A, 1000);

	(void)state;
	assert_int_equal(agent_update_judge_offer(&m, "1.0.0", "", 1000), AGENT_OFFER_ACCEPT);
	assert_int_equal(agent_update_judge_offer(&m, "2.0.0", "", 1000), AGENT_OFFER_SAME_VERSION);
	assert_int_equal(agent_update_judge_offer(&m, "1.0.0", SHA_A, 1000), AGENT_OFFER_KNOWN_BAD);
	assert_int_equal(agent_update_judge_offer(&m, "1.0.0", SHA_B, 1000), AGENT_OFFER_ACCEPT);
	assert_int_equal(agent_update_judge_offer(&m, "1.0.0", "", 999), AGENT_OFFER_TOO_LARGE);
}

static void test_resume_offset_follows_the_same_bundle_only(void **state)
{
	struct agent_download_state st;
	struct checkin_msg m = offer("2.0.0", SHA_A, 1000);
	struct checkin_msg other_sha = offer("2.0.0", SHA_B, 1000);
	struct checkin_msg other_size = offer("2.0.0", SHA_A, 1001);
	struct checkin_msg other_version = offer("3.0.0", SHA_A, 1000);

	(void)state;
	memset(&st, 0, sizeof(st));
	assert_int_equal(agent_update_resume_offset(&st, &m, 0), 0);
	st.written = 512;
	assert_int_equal(agent_update_resume_offset(&st, &m, 0), 512);
	assert_int_equal(agent_update_resume_offset(&st, &other_sha, 0), 0);
	st.written = 512;
	assert_int_equal(agent_update_resume_offset(&st, &other_size, 0), 0);
	st.written = 512;
	assert_int_equal(agent_update_resume_offset(&st, &other_version, 0), 0);
	assert_string_equal(st.version, "3.0.0");
}

static void test_no_range_resume_bug_restarts_from_zero(void **state)
{
	struct agent_download_state st;
	struct checkin_msg m = offer("2.0.0", SHA_A, 1000);

	(void)state;
	memset(&st, 0, sizeof(st));
	agent_update_resume_offset(&st, &m, 0);
	st.written = 512;
	assert_int_equal(agent_update_resume_offset(&st, &m, AGENT_BUG_NO_RANGE_RESUME), 0);
	assert_int_equal(st.written, 0);
}

static void test_progress_prints_each_decile_once(void **state)
{
	struct agent_progress p;

	(void)state;
	agent_progress_init(&p, 1000);
	assert_int_equal(agent_progress_step(&p, 0), 0);
	assert_int_equal(agent_progress_step(&p, 99), 0);
	assert_int_equal(agent_progress_step(&p, 100), 10);
	assert_int_equal(agent_progress_step(&p, 150), 0);
	assert_int_equal(agent_progress_step(&p, 450), 40); /* a jump prints the highest */
	assert_int_equal(agent_progress_step(&p, 0), 0);    /* restarted download: no repeat */
	assert_int_equal(agent_progress_step(&p, 450), 0);
	assert_int_equal(agent_progress_step(&p, 999), 90);
	assert_int_equal(agent_progress_step(&p, 1000), 100);
	assert_int_equal(agent_progress_step(&p, 2000), 0);
	agent_progress_init(&p, 0);
	assert_int_equal(agent_progress_step(&p, 5), 0);
	/* Sizes far beyond a slot still work. */
	agent_progress_init(&p, 1ull << 60);
	assert_int_equal(agent_progress_step(&p, 1ull << 59), 50);
}

static void test_trial_commits_once_connected(void **state)
{
	struct agent_trial t;

	(void)state;
	agent_trial_init(&t, true, 0, 1000);
	assert_true(t.pending);
	assert_true(t.may_connect);
	assert_int_equal(agent_trial_step(&t, 5000, false), AGENT_TRIAL_NONE);
	assert_int_equal(agent_trial_step(&t, 6000, true), AGENT_TRIAL_COMMIT);
	assert_false(t.pending);
	assert_int_equal(agent_trial_step(&t, 6000, true), AGENT_TRIAL_NONE);
}

static void test_trial_reboots_unhealthy_after_20_s(void **state)
{
	struct agent_trial t;

	(void)state;
	agent_trial_init(&t, true, 0, 1000);
	assert_int_equal(agent_trial_step(&t, 20999, false), AGENT_TRIAL_NONE);
	assert_int_equal(agent_trial_step(&t, 21000, false), AGENT_TRIAL_REBOOT_UNHEALTHY);
	assert_int_equal(agent_trial_step(&t, 30000, true), AGENT_TRIAL_NONE);
}

static void test_trial_bugs(void **state)
{
	struct agent_trial t;

	(void)state;
	agent_trial_init(&t, true, AGENT_BUG_COMMIT_BEFORE_HEALTHY, 0);
	assert_int_equal(agent_trial_step(&t, 0, false), AGENT_TRIAL_COMMIT);
	agent_trial_init(&t, true, AGENT_BUG_NEVER_HEALTHY, 0);
	assert_false(t.may_connect);
	assert_int_equal(agent_trial_step(&t, 20000, false), AGENT_TRIAL_REBOOT_UNHEALTHY);
	/* Bugs of a trial boot do nothing on a normal boot. */
	agent_trial_init(&t, false, AGENT_BUG_NEVER_HEALTHY | AGENT_BUG_COMMIT_BEFORE_HEALTHY, 0);
	assert_false(t.pending);
	assert_true(t.may_connect);
	assert_int_equal(agent_trial_step(&t, 0, true), AGENT_TRIAL_NONE);
	assert_int_equal(agent_trial_step(&t, 99999, false), AGENT_TRIAL_NONE);
}

static void test_env_flip_and_commit(void **state)
{
	struct ubootenv env;

	(void)state;
	ubootenv_init(&env);
	assert_int_equal(ubootenv_set(&env, "boot_slot", "a"), 0);
	assert_int_equal(ubootenv_set(&env, "bootlimit", "5"), 0);
	assert_int_equal(ubootenv_set(&env, "bootcount", "2"), 0);
	assert_int_equal(agent_update_env_flip(&env, "b"), 0);
	assert_string_equal(ubootenv_get(&env, "boot_slot"), "b");
	assert_string_equal(ubootenv_get(&env, "upgrade_available"), "1");
	assert_string_equal(ubootenv_get(&env, "bootcount"), "0");
	assert_string_equal(ubootenv_get(&env, "bootlimit"), "5");
	assert_int_equal(ubootenv_set(&env, "bootcount", "1"), 0);
	assert_int_equal(agent_update_env_commit(&env), 0);
	assert_string_equal(ubootenv_get(&env, "boot_slot"), "b");
	assert_string_equal(ubootenv_get(&env, "upgrade_available"), "0");
	assert_string_equal(ubootenv_get(&env, "bootcount"), "0");
	ubootenv_free(&env);

	/* An env that lost everything still gets a bootlimit. */
	ubootenv_init(&env);
	assert_int_equal(agent_update_env_commit(&env), 0);
	assert_string_equal(ubootenv_get(&env, "bootlimit"), "3");
	ubootenv_free(&env);
	ubootenv_init(&env);
	assert_int_equal(agent_update_env_flip(&env, "a"), 0);
	assert_string_equal(ubootenv_get(&env, "bootlimit"), "3");
	ubootenv_free(&env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_other_slot_and_partition_paths),
		cmocka_unit_test(test_offer_verdicts),
		cmocka_unit_test(test_resume_offset_follows_the_same_bundle_only),
		cmocka_unit_test(test_no_range_resume_bug_restarts_from_zero),
		cmocka_unit_test(test_progress_prints_each_decile_once),
		cmocka_unit_test(test_trial_commits_once_connected),
		cmocka_unit_test(test_trial_reboots_unhealthy_after_20_s),
		cmocka_unit_test(test_trial_bugs),
		cmocka_unit_test(test_env_flip_and_commit),
	};
	return vh_run_tests(tests, NULL, NULL);
}
