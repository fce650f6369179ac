/* A device's flash served over NBD: see flash.h. */
#include "flash.h"

#include "ev.h"
#include "nbd_server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* An answer a slow flash owes: sent from a timer, so the loop never waits. */
struct late_reply {
	struct late_reply *next;
	struct flash *f;
	uint64_t handle, timer;
	uint32_t error;
};

struct flash {
	struct ev_loop *loop;
	struct flash_model model;
	struct nbd_server *nbd;
	int fd;
	struct flash_stats stats;
	int write_errno;	     /* the first failed write to the file, 0 if none */
	struct flash_faults *faults; /* the device's, or NULL */
	flash_fault_fn on_fault;
	void *fault_ctx;
	struct late_reply *late;
	flash_watch_fn watch;
	void *watch_ctx;
	bool dead; /* the watcher cut the power at a request: see flash_set_watch */
};

/* Writes the durable writes to the file, in order. 0 or -errno. */
static int drain(struct flash *f)
{
	struct flash_writes *l;
	while ((l = flash_model_take_durable(&f->model))) {
		for (struct flash_write *w = l->head; w; w = w->next) {
			size_t done = 0;
			while (done < w->len) {
				ssize_t n = pwrite(f->fd, w->data + done, w->len - done,
						   (off_t)(w->offset + done));
				if (n < 0 && errno == EINTR)
					continue;
				if (n <= 0) {
					int e = n < 0 ? errno : EIO;
					flash_model_drained(&f->model);
					if (!f->write_errno)
						f->write_errno = e;
					return -e;
				}
				done += (size_t)n;
			}
		}
		flash_model_drained(&f->model);
	}
	return 0;
}

