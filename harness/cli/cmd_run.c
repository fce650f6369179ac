/* `vharness run` and `vharness check`: the suite (suite.h) is planned
 * first; each run is a child process that enters its own namespaces, so
 * everything it makes dies with it. The parent deals out runs, forwards
 * Ctrl-C, stops starting new ones once interrupted, gives a verdict to any
 * run whose process ended without one (killed, crashed, or stuck past its
 * deadline), and writes the suite's junit.xml, summary.md and timings.txt. */
#include "cmd_run.h"

#include "cli_children.h"

#include "artifacts.h"
#include "child.h"
#include "duration.h"
#include "ev.h"
#include "report.h"
#include "run.h"
#include "sandbox.h"
#include "script.h"
#include "suite.h"
#include "suite_report.h"
#include "verdict.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef VH_DEFAULT_IMAGE_DIR
#define VH_DEFAULT_IMAGE_DIR "build/image"
#endif

/* How long past its --timeout a scenario's process may take to end by
 * itself (wind down its guests, write its verdict) before it is killed. */
enum { OVERDUE_GRACE_MS = 30000, MAX_JOBS = 64 };
/* What --jobs auto budgets for one run: two reference guests and the harness. */
#define AUTO_JOB_MIB 512

const char *cmd_run_image_dir(const struct cli_opts *opts)
{
	if (opts->image_dir)
		return opts->image_dir;
	const char *env = getenv("VH_IMAGE_DIR");
	return env && *env ? env : VH_DEFAULT_IMAGE_DIR;
}

static const char *const accel_names[] = { "auto", "tcg", "kvm" };
static const char *const backend_names[] = { "auto", "kernel", "user" };

/* The suite's root: --artifacts DIR, else vharness-out. */
static const char *artifacts_root(const struct cli_opts *opts)
{
	return opts->artifacts_dir ? opts->artifacts_dir : "vharness-out";
}

/* One run alone with --artifacts DIR: DIR itself, as before suites. Else
 * ROOT/<run id>/. */
static void run_dir(const struct cli_opts *opts, const struct suite *s, const struct suite_run *r,
		    char *out, size_t len)
{
	if (opts->artifacts_dir && s->n == 1)
		snprintf(out, len, "%s", opts->artifacts_dir);
	else
		snprintf(out, len, "%s/%s", artifacts_root(opts), r->id);
}

