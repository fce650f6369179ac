#!/usr/bin/env bash
# The chosen configuration boots 30 times in a row without a hang.
. "$(dirname "$0")/lib.sh"
run_vh boot30 run "$SCENARIOS/boot_30.lua" --artifacts "$WORK/b"
assert_exit boot30 0
n=$(grep -c '"event":"power_on"' "$WORK/b/events.jsonl")
[ "$n" = 30 ] || fail "$n power-ons, expected 30"
n=$(grep -c '"pattern":"vh%-agent: net up","result":"matched"' "$WORK/b/events.jsonl")
[ "$n" = 30 ] || fail "$n boots reached net up, expected 30"
# Boot-to-net-up seconds, for the log.
grep -o '"pattern":"vh%-agent: net up","result":"matched","seconds":[0-9.]*' "$WORK/b/events.jsonl" |
	grep -o '[0-9.]*$' | sort -n | awk '{a[NR]=$1} END {printf "boot to net up: min %s median %s max %s (n=%d)\n", a[1], a[int((NR+1)/2)], a[NR], NR}'
echo "ok: 30 boots"
