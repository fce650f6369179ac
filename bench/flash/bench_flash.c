/* The flash model's cost, measured with QEMU's own block layer: qemu-img
 * bench writes to a raw image through the harness's NBD flash server and,
 * for comparison, to the same image as a plain file (QEMU's file backend).
 * Not run by ctest. Usage: bench_flash [RUNS] (default 5); prints the
 * median wall time of each workload and the ratio NBD / file.
 *
 * Workloads (qemu-img bench -t writeback, one request in flight):
 *   seq-write  1024 sequential 64 KiB writes (64 MiB), flushed once at exit
 *   flush      1000 4 KiB writes, each followed by a flush
 * The plain file's flush is an fdatasync on the host; the flash model's
 * is not (it models the device, not the host), so "flush" compares the
 * protocol's round trip with a host fdatasync, not like with like. */
#include "child.h"
#include "ev.h"
#include "flash.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IMAGE_MIB 80

struct workload {
	const char *name;
	const char *args[8];
};

static const struct workload workloads[] = {
	{ "seq-write", { "-d", "1", "-c", "1024", "-s", "64k", NULL } },
	{ "flush", { "-d", "1", "-c", "1000", "-s", "4k", "--flush-interval=1", NULL } },
};

static int make_image(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)IMAGE_MIB << 20) < 0)
		return -1;
	close(fd);
	return 0;
}

static void build_argv(const struct workload *w, const char *target, bool image_opts,
		       const char **argv)
{
	int n = 0;
	argv[n++] = "qemu-img";
	argv[n++] = "bench";
	argv[n++] = "-w";
	argv[n++] = "-q";
	argv[n++] = "-t";
	argv[n++] = "writeback";
	if (image_opts)
		argv[n++] = "--image-opts";
	else {
		argv[n++] = "-f";
		argv[n++] = "raw";
	}
	for (int i = 0; w->args[i]; i++)
		argv[n++] = w->args[i];
	argv[n++] = target;
	argv[n] = NULL;
}

/* Seconds for one run of w on the plain file. */
static double run_file(const struct workload *w, const char *image)
{
	const char *argv[24];
	build_argv(w, image, false, argv);
	struct child_spec spec = { .argv = argv };
	char out[512], err[256];
	uint64_t t0 = ev_clock_ms();
	int st = child_run(&spec, 120000, out, sizeof(out), NULL, err, sizeof(err));
	double s = (double)(ev_clock_ms() - t0) / 1000.0;
	if (st < 0 || !child_status_ok(st)) {
		fprintf(stderr, "qemu-img on the file failed: %s%s\n", err, out);
		exit(1);
	}
	return s;
}

/* Seconds for one run of w through the flash server on the loop. */
static double run_nbd(const struct workload *w, const char *image, const char *sock)
{
	struct ev_loop *loop = ev_loop_new();
	char err[256];
	struct flash *f = flash_open(loop, image, sock, err, sizeof(err));
	if (!f) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	char opts[300];
	snprintf(opts, sizeof(opts),
		 "driver=raw,file.driver=nbd,file.server.type=unix,file.server.path=%s,"
		 "file.export=%s",
		 sock, FLASH_EXPORT);
	const char *argv[24];
	build_argv(w, opts, true, argv);
	struct child_spec spec = { .argv = argv, .stderr_fd = 2 };
	struct child c;
	uint64_t t0 = ev_clock_ms();
	if (child_spawn(&spec, &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	int st = 0;
	while (!child_reap(&c, &st))
		ev_run_once(loop, 5);
	double s = (double)(ev_clock_ms() - t0) / 1000.0;
	if (!child_status_ok(st)) {
		fprintf(stderr, "qemu-img through NBD failed\n");
		exit(1);
	}
	if (flash_close(f, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	ev_loop_free(loop);
	return s;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 5;
	if (runs < 1 || runs > 50) {
		fprintf(stderr, "usage: bench_flash [RUNS 1-50]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	char dir[] = "/tmp/vh-bench-flash-XXXXXX";
	if (!mkdtemp(dir))
		return 3;
	char image[64], sock[64];
	snprintf(image, sizeof(image), "%s/disk.img", dir);
	snprintf(sock, sizeof(sock), "%s/nbd.sock", dir);
	printf("%-10s %10s %10s %8s  (median of %d, seconds)\n", "workload", "file", "nbd+model",
	       "ratio", runs);
	for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++) {
		double file[50], nbd[50];
		for (int r = 0; r < runs; r++) {
			/* Alternated, so machine load drifts over both alike. */
			if (make_image(image) < 0)
				return 3;
			file[r] = run_file(&workloads[i], image);
			if (make_image(image) < 0)
				return 3;
			nbd[r] = run_nbd(&workloads[i], image, sock);
		}
		double mf = median(file, runs), mn = median(nbd, runs);
		printf("%-10s %10.3f %10.3f %8.2f\n", workloads[i].name, mf, mn, mn / mf);
	}
	unlink(image);
	unlink(sock);
	rmdir(dir);
	return 0;
}
