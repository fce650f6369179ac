#include "network.h"

#include "bridge_partition.h"
#include "capture.h"
#include "capture_live.h"
#include "link.h"
#include "nic.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int name_ok(const char *name)
{
	if (!*name || strlen(name) > 24)
		return 0;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return 0;
	return 1;
}

struct vh_network *network_new(const struct network_config *cfg, char *err, size_t errlen)
{
	if (!name_ok(cfg->name)) {
		snprintf(err, errlen, "network name '%s' must be 1-24 letters, digits, '-' or '_'",
			 cfg->name);
		return NULL;
	}
	uint32_t net_be;
	int prefix;
	if (link_parse_cidr(cfg->subnet, &net_be, &prefix) < 0 || prefix < 8 || prefix > 29) {
		snprintf(err, errlen,
			 "subnet '%s' is not an IPv4 network from /8 to /29 (e.g. 10.77.0.0/24)",
			 cfg->subnet);
		return NULL;
	}
	struct vh_network *net = calloc(1, sizeof(*net));
	if (!net) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	net->cfg = *cfg;
	net->cfg.name = net->name;
	net->cfg.subnet = net->subnet;
	net->cfg.artifacts_dir = NULL; /* only whether it was set matters below */
	snprintf(net->name, sizeof(net->name), "%s", cfg->name);
	snprintf(net->subnet, sizeof(net->subnet), "%s", cfg->subnet);
	/* One bridge per network; the index keeps truncated names distinct. */
	snprintf(net->bridge, sizeof(net->bridge), "vhb%d-%.9s", cfg->index, cfg->name);
	net->net_be = net_be;
	net->prefix = prefix;
	net->next_host = 2;
	net->bridge_ifindex = -1;
	if (!cfg->artifacts_dir)
		return net;
	uint32_t host_be = htonl(ntohl(net_be) + 1);
	net->bridge_ifindex =
		link_bridge_create(cfg->links, net->bridge, host_be, prefix, err, errlen);
	if (net->bridge_ifindex < 0) {
		free(net);
		return NULL;
	}
	/* Every frame the datapaths deliver, and apart from them the ones they
	 * drop, so a capture shows what the device really saw. */
	char pcap[1024], dropped[1024];
	snprintf(pcap, sizeof(pcap), "%s/%s.pcap", cfg->artifacts_dir, cfg->name);
	snprintf(dropped, sizeof(dropped), "%s/%s-dropped.pcap", cfg->artifacts_dir, cfg->name);
	net->capture = capture_open(pcap, dropped, err, errlen);
	if (!net->capture) {
		network_free(net);
		return NULL;
	}
	/* The kernel backend drops in the kernel: -dropped.pcap stays empty. */
	if (cfg->backend == IMPAIRMENT_KERNEL) {
		net->live = capture_live_open(cfg->loop, net->bridge, net->capture, err, errlen);
		if (!net->live) {
			network_free(net);
			return NULL;
		}
	}
	return net;
}

void network_stop_capture(struct vh_network *net)
{
	if (net && net->live) {
		capture_live_close(net->live);
		net->live = NULL;
	}
}

void network_free(struct vh_network *net)
{
	if (!net)
		return;
	for (int i = 0; i < net->n_members; i++) {
		nic_free(net->members[i]->nic);
		free(net->members[i]);
	}
	free(net->members);
	free(net->islands);
	network_stop_capture(net); /* while the bridge still exists */
	if (net->capture)
		capture_close(net->capture);
	if (net->bridge_ifindex > 0)
		link_delete(net->cfg.links, net->bridge, NULL, 0);
	free(net);
}

bool network_overlaps(const struct vh_network *a, const struct vh_network *b)
{
	/* Two prefixes overlap when one contains the other: compare under the
	 * shorter mask. */
	int shorter = a->prefix < b->prefix ? a->prefix : b->prefix;
	uint32_t mask = shorter ? ~0u << (32 - shorter) : 0;
	return (ntohl(a->net_be) & mask) == (ntohl(b->net_be) & mask);
}

static void format_host(const struct vh_network *net, uint32_t host, char *out, size_t len)
{
	struct in_addr a = { .s_addr = htonl(ntohl(net->net_be) + host) };
	inet_ntop(AF_INET, &a, out, (socklen_t)len);
}

void network_host_ip(const struct vh_network *net, char *out, size_t len)
{
	format_host(net, 1, out, len);
}

