/* Choosing the accelerator without blocking the loop: see accel.h. */
#include "accel.h"

#include "child.h"
#include "ev.h"
#include "hostinfo.h"
#include "qemu_argv.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

enum { PROBE_TIMEOUT_MS = 4000 };

struct accel_request {
	struct accel_request *next;
	struct accel_binary *b;
	accel_fn fn;
	void *arg;
	uint64_t defer; /* answer due on the next turn */
};

/* A KVM probe boot: QEMU with -accel kvm, its console on a pipe. */
struct probe {
	struct child child;
	int out_fd;
	char seen[512]; /* the console's last bytes, for the reason */
	size_t seen_len;
	uint64_t timer;
	uint64_t started_ms;
};

struct accel_binary {
	struct accel_binary *next;
	struct accel *a;
	char *arch;
	char *binary;
	char *kernel;
	const char *accel; /* NULL while its probe runs */
	struct probe *probe;
	struct accel_request *waiting;
};

struct accel {
	struct ev_loop *loop;
	char requested[8];
	accel_notice_fn notice;
	void *ctx;
	struct accel_binary *binaries;
};

struct accel *accel_new(struct ev_loop *loop, const char *requested, accel_notice_fn notice,
			void *ctx)
{
	struct accel *a = calloc(1, sizeof(*a));
	if (!a)
		abort();
	a->loop = loop;
	snprintf(a->requested, sizeof(a->requested), "%s", requested ? requested : "auto");
	a->notice = notice;
	a->ctx = ctx;
	return a;
}

static void probe_free(struct ev_loop *loop, struct probe *p)
{
	if (!p)
		return;
	if (p->timer)
		ev_del_timer(loop, p->timer);
	if (p->out_fd >= 0) {
		ev_del_fd(loop, p->out_fd);
		close(p->out_fd);
	}
	if (p->child.pidfd >= 0)
		ev_del_fd(loop, p->child.pidfd);
	child_kill(&p->child);
	child_wait(&p->child, 2000, NULL); /* SIGKILLed: gone in milliseconds */
	free(p);
}

static void answer(struct ev_loop *loop, void *arg)
{
	(void)loop;
	struct accel_request *r = arg;
	struct accel_binary *b = r->b;
	for (struct accel_request **pp = &b->waiting; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	accel_fn fn = r->fn;
	void *fn_arg = r->arg;
	free(r);
	fn(fn_arg, b->accel);
}

static void decided(struct accel_binary *b, const char *accel, const char *why)
{
	struct accel *a = b->a;
	b->accel = accel;
	if (a->notice)
		a->notice(a->ctx, b->binary, a->requested, accel, why);
	for (struct accel_request *r = b->waiting; r; r = r->next)
		if (!r->defer)
			r->defer = ev_defer(a->loop, answer, r);
}

static void probe_done(struct accel_binary *b, bool ok, const char *why)
{
	hostinfo_kvm_cache_store(b->binary, b->kernel, ok, why);
	char reason[600];
	if (ok)
		snprintf(reason, sizeof(reason), "%s", why);
	else
		snprintf(reason, sizeof(reason), "KVM unusable: %s", why);
	probe_free(b->a->loop, b->probe);
	b->probe = NULL;
	decided(b, ok ? "kvm" : "tcg", reason);
}

static void probe_failed(struct accel_binary *b, const char *what)
{
	struct probe *p = b->probe;
	p->seen[p->seen_len] = '\0';
	/* The last line the console printed says most about a hang. */
	char *last = p->seen;
	for (char *nl; (nl = strchr(last, '\n')) && nl[1];)
		last = nl + 1;
	last[strcspn(last, "\n")] = '\0';
	char why[512];
	snprintf(why, sizeof(why), "KVM probe %s%s%.120s", what, *last ? "; last: " : "", last);
	probe_done(b, false, why);
}

static void on_probe_output(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	(void)loop, (void)events;
	struct accel_binary *b = arg;
	struct probe *p = b->probe;
	char buf[1024];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n <= 0) {
		if (n < 0)
			return;	     /* EAGAIN: spurious */
		ev_del_fd(loop, fd); /* EOF: the exit handler says what happened */
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (p->seen_len == sizeof(p->seen) - 1) {
			memmove(p->seen, p->seen + 256, p->seen_len - 256);
			p->seen_len -= 256;
		}
		p->seen[p->seen_len++] = buf[i];
	}
	p->seen[p->seen_len] = '\0';
	if (strstr(p->seen, "Linux version")) {
		char why[128];
		snprintf(why, sizeof(why), "KVM probe booted to the kernel's first line in %llu ms",
			 (unsigned long long)(ev_clock_ms() - p->started_ms));
		probe_done(b, true, why);
	}
}

