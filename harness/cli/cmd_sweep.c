/* `vharness sweep`: each of its runs is this binary's own `vharness run`,
 * steered by VH_SWEEP_* in its environment (harness/lua/lua_sweep.c), so a
 * point's run has the artifacts, verdict and sandbox of any run. One run at
 * a time: the points share the machine's cores with nothing else. */
#include "cmd_sweep.h"

#include "artifacts.h"
#include "outcome.h"
#include "suite_report.h"
#include "sweep.h"
#include "verdict.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
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

/* `vharness run` of the scenario into dir, its output in dir/output.log;
 * cut: "DEV:K", NULL for the recording run. Returns its exit code. */
static int run_child(const struct sweep_opts *o, const char *dir, const char *cut)
{
	if (artifacts_mkdir_p(dir) < 0) {
		fprintf(stderr, "vharness: cannot create %s: %s\n", dir, strerror(errno));
		return VH_CONFIG;
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
	for (int i = 0; i < o->n_defines; i++) {
		argv[n++] = "-D";
		argv[n++] = o->defines[i];
	}
	argv[n] = NULL;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return VH_FAULT;
	if (pid == 0) {
		artifacts_redirect_output(dir);
		setenv("VH_SWEEP_LINE", o->pattern, 1);
		setenv("VH_SWEEP_FLASH", o->flash, 1);
		if (cut)
			setenv("VH_SWEEP_CUT", cut, 1);
		else
			unsetenv("VH_SWEEP_CUT");
		execv("/proc/self/exe", (char *const *)argv);
		perror("vharness: cannot run itself");
		_exit(VH_FAULT);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return VH_FAULT;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGINT ? VH_CANCELLED_INT : VH_FAULT;
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

static uint64_t random_seed(void)
{
	uint64_t seed = 0;
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)getpid() * 2654435761u ^ (uint64_t)time(NULL);
	return seed % 1000000000u;
}

static int sweep(struct sweep_opts *o, const char *root)
{
	char dir[1100], err[512];
	snprintf(dir, sizeof(dir), "%.1000s/record", root);
	double t0 = now_s();
	printf("vharness: sweep %s, cut at lines matching \"%s\", flash %s, seed %llu\n",
	       o->scenario, o->pattern, o->flash, (unsigned long long)o->seed);
	char tsv[1200];
	snprintf(tsv, sizeof(tsv), "%s/sweep-points.tsv", dir);
	unlink(tsv);
	int rc = run_child(o, dir, NULL);
	if (rc != 0) {
		struct verdict_file v = { 0 };
		verdict_read_file(dir, &v);
		fprintf(stderr, "vharness: the recording run did not pass (exit %d, %s/): %s\n", rc,
			dir, v.message ? v.message : "see its output.log");
		verdict_file_free(&v);
		return rc == VH_PASS || rc > VH_FAULT ? VH_FAULT : rc;
	}
	FILE *f = fopen(tsv, "re");
	struct sweep_point *points = NULL;
	int n = 0;
	if (f && sweep_points_read(f, o->max, &points, &n, err, sizeof(err)) < 0) {
		fprintf(stderr, "vharness: %s/%s\n", dir, err);
		fclose(f);
		return VH_FAULT;
	}
	if (f)
		fclose(f);
	if (n == 0) {
		fprintf(stderr,
			"vharness: no console line matched \"%s\" in the recording run (%s/): no "
			"cut points\n",
			o->pattern, dir);
		return VH_CONFIG;
	}
	printf("vharness: %d cut point%s recorded in %.1fs\n", n, n == 1 ? "" : "s", now_s() - t0);

	struct sweep_outcome *outs = calloc((size_t)n, sizeof(*outs));
	struct verdict_file *verdicts = calloc((size_t)n, sizeof(*verdicts));
	struct suite_result *results = calloc((size_t)n, sizeof(*results));
	char(*ids)[32] = calloc((size_t)n, sizeof(*ids));
	char(*dirs)[1100] = calloc((size_t)n, sizeof(*dirs));
	char(*params)[160] = calloc((size_t)n, sizeof(*params));
	const char **messages = calloc((size_t)n, sizeof(*messages));
	if (!outs || !verdicts || !results || !ids || !dirs || !params || !messages)
		abort();
	int worst = 0, first_failed = -1, cancelled = 0, recorded = n;
	for (int i = 0; i < n; i++) {
		snprintf(ids[i], sizeof(ids[i]), "point-%03d", i + 1);
		snprintf(dirs[i], sizeof(dirs[i]), "%.1000s/%s", root, ids[i]);
		snprintf(params[i], sizeof(params[i]), "%s:%ld", points[i].device,
			 points[i].ordinal);
		double t = now_s();
		int code = run_child(o, dirs[i], params[i]);
		if (code >= 128) {
			/* Ctrl-C reached the point's run too: the sweep stops. */
			fprintf(stderr, "vharness: sweep cancelled at point %d of %d\n", i + 1, n);
			cancelled = code;
			n = i;
			break;
		}
		verdict_read_file(dirs[i], &verdicts[i]);
		char events[1200];
		snprintf(events, sizeof(events), "%s/events.jsonl", dirs[i]);
		FILE *ev = fopen(events, "re");
		sweep_outcome_read(ev, points[i].device, code, &outs[i]);
		if (ev)
			fclose(ev);
		messages[i] = verdicts[i].message;
		if (outs[i].kind == SWEEP_NOT_REACHED && !messages[i])
			messages[i] = "the cut point's line did not come in this run";
		int point_code = outs[i].kind == SWEEP_PASS		   ? 0
				 : outs[i].kind == SWEEP_ERROR && code > 1 ? code
									   : 1;
		if (point_code > worst && point_code <= VH_FAULT)
			worst = point_code;
		if (point_code && first_failed < 0)
			first_failed = i;
		char text[96];
		sweep_outcome_text(&outs[i], text, sizeof(text));
		printf("vharness: point %d/%d (%s, \"%s\"): %s in %.1fs\n", i + 1, n, params[i],
		       points[i].line, text, now_s() - t);
		fflush(stdout);
		results[i] = (struct suite_result){
			.id = ids[i],
			.scenario = o->scenario,
			.params = params[i],
			.dir = dirs[i],
			.seed = o->seed,
			.outcome = point_code,
			.seconds = verdicts[i].seconds,
			.message = point_code ? messages[i] : NULL,
			.details = verdicts[i].details,
		};
	}
	printf("\n");
	sweep_table_print(stdout, points, outs, messages, n);
	if (first_failed >= 0)
		print_events_around(dirs[first_failed], outs[first_failed].cut_event);
	if (n > 0 && suite_report_write(root, results, n, true, err, sizeof(err)) < 0)
		fprintf(stderr, "vharness: %s\n", err);
	int passed = 0;
	for (int i = 0; i < n; i++)
		passed += results[i].outcome == 0;
	printf("\n%d of %d cut points passed in %.1fs (seed %llu; %s/junit.xml)\n", passed, n,
	       now_s() - t0, (unsigned long long)o->seed, root);
	for (int i = 0; i < n; i++)
		verdict_file_free(&verdicts[i]);
	free(verdicts);
	free(outs);
	free(results);
	free(ids);
	free(dirs);
	free(params);
	free(messages);
	sweep_points_free(points, recorded);
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
		o.seed = random_seed();
	char root[1100];
	if (o.artifacts) {
		snprintf(root, sizeof(root), "%s", o.artifacts);
	} else {
		const char *base = strrchr(o.scenario, '/');
		base = base ? base + 1 : o.scenario;
		snprintf(root, sizeof(root), "vharness-out/sweep-%.*s", (int)strcspn(base, "."),
			 base);
	}
	return sweep(&o, root);
}