struct network_member *network_join(struct vh_network *net, const char *device, int index,
				    char *err, size_t errlen)
{
	uint32_t hosts = (1u << (32 - net->prefix)) - 2; /* minus network and broadcast */
	if (net->next_host > hosts) {
		snprintf(err, errlen, "network '%s' (%s) has no address left for '%s'", net->name,
			 net->subnet, device);
		return NULL;
	}
	struct network_member *m = calloc(1, sizeof(*m));
	struct network_member **grown =
		realloc(net->members, (size_t)(net->n_members + 1) * sizeof(*grown));
	if (!m || !grown) {
		free(m);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	net->members = grown;
	m->net = net;
	snprintf(m->device, sizeof(m->device), "%s", device);
	snprintf(m->tap, sizeof(m->tap), "vht%d-%.9s", index, device);
	snprintf(m->ifb, sizeof(m->ifb), "vhi%d-%.9s", index, device);
	if (net->bridge_ifindex > 0) {
		struct nic_config nc = {
			.loop = net->cfg.loop,
			.links = net->cfg.links,
			.backend = net->cfg.backend,
			.bridge_ifindex = net->bridge_ifindex,
			.tap = m->tap,
			.ifb = m->ifb,
			.seed = net->cfg.seed,
			.link_id = (uint32_t)index,
			.capture = net->capture,
		};
		m->nic = nic_new(&nc, err, errlen);
		if (!m->nic) {
			free(m);
			return NULL;
		}
	}
	format_host(net, net->next_host++, m->ip, sizeof(m->ip));
	net->members[net->n_members++] = m;
	return m;
}

int network_member_block(struct network_member *m, bool blocked, char *err, size_t errlen)
{
	if (m->nic && nic_set_blocked(m->nic, blocked, err, errlen) < 0)
		return -1;
	m->partitioned = blocked;
	return 0;
}

uint32_t network_new_island(struct vh_network *net)
{
	return ++net->next_island;
}

int network_member_set_island(struct network_member *m, uint32_t island, const char *mac)
{
	if (peer_filter_parse_mac(mac, m->mac) < 0)
		return -1;
	m->island = island;
	return 0;
}

/* Kernel backend: the islands' taps as bridge_partition wants them. */
static int apply_bridge_rules(struct vh_network *net, char *err, size_t errlen)
{
	int n = net->n_members;
	struct bridge_island *islands = calloc((size_t)n + 1, sizeof(*islands));
	const char **ports = calloc((size_t)n + 1, sizeof(*ports));
	if (!islands || !ports) {
		free(islands);
		free(ports);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* Members grouped by island, each island's ports side by side. */
	size_t n_islands = 0, used = 0;
	for (uint32_t id = 1; id <= net->next_island; id++) {
		size_t first = used;
		for (int i = 0; i < n; i++)
			if (net->members[i]->island == id)
				ports[used++] = net->members[i]->tap;
		if (used > first)
			islands[n_islands++] =
				(struct bridge_island){ ports + first, used - first };
	}
	int rc = bridge_partition_apply(net->bridge, islands, n_islands, err, errlen);
	free(islands);
	free(ports);
	return rc;
}

int network_apply_islands(struct vh_network *net, char *err, size_t errlen)
{
	size_t n = 0;
	for (int i = 0; i < net->n_members; i++)
		n += net->members[i]->island != 0;
	struct peer_filter_entry *entries = n ? calloc(n, sizeof(*entries)) : NULL;
	if (n && !entries) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (int i = 0, k = 0; i < net->n_members; i++) {
		struct network_member *m = net->members[i];
		if (!m->island)
			continue;
		memcpy(entries[k].mac, m->mac, 6);
		entries[k++].group = m->island;
	}
	if (net->bridge_ifindex > 0 && net->cfg.backend == IMPAIRMENT_KERNEL &&
	    apply_bridge_rules(net, err, errlen) < 0) {
		free(entries);
		return -1;
	}
	/* Every datapath reads the new map before the old one is freed. */
	net->island_filter = (struct peer_filter){ .entries = entries, .n = n };
	for (int i = 0; i < net->n_members; i++) {
		struct network_member *m = net->members[i];
		if (m->nic)
			nic_set_peers(m->nic, n ? &net->island_filter : NULL, m->island);
	}
	free(net->islands);
	net->islands = entries;
	if (!n)
		net->next_island = 0;
	return 0;
}
