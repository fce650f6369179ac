/* agent_snapshot: the guest side of a snapshot boot (wire/agent_event.h).
 * The harness boots one template machine with vh.snapshot=1 and no identity,
 * saves it at the snapshot point and restores it once per device; the
 * device's identity then arrives as a line on the console. */
#ifndef VH_AGENT_SNAPSHOT_H
#define VH_AGENT_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include "agent_config.h"

/* Waits for cfg->iface (not bringing it up), announces AGENT_SNAPSHOT_POINT
 * with the console's echo off, and blocks until the console brings a line
 * starting with AGENT_IDENTITY_PREFIX. Then the words after the prefix
 * replace cmdline (cap >= AGENT_CONFIG_CMDLINE_MAX bytes) and *cfg (parsed
 * from defaults again, as from a kernel command line), and vh.seed is mixed
 * into /dev/urandom. Without an identity (no console, EOF, a line too long)
 * it prints "snapshot identity missing errno=" and leaves both as they were.
 * Either way, with firmware it drops cfg->disk's cached blocks and re-reads
 * its partition table, printing "snapshot disk failed op= errno=" when that
 * fails. */
void agent_snapshot(struct agent_config *cfg, char *cmdline, size_t cap, bool firmware);

#endif
