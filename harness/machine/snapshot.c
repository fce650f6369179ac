/* Snapshot boot's templates: see snapshot.h. */
#include "snapshot.h"

#include "agent_event.h"
#include "child.h"
#include "ev.h"
#include "lines.h"
#include "qemu.h"
#include "qemu_argv.h"
#include "qmp.h"
#include "sha256.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

enum { QMP_TIMEOUT_MS = 10000, SAVE_TIMEOUT_MS = 30000, STATE_POLL_MS = 10 };

enum tmpl_state { T_BOOTING, T_SAVING, T_ENDING, T_READY, T_FAILED };

struct snapshot_wait {
	struct snapshot_wait *next;
	struct template *t; /* NULL: failed before a template (bad key) */
	struct snapshot_cache *c;
	snapshot_fn fn;
	void *arg;
	uint64_t defer;
	char err[1200];
};

struct template
{
	struct template *next;
	struct snapshot_cache *c;
	enum tmpl_state state;
	char key[65];
	char ram_path[1100], state_path[1100], tmp_path[1100];
	char uri[3400], restore_uri[1200]; /* QMP migrate's, migrate-incoming's */
	char console_path[1100], stderr_path[1100];
	struct snapshot snap;
	double t0;
	uint64_t timer;
	struct qemu_start *starting;
	bool has_proc;
	struct qemu_proc proc;
	struct qmp *qmp;
	uint64_t poll_timer; /* waiting for the state file */
	FILE *console_log;
	struct lines lines;
	char line[1024];
	char err[1200];
	struct snapshot_wait *waiters;
};

struct snapshot_cache {
	struct ev_loop *loop;
	char dir[1024];
	snapshot_start_fn start;
	snapshot_cancel_fn cancel;
	snapshot_event_fn event;
	void *event_ctx;
	struct template *templates;
	struct snapshot_wait *orphans; /* waits failed before any template */
};

/* --- the key --- */

static void hash_str(struct sha256_ctx *h, const char *s)
{
	s = s ? s : "";
	sha256_update(h, s, strlen(s) + 1);
}

static int hash_file_id(struct sha256_ctx *h, const char *path, char *err, size_t errlen)
{
	struct stat st;
	if (!path) {
		hash_str(h, "");
		return 0;
	}
	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "snapshot: %s: %s", path, strerror(errno));
		return -1;
	}
	char id[160];
	snprintf(id, sizeof(id), "%llu:%llu:%lld:%lld.%09ld", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
		 st.st_mtim.tv_nsec);
	hash_str(h, id);
	return 0;
}

int snapshot_key(const struct qemu_launch *l, char key[65], char *err, size_t errlen)
{
	struct sha256_ctx h;
	sha256_init(&h);
	char shape[256];
	/* The disk's size is the guest's from its first probe: a restored device
	 * re-reads the partition table, never the capacity. */
	struct stat st;
	long long disk_size = l->disk && stat(l->disk, &st) == 0 ? (long long)st.st_size : -1;
	snprintf(shape, sizeof(shape), "%s|%s|%s|%u|%d|%u|%lld|%d", l->binary ? l->binary : "",
		 l->arch ? l->arch : "", l->accel ? l->accel : "", l->memory_mib, l->no_acpi,
		 l->tb_size_mib, disk_size, l->nic_unplugged);
	hash_str(&h, shape);
	hash_str(&h, l->append);
	hash_str(&h, l->bios);
	if (hash_file_id(&h, l->kernel, err, errlen) < 0 ||
	    hash_file_id(&h, l->initrd, err, errlen) < 0)
		return -1;
	uint8_t d[SHA256_DIGEST_SIZE];
	sha256_final(&h, d);
	sha256_to_hex(d, key);
	return 0;
}

/* --- waits --- */

/* Takes w off the list it waits on (its template's, or the orphans'). */
static void unlink_wait(struct snapshot_wait *w)
{
	struct snapshot_wait **list = w->t ? &w->t->waiters : &w->c->orphans;
	for (struct snapshot_wait **p = list; *p; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			break;
		}
}

static void deliver(struct ev_loop *loop, void *arg)
{
	(void)loop;
	struct snapshot_wait *w = arg;
	unlink_wait(w);
	struct template *t = w->t;
	bool ok = t && t->state == T_READY;
	snapshot_fn fn = w->fn;
	void *arg2 = w->arg;
	char err[sizeof(w->err)];
	snprintf(err, sizeof(err), "%s", t && !ok ? t->err : w->err);
	free(w);
	fn(arg2, ok ? &t->snap : NULL, ok ? NULL : err);
}

