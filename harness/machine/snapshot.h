/* Snapshot boot: a device starts from a saved machine instead of booting.
 *
 * The first device that asks for a payload (kernel, initramfs, command line,
 * machine shape) boots a template machine of that shape whose guest RAM is a
 * shared file. When its agent prints the snapshot point (wire/agent_event.h),
 * the template is stopped and its device state migrated to a file; RAM is
 * not copied (QEMU's x-ignore-shared): it is already in the RAM file. Every
 * device of that key then starts with the RAM file mapped privately (its
 * pages shared in the host's page cache until the guest writes them) and the
 * device state loaded over QMP, which takes milliseconds instead of a boot.
 * Devices that ask while a template boots wait for it. Files live in the
 * cache's directory until snapshot_cache_free. */
#ifndef VH_SNAPSHOT_H
#define VH_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

struct ev_loop;
struct qemu_launch;
struct qemu_proc;
struct qemu_start;

/* Starts QEMU as qemu_start does (the device's, so tests may stand in). */
typedef struct qemu_start *(*snapshot_start_fn)(struct ev_loop *loop, const struct qemu_launch *l,
						const char *stderr_path, uint64_t timeout_ms,
						void (*fn)(void *, const struct qemu_proc *,
							   const char *),
						void *arg, char *err, size_t errlen);
typedef void (*snapshot_cancel_fn)(struct qemu_start *s);

struct snapshot_cache;
struct snapshot_wait;

/* QMP migrate-set-capabilities' arguments on both sides of a snapshot: RAM
 * in a shared file is not sent (it is the file), and MIGRATION events say
 * when the state is out or in. */
#define SNAPSHOT_QMP_CAPABILITIES                                                                  \
	"{\"capabilities\": [{\"capability\": \"x-ignore-shared\", \"state\": true},"              \
	" {\"capability\": \"events\", \"state\": true}]}"

/* A saved machine, valid while the cache lives. */
struct snapshot {
	const char *key;       /* hex, names the files */
	const char *ram_path;  /* guest RAM: map it privately (qemu_launch.ram_file) */
	const char *state_uri; /* for QMP migrate-incoming */
	double built_s;	       /* the template's boot and save, seconds */
};

/* A template's life, for events.jsonl: "snapshot" with its key, outcome and
 * seconds (kv: NULL-terminated pairs, values starting with '\x01' are JSON
 * literals). May be NULL. */
typedef void (*snapshot_event_fn)(void *ctx, const char *event, const char *const *kv);

/* A cache whose files go in dir (created; removed with the cache). NULL with
 * err when dir cannot be made. */
struct snapshot_cache *snapshot_cache_new(struct ev_loop *loop, const char *dir,
					  snapshot_start_fn start, snapshot_cancel_fn cancel,
					  snapshot_event_fn event, void *event_ctx, char *err,
					  size_t errlen);

/* Kills templates still booting (their waiters are dropped without a call),
 * removes the files and frees the cache. NULL is ignored. */
void snapshot_cache_free(struct snapshot_cache *c);

/* Completes snapshot_get: s is the saved machine and err NULL, or s is NULL
 * and err says why the template failed (its console's last lines included).
 * Always called from the loop, never inside snapshot_get. */
typedef void (*snapshot_fn)(void *arg, const struct snapshot *s, const char *err);

/* Asks for the snapshot of machine tmpl: a template launch with no identity
 * (its append has vh.snapshot=1), its disk a file (opened with snapshot=on)
 * and its NIC unplugged; console and QMP socket names are the cache's own.
 * timeout_ms bounds the template's boot to the snapshot point. Returns the
 * wait, which snapshot_wait_cancel abandons until fn has been called. */
struct snapshot_wait *snapshot_get(struct snapshot_cache *c, const struct qemu_launch *tmpl,
				   uint64_t timeout_ms, snapshot_fn fn, void *arg);
void snapshot_wait_cancel(struct snapshot_wait *w);

/* The key of tmpl: the sha256 (hex) of everything that must match between a
 * template and the devices restored from it, file contents named by path
 * included by their identity (device and inode: the boot cache shares one
 * file per payload). 0, or -1 with err when a file cannot be read. */
int snapshot_key(const struct qemu_launch *tmpl, char key[65], char *err, size_t errlen);

#endif
