#include "network.h"

#include "capture.h"
#include "capture_live.h"
#include "link.h"
#include "run.h"

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

struct vh_network *network_new(struct vh_run *run, const char *name, const char *subnet,
			       char *err, size_t errlen)
{
	if (!name_ok(name)) {
		snprintf(err, errlen, "network name '%s' must be 1-24 letters, digits, '-' or '_'", name);
		return NULL;
	}
	uint32_t net_be;
	int prefix;
	if (link_parse_cidr(subnet, &net_be, &prefix) < 0 || prefix < 8 || prefix > 29) {
		snprintf(err, errlen, "subnet '%s' is not an IPv4 network from /8 to /29 (e.g. 10.77.0.0/24)",
			 subnet);
		return NULL;
	}
	for (int i = 0; i < run->n_networks; i++) {
		if (!strcmp(run->networks[i]->name, name)) {
			snprintf(err, errlen, "a network named '%s' already exists", name);
			return NULL;
		}
	}
	struct vh_network *net = calloc(1, sizeof(*net));
	snprintf(net->name, sizeof(net->name), "%s", name);
	snprintf(net->subnet, sizeof(net->subnet), "%s", subnet);
	/* One bridge per network; the index keeps truncated names distinct. */
	snprintf(net->bridge, sizeof(net->bridge), "vhb%d-%.9s", run->n_networks, name);
	net->net_be = net_be;
	net->prefix = prefix;
	net->next_host = 2;
	if (!run->cfg.dry_run) {
		uint32_t host_be = htonl(ntohl(net_be) + 1);
		net->bridge_ifindex = link_bridge_create(run->links, net->bridge, host_be, prefix, err, errlen);
		if (net->bridge_ifindex < 0) {
			free(net);
			return NULL;
		}
		/* Every frame the datapaths deliver, and apart from them the ones
		 * they drop, so a capture shows what the device really saw. */
		char pcap[1024], dropped[1024];
		snprintf(pcap, sizeof(pcap), "%s/%s.pcap", run->cfg.artifacts_dir, name);
		snprintf(dropped, sizeof(dropped), "%s/%s-dropped.pcap", run->cfg.artifacts_dir, name);
		net->capture = capture_open(pcap, dropped, err, errlen);
		if (!net->capture) {
			free(net);
			return NULL;
		}
		/* The kernel backend drops in the kernel: -dropped.pcap stays empty. */
		if (run->backend == IMPAIRMENT_KERNEL) {
			net->live = capture_live_open(run->loop, net->bridge, net->capture, err, errlen);
			if (!net->live) {
				network_free(net);
				return NULL;
			}
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
	network_stop_capture(net);
	if (net && net->capture)
		capture_close(net->capture);
	free(net);
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

int network_next_ip(struct vh_network *net, char *out, size_t len)
{
	uint32_t hosts = (1u << (32 - net->prefix)) - 2; /* minus network and broadcast */
	if (net->next_host > hosts)
		return -1;
	format_host(net, net->next_host++, out, len);
	return 0;
}