static void schedule(struct snapshot_wait *w)
{
	if (!w->defer)
		w->defer = ev_defer(w->c->loop, deliver, w);
}

void snapshot_wait_cancel(struct snapshot_wait *w)
{
	if (!w)
		return;
	unlink_wait(w);
	if (w->defer)
		ev_cancel_defer(w->c->loop, w->defer);
	free(w);
}

/* --- a template's life --- */

static void event(struct template *t, const char *outcome)
{
	if (!t->c->event)
		return;
	char secs[32];
	snprintf(secs, sizeof(secs), "\x01%.3f", ev_now(t->c->loop) - t->t0);
	const char *kv[] = { "key",
			     t->key,
			     "outcome",
			     outcome,
			     "seconds",
			     secs,
			     t->state == T_FAILED ? "why" : NULL,
			     t->err,
			     NULL };
	t->c->event(t->c->event_ctx, "snapshot", kv);
}

static void end_proc(struct template *t)
{
	if (t->timer) {
		ev_del_timer(t->c->loop, t->timer);
		t->timer = 0;
	}
	if (t->poll_timer) {
		ev_del_timer(t->c->loop, t->poll_timer);
		t->poll_timer = 0;
	}
	if (t->starting) {
		t->c->cancel(t->starting);
		t->starting = NULL;
	}
	qmp_free(t->qmp);
	t->qmp = NULL;
	if (t->has_proc) {
		if (t->proc.serial_fd >= 0)
			ev_del_fd(t->c->loop, t->proc.serial_fd);
		ev_del_fd(t->c->loop, t->proc.child.pidfd);
		qemu_proc_close_sockets(&t->proc);
		child_kill(&t->proc.child);
		child_wait(&t->proc.child, 2000, NULL);
		t->has_proc = false;
	}
	if (t->console_log) {
		fclose(t->console_log);
		t->console_log = NULL;
	}
}

static void settle(struct template *t, enum tmpl_state state)
{
	t->state = state;
	end_proc(t);
	if (state == T_READY)
		t->snap.built_s = ev_now(t->c->loop) - t->t0;
	event(t, state == T_READY ? "saved" : "failed");
	for (struct snapshot_wait *w = t->waiters; w; w = w->next)
		schedule(w);
}

static void fail(struct template *t, const char *fmt, const char *detail)
{
	if (t->state == T_READY || t->state == T_FAILED)
		return;
	char tail[500] = "";
	child_file_tail(t->console_path, tail, sizeof(tail), 3);
	char why[900];
	snprintf(why, sizeof(why), fmt, detail ? detail : "");
	snprintf(t->err, sizeof(t->err), "snapshot template %.12s: %s%s%s", t->key, why,
		 tail[0] ? "; its console's last lines: " : "", tail);
	settle(t, T_FAILED);
}

static void on_timeout(struct ev_loop *loop, uint64_t id, void *arg)
{
	(void)loop;
	(void)id;
	struct template *t = arg;
	t->timer = 0;
	fail(t,
	     t->state == T_BOOTING
		     ? "no \"" AGENT_EVENT_PREFIX AGENT_SNAPSHOT_POINT
		       "\" line in time%s (does the firmware's agent know vh.snapshot=1?)"
		     : "saving took too long%s",
	     "");
}

static void on_exit_fd(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	(void)events;
	struct template *t = arg;
	ev_del_fd(loop, fd);
	int status = 0;
	if (!child_reap(&t->proc.child, &status)) {
		ev_add_fd(loop, fd, EPOLLIN, on_exit_fd, t);
		return;
	}
	if (t->proc.serial_fd >= 0)
		ev_del_fd(loop, t->proc.serial_fd);
	qemu_proc_close_sockets(&t->proc);
	t->has_proc = false;
	if (t->state == T_ENDING) {
		settle(t, T_READY);
		return;
	}
	char st[128];
	fail(t, "QEMU %s before the machine was saved", child_status_text(status, st, sizeof(st)));
}

/* QEMU says "completed" once the stream left it, while its migration
 * command may still be writing, and does not wait for that command when it
 * quits: the renamed file is the proof that the state is whole. */
static void await_state_file(struct ev_loop *loop, uint64_t id, void *arg)
{
	(void)id;
	struct template *t = arg;
	t->poll_timer = 0;
	if (t->state != T_SAVING)
		return;
	if (access(t->state_path, R_OK) == 0) {
		t->state = T_ENDING;
		/* No reply needed: QEMU's exit is what counts. */
		qmp_request(t->qmp, "quit", NULL, QMP_TIMEOUT_MS, NULL, NULL);
		return;
	}
	/* The save timeout still holds. */
	t->poll_timer = ev_add_timer(loop, STATE_POLL_MS, await_state_file, t);
}

