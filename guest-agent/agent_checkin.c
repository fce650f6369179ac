/* agent_checkin: check-in line parsing. */
#include "agent_checkin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Finds "key=" as a whole word of line and copies its value (up to the next
 * space) into out. Returns 0, -1 when absent, -2 when it does not fit or is
 * empty. */
static int agent_checkin_value(const char *line, const char *key, char *out, size_t cap)
{
	size_t key_len = strlen(key);
	const char *p = line;

	while (*p != '\0') {
		size_t word = strcspn(p, " ");

		if (word > key_len && strncmp(p, key, key_len) == 0 && p[key_len] == '=') {
			size_t vlen = word - key_len - 1;

			if (vlen == 0 || vlen >= cap)
				return -2;
			memcpy(out, p + key_len + 1, vlen);
			out[vlen] = '\0';
			return 0;
		}
		p += word;
		while (*p == ' ')
			p++;
	}
	return -1;
}

static int agent_checkin_ull(const char *text, unsigned long long *out)
{
	char *end;

	if (text[0] < '0' || text[0] > '9')
		return -1;
	*out = strtoull(text, &end, 10);
	return *end == '\0' && *out != ~0ull ? 0 : -1;
}

int agent_checkin_parse_line(const char *line, struct agent_checkin_msg *msg)
{
	size_t type_len = strcspn(line, " ");
	char num[32];

	memset(msg, 0, sizeof(*msg));
	if (type_len == 0)
		return -1;
	if (type_len == 9 && strncmp(line, "heartbeat", 9) == 0) {
		msg->type = AGENT_CHECKIN_HEARTBEAT;
		if (agent_checkin_value(line, "seq", num, sizeof(num)) != 0 ||
		    agent_checkin_ull(num, &msg->seq) != 0)
			return -1;
		return 0;
	}
	if (type_len == 5 && strncmp(line, "offer", 5) == 0) {
		msg->type = AGENT_CHECKIN_OFFER;
		if (agent_checkin_value(line, "version", msg->version, sizeof(msg->version)) != 0 ||
		    agent_checkin_value(line, "sha256", msg->sha256, sizeof(msg->sha256)) != 0 ||
		    agent_checkin_value(line, "url", msg->url, sizeof(msg->url)) != 0 ||
		    agent_checkin_value(line, "size", num, sizeof(num)) != 0 ||
		    agent_checkin_ull(num, &msg->size) != 0 || msg->size == 0)
			return -1;
		if (strlen(msg->sha256) != 64 || msg->url[0] != '/')
			return -1;
		for (int i = 0; i < 64; i++) {
			char c = msg->sha256[i];

			if (c >= 'A' && c <= 'F')
				msg->sha256[i] = (char)(c - 'A' + 'a');
			else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
				return -1;
		}
		return 0;
	}
	msg->type = AGENT_CHECKIN_OTHER;
	return 0;
}

int agent_checkin_format_path(char *buf, size_t cap, const char *device, const char *version,
			      const char *slot)
{
	int n = snprintf(buf, cap, "/checkin?device=%s&version=%s&slot=%s", device, version, slot);

	return n >= 0 && (size_t)n < cap ? 0 : -1;
}
