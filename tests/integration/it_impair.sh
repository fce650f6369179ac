#!/usr/bin/env bash
# The user backend applies netem specs to a real guest's traffic: ping RTT
# under `delay 100ms` both ways lands within 10% of 200 ms; partition, heal
# and clear work; the network capture is a pcap libpcap can read.
. "$(dirname "$0")/lib.sh"
run_vh impair run "$SCENARIOS/impair.lua" --artifacts "$WORK/i"
assert_exit impair 0
assert_contains "$WORK/i/events.jsonl" '"event":"impair","network":"lan","device":"dut","direction":"both","spec":"delay 100ms"'
assert_contains "$WORK/i/events.jsonl" '"event":"partition"'
[ "$(head -c 4 "$WORK/i/lan.pcap" | od -An -tx1 | tr -d ' ')" = d4c3b2a1 ] || fail "lan.pcap is not a pcap file"
[ "$(stat -c %s "$WORK/i/lan.pcap")" -gt 1000 ] || fail "lan.pcap holds no traffic"
[ "$(stat -c %s "$WORK/i/lan-dropped.pcap")" -gt 24 ] || fail "the partition dropped nothing into lan-dropped.pcap"
grep -o '"message":"rtt [^"]*"' "$WORK/i/events.jsonl"
[ -z "$(vh_qemu_pids "$WORK/i")" ] || fail "QEMU left running"
echo "ok: impairments"
