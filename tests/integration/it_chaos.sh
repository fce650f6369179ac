#!/usr/bin/env bash
# Issue 8, item 8: killed at any moment, nothing lost. Ten seeded kills
# (SIGINT to the process group, SIGTERM or SIGKILL to vharness) of a
# two-device OTA run, from start-up to the reboot into the new slot; after
# each, scripts/chaos-kill checks that no process the run recorded survives,
# that the host namespace is unchanged and that the junit verdict says
# cancelled (or, for a kill before the artifacts directory, that there is
# none). Seed 99 draws every signal in several phases in about three minutes;
# scripts/chaos-kill -n 100 is the long version.
. "$(dirname "$0")/lib.sh"
"$HERE/../../scripts/chaos-kill" -n 10 --seed 99 --vharness "$VHARNESS" --work "$WORK/chaos" \
	"$SCENARIOS/chaos_ota.lua" || fail "a kill left something behind or no honest verdict (above)"
echo "ok: ten kills at random moments left nothing behind"