static void on_probe_exit(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	(void)loop, (void)fd, (void)events;
	struct accel_binary *b = arg;
	int status;
	ev_del_fd(b->a->loop, b->probe->child.pidfd);
	if (!child_reap(&b->probe->child, &status))
		return;
	char st[96], what[160];
	snprintf(what, sizeof(what), "QEMU %s before the kernel's first line",
		 child_status_text(status, st, sizeof(st)));
	probe_failed(b, what);
}

static void on_probe_timeout(struct ev_loop *loop, uint64_t id, void *arg)
{
	(void)loop, (void)id;
	struct accel_binary *b = arg;
	b->probe->timer = 0;
	char what[64];
	snprintf(what, sizeof(what), "saw no kernel output in %.1f s", PROBE_TIMEOUT_MS / 1000.0);
	probe_failed(b, what);
}

/* Starts a probe boot; false with why when it cannot even start. */
static bool probe_start(struct accel_binary *b, char *why, size_t whylen)
{
	int out[2];
	if (pipe2(out, O_CLOEXEC | O_NONBLOCK) < 0) {
		snprintf(why, whylen, "KVM probe: pipe failed");
		return false;
	}
	struct qemu_argv qa;
	char err[256];
	if (qemu_probe_argv_build(b->arch, b->binary, b->kernel, &qa, err, sizeof(err)) < 0) {
		close(out[0]);
		close(out[1]);
		snprintf(why, whylen, "KVM probe: %s", err);
		return false;
	}
	struct probe *p = calloc(1, sizeof(*p));
	if (!p)
		abort();
	p->out_fd = out[0];
	struct child_spec spec = { .argv = (const char *const *)qa.argv,
				   .stdout_fd = out[1],
				   .stderr_fd = out[1] };
	int r = child_spawn(&spec, &p->child, err, sizeof(err));
	qemu_argv_free(&qa);
	close(out[1]);
	if (r < 0) {
		close(out[0]);
		free(p);
		snprintf(why, whylen, "KVM probe: %s", err);
		return false;
	}
	p->started_ms = ev_clock_ms();
	b->probe = p;
	struct ev_loop *loop = b->a->loop;
	ev_add_fd(loop, p->out_fd, EPOLLIN, on_probe_output, b);
	ev_add_fd(loop, p->child.pidfd, EPOLLIN, on_probe_exit, b);
	p->timer = ev_add_timer(loop, PROBE_TIMEOUT_MS, on_probe_timeout, b);
	return true;
}

static struct accel_binary *binary_new(struct accel *a, const char *arch, const char *binary,
				       const char *kernel)
{
	struct accel_binary *b = calloc(1, sizeof(*b));
	if (!b)
		abort();
	b->a = a;
	b->arch = strdup(arch);
	b->binary = strdup(binary);
	b->kernel = kernel ? strdup(kernel) : NULL;
	b->next = a->binaries;
	a->binaries = b;
	return b;
}

