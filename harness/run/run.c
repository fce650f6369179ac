/* One scenario run: see run.h. */
#include "run.h"

#include "ab_boot.h"
#include "accel.h"
#include "artifacts.h"
#include "boot_gate.h"
#include "device.h"
#include "duration.h"
#include "ev.h"
#include "link.h"
#include "network.h"
#include "progress.h"
#include "snapshot.h"
#include "update_server.h"
#include "work.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

enum { SHUTDOWN_GRACE_MS = 2000 };
/* A boot that never prints its firmware's ready line (none given, or a
 * wrong one) gives its boot slot back after this long. */
enum { BOOT_HOLD_MS = 20000 };

struct run_job {
	struct run_job *next;
	struct vh_run *run;
	struct work *work;
	void (*fn)(void *arg);
	void (*done)(void *arg);
	void *arg;
};

struct vh_run {
	struct run_config cfg;
	struct ev_loop *loop;
	struct event_log *events;
	struct link_ctx *links;
	struct accel *accel;
	struct boot_gate *gate;
	struct snapshot_cache *snapshots; /* --snapshot-boot; NULL: off */
	enum impairment_backend backend;
	char backend_why[256];
	struct vh_device **devices;
	int n_devices;
	struct vh_network **networks;
	int n_networks;
	struct update_server **servers;
	int n_servers;
	bool finished;
	enum vh_outcome outcome;
	char *message;
	char *details;
	uint64_t deadline_ms; /* absolute; 0: none yet */
	uint64_t deadline_timer;
	run_where_fn where;
	void *where_ctx;
	struct progress_term *progress; /* NULL: none (-q, a dry run, a suite's run) */
	struct run_job *jobs;		/* work off the loop, not yet done */
	int signal_pipe[2];
	bool signals_installed;
	struct sigaction old_actions[3];
};

static const int handled_signals[3] = { SIGINT, SIGTERM, SIGHUP };

/* The signal that cancels the run: set by the handler, read by run_poll
 * (a scenario busy in Lua never returns to the loop) and the loop. */
static volatile sig_atomic_t pending_signal;
static int signal_write_fd = -1;

static void on_signal_handler(int sig)
{
	int saved = errno;
	if (!pending_signal)
		pending_signal = sig;
	if (signal_write_fd >= 0) {
		char b = (char)sig;
		ssize_t ignored = write(signal_write_fd, &b, 1);
		(void)ignored;
	}
	errno = saved;
}

struct vh_run *run_new(const struct run_config *cfg)
{
	struct vh_run *run = calloc(1, sizeof(*run));
	if (!run)
		return NULL;
	run->cfg = *cfg;
	run->signal_pipe[0] = run->signal_pipe[1] = -1;
	run->loop = ev_loop_new();
	if (!run->loop) {
		free(run);
		return NULL;
	}
	return run;
}

const struct run_config *run_config(const struct vh_run *run)
{
	return &run->cfg;
}

struct ev_loop *run_loop(struct vh_run *run)
{
	return run->loop;
}

double run_now(const struct vh_run *run)
{
	return ev_now(run->loop);
}

enum impairment_backend run_backend(const struct vh_run *run)
{
	return run->backend;
}

static void where_now(void *ctx, char *out, size_t len)
{
	struct vh_run *run = ctx;
	out[0] = '\0';
	if (run->where)
		run->where(run->where_ctx, out, len);
}

void run_event(struct vh_run *run, const char *event, const char *const *kv)
{
	if (run->events)
		event_log_write(run->events, ev_now(run->loop), event, kv);
	if (!run->progress)
		return;
	struct progress *p = progress_term_model(run->progress);
	/* A failure's note names the scenario's line, as its verdict will. */
	char where[160];
	where_now(run, where, sizeof(where));
	progress_set_where(p, where);
	progress_event(p, ev_now(run->loop), event, kv);
	if (!strcmp(event, "verdict"))
		progress_term_end(run->progress);
	else
		progress_term_update(run->progress);
}

void run_say(struct vh_run *run, const char *fmt, ...)
{
	if (run->cfg.quiet)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (run->progress)
		progress_term_say(run->progress, line);
	else
		fprintf(stderr, "%s\n", line);
}

/* Each console line, for live progress. */
static void device_line(void *ctx, const char *device, const char *line)
{
	struct vh_run *run = ctx;
	if (!run->progress)
		return;
	progress_line(progress_term_model(run->progress), device, ev_now(run->loop), line);
	progress_term_update(run->progress);
}

