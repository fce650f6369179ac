/* Interop: our env codec and Debian's libubootenv (fw_printenv / fw_setenv)
 * on the same image file, both ways, including a torn write, runs of stores
 * through the 255 -> 0 flags wrap and hand-made flag pairs.
 *
 * Exit 0 pass, 1 fail, 77 skip (fw_printenv / fw_setenv not installed). */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ubootenv.h"

#define IMAGE_SIZE (8 * 1024 * 1024) /* room for a user layout at 4 MiB */

static char dir[] = "/tmp/vh_ubootenv_interop_XXXXXX";
static char image[128], config[128];
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
		path += n;
		if (*path == ':')
			path++;
	}
	return false;
}

/* Runs argv (no shell: values may hold spaces) with stdout captured into out
 * (NUL-terminated, truncated to outlen-1) and stderr discarded. Returns the
 * exit status, or -1 if it could not start or did not exit normally.
 * posix_spawn, not fork: the test starts about a thousand of these, and forking
 * an ASan process copies its page tables each time (the ASan job's run came
 * within seconds of its 300 s timeout on a busy machine). */
static int run(char *const argv[], char *out, size_t outlen)
{
	int pfd[2];

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (rc != 0) {
		close(pfd[0]);
		return -1;
	}
	size_t len = 0;
	char sink[4096];
	for (;;) {
		/* past outlen, keep draining so the child never blocks on a pipe */
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

static int fw_printenv_all(char *out, size_t outlen)
{
	char *argv[] = { "fw_printenv", "-c", config, NULL };
	return run(argv, out, outlen);
}

/* The value fw_printenv reports for key, newline stripped, in a static buffer
 * (NULL if fw_printenv failed). */
static const char *fw_get(const char *key)
{
	static char out[256 * 1024];
	char *argv[] = { "fw_printenv", "-c", config, "-n", (char *)key, NULL };
	if (run(argv, out, sizeof(out)) != 0)
		return NULL;
	out[strcspn(out, "\n")] = '\0';
	return out;
}

/* value == NULL deletes */
static int fw_set(const char *key, const char *value)
{
	char *argv[] = { "fw_setenv", "-c", config, (char *)key, (char *)value, NULL };
	return run(argv, NULL, 0);
}

static int cmp_pair(const void *a, const void *b)
{
	return strcmp(((const struct ubootenv_pair *)a)->key,
		      ((const struct ubootenv_pair *)b)->key);
}

/* What fw_printenv should print for env: libubootenv keeps its list sorted
 * by key, whatever the order in the block. */
static char *expected_listing(const struct ubootenv *env)
{
	struct ubootenv_pair *sorted = malloc(env->count * sizeof(*sorted) + 1);
	size_t len = 1;
	memcpy(sorted, env->pairs, env->count * sizeof(*sorted));
	qsort(sorted, env->count, sizeof(*sorted), cmp_pair);
	for (size_t i = 0; i < env->count; i++)
		len += strlen(sorted[i].key) + strlen(sorted[i].value) + 2;
	char *s = malloc(len), *p = s;
	*p = '\0';
	for (size_t i = 0; i < env->count; i++)
		p += sprintf(p, "%s=%s\n", sorted[i].key, sorted[i].value);
	free(sorted);
	return s;
}

static void fresh_image(void)
{
	int fd = open(image, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, IMAGE_SIZE) < 0) {
		perror(image);
		exit(1);
	}
	close(fd);
}

static uint8_t image_flags(int copy)
{
	uint8_t b = 0;
	int fd = open(image, O_RDONLY);
	if (fd >= 0) {
		if (pread(fd, &b, 1, (copy ? UBOOTENV_COPY1_OFFSET : UBOOTENV_COPY0_OFFSET) + 4) !=
		    1)
			b = 0;
		close(fd);
	}
	return b;
}

static int load(struct ubootenv *env)
{
	char err[256];
	int rc = ubootenv_file_load(image, env, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "load: %s\n", err);
	return rc;
}

static int store(struct ubootenv *env)
{
	char err[256];
	int rc = ubootenv_file_store(image, env, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "store: %s\n", err);
	return rc;
}

/* (a) what our codec writes, fw_printenv reads: with one valid copy, with
 * two, and after a delete. */
static void test_fw_printenv_reads_what_ubootenv_writes(void)
{
	struct ubootenv env;
	static char out[64 * 1024];

	fresh_image();
	ubootenv_init(&env);
	ubootenv_set(&env, "upgrade_available", "0");
	ubootenv_set(&env, "boot_slot", "a");
	ubootenv_set(&env, "bootargs", "console=ttyS0 root=/dev/vda1 quiet");
	ubootenv_set(&env, "empty", "");
	for (int round = 0; round < 3; round++) {
		if (round == 1)
			ubootenv_set(&env, "boot_slot", "b");
		if (round == 2)
			ubootenv_set(&env, "upgrade_available", NULL);
		CHECK(store(&env) == 0, "round %d", round);
		char *want = expected_listing(&env);
		int rc = fw_printenv_all(out, sizeof(out));
		bool same = rc == 0 && strcmp(out, want) == 0;
		if (!same)
			fprintf(stderr, "fw_printenv (rc %d):\n%s---\nwant:\n%s---\n", rc, out,
				want);
		free(want);
		CHECK(same, "round %d: fw_printenv disagrees", round);
	}
	ubootenv_free(&env);
}

/* (b) what fw_setenv writes, our codec reads, in the copy and with the
 * flags libubootenv says is current. */
static void test_ubootenv_reads_what_fw_setenv_writes(void)
{
	struct ubootenv env;

	fresh_image();
	ubootenv_init(&env);
	ubootenv_set(&env, "boot_slot", "a");
	ubootenv_set(&env, "bootcount", "0");
	ubootenv_set(&env, "doomed", "1");
	CHECK(store(&env) == 0, "store");
	CHECK(store(&env) == 0, "store"); /* copy 0 active, flags 2 */

	CHECK(fw_set("bootcount", "1") == 0, "fw_setenv");
	CHECK(fw_set("bootargs", "console=ttyS0 root=/dev/vda2") == 0, "fw_setenv");
	CHECK(fw_set("doomed", NULL) == 0, "fw_setenv delete");
	/* ours: copy 1 flags 1, copy 0 flags 2; fw_setenv: 1<-3, 0<-4, 1<-5 */
	CHECK(load(&env) == 1, "copy 1 should hold the third fw_setenv");
	CHECK(env.flags == 5, "flags %u", env.flags);
	CHECK(image_flags(0) == 4, "copy 0 flags %u", image_flags(0));
	CHECK(strcmp(ubootenv_get(&env, "bootcount"), "1") == 0, "bootcount");
	CHECK(strcmp(ubootenv_get(&env, "boot_slot"), "a") == 0, "boot_slot");
	CHECK(ubootenv_get(&env, "bootargs") &&
		      strcmp(ubootenv_get(&env, "bootargs"), "console=ttyS0 root=/dev/vda2") == 0,
	      "bootargs");
	CHECK(ubootenv_get(&env, "doomed") == NULL, "doomed still there");
	CHECK(env.count == 3, "count %zu", env.count);
	ubootenv_free(&env);
}

/* (c) power cut while writing the new copy: only its header and first half
 * reach the disk. Both readers must see the old env, and the next store by
 * either side must go over the torn copy, not the good one. */
static void test_torn_write_leaves_old_env_for_both_readers(void)
{
	struct ubootenv env;
	uint8_t *copy = malloc(UBOOTENV_COPY_SIZE);
	char *blob = malloc(100000);

	memset(blob, 'x', 99999);
	blob[99999] = '\0';
	fresh_image();
	ubootenv_init(&env);
	ubootenv_set(&env, "boot_slot", "a");
	ubootenv_set(&env, "upgrade_available", "0");
	CHECK(store(&env) == 0, "store");
	CHECK(store(&env) == 0, "store"); /* copy 0 active (flags 2), copy 1 older */

	/* the new env is big enough that its data runs past the tear */
	ubootenv_set(&env, "boot_slot", "b");
	ubootenv_set(&env, "upgrade_available", "1");
	ubootenv_set(&env, "blob", blob);
	int target = ubootenv_target_copy(&env);
	CHECK(target == 1, "target %d", target);
	uint8_t flags;
	CHECK(ubootenv_encode(&env, copy, UBOOTENV_COPY_SIZE, &flags) == 0, "encode");
	int fd = open(image, O_WRONLY);
	CHECK(fd >= 0, "open");
	ssize_t n = pwrite(fd, copy, UBOOTENV_COPY_SIZE / 2, UBOOTENV_COPY1_OFFSET);
	close(fd);
	CHECK(n == UBOOTENV_COPY_SIZE / 2, "pwrite");
	CHECK(image_flags(1) == 3, "the torn copy carries the newer flags (%u)", image_flags(1));

	const char *v = fw_get("boot_slot");
	CHECK(v && strcmp(v, "a") == 0, "fw_printenv boot_slot=%s", v ? v : "(failed)");
	v = fw_get("upgrade_available");
	CHECK(v && strcmp(v, "0") == 0, "fw_printenv upgrade_available=%s", v ? v : "(failed)");

	struct ubootenv back;
	ubootenv_init(&back);
	CHECK(load(&back) == 0, "our codec did not pick copy 0");
	CHECK(strcmp(ubootenv_get(&back, "boot_slot"), "a") == 0, "boot_slot");
	CHECK(strcmp(ubootenv_get(&back, "upgrade_available"), "0") == 0, "upgrade_available");
	CHECK(ubootenv_get(&back, "blob") == NULL, "blob from the torn copy");

	/* recovery: fw_setenv rewrites the torn copy, and we read it */
	CHECK(fw_set("boot_slot", "b") == 0, "fw_setenv");
	CHECK(load(&back) == 1, "fw_setenv should have written copy 1");
	CHECK(strcmp(ubootenv_get(&back, "boot_slot"), "b") == 0, "boot_slot");
	CHECK(back.flags == 3, "flags %u", back.flags);

	ubootenv_free(&back);
	ubootenv_free(&env);
	free(copy);
	free(blob);
}

/* (d) stores through the 255 -> 0 wrap, alternating writers (two fw_setenv,
 * then one of ours); after every store both readers agree on the value and
 * on the flags of the current copy. A strict alternation keeps each copy's
 * flags parity, so one run only ever wraps in one direction: start_flags
 * picks which (0: copy 1 holds odd flags and copy 0 wraps to 0; 127: copy 1
 * holds even flags and is the one that wraps to 0). */
static void test_both_agree_through_flag_wrap(uint8_t start_flags, int wrapping_copy)
{
	struct ubootenv env;
	char val[32];
	bool saw_wrap = false;

	fresh_image();
	ubootenv_init(&env);
	env.flags = start_flags;
	ubootenv_set(&env, "n", "start");
	CHECK(store(&env) == 0, "store");
	CHECK(env.active == 1, "first store on a blank image goes to copy 1");
	for (int i = 0; i < 300; i++) {
		snprintf(val, sizeof(val), "%d", i);
		if (i % 3 == 2) {
			CHECK(load(&env) >= 0, "load before store %d", i);
			ubootenv_set(&env, "n", val);
			CHECK(store(&env) == 0, "store %d", i);
		} else {
			CHECK(fw_set("n", val) == 0, "fw_setenv %d", i);
		}
		const char *v = fw_get("n");
		CHECK(v && strcmp(v, val) == 0, "step %d: fw_printenv n=%s", i, v ? v : "(failed)");
		int copy = load(&env);
		CHECK(copy >= 0 && strcmp(ubootenv_get(&env, "n"), val) == 0,
		      "step %d: we read n=%s", i, copy >= 0 ? ubootenv_get(&env, "n") : "-");
		/* the first store plus i + 1 more */
		CHECK(env.flags == (uint8_t)(start_flags + i + 2), "step %d: flags %u", i,
		      env.flags);
		if (env.flags == 0) {
			CHECK(copy == wrapping_copy, "wrapped in copy %d", copy);
			saw_wrap = true;
		}
	}
	CHECK(saw_wrap, "never wrapped");
	ubootenv_free(&env);
}

/* (e) hand-made flag pairs, including ones a normal store sequence never
 * produces (ties, 255 vs 1) and bad CRCs: both readers pick the same copy. */
static void test_both_pick_the_same_copy_for_any_flags(void)
{
	static const struct {
		int flags0, flags1; /* negative: that copy's CRC is broken */
	} cases[] = {
		{ 0, 0 },   { 5, 5 },	  { 255, 255 }, { 1, 2 },   { 2, 1 },	{ 255, 0 },
		{ 0, 255 }, { 254, 255 }, { 255, 254 }, { 255, 1 }, { 1, 255 }, { 0, 254 },
		{ 254, 0 }, { 200, 3 },	  { 3, 200 },	{ 0, 128 }, { 128, 0 }, { -5, 3 },
		{ 3, -5 },  { -255, 0 },  { 0, -255 },
	};
	uint8_t *copy = malloc(UBOOTENV_COPY_SIZE);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fresh_image();
		int fd = open(image, O_WRONLY);
		CHECK(fd >= 0, "open");
		for (int c = 0; c < 2; c++) {
			int f = c ? cases[i].flags1 : cases[i].flags0;
			struct ubootenv env;
			ubootenv_init(&env);
			ubootenv_set(&env, "who", c ? "copy1" : "copy0");
			env.flags = (uint8_t)((f < 0 ? -f : f) - 1);
			CHECK(ubootenv_encode(&env, copy, UBOOTENV_COPY_SIZE, NULL) == 0, "encode");
			if (f < 0)
				copy[0] ^= 0x01;
			CHECK(pwrite(fd, copy, UBOOTENV_COPY_SIZE,
				     c ? UBOOTENV_COPY1_OFFSET : UBOOTENV_COPY0_OFFSET) ==
				      UBOOTENV_COPY_SIZE,
			      "pwrite");
			ubootenv_free(&env);
		}
		close(fd);
		struct ubootenv env;
		ubootenv_init(&env);
		int ours = load(&env);
		const char *theirs = fw_get("who");
		CHECK(theirs && ours >= 0 && strcmp(theirs, ours ? "copy1" : "copy0") == 0 &&
			      strcmp(ubootenv_get(&env, "who"), theirs) == 0,
		      "flags %d/%d: we pick copy %d, fw_printenv %s", cases[i].flags0,
		      cases[i].flags1, ours, theirs ? theirs : "(failed)");
		ubootenv_free(&env);
	}
	free(copy);
}

