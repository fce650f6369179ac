/* Interop: each bootloader profile (harness/boot/) against its update
 * client's edits, made with Debian's fw_setenv on a real env image the way
 * the client makes them, and read back with fw_printenv after the profile
 * stored its env:
 *   uboot-bootcount  the reference agent: flip (boot_slot, upgrade_available=1,
 *                    bootcount=0), commit (upgrade_available=0 bootcount=0);
 *   mender           `mender install` (mender_boot_part, _hex,
 *                    upgrade_available=1, bootcount=0 in one write),
 *                    `mender commit` (upgrade_available=0);
 *   rauc             install (BOOT_x_LEFT=3 then BOOT_ORDER "x y", one
 *                    fw_setenv each, as src/bootloaders/uboot.c), mark-good
 *                    (BOOT_x_LEFT=3), mark-bad (out of BOOT_ORDER, LEFT 0);
 *   nerves           the factory env, fwup's upgrade (nerves_fw_active,
 *                    upgrade_available=1, bootcount=0), validation
 *                    (upgrade_available=0);
 *   swupdate         the factory env, an install (the copy, ustate=1,
 *                    bootcount=0), user space's acknowledgement (ustate=0,
 *                    bootcount=0).
 * A factory env comes from `fw_setenv -f`, since fw_setenv cannot start on
 * a blank image otherwise. The image uses the v0 layout (two redundant
 * copies); the profiles do not depend on where the env lives.
 *
 * Exit 0 pass, 1 fail, 77 skip (fw_printenv / fw_setenv not installed). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "boot_profile.h"
#include "ubootenv.h"

static char dir[] = "/tmp/vh_boot_interop_XXXXXX";
static char image[128], config[128], script[128];
static int failures;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond);                 \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			failures++;                                                                \
			return;                                                                    \
		}                                                                                  \
	} while (0)

static bool in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[4096];
	if (!path)
		path = "/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, prog);
		if (access(buf, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

/* Runs argv (no shell) with stdout into out (NUL-terminated, may be NULL)
 * and stderr discarded. The exit status, or -1. */