void run_finish(struct vh_run *run, enum vh_outcome outcome, const char *message,
		const char *details)
{
	if (run->finished)
		return; /* the first verdict is the cause; later ones are its echoes */
	run->finished = true;
	run->outcome = outcome;
	ev_stop(run->loop);
	if (outcome == VH_PASS)
		return;
	run->message = strdup(message ? message : "");
	if (details)
		run->details = strdup(details);
}

bool run_finished(const struct vh_run *run)
{
	return run->finished;
}

enum vh_outcome run_outcome(const struct vh_run *run)
{
	return run->outcome;
}

const char *run_message(const struct vh_run *run)
{
	return run->message;
}

const char *run_details(const struct vh_run *run)
{
	return run->details;
}

void run_set_where(struct vh_run *run, run_where_fn fn, void *ctx)
{
	run->where = fn;
	run->where_ctx = ctx;
}

static void expire(struct vh_run *run)
{
	char msg[600], d[32], where[400] = "";
	if (run->where)
		run->where(run->where_ctx, where, sizeof(where));
	snprintf(msg, sizeof(msg), "%s%sscenario did not finish within %s (--timeout)", where,
		 where[0] ? ": " : "", duration_format(run->cfg.timeout_ms, d, sizeof(d)));
	run_finish(run, VH_FAIL, msg, NULL);
}

static void cancel(struct vh_run *run, int sig)
{
	char msg[96];
	snprintf(msg, sizeof(msg), "cancelled by %s%s",
		 sig == SIGINT	  ? "SIGINT"
		 : sig == SIGTERM ? "SIGTERM"
		 : sig == SIGHUP  ? "SIGHUP"
				  : "a signal",
		 sig == SIGINT ? " (Ctrl-C)" : "");
	enum vh_outcome o = sig == SIGTERM  ? VH_CANCELLED_TERM
			    : sig == SIGHUP ? VH_CANCELLED_HUP
					    : VH_CANCELLED_INT;
	run_finish(run, o, msg, NULL);
}

bool run_poll(struct vh_run *run)
{
	if (run->finished)
		return true;
	if (pending_signal && run->signals_installed)
		cancel(run, pending_signal);
	else if (run->deadline_ms && ev_clock_ms() >= run->deadline_ms)
		expire(run);
	return run->finished;
}

static void on_signal_pipe(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	(void)loop, (void)events;
	struct vh_run *run = arg;
	char buf[16];
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	run_poll(run);
}

static void on_deadline(struct ev_loop *loop, uint64_t id, void *arg)
{
	(void)loop, (void)id;
	struct vh_run *run = arg;
	run->deadline_timer = 0;
	run_poll(run);
}