/* (e) a user's layout: one copy, no redundancy, at another offset (as a
 * one-line fw_env.config says): both write the crc32-only format and read
 * the other's. */
static void test_single_copy_layout_both_ways(void)
{
	char single[160];
	snprintf(single, sizeof(single), "%s/fw_env_single.config", dir);
	FILE *f = fopen(single, "w");
	CHECK(f != NULL, "%s", single);
	fprintf(f, "%s 0x400000 0x4000\n", image);
	fclose(f);
	const struct ubootenv_layout l = { .offset = { 0x400000 }, .size = 0x4000, .copies = 1 };
	fresh_image();
	char out[512], err[256];
	struct ubootenv env;
	ubootenv_init(&env);
	/* fw_setenv will not start from a blank copy without a default env
	 * file: ours writes the first one. */
	ubootenv_set(&env, "mender_boot_part", "2");
	CHECK(ubootenv_file_store_layout(image, &l, &env, err, sizeof(err)) == 0, "store: %s", err);
	char *get[] = { "fw_printenv", "-c", single, "-n", "mender_boot_part", NULL };
	CHECK(run(get, out, sizeof(out)) == 0 && !strcmp(out, "2\n"), "fw_printenv read \"%s\"",
	      out);
	char *set[] = { "fw_setenv", "-c", single, "upgrade_available", "1", NULL };
	CHECK(run(set, out, sizeof(out)) == 0, "fw_setenv on one copy");
	CHECK(ubootenv_file_load_layout(image, &l, &env, err, sizeof(err)) == 0, "load: %s", err);
	CHECK(ubootenv_get(&env, "upgrade_available") &&
		      !strcmp(ubootenv_get(&env, "upgrade_available"), "1"),
	      "upgrade_available");
	CHECK(ubootenv_get(&env, "mender_boot_part") &&
		      !strcmp(ubootenv_get(&env, "mender_boot_part"), "2"),
	      "mender_boot_part");
	ubootenv_free(&env);
	unlink(single);
}

static void cleanup(void)
{
	unlink(image);
	unlink(config);
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
	atexit(cleanup);
	FILE *f = fopen(config, "w");
	if (!f) {
		perror(config);
		return 1;
	}
	fprintf(f, "%s 0x%x 0x%x\n%s 0x%x 0x%x\n", image, UBOOTENV_COPY0_OFFSET, UBOOTENV_COPY_SIZE,
		image, UBOOTENV_COPY1_OFFSET, UBOOTENV_COPY_SIZE);
	fclose(f);

	test_fw_printenv_reads_what_ubootenv_writes();
	test_ubootenv_reads_what_fw_setenv_writes();
	test_torn_write_leaves_old_env_for_both_readers();
	test_both_agree_through_flag_wrap(0, 0);
	test_both_agree_through_flag_wrap(127, 1);
	test_both_pick_the_same_copy_for_any_flags();
	test_single_copy_layout_both_ways();

	if (failures) {
		fprintf(stderr, "%d interop check(s) failed\n", failures);
		return 1;
	}
	printf("ubootenv interop with fw_printenv/fw_setenv: all passed\n");
	return 0;
}
