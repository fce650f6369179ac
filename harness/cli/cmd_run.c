/* `vharness run` and `vharness check`: each scenario runs in a child
 * process that enters its own namespaces, so everything it makes dies with
 * it. The parent deals out scenarios, forwards Ctrl-C, stops starting new
 * ones once interrupted, and gives a verdict to any scenario whose process
 * ended without one (killed, crashed, or stuck past its deadline). */
#include "cmd_run.h"

#include "artifacts.h"
#include "child.h"
#include "duration.h"
#include "ev.h"
#include "run.h"
#include "sandbox.h"
#include "script.h"
#include "verdict.h"

#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef VH_DEFAULT_IMAGE_DIR
#define VH_DEFAULT_IMAGE_DIR "build/image"
#endif

/* How long past its --timeout a scenario's process may take to end by
 * itself (wind down its guests, write its verdict) before it is killed. */
enum { OVERDUE_GRACE_MS = 30000 };

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

/* --artifacts DIR for one scenario; DIR/<scenario>/ for several, so they
 * do not write over each other; vharness-out/<scenario>/ without it. */
static void artifacts_dir_for(const struct cli_opts *opts, const char *path, char *out,
			      size_t len)
{
	char stem[256];
	scenario_stem(path, stem, sizeof(stem));
	if (!opts->artifacts_dir)
		snprintf(out, len, "vharness-out/%s", stem);
	else if (opts->n_scenarios > 1)
		snprintf(out, len, "%s/%s", opts->artifacts_dir, stem);
	else
		snprintf(out, len, "%s", opts->artifacts_dir);
}

static const char *const accel_names[] = { "auto", "tcg", "kvm" };
static const char *const backend_names[] = { "auto", "kernel", "user" };

static int check_one(const struct cli_opts *opts, const char *path)
{
	struct run_config cfg = {
		.scenario_path = path, .image_dir = cmd_run_image_dir(opts), .accel = "tcg",
		.backend = backend_names[opts->backend], .timeout_ms = opts->timeout_ms,
		.dry_run = true, .defines = opts->defines, .n_defines = opts->n_defines,
	};
	if (access(path, R_OK) != 0) {
		fprintf(stderr, "vharness: cannot read scenario %s: %s\n", path, strerror(errno));
		return VH_CONFIG;
	}
	struct vh_run *run = run_new(&cfg);
	struct script *script = run ? script_new(run) : NULL;
	if (!script) {
		fprintf(stderr, "vharness: out of memory\n");
		run_free(run);
		return VH_FAULT;
	}
	run_start(run);
	enum vh_outcome outcome = script_execute(script);
	if (outcome == VH_PASS)
		printf("%s: ok\n", path);
	else
		fprintf(stderr, "vharness: %s\n", run_message(run));
	run_free(run);
	script_free(script);
	return outcome;
}

static void print_verdict(const char *path, enum vh_outcome outcome, const char *message,
			  double seconds, uint64_t seed, const char *dir)
{
	FILE *out = outcome == VH_PASS ? stdout : stderr;
	fprintf(out, "vharness: %s: %s in %.1fs (seed %llu, artifacts %s/)\n", path,
		verdict_name(outcome), seconds, (unsigned long long)seed, dir);
	if (outcome != VH_PASS && message)
		fprintf(out, "%s\n", message);
	fflush(out);
}

/* In the child: one scenario, start to verdict. */
static int run_one(const struct cli_opts *opts, const char *path, uint64_t seed)
{
	char dir[1024], err[512];
	artifacts_dir_for(opts, path, dir, sizeof(dir));
	int r = artifacts_mkdir_p(dir);
	if (r < 0) {
		fprintf(stderr, "vharness: cannot create artifacts directory %s: %s\n", dir, strerror(-r));
		return VH_CONFIG;
	}
	if (access(path, R_OK) != 0) {
		fprintf(stderr, "vharness: cannot read scenario %s: %s\n", path, strerror(errno));
		return VH_CONFIG;
	}
	if (sandbox_enter(err, sizeof(err)) < 0) {
		fprintf(stderr, "vharness: %s\n", err);
		return VH_FAULT;
	}
	struct run_config cfg = {
		.scenario_path = path, .artifacts_dir = dir, .image_dir = cmd_run_image_dir(opts),
		.accel = accel_names[opts->accel], .backend = backend_names[opts->backend],
		.seed = seed, .timeout_ms = opts->timeout_ms,
		.verbose = opts->verbose, .defines = opts->defines, .n_defines = opts->n_defines,
	};
	struct vh_run *run = run_new(&cfg);
	struct script *script = run ? script_new(run) : NULL;
	if (!script) {
		fprintf(stderr, "vharness: cannot create the Lua state\n");
		run_free(run);
		return VH_FAULT;
	}
	double start = (double)ev_clock_ms() / 1000.0;
	if (run_start(run) == 0)
		script_execute(script);
	enum vh_outcome outcome = run_outcome(run);
	double seconds = (double)ev_clock_ms() / 1000.0 - start;
	verdict_record(run, seconds);
	print_verdict(path, outcome, run_message(run), seconds, seed, dir);
	run_free(run);
	script_free(script);
	return outcome;
}