static int check_one(const struct cli_opts *opts, const struct suite_run *r)
{
	struct run_config cfg = {
		.scenario_path = r->scenario,
		.image_dir = cmd_run_image_dir(opts),
		.arch = opts->arch,
		.accel = "tcg",
		.backend = backend_names[opts->backend],
		.timeout_ms = opts->timeout_ms,
		.dry_run = true,
		.defines = r->defines,
		.n_defines = r->n_defines,
	};
	if (access(r->scenario, R_OK) != 0) {
		fprintf(stderr, "vharness: cannot read scenario %s: %s\n", r->scenario,
			strerror(errno));
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
		printf("%s%s%s: ok\n", r->scenario, r->params[0] ? " " : "", r->params);
	else
		fprintf(stderr, "vharness: %s\n", run_message(run));
	run_free(run);
	script_free(script);
	return outcome;
}

static void print_verdict(const char *what, enum vh_outcome outcome, const char *message,
			  double seconds, uint64_t seed, const char *dir)
{
	FILE *out = outcome == VH_PASS ? stdout : stderr;
	fprintf(out, "vharness: %s: %s in %.1fs (seed %llu, artifacts %s/)\n", what,
		verdict_name(outcome), seconds, (unsigned long long)seed, dir);
	if (outcome != VH_PASS && message)
		fprintf(out, "%s\n", message);
	fflush(out);
}

/* report.html and trace.json in a run's directory; a report that cannot
 * be written does not change the verdict. */
static void write_report(const char *dir)
{
	char err[600];
	if (report_write_dir(dir, err, sizeof(err)) < 0)
		fprintf(stderr, "vharness: no report: %s\n", err);
}

/* In the child: one run, start to verdict. shared: runs at once share the
 * terminal (each writes to its output.log), so none shows progress. */
static int run_one(const struct cli_opts *opts, const struct suite_run *r, const char *dir,
		   bool shared)
{
	char err[512];
	int rc = artifacts_mkdir_p(dir);
	if (rc < 0) {
		fprintf(stderr, "vharness: cannot create artifacts directory %s: %s\n", dir,
			strerror(-rc));
		return VH_CONFIG;
	}
	if (access(r->scenario, R_OK) != 0) {
		fprintf(stderr, "vharness: cannot read scenario %s: %s\n", r->scenario,
			strerror(errno));
		return VH_CONFIG;
	}
	if (sandbox_enter(err, sizeof(err)) < 0) {
		fprintf(stderr, "vharness: %s\n", err);
		return VH_FAULT;
	}
	struct run_config cfg = {
		.scenario_path = r->scenario,
		.artifacts_dir = dir,
		.image_dir = cmd_run_image_dir(opts),
		.arch = opts->arch,
		.accel = accel_names[opts->accel],
		.backend = backend_names[opts->backend],
		.seed = r->seed,
		.timeout_ms = opts->timeout_ms,
		.boot_slots = opts->boot_slots,
		.snapshot_boot = opts->snapshot_boot,
		.sweep_point = opts->sweep_point,
		.verbose = opts->verbose,
		.quiet = opts->quiet,
		.defines = r->defines,
		.n_defines = r->n_defines,
	};
	if (!shared)
		cfg.progress = progress_choose(opts->quiet, opts->verbose, isatty(STDERR_FILENO),
					       getenv("TERM"), getenv("NO_COLOR"));
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
	char what[1200];
	snprintf(what, sizeof(what), "%s%s%s", r->scenario, r->params[0] ? " " : "", r->params);
	print_verdict(what, outcome, run_message(run), seconds, r->seed, dir);
	run_free(run);
	script_free(script);
	/* After run_free: the serial logs are closed, the last power_off is
	 * written. */
	write_report(dir);
	return outcome;
}

/* --- the suite, in the parent --- */

struct job {
	pid_t pid;
	int pidfd;
	int index; /* of the run */
	uint64_t started_ms;
	bool killed; /* overdue: the parent ended it */
};

static struct job jobs[MAX_JOBS];
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

static enum vh_outcome cancelled_outcome(int sig)
{
	return sig == SIGTERM  ? VH_CANCELLED_TERM
	       : sig == SIGHUP ? VH_CANCELLED_HUP
			       : VH_CANCELLED_INT;
}

static bool known_code(int code)
{
	return code <= VH_FAULT || code == VH_CANCELLED_HUP || code == VH_CANCELLED_INT ||
	       code == VH_CANCELLED_TERM;
}

/* What a run's process left: its verdict.txt when it ended with a verdict
 * of its own; else the parent's verdict, which it also writes there. */
static void job_result(const struct cli_opts *opts, const struct suite_run *r, const char *dir,
		       const struct job *j, int status, struct verdict_file *v)
{
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	if (!j->killed && known_code(code) && verdict_read_file(dir, v) == 0 && v->outcome == code)
		return;
	verdict_file_free(v);
	char msg[400], st[96], err[256], d[32];
	v->seed = r->seed;
	v->seconds = (double)(ev_clock_ms() - j->started_ms) / 1000.0;
	v->outcome = VH_FAULT;
	if (!j->killed && known_code(code)) {
		/* Ended before it had a verdict to write: a bad file, no namespaces. */
		v->outcome = code;
		snprintf(msg, sizeof(msg),
			 "the run ended before it started (exit %d): see its output", code);
	} else if (j->killed) {
		snprintf(
			msg, sizeof(msg),
			"the scenario's process did not end within --timeout %s and %d s more, and "
			"was killed",
			duration_format(opts->timeout_ms, d, sizeof(d)), OVERDUE_GRACE_MS / 1000);
	} else if (WIFSIGNALED(status) &&
		   (WTERMSIG(status) == SIGINT || WTERMSIG(status) == SIGTERM ||
		    WTERMSIG(status) == SIGHUP)) {
		v->outcome = cancelled_outcome(WTERMSIG(status));
		snprintf(msg, sizeof(msg), "cancelled by signal %d before the run started",
			 WTERMSIG(status));
	} else {
		snprintf(msg, sizeof(msg), "the scenario's process %s without a verdict",
			 child_status_text(status, st, sizeof(st)));
	}
	v->message = strdup(msg);
	if (access(dir, W_OK) == 0 && (verdict_write_junit(dir, r->scenario, v->seconds, v->outcome,
							   msg, NULL, err, sizeof(err)) < 0 ||
				       verdict_write_file(dir, v->outcome, v->seconds, r->seed, msg,
							  NULL, err, sizeof(err)) < 0))
		fprintf(stderr, "vharness: %s\n", err);
	/* The report, with this verdict, of whatever the run got to write. */
	char events[1200];
	snprintf(events, sizeof(events), "%s/events.jsonl", dir);
	if (access(events, R_OK) == 0)
		write_report(dir);
	if (!known_code(code) || j->killed)
		print_verdict(r->scenario, v->outcome, msg, v->seconds, r->seed, dir);
}

/* Called with SIGINT, SIGTERM and SIGHUP blocked (the caller's mask before
 * that in *unblocked), so that a signal that arrives before the new job is in
 * jobs[] is forwarded to it once it is, not lost; the child takes them at
 * their default until the run installs its own handlers. */
static pid_t start_job(const struct cli_opts *opts, const struct suite *s,
		       const struct suite_run *r, bool quiet, const sigset_t *unblocked)
{
	char dir[1100];
	run_dir(opts, s, r, dir, sizeof(dir));
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
		if (quiet && artifacts_mkdir_p(dir) == 0) {
			/* Runs at once would interleave: each speaks to its own file,
			 * and the parent prints verdicts. */
			artifacts_redirect_output(dir);
		}
		sigprocmask(SIG_SETMASK, unblocked, NULL);
		_exit(run_one(opts, r, dir, quiet));
	}
	return pid;
}

