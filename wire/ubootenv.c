/* U-Boot environment codec: pure core first, fd shell at the end. */
#include "ubootenv.h"
#include "errf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc32.h"

void ubootenv_init(struct ubootenv *env)
{
	memset(env, 0, sizeof(*env));
	env->active = -1;
}

void ubootenv_free(struct ubootenv *env)
{
	bool single_copy = env->single_copy, no_sync = env->no_sync;

	for (size_t i = 0; i < env->count; i++) {
		free(env->pairs[i].key);
		free(env->pairs[i].value);
	}
	free(env->pairs);
	ubootenv_init(env);
	env->single_copy = single_copy;
	env->no_sync = no_sync;
}

static struct ubootenv_pair *ubootenv_find(const struct ubootenv *env, const char *key,
					   size_t keylen)
{
	for (size_t i = 0; i < env->count; i++) {
		const char *k = env->pairs[i].key;
		if (strncmp(k, key, keylen) == 0 && k[keylen] == '\0')
			return &env->pairs[i];
	}
	return NULL;
}

const char *ubootenv_get(const struct ubootenv *env, const char *key)
{
	struct ubootenv_pair *p = ubootenv_find(env, key, strlen(key));

	return p ? p->value : NULL;
}

static char *ubootenv_strndup(const char *s, size_t len)
{
	char *d = malloc(len + 1);

	if (d) {
		memcpy(d, s, len);
		d[len] = '\0';
	}
	return d;
}

/* Length-delimited set, so decode can point into the block without copying
 * the line first. */
static int ubootenv_set_n(struct ubootenv *env, const char *key, size_t keylen, const char *value,
			  size_t valuelen)
{
	struct ubootenv_pair *p = ubootenv_find(env, key, keylen);

	if (!value) {
		if (p) {
			free(p->key);
			free(p->value);
			/* keep block order: later keys move up rather than the last
			 * one jumping into the hole */
			size_t i = (size_t)(p - env->pairs);
			memmove(p, p + 1, (env->count - i - 1) * sizeof(*p));
			env->count--;
		}
		return 0;
	}

	char *v = ubootenv_strndup(value, valuelen);
	if (!v)
		return -ENOMEM;
	if (p) {
		free(p->value);
		p->value = v;
		return 0;
	}

	if (env->count == env->cap) {
		size_t cap = env->cap ? env->cap * 2 : 16;
		struct ubootenv_pair *pairs = realloc(env->pairs, cap * sizeof(*pairs));
		if (!pairs) {
			free(v);
			return -ENOMEM;
		}
		env->pairs = pairs;
		env->cap = cap;
	}
	char *k = ubootenv_strndup(key, keylen);
	if (!k) {
		free(v);
		return -ENOMEM;
	}
	env->pairs[env->count].key = k;
	env->pairs[env->count].value = v;
	env->count++;
	return 0;
}

int ubootenv_set(struct ubootenv *env, const char *key, const char *value)
{
	/* U-Boot cannot parse "=v" or "a=b=c" back as the intended key. */
	if (!key || key[0] == '\0' || strchr(key, '='))
		return -EINVAL;
	return ubootenv_set_n(env, key, strlen(key), value, value ? strlen(value) : 0);
}

static uint32_t ubootenv_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void ubootenv_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* hdr: UBOOTENV_HEADER_SIZE (redundant: crc + flags) or 4 (single copy:
 * crc alone, as libubootenv writes an environment with one copy). */
static bool ubootenv_copy_valid_hdr(const uint8_t *copy, size_t size, size_t hdr)
{
	return crc32_update(0, copy + hdr, size - hdr) == ubootenv_get_le32(copy);
}

static bool ubootenv_copy_valid(const uint8_t *copy, size_t size)
{
	return ubootenv_copy_valid_hdr(copy, size, UBOOTENV_HEADER_SIZE);
}

/* libubootenv 0.3.2 libuboot_load, FLAGS_INCREMENTAL (files and block
 * devices). Note the asymmetry: only the exact pair 255/0 counts as a wrap,
 * so 255 still beats 1; a store always produces current+1, so in practice
 * the two flags differ by exactly one. */
static int ubootenv_pick(uint8_t flags0, uint8_t flags1)
{
	if (flags0 == 0xff && flags1 == 0)
		return 1;
	if (flags1 == 0xff && flags0 == 0)
		return 0;
	return flags1 > flags0 ? 1 : 0;
}

