/* agent_config: kernel command line and release file -> struct agent_config. */
#include "agent_config.h"

#include "fields.h"
#include "release.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void agent_config_defaults(struct agent_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->device, "vh");
	strcpy(cfg->version, "unknown");
	strcpy(cfg->slot, "a");
	strcpy(cfg->iface, "eth0");
	strcpy(cfg->disk, "/dev/vda");
	/* Modules load while the agent already runs; under TCG that takes well
	 * under a second, so 10 s only matters when the NIC is really absent. */
	cfg->net_wait_ms = 10000;
}

struct in_addr agent_config_netmask(unsigned prefix_len)
{
	struct in_addr mask;

	/* A shift by 32 is undefined, so prefix 0 is its own case. */
	mask.s_addr = prefix_len == 0 ? 0 : htonl(0xffffffffu << (32 - prefix_len));
	return mask;
}

static int agent_config_parse_ulong(const char *text, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (text[0] < '0' || text[0] > '9')
		return -1;
	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

int agent_config_parse_mac(const char *text, unsigned char mac[6])
{
	unsigned char out[6];

	/* Exactly "xx:xx:xx:xx:xx:xx": no one-digit groups, no other separator. */
	if (strlen(text) != 17)
		return -1;
	for (unsigned i = 0; i < 6; i++) {
		const char *p = text + 3 * i;
		int hi = wire_hex_digit((unsigned char)p[0]),
		    lo = wire_hex_digit((unsigned char)p[1]);

		if (hi < 0 || lo < 0 || (i < 5 && p[2] != ':'))
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	memcpy(mac, out, sizeof(out));
	return 0;
}

int agent_config_parse_cidr(const char *text, struct in_addr *addr, unsigned *prefix_len)
{
	char buf[32];
	const char *slash = strchr(text, '/');
	size_t addr_len = slash ? (size_t)(slash - text) : strlen(text);
	unsigned long prefix = 32;

	if (addr_len == 0 || addr_len >= sizeof(buf))
		return -1;
	memcpy(buf, text, addr_len);
	buf[addr_len] = '\0';
	/* inet_pton accepts only the strict dotted quad, unlike inet_aton. */
	if (inet_pton(AF_INET, buf, addr) != 1)
		return -1;
	if (slash && agent_config_parse_ulong(slash + 1, 32, &prefix) != 0)
		return -1;
	*prefix_len = (unsigned)prefix;
	return 0;
}

int agent_config_parse_server(const char *text, struct in_addr *ip, unsigned short *port)
{
	char buf[32];
	const char *colon = strrchr(text, ':');
	unsigned long p;

	if (colon == NULL || colon == text || (size_t)(colon - text) >= sizeof(buf))
		return -1;
	memcpy(buf, text, (size_t)(colon - text));
	buf[colon - text] = '\0';
	if (inet_pton(AF_INET, buf, ip) != 1)
		return -1;
	if (agent_config_parse_ulong(colon + 1, 65535, &p) != 0 || p == 0)
		return -1;
	*port = (unsigned short)p;
	return 0;
}

const char *agent_config_bug_name(unsigned bug)
{
	for (unsigned i = 0; release_bug_names[i]; i++)
		if (bug == 1u << i)
			return release_bug_names[i];
	return NULL;
}

int agent_config_parse_bugs(const char *text, unsigned *bugs)
{
	const char *p = text;
	int rc = 0;

	*bugs = 0;
	if (*p == '\0')
		return 0;
	for (;;) {
		size_t len = strcspn(p, ",");
		unsigned i;

		for (i = 0; release_bug_names[i]; i++)
			if (strlen(release_bug_names[i]) == len &&
			    strncmp(p, release_bug_names[i], len) == 0)
				break;
		if (release_bug_names[i])
			*bugs |= 1u << i;
		else
			rc = -1;
		if (p[len] == '\0')
			return rc;
		p += len + 1;
	}
}

static int agent_config_copy(char *dst, size_t cap, const char *value)
{
	size_t len = strlen(value);

	/* Values end up inside k=v event lines: an empty or spaced value would
	 * break the line format, and the command line has no spaces anyway. */
	if (len == 0 || len >= cap)
		return -1;
	memcpy(dst, value, len + 1);
	return 0;
}

static int agent_config_parse_bool(const char *value, bool *out)
{
	if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0)
		return -1;
	*out = value[0] == '1';
	return 0;
}

/* Applies one "key=value" word (key without the "vh." prefix). Returns 0 when
 * applied or not ours, -1 when the value is bad. */
static int agent_config_apply(struct agent_config *cfg, const char *key, const char *value)
{
	unsigned long ms;
	unsigned prefix;

	if (strcmp(key, "device") == 0)
		return agent_config_copy(cfg->device, sizeof(cfg->device), value);
	if (strcmp(key, "slot") == 0)
		return agent_config_copy(cfg->slot, sizeof(cfg->slot), value);
	if (strcmp(key, "iface") == 0)
		return agent_config_copy(cfg->iface, sizeof(cfg->iface), value);
	if (strcmp(key, "bootcount") == 0)
		return agent_config_parse_ulong(value, 1000000, &cfg->bootcount);
	if (strcmp(key, "net_wait_ms") == 0) {
		if (agent_config_parse_ulong(value, 600000, &ms) != 0)
			return -1;
		cfg->net_wait_ms = ms;
		return 0;
	}
	if (strcmp(key, "ip") == 0) {
		if (agent_config_parse_cidr(value, &cfg->ip, &prefix) != 0)
			return -1;
		cfg->prefix_len = prefix;
		cfg->has_ip = true;
		return 0;
	}
	if (strcmp(key, "server") == 0) {
		if (agent_config_parse_server(value, &cfg->server_ip, &cfg->server_port) != 0)
			return -1;
		cfg->has_server = true;
		return 0;
	}
	if (strcmp(key, "upgrade") == 0)
		return agent_config_parse_bool(value, &cfg->upgrade);
	if (strcmp(key, "snapshot") == 0)
		return agent_config_parse_bool(value, &cfg->snapshot);
	if (strcmp(key, "mac") == 0) {
		if (agent_config_parse_mac(value, cfg->mac) != 0)
			return -1;
		cfg->has_mac = true;
		return 0;
	}
	if (strcmp(key, "seed") == 0) {
		if (!wire_decimal_u64(value, strlen(value), &cfg->seed))
			return -1;
		cfg->has_seed = true;
		return 0;
	}
	if (strcmp(key, "rollback_from") == 0) {
		if (strcmp(value, "a") != 0 && strcmp(value, "b") != 0)
			return -1;
		return agent_config_copy(cfg->rollback_from, sizeof(cfg->rollback_from), value);
	}
	if (strcmp(key, "disk") == 0) {
		/* Only a device path: the agent appends 1/2 for the slots. */
		if (value[0] != '/')
			return -1;
		return agent_config_copy(cfg->disk, sizeof(cfg->disk), value);
	}
	if (strcmp(key, "gw") == 0) {
		if (inet_pton(AF_INET, value, &cfg->gw) != 1)
			return -1;
		cfg->has_gw = true;
		return 0;
	}
	return 0;
}

/* Remembers the first rejected key; the word starts at w. */
static void agent_config_note_bad(struct agent_config *cfg, const char *w)
{
	int key_len = (int)strcspn(w, "= \t\n");

	if (cfg->bad_key[0] == '\0')
		snprintf(cfg->bad_key, sizeof(cfg->bad_key), "%.*s",
			 key_len < AGENT_CONFIG_STR_MAX ? key_len : AGENT_CONFIG_STR_MAX - 1, w);
}

int agent_config_apply_release(struct agent_config *cfg, const struct release *r)
{
	snprintf(cfg->version, sizeof(cfg->version), "%s", r->version);
	return agent_config_parse_bugs(r->bugs, &cfg->bugs);
}

int agent_config_parse(struct agent_config *cfg, const char *cmdline)
{
	const char *p = cmdline;
	int rc = 0;

	while (*p != '\0') {
		char word[256];
		size_t len = strcspn(p, " \t\n");
		char *eq;

		if (len == 0) {
			p++;
			continue;
		}
		if (strncmp(p, "vh.", 3) == 0) {
			if (len >= sizeof(word)) {
				agent_config_note_bad(cfg, p);
				rc = -1;
			} else {
				memcpy(word, p, len);
				word[len] = '\0';
				eq = strchr(word, '=');
				if (eq != NULL) {
					*eq = '\0';
					if (agent_config_apply(cfg, word + 3, eq + 1) != 0) {
						agent_config_note_bad(cfg, p);
						rc = -1;
					}
				}
			}
		}
		p += len;
	}
	return rc;
}
