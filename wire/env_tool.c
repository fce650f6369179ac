/* vh-env: print, edit or create the U-Boot env block of a vharness disk image.
 *
 *   vh-env IMAGE                  print every key=value, in block order
 *   vh-env IMAGE key=value ...    set keys ("key=" deletes, as U-Boot's setenv)
 *   vh-env --init IMAGE           create a 1 MiB image holding the default env
 *
 * Exit: 0 ok, 1 failure (no valid env when printing, I/O), 2 usage. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ubootenv.h"

#define ENV_TOOL_IMAGE_SIZE (1024L * 1024L)

static const char *const env_tool_defaults[][2] = {
	{ "boot_slot", "a" },
	{ "upgrade_available", "0" },
	{ "bootcount", "0" },
	{ "bootlimit", "3" },
};

static int env_tool_usage(void)
{
	fprintf(stderr, "usage: vh-env IMAGE\n"
			"       vh-env IMAGE key=value ...   (key= deletes)\n"
			"       vh-env --init IMAGE\n");
	return 2;
}

static int env_tool_init(const char *path)
{
	struct ubootenv env;
	char err[256];
	int rc = 0;

	/* O_EXCL: --init on a real disk image would wipe its partitions. */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "vh-env: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (ftruncate(fd, ENV_TOOL_IMAGE_SIZE) < 0) {
		fprintf(stderr, "vh-env: %s: %s\n", path, strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);

	ubootenv_init(&env);
	for (size_t i = 0; i < sizeof(env_tool_defaults) / sizeof(env_tool_defaults[0]); i++)
		if (ubootenv_set(&env, env_tool_defaults[i][0], env_tool_defaults[i][1]) < 0)
			rc = 1;
	/* Twice, so both copies are valid and the image starts out redundant. */
	for (int i = 0; i < 2 && rc == 0; i++) {
		if (ubootenv_file_store(path, &env, err, sizeof(err)) < 0) {
			fprintf(stderr, "vh-env: %s\n", err);
			rc = 1;
		}
	}
	ubootenv_free(&env);
	return rc;
}

static int env_tool_print(const char *path)
{
	struct ubootenv env;
	char err[256];

	ubootenv_init(&env);
	if (ubootenv_file_load(path, &env, err, sizeof(err)) < 0) {
		fprintf(stderr, "vh-env: %s\n", err);
		ubootenv_free(&env);
		return 1;
	}
	for (size_t i = 0; i < env.count; i++)
		printf("%s=%s\n", env.pairs[i].key, env.pairs[i].value);
	ubootenv_free(&env);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int env_tool_set(const char *path, int argc, char **argv)
{
	struct ubootenv env;
	char err[256];
	int rc;

	for (int i = 0; i < argc; i++)
		if (!strchr(argv[i], '=') || argv[i][0] == '=')
			return env_tool_usage();

	ubootenv_init(&env);
	rc = ubootenv_file_load(path, &env, err, sizeof(err));
	if (rc == -ENODATA) {
		fprintf(stderr, "vh-env: %s; starting from an empty env\n", err);
	} else if (rc < 0) {
		fprintf(stderr, "vh-env: %s\n", err);
		ubootenv_free(&env);
		return 1;
	}
	for (int i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		*eq = '\0';
		rc = ubootenv_set(&env, argv[i], eq[1] ? eq + 1 : NULL);
		*eq = '=';
		if (rc < 0) {
			fprintf(stderr, "vh-env: %s: %s\n", argv[i], strerror(-rc));
			ubootenv_free(&env);
			return 1;
		}
	}
	rc = ubootenv_file_store(path, &env, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "vh-env: %s\n", err);
	ubootenv_free(&env);
	return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--init") == 0)
		return env_tool_init(argv[2]);
	if (argc < 2 || argv[1][0] == '-')
		return env_tool_usage();
	if (argc == 2)
		return env_tool_print(argv[1]);
	return env_tool_set(argv[1], argc - 2, argv + 2);
}