static void on_qmp_event(void *ctx, const char *name, const char *line)
{
	struct template *t = ctx;
	if (strcmp(name, "MIGRATION") != 0 || t->state != T_SAVING)
		return;
	char status[32] = "";
	qmp_json_string(line, "status", status, sizeof(status));
	if (!strcmp(status, "completed")) {
		await_state_file(t->c->loop, 0, t);
	} else if (!strcmp(status, "failed")) {
		fail(t, "QEMU could not save the machine%s", "");
	}
}

static void on_save_step(void *arg, bool ok, const char *text)
{
	struct template *t = arg;
	if (!ok)
		fail(t, "saving: %s", text);
}

/* At the snapshot point: stop, save the device state (RAM stays in its
 * file), quit. */
static void save(struct template *t)
{
	t->state = T_SAVING;
	ev_del_timer(t->c->loop, t->timer);
	t->timer = ev_add_timer(t->c->loop, SAVE_TIMEOUT_MS, on_timeout, t);
	qmp_request(t->qmp, "stop", NULL, QMP_TIMEOUT_MS, on_save_step, t);
	qmp_request(t->qmp, "migrate-set-capabilities", SNAPSHOT_QMP_CAPABILITIES, QMP_TIMEOUT_MS,
		    on_save_step, t);
	char args[3500];
	snprintf(args, sizeof(args), "{\"uri\": \"%s\"}", t->uri);
	qmp_request(t->qmp, "migrate", args, QMP_TIMEOUT_MS, on_save_step, t);
}

static void on_console(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	(void)loop;
	(void)events;
	struct template *t = arg;
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		ev_del_fd(t->c->loop, fd);
		return; /* QEMU's exit tells the rest */
	}
	if (t->console_log)
		fwrite(buf, 1, (size_t)n, t->console_log);
	size_t off = 0;
	while (off < (size_t)n) {
		size_t used;
		bool done = lines_push(&t->lines, buf + off, (size_t)n - off, &used);
		off += used;
		if (!done)
			break;
		if (t->state == T_BOOTING &&
		    strstr(t->lines.buf, AGENT_EVENT_PREFIX AGENT_SNAPSHOT_POINT))
			save(t);
	}
}

static void on_cont(void *arg, bool ok, const char *text)
{
	struct template *t = arg;
	if (!ok)
		fail(t, "QEMU did not resume: %s", text);
}

static void on_started(void *arg, const struct qemu_proc *p, const char *err)
{
	struct template *t = arg;
	t->starting = NULL;
	if (!p) {
		fail(t, "%s", err);
		return;
	}
	t->proc = *p;
	t->has_proc = true;
	struct ev_loop *loop = t->c->loop;
	unsigned qemu = ev_component(loop, "qemu");
	ev_add_fd(loop, t->proc.child.pidfd, EPOLLIN, on_exit_fd, t);
	ev_fd_component(loop, t->proc.child.pidfd, qemu);
	ev_add_fd(loop, t->proc.serial_fd, EPOLLIN, on_console, t);
	ev_fd_component(loop, t->proc.serial_fd, qemu);
	struct qmp_handlers h = { .event = on_qmp_event, .ctx = t };
	t->qmp = qmp_new(loop, t->proc.qmp_fd, &h);
	t->proc.qmp_fd = -1;
	qmp_request(t->qmp, "cont", NULL, QMP_TIMEOUT_MS, on_cont, t);
}

/* Single quotes for QEMU's /bin/sh -c; a path holding one is refused. */
static int make_uris(struct template *t, char *err, size_t errlen)
{
	if (strchr(t->c->dir, '\'') || strchr(t->c->dir, '"') || strchr(t->c->dir, '\\')) {
		snprintf(err, errlen,
			 "snapshot directory %.900s: quotes and backslashes are not allowed",
			 t->c->dir);
		return -1;
	}
	snprintf(t->uri, sizeof(t->uri), "exec:cat > '%s' && mv -f '%s' '%s'", t->tmp_path,
		 t->tmp_path, t->state_path);
	snprintf(t->restore_uri, sizeof(t->restore_uri), "exec:cat '%s'", t->state_path);
	return 0;
}

static struct template *find(struct snapshot_cache *c, const char *key)
{
	for (struct template *t = c->templates; t; t = t->next)
		if (!strcmp(t->key, key))
			return t;
	return NULL;
}

