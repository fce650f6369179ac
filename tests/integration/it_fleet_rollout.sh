#!/usr/bin/env bash
# scenarios/fleet_rollout.lua on ten devices (the default is 100), in two
# stages (10%, then 100%): the server offers 2.0.0 only to devices whose
# bucket is below the share in force (events.jsonl: every offer's bucket
# against the last publish/rollout before it) and holds the others back at
# their check-ins; after half the fleet was cut off mid-download and healed,
# the five come back spread by their backoff jitter (at most 4 in one
# second) and reconnects.txt shows the storm. Every device ends on 2.0.0
# from slot b. Then six devices with the planted bug no-backoff: the three
# healed ones come back as a herd, and the scenario says so.
. "$(dirname "$0")/lib.sh"
root=$(cd "$HERE/../.." && pwd)
out=$WORK/rollout
run_vh rollout run "$root/scenarios/fleet_rollout.lua" -D devices=10 --artifacts "$out"
assert_exit rollout 0
ev=$out/events.jsonl
[ -z "$(vh_qemu_pids "$out")" ] || fail "QEMU left running"
grep -qE '"event":"publish","server":"[0-9.:]+","version":"2.0.0","bugs":"","percent":"10"' "$ev" ||
	fail "no publish of 2.0.0 at 10%"
grep -qE '"event":"rollout","server":"[0-9.:]+","percent":"100"' "$ev" || fail "no rollout to 100%"

# Walk the events in order: the share in force, and each offer and
# held_back against it.
awk '
	/"event":"(publish|rollout)"/ { match($0, /"percent":"[0-9]+"/); share = substr($0, RSTART + 11, RLENGTH - 12) + 0 }
	/"event":"(offer|held_back)"/ {
		match($0, /"bucket":"[0-9]+"/); b = substr($0, RSTART + 10, RLENGTH - 11) + 0
		match($0, /"device":"[^"]*"/); d = substr($0, RSTART + 10, RLENGTH - 11)
		if ($0 ~ /"event":"offer"/ && b >= share) { print "offer to " d " (bucket " b ") at " share "%"; bad = 1 }
		if ($0 ~ /"event":"held_back"/ && b < share) { print d " (bucket " b ") held back at " share "%"; bad = 1 }
		if ($0 ~ /"event":"offer"/) offered[d] = 1; else held[d] = 1
	}
	END {
		for (d in offered) n++
		for (d in held) h++
		printf "offered to %d devices, held back %d\n", n, h
		exit bad || n != 10 || h < 8
	}' "$ev" >"$WORK/shares.txt" || fail "offers against the shares: $(cat "$WORK/shares.txt")"
cat "$WORK/shares.txt"
# d005 and d009 (buckets 4 and 3) are the 10% stage; the others wait.
for d in d001 d002 d003 d004 d006 d007 d008 d010; do
	grep -qE "\"event\":\"held_back\",\"server\":\"[0-9.:]+\",\"conn\":\"[0-9]+\",\"device\":\"$d\",\"version\":\"2.0.0\"" "$ev" ||
		fail "$d was never held back"
done
for d in d001 d002 d003 d004 d005 d006 d007 d008 d009 d010; do
	assert_contains "$out/serial-$d.log" "vh-agent: commit slot=b"
done
first_late=$(grep -nE '"event":"offer".*"device":"d0(0[1234678]|10)"' "$ev" | head -1 | cut -d: -f1)
rollout_at=$(grep -n '"event":"rollout"' "$ev" | head -1 | cut -d: -f1)
[ "$first_late" -gt "$rollout_at" ] || fail "a device outside the 10% was offered 2.0.0 before the rollout widened"

# The storm after the whole fleet was healed.
[ -f "$out/reconnects.txt" ] || fail "no reconnects.txt"
cat "$out/reconnects.txt"
conns=$(sed -nE 's/^heal of 5 devices on lan at [0-9.]+ s: ([0-9]+) connections.*/\1/p' "$out/reconnects.txt")
[ "${conns:-0}" -ge 5 ] || fail "reconnects.txt: no storm of 5 devices with a connection each"
assert_contains "$ev" '"event":"check","what":"the healed devices came back spread out: at most 4 of 5 in one second'
grep -o 'reconnections of 5 healed devices[^"]*' "$ev"

# no-backoff: the healed devices retry on the same clock and come back together.
# Their clock is their download timeout, which starts for all of them at the
# partition; each retry's timer fires a little late by its own amount under
# TCG on a loaded host, so the lockstep drifts apart over the cycles: at load
# 16, 20 s (six cycles) left one of three devices 1.3 s behind. 7 s is two.
# No random loss here: a lost SYN-ACK after the heal (0.5% a frame) makes its
# device retry its SYN 1 s later, out of the herd's second (seen once in a
# flake hunt, 2026-12-02).
run_vh herd run "$root/scenarios/fleet_rollout.lua" -D devices=6 -D stages=100 -D herd_share=0.8 \
	-D partition=7s -D "impair=delay 30ms 10ms" -D bugs=no-backoff --artifacts "$WORK/herd"
assert_exit herd 1
assert_contains "$WORK/herd.err" "check failed: the healed devices came back spread out: at most 2 of 3 in one second (got 3)"
[ -z "$(vh_qemu_pids "$WORK/herd")" ] || fail "herd: QEMU left running"
grep -o 'reconnections of 3 healed devices[^"]*' "$WORK/herd/events.jsonl"
echo "ok: staged rollout, held back devices, reconnect storm spread out; no-backoff's herd caught"