static struct accel_binary *binary_for(struct accel *a, const char *arch, const char *binary,
				       const char *kernel)
{
	for (struct accel_binary *b = a->binaries; b; b = b->next)
		if (!strcmp(b->binary, binary) && !strcmp(b->arch, arch))
			return b;
	struct accel_binary *b = binary_new(a, arch, binary, kernel);
	const char *host = qemu_host_arch();
	char why[512];
	if (strcmp(a->requested, "auto")) {
		decided(b, !strcmp(a->requested, "kvm") ? "kvm" : "tcg", "as requested");
	} else if (!host || strcmp(host, arch)) {
		/* KVM runs guests of the host's own architecture only; no probe
		 * needed to know that an aarch64 guest on x86-64 is emulated. */
		snprintf(why, sizeof(why), "KVM runs %s guests only on %s hosts (this host: %s)",
			 arch, arch, host ? host : "other");
		decided(b, "tcg", why);
	} else if (!kernel) {
		decided(b, "tcg", "no kernel to probe KVM with");
	} else if (!hostinfo_kvm_device_ok(why, sizeof(why))) {
		decided(b, "tcg", why);
	} else {
		int cached = hostinfo_kvm_cache_lookup(binary, kernel, why, sizeof(why));
		if (cached >= 0)
			decided(b, cached ? "kvm" : "tcg", why);
		else if (!probe_start(b, why, sizeof(why)))
			decided(b, "tcg", why);
	}
	return b;
}

struct accel_request *accel_get(struct accel *a, const char *arch, const char *binary,
				const char *kernel, accel_fn fn, void *arg)
{
	struct accel_binary *b = binary_for(a, arch, binary, kernel);
	struct accel_request *r = calloc(1, sizeof(*r));
	if (!r)
		abort();
	r->b = b;
	r->fn = fn;
	r->arg = arg;
	r->next = b->waiting;
	b->waiting = r;
	if (b->accel)
		r->defer = ev_defer(a->loop, answer, r);
	return r;
}

void accel_cancel(struct accel_request *r)
{
	if (!r)
		return;
	struct accel_binary *b = r->b;
	for (struct accel_request **pp = &b->waiting; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	if (r->defer)
		ev_cancel_defer(b->a->loop, r->defer);
	free(r);
}

void accel_free(struct accel *a)
{
	if (!a)
		return;
	while (a->binaries) {
		struct accel_binary *b = a->binaries;
		a->binaries = b->next;
		probe_free(a->loop, b->probe);
		while (b->waiting) {
			struct accel_request *r = b->waiting;
			b->waiting = r->next;
			if (r->defer)
				ev_cancel_defer(a->loop, r->defer);
			free(r);
		}
		free(b->arch);
		free(b->binary);
		free(b->kernel);
		free(b);
	}
	free(a);
}

struct probe_now {
	bool done, ok;
	char why[512];
};

static void on_probe_now_notice(void *ctx, const char *binary, const char *requested,
				const char *accel, const char *why)
{
	(void)binary, (void)requested;
	struct probe_now *pn = ctx;
	pn->done = true;
	pn->ok = !strcmp(accel, "kvm");
	snprintf(pn->why, sizeof(pn->why), "%s", why);
}

bool accel_probe_kvm_now(const char *arch, const char *binary, const char *kernel, char *why,
			 size_t whylen)
{
	if (!hostinfo_kvm_device_ok(why, whylen))
		return false;
	struct ev_loop *loop = ev_loop_new();
	if (!loop) {
		snprintf(why, whylen, "out of memory");
		return false;
	}
	struct probe_now pn = { 0 };
	struct accel *a = accel_new(loop, "auto", on_probe_now_notice, &pn);
	struct accel_binary *b = binary_new(a, arch, binary, kernel);
	char err[512];
	if (!probe_start(b, err, sizeof(err)))
		decided(b, "tcg", err);
	while (!pn.done)
		if (ev_run_once(loop, -1) < 0)
			break;
	accel_free(a);
	ev_loop_free(loop);
	snprintf(why, whylen, "%s", pn.why);
	return pn.ok;
}
