#include "cmd_run.h"

#include "artifacts.h"
#include "ev.h"
#include "run.h"
#include "sandbox.h"

#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef VH_DEFAULT_IMAGE_DIR
#define VH_DEFAULT_IMAGE_DIR "build/image"
#endif

static const char *const verdict_names[] = { "PASS", "FAIL", "ERROR", "HARNESS FAULT" };

const char *cmd_run_image_dir(const struct cli_opts *opts)
{
	if (opts->image_dir)
		return opts->image_dir;
	const char *env = getenv("VH_IMAGE_DIR");
	return env && *env ? env : VH_DEFAULT_IMAGE_DIR;
}

static void scenario_stem(const char *path, char *out, size_t len)
{
	char copy[1024];
	snprintf(copy, sizeof(copy), "%s", path);
	char *base = basename(copy);
	char *dot = strrchr(base, '.');
	if (dot && !strcmp(dot, ".lua"))
		*dot = '\0';
	snprintf(out, len, "%s", base);
}

static int check_one(const struct cli_opts *opts, const char *path)
{
	struct run_config cfg = {
		.scenario_path = path, .image_dir = cmd_run_image_dir(opts), .accel = "tcg",
		.timeout_ms = opts->timeout_ms, .dry_run = true,
		.defines = opts->defines, .n_defines = opts->n_defines,
	};
	struct vh_run *run = run_new(&cfg);
	if (!run) {
		fprintf(stderr, "vharness: out of memory\n");
		return 3;
	}
	int outcome = run_execute(run);
	if (outcome == VH_PASS)
		printf("%s: ok\n", path);
	else
		fprintf(stderr, "vharness: %s\n", run->message);
	run_free(run);
	return outcome;
}

static void print_verdict(const struct vh_run *run, const char *path, double seconds, const char *dir)
{
	FILE *out = run->outcome == VH_PASS ? stdout : stderr;
	fprintf(out, "vharness: %s: %s in %.1fs (seed %llu, artifacts %s/)\n", path,
		verdict_names[run->outcome], seconds, (unsigned long long)run->cfg.seed, dir);
	if (run->outcome != VH_PASS)
		fprintf(out, "%s\n", run->message);
	fflush(out);
}

/* In the child: one scenario, start to verdict. */
static int run_one(const struct cli_opts *opts, const char *path, uint64_t seed)
{
	char stem[256], dir[1024], err[512];
	scenario_stem(path, stem, sizeof(stem));
	if (opts->artifacts_dir)
		snprintf(dir, sizeof(dir), "%s", opts->artifacts_dir);
	else
		snprintf(dir, sizeof(dir), "vharness-out/%s", stem);
	int r = artifacts_mkdir_p(dir);
	if (r < 0) {
		fprintf(stderr, "vharness: cannot create artifacts directory %s: %s\n", dir, strerror(-r));
		return 2;
	}
	if (access(path, R_OK) != 0) {
		fprintf(stderr, "vharness: cannot read scenario %s: %s\n", path, strerror(errno));
		return 2;
	}
	if (sandbox_enter(err, sizeof(err)) < 0) {
		fprintf(stderr, "vharness: %s\n", err);
		return 3;
	}
	static const char *const accels[] = { "auto", "tcg", "kvm" };
	static const char *const backends[] = { "auto", "kernel", "user" };
	struct run_config cfg = {
		.scenario_path = path, .artifacts_dir = dir, .image_dir = cmd_run_image_dir(opts),
		.accel = accels[opts->accel], .backend = backends[opts->backend],
		.seed = seed, .timeout_ms = opts->timeout_ms,
		.verbose = opts->verbose, .defines = opts->defines, .n_defines = opts->n_defines,
	};
	struct vh_run *run = run_new(&cfg);
	if (!run) {
		fprintf(stderr, "vharness: cannot create the Lua state\n");
		return 3;
	}
	double start = (double)ev_clock_ms() / 1000.0;
	enum vh_outcome outcome = run_execute(run);
	char verdict[32];
	snprintf(verdict, sizeof(verdict), "%s", verdict_names[outcome]);
	const char *kv[] = { "verdict", verdict, "message", run->message, NULL };
	if (!run->message)
		kv[2] = NULL;
	run_event(run, "verdict", kv);
	double seconds = (double)ev_clock_ms() / 1000.0 - start;

	char junit[1100];
	snprintf(junit, sizeof(junit), "%s/junit.xml", dir);
	struct junit_case jc = {
		.name = path, .classname = "vharness", .seconds = seconds, .status = outcome,
		.message = run->message, .details = run->details,
	};
	if (junit_write(junit, &jc, 1, err, sizeof(err)) < 0)
		fprintf(stderr, "vharness: %s\n", err);
	print_verdict(run, path, seconds, dir);
	run_free(run);
	return outcome;
}

static pid_t children[64];
static int n_children;

static void forward_signal(int sig)
{
	for (int i = 0; i < n_children; i++)
		if (children[i] > 0)
			kill(children[i], sig);
}

static int worst(int a, int b)
{
	return a > b ? a : b;
}

static uint64_t random_seed(void)
{
	uint64_t seed = 0;
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)getpid() * 2654435761u ^ ev_clock_ms();
	return seed % 1000000000u; /* short enough to type back with --seed */
}

int cmd_run(const struct cli_opts *opts)
{
	int result = 0;
	if (opts->command == CLI_CHECK) {
		for (int i = 0; i < opts->n_scenarios; i++)
			if (cli_in_shard(opts, i))
				result = worst(result, check_one(opts, opts->scenarios[i]));
		return result;
	}
	uint64_t seed = opts->seed_set ? opts->seed : random_seed();
	struct sigaction sa = { .sa_handler = forward_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	int passed = 0, failed = 0, next = 0;
	pid_t parent = getpid();
	for (;;) {
		while (n_children < opts->jobs && next < opts->n_scenarios) {
			int i = next++;
			if (!cli_in_shard(opts, i))
				continue;
			fflush(NULL);
			pid_t pid = fork();
			if (pid == 0) {
				/* If the parent dies, the child winds down and its guests with it. */
				prctl(PR_SET_PDEATHSIG, SIGTERM);
				if (getppid() != parent)
					_exit(3);
				signal(SIGINT, SIG_DFL);
				signal(SIGTERM, SIG_DFL);
				signal(SIGHUP, SIG_DFL);
				_exit(run_one(opts, opts->scenarios[i], seed));
			}
			if (pid < 0) {
				perror("vharness: fork");
				return 3;
			}
			children[n_children++] = pid;
		}
		if (n_children == 0)
			break;
		int status;
		pid_t done = wait(&status);
		if (done < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int k = 0; k < n_children; k++) {
			if (children[k] == done) {
				children[k] = children[--n_children];
				break;
			}
		}
		int code = WIFEXITED(status) ? WEXITSTATUS(status) : 3;
		if (code > 3)
			code = 3;
		code == 0 ? passed++ : failed++;
		result = worst(result, code);
	}
	if (passed + failed > 1)
		printf("%d passed, %d failed\n", passed, failed);
	return result;
}
