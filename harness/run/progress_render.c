/* The progress model as text: plain note lines and the terminal block (see
 * progress.h). Console text reaches both, so control bytes (a guest's own
 * escape sequences) are shown as '?': the only escape codes written are
 * ours, and none at all without colour. */
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NAME_COLUMNS_MAX = 16 };

/* A growing string that counts the visible columns of its current line
 * and stops adding to it at limit (0: no limit). */
struct text {
	char *s;
	size_t len, cap;
	int cols, limit;
	bool color;
};

static void grow(struct text *t, size_t n)
{
	if (t->len + n + 1 <= t->cap)
		return;
	while (t->len + n + 1 > t->cap)
		t->cap = t->cap ? t->cap * 2 : 256;
	t->s = realloc(t->s, t->cap);
	if (!t->s)
		abort();
}

static void raw(struct text *t, const char *s)
{
	size_t n = strlen(s);
	grow(t, n);
	memcpy(t->s + t->len, s, n + 1);
	t->len += n;
}

/* Visible text: control bytes become '?'; UTF-8 continuation bytes take
 * no column of their own, and follow their lead byte even at the limit, so
 * a character is never cut in two. */
static void put(struct text *t, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		bool continuation = (c & 0xC0) == 0x80;
		if (!continuation && t->limit && t->cols >= t->limit)
			break;
		grow(t, 1);
		t->s[t->len++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
		t->s[t->len] = '\0';
		if (!continuation)
			t->cols++;
	}
}

/* Text in an SGR colour (only with colour on; never an empty span). */
static void colored(struct text *t, const char *sgr, const char *s)
{
	if (!*s || (t->limit && t->cols >= t->limit))
		return;
	if (t->color && sgr) {
		raw(t, "\033[");
		raw(t, sgr);
		raw(t, "m");
	}
	put(t, s);
	if (t->color && sgr)
		raw(t, "\033[0m");
}

static void end_line(struct text *t)
{
	raw(t, "\n");
	t->cols = 0;
}

char *progress_render_note(const struct progress_note *n, bool color)
{
	struct text t = { .color = color };
	raw(&t, "");
	char stamp[32];
	snprintf(stamp, sizeof(stamp), "[%9.3f] ", n->t);
	put(&t, stamp);
	const char *s = n->text;
	for (bool first = true; *s; first = false) {
		size_t k = strcspn(s, "\n");
		char *line = strndup(s, k);
		if (!line)
			abort();
		/* The note's own line in red when it is a failure; its context
		 * lines (the console's words) as they were. */
		colored(&t, first && n->failure ? "31" : NULL, line);
		free(line);
		end_line(&t);
		s += k;
		if (*s == '\n')
			s++;
	}
	if (!n->text[0])
		end_line(&t);
	return t.s;
}

static const char *power_color(const char *power)
{
	if (!strcmp(power, "on"))
		return "32";
	if (!strcmp(power, "cut"))
		return "31";
	if (!strcmp(power, "rebooting"))
		return "33";
	return "2";
}

static void device_line(struct text *t, const struct progress_device *d, int name_cols)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "  %-*.*s  ", name_cols, name_cols, d->name);
	put(t, buf);
	snprintf(buf, sizeof(buf), "%-9s", d->power);
	colored(t, power_color(d->power), buf);
	snprintf(buf, sizeof(buf), "  boot %-2d  slot %-1s  %-8s  ", d->boots,
		 d->slot[0] ? d->slot : "-", d->version[0] ? d->version : "-");
	put(t, buf);
	snprintf(buf, sizeof(buf), "%-14s", d->activity[0] ? d->activity : "-");
	colored(t, d->activity[0] ? "36" : NULL, buf);
	if (d->agent[0]) {
		put(t, "  ");
		colored(t, "2", d->agent);
	}
	end_line(t);
}

/* The devices past what a block shows, counted by power state. */
static void summary_line(struct text *t, const struct progress *p, int from)
{
	int on = 0, off = 0, other = 0;
	for (int i = from; i < p->n_devices; i++) {
		const char *power = p->devices[i].power;
		if (!strcmp(power, "on"))
			on++;
		else if (!strcmp(power, "off"))
			off++;
		else
			other++;
	}
	char buf[160];
	snprintf(buf, sizeof(buf), "  ... and %d more: %d on, %d off, %d cut or rebooting",
		 p->n_devices - from, on, off, other);
	put(t, buf);
	end_line(t);
}

char *progress_render_block(const struct progress *p, double now, int width, bool color, int *lines)
{
	struct text t = { .color = color, .limit = width > 1 ? width - 1 : 0 };
	raw(&t, "");
	char buf[256];
	colored(&t, "1", "vharness");
	snprintf(buf, sizeof(buf), "  %s%s%.1fs", p->where, p->where[0] ? "  " : "", now);
	put(&t, buf);
	end_line(&t);
	*lines = 1;
	int name_cols = 1;
	for (int i = 0; i < p->n_devices; i++) {
		int n = (int)strlen(p->devices[i].name);
		name_cols = n > name_cols ? n : name_cols;
	}
	if (name_cols > NAME_COLUMNS_MAX)
		name_cols = NAME_COLUMNS_MAX;
	/* A fleet gets its first devices and one line for the rest. */
	int shown =
		p->n_devices <= PROGRESS_BLOCK_DEVICES ? p->n_devices : PROGRESS_BLOCK_DEVICES - 1;
	for (int i = 0; i < shown; i++, (*lines)++)
		device_line(&t, &p->devices[i], name_cols);
	if (shown < p->n_devices) {
		summary_line(&t, p, shown);
		(*lines)++;
	}
	return t.s;
}
