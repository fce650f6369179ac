/* Flash faults and slowness, the pure core: see flash_faults.h. */
#include "flash_faults.h"

#include <errno.h>
#include <string.h>

int flash_op_parse(const char *name)
{
	static const char *const names[] = { "read", "write", "flush" };
	for (int i = 0; name && i < 3; i++)
		if (!strcmp(name, names[i]))
			return i;
	return -1;
}

const char *flash_op_name(enum flash_op op)
{
	switch (op) {
	case FLASH_OP_READ:
		return "read";
	case FLASH_OP_WRITE:
		return "write";
	case FLASH_OP_FLUSH:
		return "flush";
	}
	return "?";
}

int flash_fault_error_parse(const char *name)
{
	if (name && !strcmp(name, "EIO"))
		return EIO;
	if (name && !strcmp(name, "EPERM"))
		return EPERM;
	return -1;
}

const char *flash_fault_error_name(int error)
{
	return error == EPERM ? "EPERM" : "EIO";
}

int flash_bandwidth_parse(const char *text, uint64_t *bps)
{
	const char *p = text;
	uint64_t v = 0;
	if (!p || *p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	uint64_t unit = 1;
	if (*p == 'k' || *p == 'K' || *p == 'M' || *p == 'G') {
		bool binary = p[1] == 'i';
		uint64_t base = binary ? 1024 : 1000;
		int power = *p == 'G' ? 3 : *p == 'M' ? 2 : 1;
		for (int i = 0; i < power; i++)
			unit *= base;
		p += binary ? 2 : 1;
	}
	if (*p == 'B')
		p++;
	if (!strcmp(p, "/s"))
		p += 2;
	if (*p || v == 0 || v > UINT64_MAX / unit / 1000000u)
		return -1;
	*bps = v * unit;
	return 0;
}

void flash_faults_init(struct flash_faults *ff)
{
	memset(ff, 0, sizeof(*ff));
}

int flash_faults_add(struct flash_faults *ff, const struct flash_fault_rule *rule)
{
	if (ff->n >= FLASH_FAULT_RULES_MAX)
		return -1;
	struct flash_fault_rule *r = &ff->rules[ff->n];
	*r = *rule;
	r->seen = r->failed = 0;
	return (int)ff->n++;
}

void flash_faults_arm(struct flash_faults *ff, int rule)
{
	if (rule >= 0 && (size_t)rule < ff->n)
		ff->rules[rule].armed = true;
}

static bool matches(const struct flash_fault_rule *r, enum flash_op op, uint64_t offset,
		    uint64_t len)
{
	if (!r->armed || r->op != op)
		return false;
	if (!r->has_range || op == FLASH_OP_FLUSH)
		return true;
	/* Overlap of [offset, offset+len) and the range, without overflow. */
	return offset < r->offset + r->length && r->offset < offset + len;
}

struct flash_fault_hit flash_faults_decide(struct flash_faults *ff, enum flash_op op,
					   uint64_t offset, uint64_t len)
{
	struct flash_fault_hit hit = { .rule = -1 };
	for (size_t i = 0; i < ff->n; i++) {
		struct flash_fault_rule *r = &ff->rules[i];
		if (!matches(r, op, offset, len))
			continue;
		r->seen++;
		if (r->seen <= r->after || r->failed >= r->count)
			continue;
		r->failed++;
		if (!hit.error) {
			hit.error = r->error;
			hit.rule = (int)i;
		}
	}
	if (hit.error || op != FLASH_OP_WRITE)
		return hit;
	if (ff->wear_out_after && ff->writes_done >= ff->wear_out_after) {
		hit.error = EIO;
		hit.worn = true;
		return hit;
	}
	ff->writes_done++;
	hit.wears = ff->wear_out_after && ff->writes_done == ff->wear_out_after;
	return hit;
}

uint64_t flash_faults_delay_us(struct flash_faults *ff, uint64_t now_us, enum flash_op op,
			       uint64_t len)
{
	if (op == FLASH_OP_READ)
		return 0;
	uint64_t start = ff->busy_until_us > now_us ? ff->busy_until_us : now_us;
	if (op == FLASH_OP_FLUSH)
		return start - now_us;
	uint64_t busy = ff->write_latency_us;
	if (ff->bandwidth) /* rounded up: a byte still takes time */
		busy += (len * 1000000u + ff->bandwidth - 1) / ff->bandwidth;
	if (!busy)
		return start - now_us;
	ff->busy_until_us = start + busy;
	return ff->busy_until_us - now_us;
}

void flash_faults_idle(struct flash_faults *ff)
{
	ff->busy_until_us = 0;
}