static int run(char *const argv[], char *out, size_t outlen)
{
	int pfd[2];
	if (pipe(pfd) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		dup2(pfd[1], 1);
		dup2(devnull, 2);
		close(pfd[0]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	size_t len = 0;
	char sink[4096];
	for (;;) {
		bool keep = out && len + 1 < outlen;
		ssize_t n = read(pfd[0], keep ? out + len : sink,
				 keep ? outlen - 1 - len : sizeof(sink));
		if (n <= 0)
			break;
		if (keep)
			len += (size_t)n;
	}
	close(pfd[0]);
	if (out && outlen)
		out[len] = '\0';
	int status;
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* fw_printenv's value of key (static buffer), or NULL if unset/failed. */
static const char *fw_get(const char *key)
{
	static char out[4096];
	char *argv[] = { "fw_printenv", "-c", config, "-n", (char *)key, NULL };
	if (run(argv, out, sizeof(out)) != 0)
		return NULL;
	out[strcspn(out, "\n")] = '\0';
	return out;
}

static int fw_set(const char *key, const char *value)
{
	char *argv[] = { "fw_setenv", "-c", config, (char *)key, (char *)value, NULL };
	return run(argv, NULL, 0);
}

/* One fw_setenv write of "k=v|k=v" (libubootenv's script: key=value
 * lines); with factory, the env to start from when the image has none. */
static int fw_set_many(const char *pairs, bool factory)
{
	FILE *f = fopen(script, "w");
	if (!f)
		return -1;
	for (const char *p = pairs; *p;) {
		size_t n = strcspn(p, "|");
		fprintf(f, "%.*s\n", (int)n, p);
		p += n + (p[n] == '|');
	}
	fclose(f);
	if (factory) {
		/* the factory env is the default; fw_setenv needs something to set */
		char *argv[] = { "fw_setenv", "-c", config, "-f", script, "vh_factory", "1", NULL };
		return run(argv, NULL, 0);
	}
	char *argv[] = { "fw_setenv", "-c", config, "-s", script, NULL };
	return run(argv, NULL, 0);
}

static int cmp_pair(const void *a, const void *b)
{
	return strcmp(((const struct ubootenv_pair *)a)->key,
		      ((const struct ubootenv_pair *)b)->key);
}

/* Whether fw_printenv lists exactly env (it prints sorted by key). */
static bool fw_printenv_agrees(const struct ubootenv *env)
{
	static char out[64 * 1024], want[64 * 1024];
	char *argv[] = { "fw_printenv", "-c", config, NULL };
	struct ubootenv_pair *sorted = malloc(env->count * sizeof(*sorted) + 1);
	memcpy(sorted, env->pairs, env->count * sizeof(*sorted));
	qsort(sorted, env->count, sizeof(*sorted), cmp_pair);
	size_t len = 0;
	want[0] = '\0';
	for (size_t i = 0; i < env->count; i++)
		len += (size_t)snprintf(want + len, sizeof(want) - len, "%s=%s\n", sorted[i].key,
					sorted[i].value);
	free(sorted);
	int rc = run(argv, out, sizeof(out));
	if (rc == 0 && strcmp(out, want) == 0)
		return true;
	fprintf(stderr, "fw_printenv (rc %d):\n%s---\nthe profile stored:\n%s---\n", rc, out, want);
	return false;
}

static void fresh_image(void)
{
	int fd = open(image, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, 1024 * 1024) < 0) {
		perror(image);
		exit(1);
	}
	close(fd);
}

struct bootable {
	bool unbootable[BOOT_SLOTS];
};

static bool is_bootable(int slot, const char *name, void *arg)
{
	(void)name;
	return !((struct bootable *)arg)->unbootable[slot];
}

/* One power-on of the image as the harness will do it: load, the
 * profile's rules, store when they changed the env. Then fw_printenv must
 * read back what was stored. 0, or -1 after printing why. */
static int power_on_ex(const struct boot_profile_cfg *cfg, bool bad_a, bool bad_b,
		       struct boot_outcome *out)
{
	struct ubootenv env;
	struct bootable b = { { bad_a, bad_b } };
	char err[256], line[2048];
	ubootenv_init(&env);
	int rc = ubootenv_file_load(image, &env, err, sizeof(err));
	if (rc < 0 && rc != -ENODATA) {
		fprintf(stderr, "load: %s\n", err);
		return -1;
	}
	rc = boot_power_on(cfg, &env, is_bootable, NULL, &b, out);
	if (rc == 0 && out->env_changed && ubootenv_file_store(image, &env, err, sizeof(err)) < 0) {
		fprintf(stderr, "store: %s\n", err);
		rc = -1;
	}
	boot_decision_describe(&out->decision, line, sizeof(line));
	printf("  %s\n", line);
	if (rc == 0 && !fw_printenv_agrees(&env))
		rc = -1;
	ubootenv_free(&env);
	return rc;
}

static int power_on(const struct boot_profile_cfg *cfg, struct boot_outcome *out)
{
	return power_on_ex(cfg, false, false, out);
}

#define FW_IS(key, want)                                                                           \
	do {                                                                                       \
		const char *got_ = fw_get(key);                                                    \
		CHECK(got_ &&strcmp(got_, want) == 0, "fw_printenv %s=%s, want %s", key,           \
		      got_ ? got_ : "(unset)", want);                                              \
	} while (0)

#define BOOTS(o, want_slot)                                                                        \
	CHECK((o).decision.action == BOOT_ACTION_BOOT && (o).decision.slot == (want_slot),         \
	      "want slot %d: %s", want_slot, (o).decision.why)

static void test_uboot_bootcount_with_the_reference_agents_edits(void)
{
	struct boot_profile_cfg cfg;
	struct boot_outcome o;
	boot_cfg_init(&cfg, &boot_profile_uboot_bootcount);
	printf("uboot-bootcount\n");
	fresh_image();
	CHECK(power_on(&cfg, &o) == 0, "blank");
	BOOTS(o, 0);
	FW_IS("bootlimit", "3");
	/* the agent's flip after a verified download */
	CHECK(fw_set_many("boot_slot=b|upgrade_available=1|bootcount=0", false) == 0, "flip");
	CHECK(power_on(&cfg, &o) == 0, "trial");
	BOOTS(o, 1);
	CHECK(o.decision.trial, "trial");
	FW_IS("bootcount", "1");
	/* healthy: commit */
	CHECK(fw_set_many("upgrade_available=0|bootcount=0", false) == 0, "commit");
	CHECK(power_on(&cfg, &o) == 0, "committed");
	BOOTS(o, 1);
	CHECK(!o.env_changed, "a committed boot stores nothing");
	/* an update that never commits: three trials, then back */
	CHECK(fw_set_many("boot_slot=a|upgrade_available=1|bootcount=0", false) == 0, "flip");
	for (int i = 1; i <= 3; i++) {
		CHECK(power_on(&cfg, &o) == 0, "trial %d", i);
		BOOTS(o, 0);
	}
	CHECK(power_on(&cfg, &o) == 0, "rollback");
	BOOTS(o, 1);
	CHECK(o.decision.rolled_back, "rolled back");
	FW_IS("boot_slot", "b");
	FW_IS("upgrade_available", "0");
	FW_IS("bootcount", "0");
}

static void test_mender_with_mender_install_and_commit(void)
{
	struct boot_profile_cfg cfg;
	struct boot_outcome o;
	boot_cfg_init(&cfg, &boot_profile_mender);
	printf("mender\n");
	fresh_image();
	/* U-Boot's default env, saved by the canary on the first boot */
	CHECK(power_on(&cfg, &o) == 0, "blank");
	BOOTS(o, 0);
	FW_IS("mender_boot_part", "2");
	FW_IS("mender_saveenv_canary", "1");
	FW_IS("bootcount", "1");
	/* mender install */
	CHECK(fw_set_many("mender_boot_part=3|mender_boot_part_hex=3|upgrade_available=1|"
			  "bootcount=0",
			  false) == 0,
	      "install");
	CHECK(power_on(&cfg, &o) == 0, "trial");
	BOOTS(o, 1);
	CHECK(o.decision.trial && strcmp(o.decision.kernel_args, "root=/dev/mmcblk0p3") == 0,
	      "trial with root=/dev/mmcblk0p3: %s", o.decision.kernel_args);
	FW_IS("bootcount", "1");
	/* mender commit */
	CHECK(fw_set("upgrade_available", "0") == 0, "commit");
	CHECK(power_on(&cfg, &o) == 0, "committed");
	BOOTS(o, 1);
	CHECK(!o.env_changed, "a committed boot stores nothing");
	/* an update to 2 that is never committed: bootlimit 1, the second
	 * boot runs altbootcmd */
	CHECK(fw_set_many("mender_boot_part=2|mender_boot_part_hex=2|upgrade_available=1|"
			  "bootcount=0",
			  false) == 0,
	      "install");
	CHECK(power_on(&cfg, &o) == 0, "trial");
	BOOTS(o, 0);
	CHECK(power_on(&cfg, &o) == 0, "altbootcmd");
	BOOTS(o, 1);
	CHECK(o.decision.rolled_back, "rolled back");
	FW_IS("mender_boot_part", "3");
	FW_IS("mender_boot_part_hex", "3");
	FW_IS("upgrade_available", "0");
	FW_IS("bootcount", "2");
	/* an update whose partition holds no kernel: reset, then altbootcmd */
	CHECK(fw_set_many("mender_boot_part=2|mender_boot_part_hex=2|upgrade_available=1|"
			  "bootcount=0",
			  false) == 0,
	      "install");
	CHECK(power_on_ex(&cfg, true, false, &o) == 0, "unbootable");
	BOOTS(o, 1);
	CHECK(o.passes == 2, "passes %d", o.passes);
	FW_IS("mender_boot_part", "3");
}

static void test_rauc_with_rauc_install_and_marks(void)
{
	struct boot_profile_cfg cfg;
	struct boot_outcome o;
	boot_cfg_init(&cfg, &boot_profile_rauc);
	printf("rauc\n");
	fresh_image();
	CHECK(power_on(&cfg, &o) == 0, "blank");
	BOOTS(o, 0);
	FW_IS("BOOT_ORDER", "A B");
	FW_IS("BOOT_A_LEFT", "2");
	FW_IS("BOOT_B_LEFT", "3");
	CHECK(strcmp(o.decision.kernel_args, "rauc.slot=A") == 0, "%s", o.decision.kernel_args);
	/* rauc status mark-good */
	CHECK(fw_set("BOOT_A_LEFT", "3") == 0, "mark-good");
	CHECK(power_on(&cfg, &o) == 0, "boot");
	BOOTS(o, 0);
	FW_IS("BOOT_A_LEFT", "2");
	/* rauc install to B: r_uboot_set_primary */
	CHECK(fw_set("BOOT_B_LEFT", "3") == 0 && fw_set("BOOT_ORDER", "B A") == 0, "install");
	CHECK(power_on(&cfg, &o) == 0, "B");
	BOOTS(o, 1);
	FW_IS("BOOT_B_LEFT", "2");
	/* never marked good: B's tries run out, A boots */
	CHECK(power_on(&cfg, &o) == 0, "B");
	CHECK(power_on(&cfg, &o) == 0, "B");
	BOOTS(o, 1);
	FW_IS("BOOT_B_LEFT", "0");
	CHECK(power_on(&cfg, &o) == 0, "A");
	BOOTS(o, 0);
	CHECK(o.decision.rolled_back, "rolled back");
	FW_IS("BOOT_A_LEFT", "1");
	/* rauc status mark-bad B, then A has one try left, then none: the
	 * script refills both and resets */
	CHECK(fw_set("BOOT_ORDER", "A") == 0 && fw_set("BOOT_B_LEFT", "0") == 0, "mark-bad");
	CHECK(power_on(&cfg, &o) == 0, "A");
	BOOTS(o, 0);
	FW_IS("BOOT_A_LEFT", "0");
	CHECK(power_on(&cfg, &o) == 0, "refill");
	BOOTS(o, 0);
	CHECK(o.passes == 2, "passes %d", o.passes);
	FW_IS("BOOT_A_LEFT", "2");
	FW_IS("BOOT_B_LEFT", "3");
}

#define NERVES_FACTORY                                                                             \
	"nerves_fw_active=a|upgrade_available=0|bootcount=0|a.kernel_lba=2048|"                    \
	"b.kernel_lba=65536|a.kernel_args=console=ttyAMA0 root=/dev/vda2|"                         \
	"b.kernel_args=console=ttyAMA0 root=/dev/vda3"

static void test_nerves_with_fwup_upgrade_and_validation(void)
{
	struct boot_profile_cfg cfg;
	struct boot_outcome o;
	boot_cfg_init(&cfg, &boot_profile_nerves);
	printf("nerves\n");
	fresh_image();
	CHECK(fw_set_many(NERVES_FACTORY, true) == 0, "factory env");
	CHECK(power_on(&cfg, &o) == 0, "a");
	BOOTS(o, 0);
	CHECK(!o.env_changed, "nothing to store");
	/* fwup's upgrade to b */
	CHECK(fw_set_many("nerves_fw_active=b|upgrade_available=1|bootcount=0", false) == 0,
	      "upgrade");
	CHECK(power_on(&cfg, &o) == 0, "trial");
	BOOTS(o, 1);
	CHECK(strcmp(o.decision.kernel_args, "console=ttyAMA0 root=/dev/vda3") == 0, "%s",
	      o.decision.kernel_args);
	FW_IS("bootcount", "1");
	/* validated */
	CHECK(fw_set("upgrade_available", "0") == 0, "validate");
	CHECK(power_on(&cfg, &o) == 0, "b");
	BOOTS(o, 1);
	/* an upgrade to a that is never validated: one trial, then revert */
	CHECK(fw_set_many("nerves_fw_active=a|upgrade_available=1|bootcount=0", false) == 0,
	      "upgrade");
	CHECK(power_on(&cfg, &o) == 0, "trial");
	BOOTS(o, 0);
	CHECK(power_on(&cfg, &o) == 0, "revert");
	BOOTS(o, 1);
	CHECK(o.decision.rolled_back, "rolled back");
	FW_IS("nerves_fw_active", "b");
	FW_IS("upgrade_available", "0");
	FW_IS("bootcount", "0");
}

static void test_swupdate_with_an_install_that_fails(void)
{
	struct boot_profile_cfg cfg;
	struct boot_outcome o;
	char err[256];
	boot_cfg_init(&cfg, &boot_profile_swupdate);
	CHECK(boot_cfg_set(&cfg, "slot_var", "boot_slot", err, sizeof(err)) == 0, "%s", err);
	printf("swupdate\n");
	fresh_image();
	CHECK(fw_set_many("boot_slot=a|ustate=0|bootcount=0|bootlimit=3", true) == 0, "factory");
	CHECK(power_on(&cfg, &o) == 0, "a");
	BOOTS(o, 0);
	FW_IS("bootcount", "1");
	/* user space, healthy, acknowledges */
	CHECK(fw_set_many("ustate=0|bootcount=0", false) == 0, "healthy");
	/* an install to b: the copy, ustate=1 (SWUpdate), counter 0 */
	CHECK(fw_set_many("boot_slot=b|ustate=1|bootcount=0", false) == 0, "install");
	for (int i = 1; i <= 2; i++) {
		CHECK(power_on(&cfg, &o) == 0, "test boot %d", i);
		BOOTS(o, 1);
		CHECK(o.decision.trial, "trial");
	}
	CHECK(power_on(&cfg, &o) == 0, "fallback");
	BOOTS(o, 0);
	FW_IS("ustate", "3");
	FW_IS("boot_slot", "a");
	FW_IS("bootcount", "3");
	/* SWUpdate reports FAILED, user space acknowledges */
	CHECK(fw_set_many("ustate=0|bootcount=0", false) == 0, "ack");
	CHECK(power_on(&cfg, &o) == 0, "a");
	BOOTS(o, 0);
	CHECK(!o.decision.trial, "not a trial");
}

static void cleanup(void)
{
	unlink(image);
	unlink(config);
	unlink(script);
	rmdir(dir);
}

int main(void)
{
	if (!in_path("fw_printenv") || !in_path("fw_setenv")) {
		printf("skipped: fw_printenv/fw_setenv not installed (libubootenv-tool)\n");
		return 77;
	}
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(image, sizeof(image), "%s/disk.img", dir);
	snprintf(config, sizeof(config), "%s/fw_env.config", dir);
	snprintf(script, sizeof(script), "%s/script", dir);
	atexit(cleanup);
	FILE *f = fopen(config, "w");
	if (!f) {
		perror(config);
		return 1;
	}
	fprintf(f, "%s 0x%x 0x%x\n%s 0x%x 0x%x\n", image, UBOOTENV_COPY0_OFFSET, UBOOTENV_COPY_SIZE,
		image, UBOOTENV_COPY1_OFFSET, UBOOTENV_COPY_SIZE);
	fclose(f);

	test_uboot_bootcount_with_the_reference_agents_edits();
	test_mender_with_mender_install_and_commit();
	test_rauc_with_rauc_install_and_marks();
	test_nerves_with_fwup_upgrade_and_validation();
	test_swupdate_with_an_install_that_fails();

	if (failures) {
		fprintf(stderr, "%d interop check(s) failed\n", failures);
		return 1;
	}
	printf("bootloader profiles with fw_printenv/fw_setenv: all passed\n");
	return 0;
}
