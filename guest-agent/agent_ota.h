/* agent_ota: the agent's OTA loop (docs/ota-protocol.md): check-in with
 * heartbeat timeout and reconnect backoff, trial-boot commit or unhealthy
 * reboot, and on an offer: download into the inactive slot with Range
 * resume, read back and verify, fsync, flip the env, reboot. The I/O shell
 * around agent_http, agent_backoff, agent_update and the wire codecs. */
#ifndef VH_AGENT_OTA_H
#define VH_AGENT_OTA_H

#include <stdbool.h>

#include "agent_config.h"

/* Runs the OTA loop for cfg (cfg->has_server must be set); start_ms is the
 * agent's start on the monotonic clock (the trial boot's 20 s count from
 * it). Only when firmware is true does it write cfg->disk and reboot the
 * machine: run on a host without it, it checks in and downloads nothing,
 * and where it would reboot it prints the reboot line and returns. Never
 * returns otherwise. */
void agent_ota_run(const struct agent_config *cfg, bool firmware, unsigned long long start_ms);

/* Milliseconds on the monotonic clock. */
unsigned long long agent_ota_now_ms(void);

#endif