/* Waits for one job to end (killing one that is overdue); returns its slot
 * with its wait status. A status line is refreshed on a terminal. */
static int wait_job(const struct cli_opts *opts, const struct suite *s, int *status, bool tty,
		    int done, int total)
{
	for (;;) {
		struct pollfd pfd[MAX_JOBS];
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
		if (tty) {
			fprintf(stderr, "\r\033[K[%d/%d]", done, total);
			for (int i = 0; i < n_jobs; i++)
				fprintf(stderr, " %s %.0fs", s->runs[jobs[i].index].id,
					(double)(now - jobs[i].started_ms) / 1000.0);
			fflush(stderr);
		}
		int wait_ms = next_due == UINT64_MAX ? -1 : (int)(next_due - now);
		if (tty && (wait_ms < 0 || wait_ms > 1000))
			wait_ms = 1000;
		int r = poll(pfd, (nfds_t)n_jobs, wait_ms);
		if (r < 0 && errno != EINTR)
			return -1;
		for (int i = 0; i < n_jobs && r > 0; i++) {
			if (!pfd[i].revents)
				continue;
			if (waitpid(jobs[i].pid, status, WNOHANG) == jobs[i].pid) {
				if (tty)
					fprintf(stderr, "\r\033[K");
				return i;
			}
		}
	}
}

int cmd_run_auto_jobs(char *why, size_t whylen)
{
	return cli_auto_jobs_here(AUTO_JOB_MIB, MAX_JOBS, why, whylen);
}

static int check_suite(const struct cli_opts *opts, const struct suite *s)
{
	int result = 0;
	for (int i = 0; i < s->n; i++)
		if (s->runs[i].in_shard) {
			int r = check_one(opts, &s->runs[i]);
			result = r > result ? r : result;
		}
	return result;
}