/* --- the suite, in the parent --- */

struct job {
	pid_t pid;
	int pidfd;
	int index;          /* of the scenario */
	uint64_t started_ms;
	bool killed;        /* overdue: the parent ended it */
};

static struct job jobs[64];
static int n_jobs;
static volatile sig_atomic_t interrupted;

static void forward_signal(int sig)
{
	if (!interrupted)
		interrupted = sig;
	for (int i = 0; i < n_jobs; i++)
		if (jobs[i].pid > 0)
			kill(jobs[i].pid, sig);
}

static uint64_t random_seed(void)
{
	uint64_t seed = 0;
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)getpid() * 2654435761u ^ ev_clock_ms();
	return seed % 1000000000u; /* short enough to type back with --seed */
}

static enum vh_outcome cancelled_outcome(int sig)
{
	return sig == SIGTERM ? VH_CANCELLED_TERM
	       : sig == SIGHUP ? VH_CANCELLED_HUP : VH_CANCELLED_INT;
}

/* The verdict of a scenario whose process ended: its own exit code, or,
 * when it ended without one, the parent's, recorded in its junit.xml. */
static enum vh_outcome job_outcome(const struct cli_opts *opts, const struct job *j, int status,
				   uint64_t seed)
{
	if (!j->killed && WIFEXITED(status)) {
		int code = WEXITSTATUS(status);
		if (code <= VH_FAULT || code == VH_CANCELLED_HUP || code == VH_CANCELLED_INT ||
		    code == VH_CANCELLED_TERM)
			return (enum vh_outcome)code;
	}
	const char *path = opts->scenarios[j->index];
	char msg[300], st[96], dir[1024], err[256], d[32];
	enum vh_outcome o = VH_FAULT;
	if (j->killed) {
		snprintf(msg, sizeof(msg),
			 "the scenario's process did not end within --timeout %s and %d s more, and "
			 "was killed",
			 duration_format(opts->timeout_ms, d, sizeof(d)), OVERDUE_GRACE_MS / 1000);
	} else if (WIFSIGNALED(status) &&
		   (WTERMSIG(status) == SIGINT || WTERMSIG(status) == SIGTERM ||
		    WTERMSIG(status) == SIGHUP)) {
		o = cancelled_outcome(WTERMSIG(status));
		snprintf(msg, sizeof(msg), "cancelled by signal %d before the run started",
			 WTERMSIG(status));
	} else {
		snprintf(msg, sizeof(msg), "the scenario's process %s without a verdict",
			 child_status_text(status, st, sizeof(st)));
	}
	double seconds = (double)(ev_clock_ms() - j->started_ms) / 1000.0;
	artifacts_dir_for(opts, path, dir, sizeof(dir));
	if (access(dir, W_OK) == 0 &&
	    verdict_write_junit(dir, path, seconds, o, msg, NULL, err, sizeof(err)) < 0)
		fprintf(stderr, "vharness: %s\n", err);
	print_verdict(path, o, msg, seconds, seed, dir);
	return o;
}

/* Called with SIGINT, SIGTERM and SIGHUP blocked (the caller's mask before
 * that in *unblocked), so that a signal that arrives before the new job is in
 * jobs[] is forwarded to it once it is, not lost; the child takes them at
 * their default until the run installs its own handlers. */