static int ubootenv_parse(const uint8_t *data, size_t len, struct ubootenv *env)
{
	const char *p = (const char *)data;
	const char *end = p + len;

	while (p < end && *p != '\0') {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		if (!nul)
			break; /* unterminated: nothing safe to take from it */
		const char *eq = memchr(p, '=', (size_t)(nul - p));
		if (eq && eq > p) {
			int rc = ubootenv_set_n(env, p, (size_t)(eq - p), eq + 1,
						(size_t)(nul - eq - 1));
			if (rc < 0)
				return rc;
		}
		p = nul + 1;
	}
	return 0;
}

int ubootenv_decode(const uint8_t *copy0, const uint8_t *copy1, size_t size, struct ubootenv *env)
{
	ubootenv_free(env);
	if (size <= UBOOTENV_HEADER_SIZE)
		return -1;

	bool valid0 = ubootenv_copy_valid(copy0, size);
	bool valid1 = copy1 && ubootenv_copy_valid(copy1, size);
	int pick;

	if (valid0 && valid1)
		pick = ubootenv_pick(copy0[4], copy1[4]);
	else if (valid0)
		pick = 0;
	else if (valid1)
		pick = 1;
	else {
		/* libubootenv keeps copy 0 as "current" here, so its next store
		 * goes to copy 1 with copy 0's stale flags + 1: do the same. */
		env->flags = copy0[4];
		return -1;
	}

	const uint8_t *copy = pick ? copy1 : copy0;
	int rc = ubootenv_parse(copy + UBOOTENV_HEADER_SIZE, size - UBOOTENV_HEADER_SIZE, env);
	if (rc < 0) {
		ubootenv_free(env);
		return rc;
	}
	env->active = pick;
	env->flags = copy[4];
	return pick;
}

int ubootenv_decode_single(const uint8_t *copy, size_t size, struct ubootenv *env)
{
	ubootenv_free(env);
	if (size <= UBOOTENV_SINGLE_HEADER_SIZE ||
	    !ubootenv_copy_valid_hdr(copy, size, UBOOTENV_SINGLE_HEADER_SIZE))
		return -1;
	int rc = ubootenv_parse(copy + UBOOTENV_SINGLE_HEADER_SIZE,
				size - UBOOTENV_SINGLE_HEADER_SIZE, env);
	if (rc < 0) {
		ubootenv_free(env);
		return rc;
	}
	env->active = 0;
	return 0;
}

size_t ubootenv_data_size(const struct ubootenv *env)
{
	size_t n = 1; /* the empty string that ends the list */

	for (size_t i = 0; i < env->count; i++)
		n += strlen(env->pairs[i].key) + 1 + strlen(env->pairs[i].value) + 1;
	return n;
}

int ubootenv_target_copy(const struct ubootenv *env)
{
	if (env->single_copy)
		return 0;
	return env->active == 1 ? 0 : 1;
}

/* The data area of a copy with a header of hdr bytes. */
static int ubootenv_encode_data(const struct ubootenv *env, uint8_t *out, size_t size, size_t hdr)
{
	if (size <= hdr)
		return -EINVAL;
	if (ubootenv_data_size(env) > size - hdr)
		return -ENOSPC;
	uint8_t *data = out + hdr;
	size_t pos = 0;
	for (size_t i = 0; i < env->count; i++) {
		size_t kl = strlen(env->pairs[i].key);
		size_t vl = strlen(env->pairs[i].value);
		memcpy(data + pos, env->pairs[i].key, kl);
		data[pos + kl] = '=';
		memcpy(data + pos + kl + 1, env->pairs[i].value, vl + 1);
		pos += kl + 1 + vl + 1;
	}
	memset(data + pos, 0, size - hdr - pos);
	return 0;
}

int ubootenv_encode(const struct ubootenv *env, uint8_t *out, size_t size, uint8_t *flags_out)
{
	int rc = ubootenv_encode_data(env, out, size, UBOOTENV_HEADER_SIZE);
	if (rc < 0)
		return rc;
	uint8_t flags = (uint8_t)(env->flags + 1u);
	out[4] = flags;
	ubootenv_put_le32(out,
			  crc32_update(0, out + UBOOTENV_HEADER_SIZE, size - UBOOTENV_HEADER_SIZE));
	if (flags_out)
		*flags_out = flags;
	return 0;
}