int cmd_run(const struct cli_opts *opts)
{
	struct suite s;
	char err[1200];
	if (suite_plan(opts, cli_random_seed, &s, err, sizeof(err)) < 0) {
		fprintf(stderr, "vharness: %s\n", err);
		return VH_CONFIG;
	}
	if (opts->command == CLI_CHECK) {
		int r = check_suite(opts, &s);
		suite_free(&s);
		return r;
	}
	cli_on_stop_signals(forward_signal);
	sigset_t stop_signals, unblocked;
	cli_stop_signals(&stop_signals);

	char why[96] = "";
	int max_jobs = opts->jobs_auto ? cmd_run_auto_jobs(why, sizeof(why)) : opts->jobs;
	if (max_jobs > MAX_JOBS)
		max_jobs = MAX_JOBS;
	int total = suite_count_in_shard(&s);
	bool quiet = max_jobs > 1 && total > 1;
	bool tty = quiet && isatty(2);
	struct suite_result *results = calloc((size_t)s.n + 1, sizeof(*results));
	struct verdict_file *verdicts = calloc((size_t)s.n + 1, sizeof(*verdicts));
	char(*dirs)[1100] = calloc((size_t)s.n + 1, sizeof(*dirs));
	if (!results || !verdicts || !dirs)
		abort();
	for (int i = 0; i < s.n; i++) {
		run_dir(opts, &s, &s.runs[i], dirs[i], sizeof(dirs[i]));
		results[i] = (struct suite_result){
			.id = s.runs[i].id,
			.scenario = s.runs[i].scenario,
			.params = s.runs[i].params,
			.dir = dirs[i],
			.seed = s.runs[i].seed,
			.outcome = -1,
			.message = "not run: the suite was interrupted",
		};
	}
	if ((max_jobs > 1 || *why) && total > 1)
		printf("vharness: %d runs, %d at once%s%s%s\n", total, max_jobs,
		       *why ? " (--jobs auto: " : "", why, *why ? ")" : "");
	int next = 0, done = 0;
	for (;;) {
		while (!interrupted && n_jobs < max_jobs && next < s.n) {
			int i = next++;
			if (!s.runs[i].in_shard)
				continue;
			/* From fork until the job is in jobs[], where
			 * forward_signal finds it. */
			sigprocmask(SIG_BLOCK, &stop_signals, &unblocked);
			pid_t pid = start_job(opts, &s, &s.runs[i], quiet, &unblocked);
			if (pid < 0) {
				sigprocmask(SIG_SETMASK, &unblocked, NULL);
				perror("vharness: fork");
				break;
			}
			int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
			jobs[n_jobs++] = (struct job){
				.pid = pid, .pidfd = pidfd, .index = i, .started_ms = ev_clock_ms()
			};
			sigprocmask(SIG_SETMASK, &unblocked, NULL);
		}
		if (n_jobs == 0)
			break;
		int status;
		int k = wait_job(opts, &s, &status, tty, done, total);
		if (k < 0)
			break;
		int i = jobs[k].index;
		job_result(opts, &s.runs[i], dirs[i], &jobs[k], status, &verdicts[i]);
		results[i].outcome = verdicts[i].outcome;
		results[i].seconds = verdicts[i].seconds;
		results[i].message = verdicts[i].message;
		results[i].details = verdicts[i].details;
		if (quiet)
			print_verdict(s.runs[i].id, (enum vh_outcome)results[i].outcome,
				      results[i].message, results[i].seconds, s.runs[i].seed,
				      dirs[i]);
		done++;
		close(jobs[k].pidfd);
		jobs[k] = jobs[--n_jobs];
	}

	/* The suite's verdict: the worst run's; cancelled above all. */
	int worst = 0, cancel = 0, ran = 0;
	bool unfinished = false; /* a run cancelled or not run */
	struct suite_result *shown = calloc((size_t)s.n + 1, sizeof(*shown));
	if (!shown)
		abort();
	for (int i = 0; i < s.n; i++) {
		if (!s.runs[i].in_shard)
			continue;
		shown[ran++] = results[i];
		int o = results[i].outcome;
		if (o < 0 || o >= 128)
			unfinished = true;
		if (o >= 128)
			cancel = o;
		else if (o > worst)
			worst = o;
	}
	/* The suite's files at the root, for CI pages, even for one run; its
	 * junit.xml only where it is not the run's own. */
	bool own_dir = opts->artifacts_dir && s.n == 1;
	if (ran > 0 &&
	    (artifacts_mkdir_p(artifacts_root(opts)) < 0 ||
	     suite_report_write(artifacts_root(opts), shown, ran, !own_dir, err, sizeof(err)) < 0))
		fprintf(stderr, "vharness: %s\n", err);
	if (ran > 1) {
		suite_report_print(stdout, shown, ran);
		/* passed, failed (1-3), cancelled, not run */
		int counts[4] = { 0 };
		for (int i = 0; i < ran; i++) {
			int o = shown[i].outcome;
			counts[o == 0 ? 0 : o < 0 ? 3 : o >= 128 ? 2 : 1]++;
		}
		printf("%d passed, %d failed", counts[0], counts[1]);
		if (counts[2])
			printf(", %d cancelled", counts[2]);
		if (counts[3])
			printf(", %d not run (interrupted)", counts[3]);
		printf(" (suite: %s/junit.xml, summary.md)\n", artifacts_root(opts));
	}
	free(shown);
	for (int i = 0; i < s.n; i++)
		verdict_file_free(&verdicts[i]);
	free(verdicts);
	free(results);
	free(dirs);
	suite_free(&s);
	/* A signal that came after every run had its verdict (while the last
	 * one tore down) cancelled nothing: the verdicts stand, as their
	 * junit.xml and output say. */
	if (!unfinished)
		return worst;
	return interrupted ? (int)cancelled_outcome(interrupted) : cancel;
}
