#include "fw_env_fixture.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char *fwenv_image, *fwenv_config;
int fwenv_failures;

static char dir[128];
static size_t image_bytes;
/* Few: the image, the config and a test's own one or two. */
static char files[8][160];
static int nfiles;

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

static void cleanup(void)
{
	for (int i = 0; i < nfiles; i++)
		unlink(files[i]);
	rmdir(dir);
}

const char *fwenv_file(const char *name)
{
	if (nfiles == (int)(sizeof(files) / sizeof(files[0])) ||
	    snprintf(files[nfiles], sizeof(files[0]), "%s/%s", dir, name) >=
		    (int)sizeof(files[0])) {
		fprintf(stderr, "fwenv_file: no room for %s\n", name);
		exit(1);
	}
	return files[nfiles++];
}

void fwenv_setup(const char *tag, size_t image_size)
{
	if (!in_path("fw_printenv") || !in_path("fw_setenv")) {
		printf("skipped: fw_printenv/fw_setenv not installed (libubootenv-tool)\n");
		exit(77);
	}
	snprintf(dir, sizeof(dir), "/tmp/%s_XXXXXX", tag);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
	atexit(cleanup);
	image_bytes = image_size;
	fwenv_image = fwenv_file("disk.img");
	fwenv_config = fwenv_file("fw_env.config");
	FILE *f = fopen(fwenv_config, "w");
	if (!f) {
		perror(fwenv_config);
		exit(1);
	}
	fprintf(f, "%s 0x%x 0x%x\n%s 0x%x 0x%x\n", fwenv_image, UBOOTENV_COPY0_OFFSET,
		UBOOTENV_COPY_SIZE, fwenv_image, UBOOTENV_COPY1_OFFSET, UBOOTENV_COPY_SIZE);
	fclose(f);
}

int fwenv_finish(const char *what)
{
	if (fwenv_failures) {
		fprintf(stderr, "%d interop check(s) failed\n", fwenv_failures);
		return 1;
	}
	printf("%s: all passed\n", what);
	return 0;
}

void fwenv_fresh_image(void)
{
	int fd = open(fwenv_image, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)image_bytes) < 0) {
		perror(fwenv_image);
		exit(1);
	}
	close(fd);
}

/* posix_spawn, not fork: test_ubootenv_interop starts about a thousand of
 * these, and forking an ASan process copies its page tables each time (the
 * ASan job's run came within seconds of its 300 s timeout on a busy
 * machine). */
int fwenv_run(char *const argv[], char *out, size_t outlen)
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

const char *fwenv_get(const char *key)
{
	/* a value can be as long as a copy */
	static char out[256 * 1024];
	char *argv[] = { "fw_printenv", "-c", (char *)fwenv_config, "-n", (char *)key, NULL };
	if (fwenv_run(argv, out, sizeof(out)) != 0)
		return NULL;
	out[strcspn(out, "\n")] = '\0';
	return out;
}

int fwenv_set(const char *key, const char *value)
{
	char *argv[] = {
		"fw_setenv", "-c", (char *)fwenv_config, (char *)key, (char *)value, NULL
	};
	return fwenv_run(argv, NULL, 0);
}

static int cmp_pair(const void *a, const void *b)
{
	return strcmp(((const struct ubootenv_pair *)a)->key,
		      ((const struct ubootenv_pair *)b)->key);
}

/* libubootenv keeps its list sorted by key, whatever the order in the
 * block: so is the listing we expect. */
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

bool fwenv_printenv_agrees(const struct ubootenv *env)
{
	static char out[64 * 1024];
	char *argv[] = { "fw_printenv", "-c", (char *)fwenv_config, NULL };
	char *want = expected_listing(env);
	int rc = fwenv_run(argv, out, sizeof(out));
	bool same = rc == 0 && strcmp(out, want) == 0;
	if (!same)
		fprintf(stderr, "fw_printenv (rc %d):\n%s---\nwhat was stored:\n%s---\n", rc, out,
			want);
	free(want);
	return same;
}