static pid_t start_job(const struct cli_opts *opts, int index, uint64_t seed,
		       const sigset_t *unblocked)
{
	pid_t parent = getpid();
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		/* If the parent dies, the child winds down and its guests with it. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(VH_CANCELLED_TERM);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		sigprocmask(SIG_SETMASK, unblocked, NULL);
		_exit(run_one(opts, opts->scenarios[index], seed));
	}
	return pid;
}

/* Waits for one job to end (or to be overdue, then kills it); returns its
 * slot in jobs[] with its wait status. */
static int wait_job(const struct cli_opts *opts, int *status)
{
	for (;;) {
		struct pollfd pfd[64];
		uint64_t now = ev_clock_ms(), next_due = UINT64_MAX;
		for (int i = 0; i < n_jobs; i++) {
			pfd[i] = (struct pollfd){ .fd = jobs[i].pidfd, .events = POLLIN };
			uint64_t due = jobs[i].started_ms + opts->timeout_ms + OVERDUE_GRACE_MS;
			if (!jobs[i].killed && due <= now) {
				jobs[i].killed = true;
				kill(jobs[i].pid, SIGKILL);
			}
			if (!jobs[i].killed && due < next_due)
				next_due = due;
		}
		int wait_ms = next_due == UINT64_MAX ? -1 : (int)(next_due - now);
		int r = poll(pfd, (nfds_t)n_jobs, wait_ms);
		if (r < 0 && errno != EINTR)
			return -1;
		for (int i = 0; i < n_jobs && r > 0; i++) {
			if (!pfd[i].revents)
				continue;
			if (waitpid(jobs[i].pid, status, WNOHANG) == jobs[i].pid)
				return i;
		}
	}
}

int cmd_run(const struct cli_opts *opts)
{
	int result = 0;
	if (opts->command == CLI_CHECK) {
		for (int i = 0; i < opts->n_scenarios; i++)
			if (cli_in_shard(opts, i)) {
				int r = check_one(opts, opts->scenarios[i]);
				result = r > result ? r : result;
			}
		return result;
	}
	uint64_t seed = opts->seed_set ? opts->seed : random_seed();
	struct sigaction sa = { .sa_handler = forward_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigset_t stop_signals, unblocked;
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGHUP);

	int counts[4] = { 0 }, cancelled = 0, not_run = 0, next = 0, max_jobs = opts->jobs;
	enum vh_outcome cancel_code = VH_CANCELLED_INT;
	if (max_jobs > 64)
		max_jobs = 64;
	for (;;) {
		while (!interrupted && n_jobs < max_jobs && next < opts->n_scenarios) {
			int i = next++;
			if (!cli_in_shard(opts, i))
				continue;
			/* From fork until the job is in jobs[], where
			 * forward_signal finds it. */
			sigprocmask(SIG_BLOCK, &stop_signals, &unblocked);
			pid_t pid = start_job(opts, i, seed, &unblocked);
			if (pid < 0) {
				sigprocmask(SIG_SETMASK, &unblocked, NULL);
				perror("vharness: fork");
				return VH_FAULT;
			}
			int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
			jobs[n_jobs++] = (struct job){ .pid = pid, .pidfd = pidfd, .index = i,
						       .started_ms = ev_clock_ms() };
			sigprocmask(SIG_SETMASK, &unblocked, NULL);
		}
		if (n_jobs == 0)
			break;
		int status;
		int k = wait_job(opts, &status);
		if (k < 0)
			break;
		enum vh_outcome o = job_outcome(opts, &jobs[k], status, seed);
		close(jobs[k].pidfd);
		jobs[k] = jobs[--n_jobs];
		if (verdict_cancelled(o)) {
			cancelled++;
			cancel_code = o;
		}
		else
			counts[o <= VH_FAULT ? o : VH_FAULT]++;
		if ((int)o <= VH_FAULT && (int)o > result)
			result = o;
	}
	for (; next < opts->n_scenarios; next++)
		if (cli_in_shard(opts, next))
			not_run++;
	int total = counts[0] + counts[1] + counts[2] + counts[3] + cancelled + not_run;
	if (total > 1 || not_run) {
		printf("%d passed, %d failed", counts[0], counts[1] + counts[2] + counts[3]);
		if (cancelled)
			printf(", %d cancelled", cancelled);
		if (not_run)
			printf(", %d not run (interrupted)", not_run);
		printf("\n");
	}
	/* A signal that came after every scenario had its verdict (while the
	 * last one tore down) cancelled nothing: the verdicts stand, as their
	 * junit.xml and output say. */
	if (!cancelled && !not_run)
		return result;
	return interrupted ? (int)cancelled_outcome(interrupted) : (int)cancel_code;
}
