/* `vharness sweep`: each of its runs is this binary's own `vharness run`,
 * steered by VH_SWEEP_* in its environment (harness/lua/lua_sweep.c), so a
 * point's run has the artifacts, verdict and sandbox of any run. --jobs N
 * point runs at once; they are reported in point order, and a signal to the
 * sweep is passed to each of them by its PID. */
#include "cmd_sweep.h"

#include "cli_children.h"

#include "artifacts.h"
#include "cmd_run.h"
#include "outcome.h"
#include "suite_report.h"
#include "sweep.h"
#include "verdict.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { EVENTS_BEFORE = 6, EVENTS_AFTER = 14 };

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static pid_t running[SWEEP_MAX_JOBS + 1]; /* the point runs going on, 0 for none */
static volatile sig_atomic_t interrupted;

static void forward_signal(int sig)
{
	if (!interrupted)
		interrupted = sig;
	for (int i = 0; i <= SWEEP_MAX_JOBS; i++)
		if (running[i] > 0)
			kill(running[i], sig);
}

/* Starts `vharness run` of the scenario into dir, its output in
 * dir/output.log, in slot of running[]; cut: "DEV:K", NULL for the
 * recording run. Called with the stop signals blocked (the mask before in
 * *unblocked), so one that comes before the PID is in running[] still
 * reaches the child. The PID, or -1 with the message printed. */
static pid_t start_child(const struct sweep_opts *o, const char *dir, const char *cut, int slot,
			 const sigset_t *unblocked)
{
	if (artifacts_mkdir_p(dir) < 0) {
		fprintf(stderr, "vharness: cannot create %s: %s\n", dir, strerror(errno));
		return -1;
	}
	char seed[24];
	snprintf(seed, sizeof(seed), "%llu", (unsigned long long)o->seed);
	const char *argv[16 + 2 * SWEEP_MAX_DEFINES];
	int n = 0;
	argv[n++] = "vharness";
	argv[n++] = "run";
	argv[n++] = o->scenario;
	argv[n++] = "--artifacts";
	argv[n++] = dir;
	argv[n++] = "--seed";
	argv[n++] = seed;
	argv[n++] = "-q";
	argv[n++] = "--sweep-point"; /* VH_SWEEP_* below steer this run */
	for (int i = 0; i < o->n_defines; i++) {
		argv[n++] = "-D";
		argv[n++] = o->defines[i];
	}
	argv[n] = NULL;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "vharness: cannot start a run: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* If the sweep dies, its runs wind down and their guests with them. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		artifacts_redirect_output(dir);
		setenv("VH_SWEEP_KIND", sweep_cut_kind_name(o->kind), 1);
		if (o->pattern)
			setenv("VH_SWEEP_LINE", o->pattern, 1);
		else
			unsetenv("VH_SWEEP_LINE");
		if (o->from)
			setenv("VH_SWEEP_FROM", o->from, 1);
		else
			unsetenv("VH_SWEEP_FROM");
		setenv("VH_SWEEP_FLASH", o->flash, 1);
		if (cut)
			setenv("VH_SWEEP_CUT", cut, 1);
		else
			unsetenv("VH_SWEEP_CUT");
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		sigprocmask(SIG_SETMASK, unblocked, NULL);
		execv("/proc/self/exe", (char *const *)argv);
		perror("vharness: cannot run itself");
		_exit(VH_FAULT);
	}
	running[slot] = pid;
	return pid;
}

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGINT ? VH_CANCELLED_INT : VH_FAULT;
}

/* Waits for any of our runs to end: its PID (its slot in running[]
 * cleared) and its exit code; -1 when none is left. */
static pid_t wait_child(int *code)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, 0);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0)
			return -1;
		for (int i = 0; i <= SWEEP_MAX_JOBS; i++) {
			if (running[i] == pid) {
				running[i] = 0;
				*code = exit_code(status);
				return pid;
			}
		}
	}
}