int ubootenv_encode_single(const struct ubootenv *env, uint8_t *out, size_t size)
{
	int rc = ubootenv_encode_data(env, out, size, UBOOTENV_SINGLE_HEADER_SIZE);
	if (rc < 0)
		return rc;
	ubootenv_put_le32(out, crc32_update(0, out + UBOOTENV_SINGLE_HEADER_SIZE,
					    size - UBOOTENV_SINGLE_HEADER_SIZE));
	return 0;
}

void ubootenv_committed(struct ubootenv *env, int copy, uint8_t flags)
{
	env->active = copy;
	env->flags = flags;
}

/* ---- fd shell ---- */

static int ubootenv_pread_full(int fd, uint8_t *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, buf + done, len - done, off + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* image too short to hold the env block */
		done += (size_t)n;
	}
	return 0;
}

static int ubootenv_pwrite_full(int fd, const uint8_t *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(fd, buf + done, len - done, off + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}

const struct ubootenv_layout ubootenv_layout_v0 = {
	.offset = { UBOOTENV_COPY0_OFFSET, UBOOTENV_COPY1_OFFSET },
	.size = UBOOTENV_COPY_SIZE,
	.copies = 2,
};

int ubootenv_file_load(const char *path, struct ubootenv *env, char *err, size_t errlen)
{
	return ubootenv_file_load_layout(path, &ubootenv_layout_v0, env, err, errlen);
}

int ubootenv_file_store(const char *path, struct ubootenv *env, char *err, size_t errlen)
{
	return ubootenv_file_store_layout(path, &ubootenv_layout_v0, env, err, errlen);
}

int ubootenv_file_load_layout(const char *path, const struct ubootenv_layout *l,
			      struct ubootenv *env, char *err, size_t errlen)
{
	int copies = env->single_copy ? 1 : l->copies;
	const size_t copy_size = l->size;
	uint8_t *buf = malloc((size_t)copies * copy_size);
	int rc;

	ubootenv_free(env);
	if (!buf) {
		errf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		errf(err, errlen, "%s: open: %s", path, strerror(-rc));
		free(buf);
		return rc;
	}
	for (int i = 0; i < copies; i++) {
		rc = ubootenv_pread_full(fd, buf + (size_t)i * copy_size, copy_size,
					 (off_t)l->offset[i]);
		if (rc < 0) {
			errf(err, errlen, "%s: reading env copy %d at 0x%llx: %s", path, i,
			     (unsigned long long)l->offset[i],
			     rc == -EIO ? "file too short" : strerror(-rc));
			close(fd);
			free(buf);
			return rc;
		}
	}
	close(fd);

	if (l->copies == 1)
		rc = ubootenv_decode_single(buf, copy_size, env);
	else
		rc = ubootenv_decode(buf, copies == 2 ? buf + copy_size : NULL, copy_size, env);
	free(buf);
	if (rc == -1) {
		errf(err, errlen, "%s: no env copy with a valid CRC", path);
		return -ENODATA;
	}
	if (rc < 0)
		errf(err, errlen, "%s: %s", path, strerror(-rc));
	return rc;
}

int ubootenv_file_store_layout(const char *path, const struct ubootenv_layout *l,
			       struct ubootenv *env, char *err, size_t errlen)
{
	const size_t copy_size = l->size;
	uint8_t *buf = malloc(copy_size);
	uint8_t flags = 0;
	/* One copy: written in place, as libubootenv does without redundancy. */
	int copy = l->copies == 1 ? 0 : ubootenv_target_copy(env);
	int rc;

	if (!buf) {
		errf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	rc = l->copies == 1 ? ubootenv_encode_single(env, buf, copy_size)
			    : ubootenv_encode(env, buf, copy_size, &flags);
	if (rc < 0) {
		errf(err, errlen, "%s: env needs %zu bytes, copy holds %zu", path,
		     ubootenv_data_size(env),
		     copy_size -
			     (l->copies == 1 ? UBOOTENV_SINGLE_HEADER_SIZE : UBOOTENV_HEADER_SIZE));
		free(buf);
		return rc;
	}
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		errf(err, errlen, "%s: open: %s", path, strerror(-rc));
		free(buf);
		return rc;
	}
	/* The whole copy in one go, then fsync before anyone may treat it as
	 * current: until the fsync returns, the other copy is the valid one. */
	rc = ubootenv_pwrite_full(fd, buf, copy_size, (off_t)l->offset[copy]);
	if (rc == 0 && !env->no_sync && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	free(buf);
	if (rc < 0) {
		errf(err, errlen, "%s: writing env copy %d: %s", path, copy, strerror(-rc));
		return rc;
	}
	ubootenv_committed(env, copy, flags);
	return 0;
}