/* Boots the template of l (already keyed). NULL with err when it cannot
 * begin; the template then does not exist. */
static struct template *template_new(struct snapshot_cache *c, const struct qemu_launch *l,
				     const char *key, uint64_t timeout_ms, char *err, size_t errlen)
{
	struct template *t = calloc(1, sizeof(*t));
	if (!t)
		abort();
	t->c = c;
	t->state = T_BOOTING;
	t->t0 = ev_now(c->loop);
	snprintf(t->key, sizeof(t->key), "%s", key);
	snprintf(t->ram_path, sizeof(t->ram_path), "%s/%.16s.ram", c->dir, key);
	snprintf(t->state_path, sizeof(t->state_path), "%s/%.16s.state", c->dir, key);
	snprintf(t->tmp_path, sizeof(t->tmp_path), "%s/%.16s.state.tmp", c->dir, key);
	snprintf(t->console_path, sizeof(t->console_path), "%s/%.16s.console.log", c->dir, key);
	snprintf(t->stderr_path, sizeof(t->stderr_path), "%s/%.16s.qemu.stderr", c->dir, key);
	t->snap.key = t->key;
	t->snap.ram_path = t->ram_path;
	t->snap.state_uri = t->restore_uri;
	lines_init(&t->lines, t->line, sizeof(t->line));
	if (make_uris(t, err, errlen) < 0) {
		free(t);
		return NULL;
	}
	t->console_log = fopen(t->console_path, "we");
	char serial[108], qmp[108];
	snprintf(serial, sizeof(serial), "vharness/%d/snapshot-%.16s/serial", (int)getpid(), key);
	snprintf(qmp, sizeof(qmp), "vharness/%d/snapshot-%.16s/qmp", (int)getpid(), key);
	struct qemu_launch tl = *l;
	tl.ram_file = t->ram_path;
	tl.ram_shared = true;
	tl.incoming = false;
	tl.serial_socket = serial;
	tl.qmp_socket = qmp;
	t->starting = c->start(c->loop, &tl, t->stderr_path, 10000, on_started, t, err, errlen);
	if (!t->starting) {
		if (t->console_log)
			fclose(t->console_log);
		free(t);
		return NULL;
	}
	t->timer = ev_add_timer(c->loop, timeout_ms, on_timeout, t);
	t->next = c->templates;
	c->templates = t;
	return t;
}

struct snapshot_wait *snapshot_get(struct snapshot_cache *c, const struct qemu_launch *tmpl,
				   uint64_t timeout_ms, snapshot_fn fn, void *arg)
{
	struct snapshot_wait *w = calloc(1, sizeof(*w));
	if (!w)
		abort();
	w->c = c;
	w->fn = fn;
	w->arg = arg;
	char key[65];
	struct template *t = NULL;
	if (snapshot_key(tmpl, key, w->err, sizeof(w->err)) == 0) {
		t = find(c, key);
		if (!t)
			t = template_new(c, tmpl, key, timeout_ms, w->err, sizeof(w->err));
	}
	w->t = t;
	struct snapshot_wait **list = t ? &t->waiters : &c->orphans;
	w->next = *list;
	*list = w;
	if (!t || t->state == T_READY || t->state == T_FAILED)
		schedule(w);
	return w;
}

struct snapshot_cache *snapshot_cache_new(struct ev_loop *loop, const char *dir,
					  snapshot_start_fn start, snapshot_cancel_fn cancel,
					  snapshot_event_fn event_fn, void *event_ctx, char *err,
					  size_t errlen)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		return NULL;
	}
	struct snapshot_cache *c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	c->loop = loop;
	snprintf(c->dir, sizeof(c->dir), "%s", dir);
	c->start = start ? start : qemu_start;
	c->cancel = cancel ? cancel : qemu_start_cancel;
	c->event = event_fn;
	c->event_ctx = event_ctx;
	return c;
}

static void drop_waits(struct snapshot_cache *c, struct snapshot_wait *w)
{
	while (w) {
		struct snapshot_wait *next = w->next;
		if (w->defer)
			ev_cancel_defer(c->loop, w->defer);
		free(w);
		w = next;
	}
}

void snapshot_cache_free(struct snapshot_cache *c)
{
	if (!c)
		return;
	while (c->templates) {
		struct template *t = c->templates;
		c->templates = t->next;
		end_proc(t);
		drop_waits(c, t->waiters);
		/* The console log and QEMU's stderr stay: they explain a failure. */
		unlink(t->ram_path);
		unlink(t->state_path);
		unlink(t->tmp_path);
		free(t);
	}
	drop_waits(c, c->orphans);
	free(c);
}