/* The events.jsonl lines around the cut of the first failing point. */
static void print_events_around(const char *dir, long cut_row)
{
	char path[1200];
	snprintf(path, sizeof(path), "%s/events.jsonl", dir);
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	printf("\nevents around the cut (%s):\n", path);
	char *line = NULL;
	size_t cap = 0;
	for (long row = 1; getline(&line, &cap, f) >= 0; row++)
		if (cut_row < 0 ||
		    (row >= cut_row - EVENTS_BEFORE && row <= cut_row + EVENTS_AFTER))
			printf("  %s%.*s\n", row == cut_row ? "> " : "  ",
			       (int)strcspn(line, "\n") > 240 ? 240 : (int)strcspn(line, "\n"),
			       line);
	free(line);
	fclose(f);
}

/* A point's run ended with code: its outcome, verdict and junit row. */
struct point_result {
	pid_t pid;
	bool done;
	int code;
	double started, seconds;
	struct sweep_outcome out;
	struct verdict_file verdict;
	const char *message;
	char id[32], dir[1100], cut[48], params[200];
};

static void point_finish(const struct sweep_opts *o, const struct sweep_point *pt,
			 struct point_result *r)
{
	verdict_read_file(r->dir, &r->verdict);
	char events[1200];
	snprintf(events, sizeof(events), "%s/events.jsonl", r->dir);
	FILE *ev = fopen(events, "re");
	sweep_outcome_read(ev, pt->device, r->code, &r->out);
	if (ev)
		fclose(ev);
	r->message = r->verdict.message;
	if (r->out.kind == SWEEP_NOT_REACHED && !r->message)
		r->message = o->kind == SWEEP_CUT_LINE
				     ? "the cut point's line did not come in this run"
				     : "the cut point's request did not come in this run";
}

/* The worst code a run may give the sweep, and what it gives the junit. */
static int point_code(const struct point_result *r)
{
	return r->out.kind == SWEEP_PASS		   ? 0
	       : r->out.kind == SWEEP_ERROR && r->code > 1 ? r->code
							   : 1;
}

/* The recording run, and its points as selected by --max: 0 or the exit. */
static int record(struct sweep_opts *o, const char *root, const sigset_t *unblocked,
		  struct sweep_point **points, int *n, int *total, bool *record_failed)
{
	char dir[1100], tsv[1200], err[512];
	snprintf(dir, sizeof(dir), "%.1000s/record", root);
	snprintf(tsv, sizeof(tsv), "%s/sweep-points.tsv", dir);
	unlink(tsv);
	int rc = VH_FAULT;
	if (start_child(o, dir, NULL, 0, unblocked) > 0) {
		sigset_t blocked;
		sigprocmask(SIG_SETMASK, unblocked, &blocked);
		wait_child(&rc);
		sigprocmask(SIG_SETMASK, &blocked, NULL);
	}
	if (rc != 0) {
		struct verdict_file v = { 0 };
		verdict_read_file(dir, &v);
		fprintf(stderr, "vharness: the recording run did not pass (exit %d, %s/): %s\n", rc,
			dir, v.message ? v.message : "see its output.log");
		verdict_file_free(&v);
		/* A failed check still leaves the points before it, and a bug
		 * the scenario's own end catches (an env edit never synced) is
		 * one a cut may show too: they are swept, and the sweep fails. */
		if (rc != VH_FAIL || access(tsv, R_OK) != 0)
			return rc == VH_PASS || (rc > VH_FAULT && rc < 128) ? VH_FAULT : rc;
		*record_failed = true;
	}
	FILE *f = fopen(tsv, "re");
	struct sweep_point *all = NULL;
	*n = *total = 0;
	if (f && sweep_points_read(f, INT_MAX, &all, total, err, sizeof(err)) < 0) {
		fprintf(stderr, "vharness: %s/%s\n", dir, err);
		fclose(f);
		return VH_FAULT;
	}
	if (f)
		fclose(f);
	if (*total == 0 && *record_failed)
		return VH_FAIL;
	if (*total == 0) {
		if (o->kind == SWEEP_CUT_LINE)
			fprintf(stderr, "vharness: no console line matched \"%s\"", o->pattern);
		else
			fprintf(stderr, "vharness: no %s reached a device's flash",
				sweep_cut_kind_name(o->kind));
		fprintf(stderr, "%s%s%s in the recording run (%s/): no cut points\n",
			o->from ? " after \"" : "", o->from ? o->from : "", o->from ? "\"" : "",
			dir);
		return VH_CONFIG;
	}
	int *idx = calloc((size_t)o->max, sizeof(*idx));
	*points = calloc((size_t)o->max, sizeof(**points));
	if (!idx || !*points)
		abort();
	*n = sweep_select(*total, o->max, o->kind, idx);
	for (int i = 0; i < *n; i++) {
		(*points)[i] = all[idx[i]];
		all[idx[i]].line = NULL;
	}
	free(idx);
	sweep_points_free(all, *total);
	return 0;
}