static void do_read(struct flash *f, const struct nbd_request *rq)
{
	uint8_t *buf = malloc(rq->len ? rq->len : 1);
	if (!buf)
		abort();
	size_t done = 0;
	while (done < rq->len) {
		ssize_t n = pread(f->fd, buf + done, rq->len - done, (off_t)(rq->offset + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			nbd_server_reply(f->nbd, rq->handle, nbd_error_from_errno(errno), NULL, 0);
			return;
		}
		if (n == 0) { /* past the file's end: reads as zeroes */
			memset(buf + done, 0, rq->len - done);
			break;
		}
		done += (size_t)n;
	}
	flash_model_overlay(&f->model, buf, rq->offset, rq->len);
	f->stats.reads++;
	nbd_server_reply(f->nbd, rq->handle, NBD_OK, buf, rq->len);
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void on_late(struct ev_loop *loop, uint64_t timer, void *arg)
{
	(void)loop, (void)timer;
	struct late_reply *lr = arg;
	struct flash *f = lr->f;
	for (struct late_reply **p = &f->late; *p; p = &(*p)->next) {
		if (*p == lr) {
			*p = lr->next;
			break;
		}
	}
	nbd_server_reply(f->nbd, lr->handle, lr->error, NULL, 0);
	free(lr);
}

/* Answers a write or flush that went ahead, when the flash would have
 * finished it. The model took it already: the delay is the guest's wait,
 * not a later write (a cut meanwhile judges it as a pending write). */
static void answer(struct flash *f, const struct nbd_request *rq, enum flash_op op, uint32_t error)
{
	uint64_t delay =
		f->faults && !error ? flash_faults_delay_us(f->faults, now_us(), op, rq->len) : 0;
	if (!delay) {
		nbd_server_reply(f->nbd, rq->handle, error, NULL, 0);
		return;
	}
	struct late_reply *lr = calloc(1, sizeof(*lr));
	if (!lr)
		abort();
	f->stats.delayed++;
	lr->f = f;
	lr->handle = rq->handle;
	lr->error = error;
	lr->next = f->late;
	f->late = lr;
	lr->timer = ev_add_timer(f->loop, (delay + 999) / 1000, on_late, lr);
}

/* Asks the device's fault rules about the request; true when it was
 * failed on purpose (answered, counted, reported). */
static bool injected(struct flash *f, const struct nbd_request *rq, enum flash_op op)
{
	if (!f->faults)
		return false;
	bool flush = op == FLASH_OP_FLUSH;
	struct flash_fault_hit h =
		flash_faults_decide(f->faults, op, flush ? 0 : rq->offset, flush ? 0 : rq->len);
	if (!h.error)
		return false;
	f->stats.failed++;
	nbd_server_reply(f->nbd, rq->handle, nbd_error_from_errno(h.error), NULL, 0);
	if (f->on_fault) {
		struct flash_fault_report r = { .op = op,
						.offset = flush ? 0 : rq->offset,
						.len = flush ? 0 : rq->len,
						.error = h.error,
						.rule = h.rule };
		f->on_fault(f->fault_ctx, &r);
	}
	return true;
}

/* Whether the watcher cuts the power at this write or flush. A write it
 * cuts at reaches the model as the last pending write, unanswered. */
static bool cut_here(struct flash *f, struct nbd_request *rq)
{
	if (f->dead)
		return true;
	bool write = rq->type == NBD_CMD_WRITE;
	if (!f->watch || (!write && rq->type != NBD_CMD_FLUSH))
		return false;
	if (!f->watch(f->watch_ctx, write ? FLASH_OP_WRITE : FLASH_OP_FLUSH,
		      write && (rq->flags & NBD_CMD_FLAG_FUA)))
		return false;
	f->dead = true;
	if (write) {
		f->stats.writes++;
		f->stats.bytes_written += rq->len;
		flash_model_write(&f->model, rq->offset, rq->len, rq->data);
		rq->data = NULL;
	}
	return true;
}

static void on_request(void *ctx, struct nbd_request *rq)
{
	struct flash *f = ctx;
	if (cut_here(f, rq))
		return;
	switch (rq->type) {
	case NBD_CMD_READ:
		if (!injected(f, rq, FLASH_OP_READ))
			do_read(f, rq);
		return;
	case NBD_CMD_WRITE: {
		/* A failed write never reaches the model: the flash is unchanged. */
		if (injected(f, rq, FLASH_OP_WRITE))
			return;
		uint8_t *data = rq->data;
		rq->data = NULL;
		f->stats.writes++;
		f->stats.bytes_written += rq->len;
		if (rq->flags & NBD_CMD_FLAG_FUA) {
			f->stats.fua_writes++;
			flash_model_write_fua(&f->model, rq->offset, rq->len, data);
			int r = drain(f);
			answer(f, rq, FLASH_OP_WRITE, nbd_error_from_errno(-r));
			return;
		}
		flash_model_write(&f->model, rq->offset, rq->len, data);
		answer(f, rq, FLASH_OP_WRITE, NBD_OK);
		return;
	}
	case NBD_CMD_FLUSH: {
		/* A failed flush makes nothing durable: the writes stay pending. */
		if (injected(f, rq, FLASH_OP_FLUSH))
			return;
		f->stats.flushes++;
		flash_model_flush(&f->model);
		int r = drain(f);
		answer(f, rq, FLASH_OP_FLUSH, nbd_error_from_errno(-r));
		return;
	}
	default:
		nbd_server_reply(f->nbd, rq->handle, NBD_EINVAL, NULL, 0);
	}
}

static void on_closed(void *ctx, const char *why)
{
	/* The writes stay pending: what becomes of them is decided when the
	 * device's power state says why QEMU went (flash_cut or flash_close). */
	(void)ctx, (void)why;
}

struct flash *flash_open(struct ev_loop *loop, const char *image, const char *socket_name,
			 char *err, size_t errlen)
{
	int fd = open(image, O_RDWR | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "flash %s: %s", image, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	struct flash *f = calloc(1, sizeof(*f));
	if (!f)
		abort();
	flash_model_init(&f->model);
	f->loop = loop;
	f->fd = fd;
	struct nbd_export ex = { .name = FLASH_EXPORT, .size = (uint64_t)st.st_size };
	struct nbd_server_ops ops = { .request = on_request, .closed = on_closed };
	f->nbd = nbd_server_new(loop, socket_name, &ex, &ops, f, err, errlen);
	if (!f->nbd) {
		close(fd);
		free(f);
		return NULL;
	}
	return f;
}

/* Answers still owed go nowhere: QEMU is gone or going. */
static void drop_late(struct flash *f)
{
	while (f->late) {
		struct late_reply *lr = f->late;
		f->late = lr->next;
		ev_del_timer(f->loop, lr->timer);
		free(lr);
	}
	if (f->faults)
		flash_faults_idle(f->faults);
}

static int finish(struct flash *f, char *err, size_t errlen)
{
	drop_late(f);
	int r = drain(f);
	int e = f->write_errno;
	flash_model_free(&f->model);
	close(f->fd);
	free(f);
	if (r < 0 || e) {
		snprintf(err, errlen, "writing the flash's file: %s", strerror(e ? e : -r));
		return -1;
	}
	return 0;
}

int flash_cut(struct flash *f, enum flash_cut_mode mode, uint64_t seed,
	      struct flash_cut_report *rep, struct flash_stats *stats, char *err, size_t errlen)
{
	nbd_server_take_sent(f->nbd);
	nbd_server_free(f->nbd);
	struct flash_cut_report local;
	flash_model_cut(&f->model, mode, seed, rep ? rep : &local);
	if (stats)
		*stats = f->stats;
	return finish(f, err, errlen);
}

int flash_close(struct flash *f, char *err, size_t errlen)
{
	if (!f)
		return 0;
	nbd_server_take_sent(f->nbd);
	nbd_server_free(f->nbd);
	struct flash_cut_report rep;
	flash_model_cut(&f->model, FLASH_CUT_DURABLE, 0, &rep);
	return finish(f, err, errlen);
}

void flash_set_faults(struct flash *f, struct flash_faults *ff, flash_fault_fn fn, void *ctx)
{
	f->faults = ff;
	f->on_fault = fn;
	f->fault_ctx = ctx;
}

void flash_set_watch(struct flash *f, flash_watch_fn fn, void *ctx)
{
	f->watch = fn;
	f->watch_ctx = ctx;
}

void flash_get_stats(const struct flash *f, struct flash_stats *out)
{
	*out = f->stats;
}
