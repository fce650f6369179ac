/* The flash model's pure core: see flash_model.h. */
#include "flash_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const mode_names[] = { "volatile", "torn", "ordered", "durable" };

int flash_cut_mode_parse(const char *name)
{
	for (int i = 0; name && i < 4; i++)
		if (!strcmp(name, mode_names[i]))
			return i;
	return -1;
}

const char *flash_cut_mode_name(enum flash_cut_mode mode)
{
	return (unsigned)mode < 4 ? mode_names[mode] : "?";
}

uint64_t flash_model_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t flash_model_cut_seed(uint64_t run_seed, const char *device, uint64_t n)
{
	/* FNV-1a over the name, mixed with the seed and the cut's number, so
	 * two devices (or two cuts) of one run never share a choice. */
	uint64_t h = 0xcbf29ce484222325ull;
	for (const char *p = device; p && *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	uint64_t s = run_seed ^ h ^ (n * 0xd1b54a32d192ed03ull);
	return flash_model_rand(&s);
}

static void list_append(struct flash_writes *l, struct flash_write *w)
{
	w->next = NULL;
	if (l->tail)
		l->tail->next = w;
	else
		l->head = w;
	l->tail = w;
	l->count++;
	l->bytes += w->len;
}

/* Appends all of src to dst, leaving src empty. */
static void list_splice(struct flash_writes *dst, struct flash_writes *src)
{
	if (!src->head)
		return;
	if (dst->tail)
		dst->tail->next = src->head;
	else
		dst->head = src->head;
	dst->tail = src->tail;
	dst->count += src->count;
	dst->bytes += src->bytes;
	*src = (struct flash_writes){ 0 };
}

static void list_free(struct flash_writes *l)
{
	struct flash_write *w = l->head;
	while (w) {
		struct flash_write *next = w->next;
		free(w->data);
		free(w);
		w = next;
	}
	*l = (struct flash_writes){ 0 };
}

void flash_model_init(struct flash_model *m)
{
	memset(m, 0, sizeof(*m));
}

void flash_model_free(struct flash_model *m)
{
	list_free(&m->draining);
	list_free(&m->durable);
	list_free(&m->pending);
}

void flash_model_write(struct flash_model *m, uint64_t offset, uint32_t len, uint8_t *data)
{
	struct flash_write *w = calloc(1, sizeof(*w));
	if (!w)
		abort();
	*w = (struct flash_write){ .seq = ++m->seq, .offset = offset, .len = len, .data = data };
	list_append(&m->pending, w);
	m->writes++;
}

void flash_model_write_fua(struct flash_model *m, uint64_t offset, uint32_t len, uint8_t *data)
{
	flash_model_write(m, offset, len, data);
	/* Not counted as a flush: the guest asked for none. */
	list_splice(&m->durable, &m->pending);
}

void flash_model_flush(struct flash_model *m)
{
	m->flushes++;
	list_splice(&m->durable, &m->pending);
}

void flash_model_flush_failed(struct flash_model *m)
{
	m->failed_flushes++;
	m->lost_writes += m->pending.count;
	list_free(&m->pending);
}

static void overlay_list(const struct flash_writes *l, uint8_t *buf, uint64_t offset, size_t len)
{
	uint64_t end = offset + len;
	for (const struct flash_write *w = l->head; w; w = w->next) {
		uint64_t wend = w->offset + w->len;
		if (wend <= offset || w->offset >= end)
			continue;
		uint64_t from = w->offset > offset ? w->offset : offset;
		uint64_t to = wend < end ? wend : end;
		memcpy(buf + (from - offset), w->data + (from - w->offset), (size_t)(to - from));
	}
}

void flash_model_overlay(const struct flash_model *m, uint8_t *buf, uint64_t offset, size_t len)
{
	overlay_list(&m->draining, buf, offset, len);
	overlay_list(&m->durable, buf, offset, len);
	overlay_list(&m->pending, buf, offset, len);
}

/* "1-3,5" of the chosen positions, cut short when it does not fit. */
static void describe_survivors(const bool *kept, size_t n, char *out, size_t cap)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n;) {
		if (!kept[i]) {
			i++;
			continue;
		}
		size_t j = i;
		while (j + 1 < n && kept[j + 1])
			j++;
		char part[48];
		if (j == i)
			snprintf(part, sizeof(part), "%s%zu", used ? "," : "", i + 1);
		else
			snprintf(part, sizeof(part), "%s%zu-%zu", used ? "," : "", i + 1, j + 1);
		if (used + strlen(part) + 4 >= cap) {
			snprintf(out + used, cap - used, ",...");
			return;
		}
		used += (size_t)snprintf(out + used, cap - used, "%s", part);
		i = j + 1;
	}
}

void flash_model_cut(struct flash_model *m, enum flash_cut_mode mode, uint64_t seed,
		     struct flash_cut_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	rep->mode = mode;
	rep->pending_writes = m->pending.count;
	rep->pending_bytes = m->pending.bytes;
	size_t n = m->pending.count;
	bool *kept = calloc(n ? n : 1, sizeof(*kept));
	if (!kept)
		abort();
	uint64_t rng = seed;
	size_t prefix = n;
	if (mode == FLASH_CUT_ORDERED)
		prefix = (size_t)(flash_model_rand(&rng) % (n + 1));
	struct flash_writes survivors = { 0 };
	struct flash_write *w = m->pending.head;
	for (size_t i = 0; w; i++) {
		struct flash_write *next = w->next;
		bool keep = false;
		uint32_t keep_len = w->len;
		switch (mode) {
		case FLASH_CUT_VOLATILE:
			break;
		case FLASH_CUT_DURABLE:
			keep = true;
			break;
		case FLASH_CUT_ORDERED:
			keep = i < prefix;
			break;
		case FLASH_CUT_TORN:
			if (!next) {
				/* The write being programmed: a prefix of its sectors. */
				uint32_t sectors = (w->len + FLASH_SECTOR - 1) / FLASH_SECTOR;
				uint32_t done = (uint32_t)(flash_model_rand(&rng) % (sectors + 1u));
				keep_len =
					done * FLASH_SECTOR < w->len ? done * FLASH_SECTOR : w->len;
				keep = keep_len > 0;
				if (keep && keep_len < w->len) {
					rep->torn = true;
					rep->torn_bytes = keep_len;
				}
			} else {
				keep = flash_model_rand(&rng) & 1;
			}
			break;
		}
		kept[i] = keep;
		if (keep) {
			w->len = keep_len;
			list_append(&survivors, w);
			rep->survived_writes++;
			rep->survived_bytes += keep_len;
		} else {
			m->lost_writes++;
			free(w->data);
			free(w);
		}
		w = next;
	}
	m->pending = (struct flash_writes){ 0 };
	list_splice(&m->durable, &survivors);
	describe_survivors(kept, n, rep->survived, sizeof(rep->survived));
	free(kept);
}

struct flash_writes *flash_model_take_durable(struct flash_model *m)
{
	if (m->draining.head || !m->durable.head)
		return NULL;
	list_splice(&m->draining, &m->durable);
	return &m->draining;
}

void flash_model_drained(struct flash_model *m)
{
	list_free(&m->draining);
}

bool flash_model_settled(const struct flash_model *m)
{
	return !m->draining.head && !m->durable.head;
}