static int sweep(struct sweep_opts *o, const char *root, const sigset_t *unblocked)
{
	char err[512];
	double t0 = now_s();
	char why[96] = "";
	int jobs = o->jobs_auto ? cmd_run_auto_jobs(why, sizeof(why)) : o->jobs;
	if (jobs > SWEEP_MAX_JOBS)
		jobs = SWEEP_MAX_JOBS;
	if (o->kind == SWEEP_CUT_LINE)
		printf("vharness: sweep %s, cut at lines matching \"%s\"", o->scenario, o->pattern);
	else
		printf("vharness: sweep %s, cut at each %s", o->scenario,
		       sweep_cut_kind_name(o->kind));
	if (o->from)
		printf(" from \"%s\"", o->from);
	printf(", flash %s, seed %llu, %d at once%s%s%s\n", o->flash, (unsigned long long)o->seed,
	       jobs, *why ? " (--jobs auto: " : "", why, *why ? ")" : "");
	struct sweep_point *points = NULL;
	int n = 0, total = 0;
	bool record_failed = false;
	int rc = record(o, root, unblocked, &points, &n, &total, &record_failed);
	if (rc)
		return rc;
	if (record_failed)
		printf("vharness: the recording run failed (above); sweeping the points it "
		       "recorded\n");
	printf("vharness: %d %s point%s recorded in %.1fs", total, sweep_cut_kind_name(o->kind),
	       total == 1 ? "" : "s", now_s() - t0);
	if (n < total)
		printf("; --max %d runs %s", n,
		       o->kind == SWEEP_CUT_LINE
			       ? "the first ones"
			       : "them spread evenly, the first and last included");
	printf("\n");

	struct point_result *r = calloc((size_t)n, sizeof(*r));
	struct suite_result *results = calloc((size_t)n, sizeof(*results));
	const char **messages = calloc((size_t)n, sizeof(*messages));
	struct sweep_outcome *outs = calloc((size_t)n, sizeof(*outs));
	if (!r || !results || !messages || !outs)
		abort();
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	int worst = record_failed ? VH_FAIL : 0;
	int first_failed = -1, cancelled = 0, started = 0, reported = 0, busy = 0;
	int shown = 0; /* the points in the table: those before a cancelled one */
	while (reported < started || (!interrupted && !cancelled && started < n)) {
		while (!interrupted && !cancelled && busy < jobs && started < n) {
			struct point_result *p = &r[started];
			const struct sweep_point *pt = &points[started];
			snprintf(p->id, sizeof(p->id), "point-%03d", started + 1);
			snprintf(p->dir, sizeof(p->dir), "%.1000s/%s", root, p->id);
			snprintf(p->cut, sizeof(p->cut), "%s:%ld", pt->device, pt->ordinal);
			snprintf(p->params, sizeof(p->params), "%s %s %ld", pt->device,
				 sweep_cut_kind_name(o->kind), pt->ordinal);
			int slot = 0;
			while (running[slot])
				slot++;
			p->started = now_s();
			p->pid = start_child(o, p->dir, p->cut, slot, unblocked);
			if (p->pid < 0) {
				p->done = true;
				p->code = VH_FAULT;
			} else {
				busy++;
			}
			started++;
		}
		if (busy > 0) {
			int code = VH_FAULT;
			sigprocmask(SIG_SETMASK, unblocked, NULL);
			pid_t pid = wait_child(&code);
			sigprocmask(SIG_BLOCK, &stop, NULL);
			if (pid < 0)
				break;
			busy--;
			for (int i = reported; i < started; i++) {
				if (r[i].pid == pid && !r[i].done) {
					r[i].done = true;
					r[i].code = code;
					r[i].seconds = now_s() - r[i].started;
				}
			}
		}
		/* In point order: a point is told once those before it are. */
		for (; reported < started && r[reported].done; reported++) {
			struct point_result *p = &r[reported];
			const struct sweep_point *pt = &points[reported];
			if (p->code >= 128 || cancelled) {
				/* Ctrl-C reached the point's run too: the sweep stops. */
				if (!cancelled)
					fprintf(stderr,
						"vharness: sweep cancelled at point %d of %d\n",
						reported + 1, n);
				if (!cancelled)
					cancelled = p->code >= 128 ? p->code : VH_CANCELLED_INT;
				forward_signal(SIGINT);
				continue;
			}
			point_finish(o, pt, p);
			int pc = point_code(p);
			if (pc > worst && pc <= VH_FAULT)
				worst = pc;
			if (pc && first_failed < 0)
				first_failed = reported;
			char text[96];
			sweep_outcome_text(&p->out, text, sizeof(text));
			printf("vharness: point %d/%d (%s %s, \"%s\"): %s in %.1fs\n", reported + 1,
			       n, sweep_cut_kind_name(o->kind), p->cut, pt->line, text, p->seconds);
			fflush(stdout);
			outs[reported] = p->out;
			messages[reported] = p->message;
			results[reported] = (struct suite_result){
				.id = p->id,
				.scenario = o->scenario,
				.params = p->params,
				.dir = p->dir,
				.seed = o->seed,
				.outcome = pc,
				.seconds = p->verdict.seconds,
				.message = pc ? p->message : NULL,
				.details = p->verdict.details,
			};
			shown = reported + 1;
		}
	}
	if (interrupted && !cancelled)
		cancelled = interrupted == SIGTERM  ? VH_CANCELLED_TERM
			    : interrupted == SIGHUP ? VH_CANCELLED_HUP
						    : VH_CANCELLED_INT;
	printf("\n");
	sweep_table_print(stdout, o->kind, points, outs, messages, shown);
	if (first_failed >= 0)
		print_events_around(r[first_failed].dir, r[first_failed].out.cut_event);
	if (shown > 0 && suite_report_write(root, results, shown, true, err, sizeof(err)) < 0)
		fprintf(stderr, "vharness: %s\n", err);
	int passed = 0;
	for (int i = 0; i < shown; i++)
		passed += results[i].outcome == 0;
	printf("\n%d of %d cut points passed%s in %.1fs (seed %llu; %s/junit.xml)\n", passed, shown,
	       record_failed ? " (the recording run failed)" : "", now_s() - t0,
	       (unsigned long long)o->seed, root);
	for (int i = 0; i < n; i++)
		verdict_file_free(&r[i].verdict);
	free(r);
	free(outs);
	free(results);
	free(messages);
	sweep_points_free(points, n);
	return cancelled ? cancelled : worst;
}

int cmd_sweep(int argc, char **argv)
{
	struct sweep_opts o;
	char err[512];
	if (sweep_parse(argc, argv, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "vharness: %s\n", err);
		return VH_CONFIG;
	}
	if (o.help) {
		sweep_usage(stdout);
		return 0;
	}
	if (access(o.scenario, R_OK) != 0) {
		fprintf(stderr, "vharness: cannot read scenario %s: %s\n", o.scenario,
			strerror(errno));
		return VH_CONFIG;
	}
	if (!o.seed_set)
		o.seed = cli_random_seed();
	char root[1100];
	if (o.artifacts) {
		snprintf(root, sizeof(root), "%s", o.artifacts);
	} else {
		const char *base = strrchr(o.scenario, '/');
		base = base ? base + 1 : o.scenario;
		snprintf(root, sizeof(root), "vharness-out/sweep-%.*s", (int)strcspn(base, "."),
			 base);
	}
	cli_on_stop_signals(forward_signal);
	sigset_t stop, unblocked;
	cli_stop_signals(&stop);
	sigprocmask(SIG_BLOCK, &stop, &unblocked);
	int rc = sweep(&o, root, &unblocked);
	sigprocmask(SIG_SETMASK, &unblocked, NULL);
	return rc;
}