static int install_signals(struct vh_run *run, char *err, size_t errlen)
{
	if (pipe2(run->signal_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	pending_signal = 0;
	signal_write_fd = run->signal_pipe[1];
	struct sigaction sa = { .sa_handler = on_signal_handler, .sa_flags = SA_RESTART };
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 3; i++)
		sigaction(handled_signals[i], &sa, &run->old_actions[i]);
	/* Signals blocked before (by whoever forked us) would never arrive. */
	sigset_t set;
	sigemptyset(&set);
	for (int i = 0; i < 3; i++)
		sigaddset(&set, handled_signals[i]);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	run->signals_installed = true;
	ev_add_fd(run->loop, run->signal_pipe[0], EPOLLIN, on_signal_pipe, run);
	return 0;
}

static void on_accel_decided(void *ctx, const char *binary, const char *requested,
			     const char *accel, const char *why)
{
	struct vh_run *run = ctx;
	if (!strcmp(requested, "auto") && strcmp(accel, "kvm"))
		run_say(run, "vharness: using TCG: %s", why);
	const char *kv[] = { "accel", accel, "requested", requested, "qemu",
			     binary,  "why", why,	  NULL };
	run_event(run, "accel", kv);
}

/* The impairment backend is chosen in the run's own namespace, where it will
 * be used: sch_netem may load there even where the host has no netem qdisc. */
static int resolve_backend(struct vh_run *run)
{
	const char *want = run->cfg.backend ? run->cfg.backend : "auto";
	char err[512];
	if (impairment_resolve(want, &run->backend, run->backend_why, sizeof(run->backend_why), err,
			       sizeof(err)) < 0) {
		run_finish(run, VH_CONFIG, err, NULL);
		return -1;
	}
	run_say(run, "vharness: %s: impairment backend %s (%s)", run->cfg.scenario_path,
		impairment_backend_name(run->backend), run->backend_why);
	return 0;
}

/* A booting guest under TCG wants a core of its own; two per core keeps the
 * cores busy while one waits on its disk or console. */
static unsigned boot_slots(const struct run_config *cfg)
{
	if (cfg->boot_slots)
		return cfg->boot_slots;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	return cores > 1 ? (unsigned)(2 * cores) : 2;
}

static void device_event(void *ctx, const char *event, const char *const *kv);

int run_start(struct vh_run *run)
{
	char err[512];
	if (run->cfg.timeout_ms) {
		run->deadline_ms = ev_clock_ms() + run->cfg.timeout_ms;
		run->deadline_timer =
			ev_add_timer(run->loop, run->cfg.timeout_ms, on_deadline, run);
	}
	if (run->cfg.dry_run) {
		run->backend = run->cfg.backend && !strcmp(run->cfg.backend, "kernel")
				       ? IMPAIRMENT_KERNEL
				       : IMPAIRMENT_USER;
		snprintf(run->backend_why, sizeof(run->backend_why), "not probed (check)");
		return 0;
	}
	char path[1100];
	snprintf(path, sizeof(path), "%s/events.jsonl", run->cfg.artifacts_dir);
	run->events = event_log_open(path, err, sizeof(err));
	if (!run->events) {
		run_finish(run, VH_CONFIG, err, NULL);
		return -1;
	}
	if (run->cfg.progress.mode != PROGRESS_OFF)
		run->progress = progress_term_new(run->loop, STDERR_FILENO, run->cfg.progress,
						  where_now, run);
	if (install_signals(run, err, sizeof(err)) < 0) {
		run_finish(run, VH_FAULT, err, NULL);
		return -1;
	}
	run->links = link_ctx_new(err, sizeof(err));
	if (!run->links || link_lo_up(run->links, err, sizeof(err)) < 0) {
		run_finish(run, VH_FAULT, err, NULL);
		return -1;
	}
	if (resolve_backend(run) < 0)
		return -1;
	run->accel = accel_new(run->loop, run->cfg.accel ? run->cfg.accel : "auto",
			       on_accel_decided, run);
	run->gate = boot_gate_new(run->loop, boot_slots(&run->cfg), BOOT_HOLD_MS);
	if (!run->gate) {
		run_finish(run, VH_FAULT, "out of memory", NULL);
		return -1;
	}
	if (run->cfg.snapshot_boot) {
		char dir[1100];
		snprintf(dir, sizeof(dir), "%s/snapshots", run->cfg.artifacts_dir);
		run->snapshots = snapshot_cache_new(run->loop, dir, NULL, NULL, device_event, run,
						    err, sizeof(err));
		if (!run->snapshots) {
			run_finish(run, VH_FAULT, err, NULL);
			return -1;
		}
	}
	char slots[24];
	snprintf(slots, sizeof(slots), "\x01%u", boot_gate_slots(run->gate));
	char seed[32], pid[32], unix_time[48];
	snprintf(seed, sizeof(seed), "\x01%llu", (unsigned long long)run->cfg.seed);
	/* The pid names the run's namespaces (/proc/PID/ns/net) for debugging. */
	snprintf(pid, sizeof(pid), "\x01%d", (int)getpid());
	/* The wall clock at this event's t: captures are stamped in wall time,
	 * and the report puts their frames on the run's time axis with it. */
	struct timespec wall;
	clock_gettime(CLOCK_REALTIME, &wall);
	snprintf(unix_time, sizeof(unix_time), "\x01%lld.%06ld", (long long)wall.tv_sec,
		 wall.tv_nsec / 1000);
	const char *kv[] = { "scenario",
			     run->cfg.scenario_path,
			     "seed",
			     seed,
			     "pid",
			     pid,
			     "unix_time",
			     unix_time,
			     "impairment_backend",
			     impairment_backend_name(run->backend),
			     "impairment_backend_why",
			     run->backend_why,
			     "boot_slots",
			     slots,
			     NULL };
	run_event(run, "run_start", kv);
	return 0;
}

/* --- networks and devices --- */

struct vh_network *run_add_network(struct vh_run *run, const char *name, const char *subnet,
				   char *err, size_t errlen)
{
	for (int i = 0; i < run->n_networks; i++) {
		if (!strcmp(run->networks[i]->name, name)) {
			snprintf(err, errlen, "a network named '%s' already exists", name);
			return NULL;
		}
	}
	char chosen[32];
	if (!subnet) {
		subnet = chosen;
		for (int n = 0; n < 256; n++) {
			snprintf(chosen, sizeof(chosen), "10.77.%d.0/24", n);
			struct network_config probe = { .name = "probe", .subnet = chosen };
			struct vh_network *p = network_new(&probe, err, errlen);
			bool taken = false;
			for (int i = 0; p && i < run->n_networks; i++)
				taken = taken || network_overlaps(p, run->networks[i]);
			network_free(p);
			if (!taken)
				break;
		}
	}
	struct network_config nc = {
		.name = name,
		.subnet = subnet,
		.index = run->n_networks,
		.loop = run->loop,
		.links = run->links,
		.backend = run->backend,
		.seed = run->cfg.seed,
	};
	/* Validated on paper first: an overlap must be refused before any
	 * bridge exists. */
	struct vh_network *paper = network_new(&nc, err, errlen);
	if (!paper)
		return NULL;
	for (int i = 0; i < run->n_networks; i++) {
		struct vh_network *other = run->networks[i];
		if (network_overlaps(paper, other)) {
			snprintf(err, errlen,
				 "network '%s' (%s) overlaps network '%s' (%s): devices on both "
				 "would "
				 "get the same addresses; give each network its own subnet",
				 name, paper->subnet, other->name, other->subnet);
			network_free(paper);
			return NULL;
		}
	}
	network_free(paper);
	nc.artifacts_dir = run->cfg.dry_run ? NULL : run->cfg.artifacts_dir;
	struct vh_network *net = network_new(&nc, err, errlen);
	if (!net)
		return NULL;
	struct vh_network **grown =
		realloc(run->networks, (size_t)(run->n_networks + 1) * sizeof(*grown));
	if (!grown) {
		network_free(net);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	run->networks = grown;
	run->networks[run->n_networks++] = net;
	const char *kv[] = { "network", net->name,   "subnet", net->subnet,
			     "bridge",	net->bridge, NULL };
	run_event(run, "network", kv);
	return net;
}

static void device_event(void *ctx, const char *event, const char *const *kv)
{
	run_event(ctx, event, kv);
}

static void device_fault(void *ctx, enum vh_outcome status, const char *message)
{
	run_finish(ctx, status, message, NULL);
}

struct vh_device *run_add_device(struct vh_run *run, const struct run_device_spec *spec,
				 enum vh_outcome *status, char *err, size_t errlen)
{
	*status = VH_CONFIG;
	if (run_find_device(run, spec->name)) {
		snprintf(err, errlen, "a device named '%s' already exists", spec->name);
		return NULL;
	}
	struct vh_device **grown =
		realloc(run->devices, (size_t)(run->n_devices + 1) * sizeof(*grown));
	if (!grown) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	run->devices = grown;
	*status = VH_FAULT;
	struct network_member *member = NULL;
	if (spec->network) {
		member = network_join(spec->network, spec->name, run->n_devices, err, errlen);
		if (!member)
			return NULL;
	}
	struct device_config dc = {
		.name = spec->name,
		.loop = run->loop,
		.artifacts_dir = run->cfg.dry_run ? NULL : run->cfg.artifacts_dir,
		.image_dir = run->cfg.image_dir,
		.fw = spec->fw,
		.memory_mib = spec->memory_mib,
		.member = member,
		.server = spec->server,
		.accel = run->accel,
		.gate = run->gate,
		.echo_fd = run->cfg.verbose ? 2 : -1,
		.hooks = { .event = device_event,
			   .fault = device_fault,
			   .line = device_line,
			   .ctx = run },
		.seed = run->cfg.seed,
		.snapshots = run->snapshots,
	};
	struct vh_device *dev = device_new(&dc, err, errlen);
	if (!dev)
		return NULL;
	run->devices[run->n_devices++] = dev;
	const char *kv[] = { "device", spec->name,
			     "ip",     member ? member->ip : NULL,
			     "tap",    member ? member->tap : NULL,
			     "ifb",    member ? member->ifb : NULL,
			     NULL };
	if (!member)
		kv[2] = NULL;
	else if (run->backend != IMPAIRMENT_KERNEL)
		kv[6] = NULL; /* an IFB only on the kernel backend */
	run_event(run, "device", kv);
	return dev;
}

int run_device_count(const struct vh_run *run)
{
	return run->n_devices;
}

struct vh_device *run_device(struct vh_run *run, int index)
{
	return index >= 0 && index < run->n_devices ? run->devices[index] : NULL;
}

struct vh_device *run_find_device(struct vh_run *run, const char *name)
{
	for (int i = 0; i < run->n_devices; i++)
		if (!strcmp(device_name(run->devices[i]), name))
			return run->devices[i];
	return NULL;
}

void run_adopt_server(struct vh_run *run, struct update_server *server)
{
	struct update_server **grown =
		realloc(run->servers, (size_t)(run->n_servers + 1) * sizeof(*grown));
	if (!grown) {
		update_server_free(server);
		return;
	}
	run->servers = grown;
	run->servers[run->n_servers++] = server;
}

static void job_run(void *p)
{
	struct run_job *job = p;
	job->fn(job->arg);
}

static void job_done(void *p)
{
	struct run_job *job = p;
	struct vh_run *run = job->run;
	for (struct run_job **pp = &run->jobs; *pp; pp = &(*pp)->next) {
		if (*pp == job) {
			*pp = job->next;
			break;
		}
	}
	void (*done)(void *) = job->done;
	void *arg = job->arg;
	free(job);
	done(arg);
}

bool run_work(struct vh_run *run, void (*fn)(void *arg), void (*done)(void *arg), void *arg)
{
	struct run_job *job = calloc(1, sizeof(*job));
	if (!job)
		return false;
	*job = (struct run_job){
		.next = run->jobs, .run = run, .fn = fn, .done = done, .arg = arg
	};
	job->work = work_start(run->loop, job_run, job_done, job);
	if (!job->work) {
		free(job);
		return false;
	}
	run->jobs = job;
	return true;
}

/* --- the end --- */

/* Every QEMU asked to quit at once, then waited for together: a run's end
 * costs one grace period, not one per device. */
static void shut_devices_down(struct vh_run *run)
{
	struct pollfd *fds = calloc((size_t)run->n_devices + 1, sizeof(*fds));
	int n = 0;
	for (int i = 0; i < run->n_devices; i++) {
		device_shutdown_begin(run->devices[i]);
		int fd = device_shutdown_fd(run->devices[i]);
		if (fd >= 0 && fds)
			fds[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
	}
	uint64_t deadline = ev_clock_ms() + SHUTDOWN_GRACE_MS;
	while (fds && n > 0) {
		uint64_t now = ev_clock_ms();
		if (now >= deadline || poll(fds, (nfds_t)n, (int)(deadline - now)) <= 0)
			break;
		for (int i = 0; i < n;) {
			if (fds[i].revents)
				fds[i] = fds[--n];
			else
				i++;
		}
	}
	free(fds);
}

void run_free(struct vh_run *run)
{
	if (!run)
		return;
	while (run->jobs) {
		struct run_job *job = run->jobs;
		run->jobs = job->next;
		work_cancel(job->work);
		free(job);
	}
	/* The verdict was the last word; the guests' shutdown is not news. */
	progress_term_free(run->progress);
	run->progress = NULL;
	shut_devices_down(run);
	for (int i = 0; i < run->n_devices; i++)
		device_free(run->devices[i]);
	free(run->devices);
	snapshot_cache_free(run->snapshots);
	if (run->cfg.artifacts_dir)
		ab_boot_forget_shared(run->cfg.artifacts_dir);
	for (int i = 0; i < run->n_servers; i++)
		update_server_free(run->servers[i]);
	free(run->servers);
	for (int i = 0; i < run->n_networks; i++)
		network_free(run->networks[i]);
	free(run->networks);
	accel_free(run->accel);
	boot_gate_free(run->gate);
	if (run->links)
		link_ctx_free(run->links);
	if (run->events)
		event_log_close(run->events);
	if (run->signals_installed) {
		for (int i = 0; i < 3; i++)
			sigaction(handled_signals[i], &run->old_actions[i], NULL);
		signal_write_fd = -1;
		ev_del_fd(run->loop, run->signal_pipe[0]);
	}
	for (int i = 0; i < 2; i++)
		if (run->signal_pipe[i] >= 0)
			close(run->signal_pipe[i]);
	if (run->deadline_timer)
		ev_del_timer(run->loop, run->deadline_timer);
	ev_loop_free(run->loop);
	free(run->message);
	free(run->details);
	free(run);
}
