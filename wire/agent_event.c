/* agent_event: the agent's console event lines (grammar in the header). */
#include "agent_event.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define AGENT_EVENT_PREFIX_LEN (sizeof(AGENT_EVENT_PREFIX) - 1)

size_t agent_event_vformat(char *buf, size_t cap, const char *fmt, va_list ap)
{
	size_t len, room;
	int n;

	if (cap > AGENT_EVENT_LINE_MAX)
		cap = AGENT_EVENT_LINE_MAX;
	memcpy(buf, AGENT_EVENT_PREFIX, AGENT_EVENT_PREFIX_LEN);
	/* room for the text: the newline and the NUL come after it */
	room = cap - AGENT_EVENT_PREFIX_LEN - 1;
	n = vsnprintf(buf + AGENT_EVENT_PREFIX_LEN, room, fmt, ap);
	len = n < 0 ? 0 : (size_t)n < room ? (size_t)n : room - 1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[AGENT_EVENT_PREFIX_LEN + i];

		if (c < 0x20 || c == 0x7f)
			buf[AGENT_EVENT_PREFIX_LEN + i] = '?';
	}
	len += AGENT_EVENT_PREFIX_LEN;
	buf[len++] = '\n';
	buf[len] = '\0';
	return len;
}

size_t agent_event_format(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	len = agent_event_vformat(buf, cap, fmt, ap);
	va_end(ap);
	return len;
}

int agent_event(int fd, const char *fmt, ...)
{
	char line[AGENT_EVENT_LINE_MAX];
	va_list ap;
	size_t len;
	ssize_t w;

	va_start(ap, fmt);
	len = agent_event_vformat(line, sizeof(line), fmt, ap);
	va_end(ap);
	do {
		w = write(fd, line, len);
	} while (w < 0 && errno == EINTR);
	return w == (ssize_t)len ? 0 : -1;
}

static bool agent_event_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static bool agent_event_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* The first AGENT_EVENT_PREFIX in line[0..len), or NULL. */
static const char *agent_event_find(const char *line, size_t len)
{
	for (size_t i = 0; i + AGENT_EVENT_PREFIX_LEN <= len; i++)
		if (memcmp(line + i, AGENT_EVENT_PREFIX, AGENT_EVENT_PREFIX_LEN) == 0)
			return line + i;
	return NULL;
}

int agent_event_parse(const char *line, size_t len, struct agent_event *ev)
{
	const char *p = agent_event_find(line, len), *end = line + len;
	char *out = ev->text;
	bool in_name = true;

	memset(ev, 0, sizeof(*ev));
	if (!p)
		return -ENOENT;
	p += AGENT_EVENT_PREFIX_LEN;
	while (end > p && (end[-1] == ' ' || end[-1] == '\r'))
		end--;
	/* the copy is never longer than the text: words lose at most their
	 * separators, and each separator becomes one NUL or space */
	if ((size_t)(end - p) + 1 > sizeof(ev->text) || memchr(p, '\0', (size_t)(end - p)))
		return -EINVAL;
	ev->name = out;
	while (p < end) {
		const char *word = p, *eq;
		size_t word_len;

		if (*p == ' ') {
			p++;
			continue;
		}
		while (p < end && *p != ' ')
			p++;
		word_len = (size_t)(p - word);
		eq = memchr(word, '=', word_len);
		if (!eq && in_name) {
			for (size_t i = 0; i < word_len; i++)
				if (!agent_event_name_char(word[i]))
					return -EINVAL;
			if (out > ev->text)
				*out++ = ' ';
			memcpy(out, word, word_len);
			out += word_len;
			continue;
		}
		if (!eq || eq == word || ev->n_kv == AGENT_EVENT_KV_MAX || out == ev->text)
			return -EINVAL;
		for (const char *k = word; k < eq; k++)
			if (!agent_event_key_char(*k))
				return -EINVAL;
		if (in_name) {
			*out++ = '\0';
			in_name = false;
		}
		ev->kv[ev->n_kv].key = out;
		memcpy(out, word, (size_t)(eq - word));
		out += eq - word;
		*out++ = '\0';
		if (agent_event_get(ev, ev->kv[ev->n_kv].key))
			return -EINVAL;
		ev->kv[ev->n_kv].value = out;
		memcpy(out, eq + 1, word_len - (size_t)(eq - word) - 1);
		out += word_len - (size_t)(eq - word) - 1;
		*out++ = '\0';
		ev->n_kv++;
	}
	if (out == ev->text)
		return -EINVAL;
	if (in_name)
		*out = '\0';
	return 0;
}

const char *agent_event_get(const struct agent_event *ev, const char *key)
{
	for (size_t i = 0; i < ev->n_kv; i++)
		if (strcmp(ev->kv[i].key, key) == 0)
			return ev->kv[i].value;
	return NULL;
}
