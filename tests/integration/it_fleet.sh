#!/usr/bin/env bash
# A fleet of four reference devices (vh.fleet), split into two groups by
# lan:partition { {f1, f2}, {f3, f4} }: pings from the guests' consoles
# cross inside a group, not between groups nor to the host, and cross
# everywhere again after heal(); vh.all and vh.count wait for them, and
# their failures list the devices that did not match, and a long vh.all
# still ends at the run's --timeout. Run on the user
# backend (the datapath's MAC allow-list) and on the kernel backend (nftables
# bridge rules in the run's namespace; VH_KERNEL_BACKEND_NO_PROBE=1, as this
# kernel has no sch_netem and a group partition needs none). Nothing is left
# behind on the host. The user-backend run has two boot slots
# (--boot-slots 2): a device's QEMU starts only while fewer than two others
# are between their start and their ready line ("vh-agent: net up").
. "$(dirname "$0")/lib.sh"
command -v nft >/dev/null || [ -x /usr/sbin/nft ] || fail "nft not installed (scripts/install-deps.sh)"
before=$("$HERE/host_net_snapshot.sh")
for backend in user kernel; do
	out=$WORK/$backend
	if [ "$backend" = kernel ]; then
		VH_KERNEL_BACKEND_NO_PROBE=1 run_vh "$backend" run "$SCENARIOS/fleet_partition.lua" \
			--backend kernel --artifacts "$out"
	else
		run_vh "$backend" run "$SCENARIOS/fleet_partition.lua" --backend user --artifacts "$out" \
			--boot-slots 2
	fi
	assert_exit "$backend" 0
	ev=$out/events.jsonl
	assert_contains "$ev" "\"impairment_backend\":\"$backend\""
	assert_contains "$ev" '"event":"fleet","n":4,"name":"f%d","stagger_ms":100'
	for d in f1 f2; do
		assert_contains "$ev" "\"event\":\"partition\",\"network\":\"lan\",\"device\":\"$d\",\"island\":1,\"island_devices\":\"f1,f2\",\"backend\":\"$backend\""
	done
	for d in f3 f4; do
		assert_contains "$ev" "\"event\":\"partition\",\"network\":\"lan\",\"device\":\"$d\",\"island\":2,\"island_devices\":\"f3,f4\",\"backend\":\"$backend\""
		assert_contains "$ev" "\"event\":\"heal\",\"network\":\"lan\",\"device\":\"$d\""
	done
	assert_contains "$ev" '"call":"vh.all","pattern":"PROBE%-split in=OK out=NO host=NO","result":"matched","matched":4,"need":4'
	assert_contains "$ev" '"call":"vh.count","pattern":"PROBE%-healed in=OK out=OK host=OK","result":"matched","matched":2,"need":2'
	assert_contains "$ev" '"call":"vh.all","pattern":"never%-printed","result":"failed","matched":0,"need":4'
	assert_contains "$ev" 'not matched: f1 (timed out), f2 (timed out), f3 (timed out), f4 (timed out)'
	for d in f1 f2 f3 f4; do
		grep -q 'PROBE-split in=OK out=NO host=NO' "$out/serial-$d.log" || fail "$backend: $d has no split probe line"
	done
	[ -z "$(vh_qemu_pids "$out")" ] || fail "$backend: QEMU left running"
done
# Two boot slots: when a device resumed, at most one other had resumed and
# not yet printed "net up" (the harness's receive times, on one clock).
assert_contains "$WORK/user/events.jsonl" '"boot_slots":2}'
sed -nE 's/^\{"t":([0-9.]+),"event":"power_on","device":"([^"]+)".*"gate_ms":([0-9]+).*/\1 \2 \3/p' \
	"$WORK/user/events.jsonl" >"$WORK/resumed"
while read -r t dev waited; do
	up=$(sed -nE 's/^\[ *([0-9.]+)\] vh-agent: net up.*/\1/p' "$WORK/user/serial-$dev.log" | head -1)
	[ -n "$up" ] || fail "boot slots: $dev never printed net up"
	echo "$t $up $dev $waited"
done <"$WORK/resumed" >"$WORK/booting"
cat "$WORK/booting"
awk '{ on[NR] = $1; up[NR] = $2; dev[NR] = $3 }
	END {
		for (i = 1; i <= NR; i++) {
			n = 0
			for (j = 1; j <= NR; j++)
				if (j != i && on[j] < on[i] && up[j] > on[i]) n++
			if (n > 1) { print dev[i] " resumed while " n " others were still booting"; bad = 1 }
		}
		exit bad
	}' "$WORK/booting" || fail "boot slots 2: more than two devices booted at once"
[ "$(awk '$4 > 0' "$WORK/booting" | wc -l)" -ge 2 ] || fail "boot slots 2: no device waited at the gate"
# A vh.all of 10 minutes still ends at the run's --timeout, naming its line.
start=$(date +%s)
run_vh timeout run "$SCENARIOS/fleet_run_timeout.lua" --timeout 25s --artifacts "$WORK/t"
took=$(($(date +%s) - start))
assert_exit timeout 1
assert_contains "$WORK/timeout.err" "fleet_run_timeout.lua:7: scenario did not finish within 25s (--timeout)"
[ "$took" -lt 40 ] || fail "a 25 s --timeout took ${took}s"
[ -z "$(vh_qemu_pids "$WORK/t")" ] || fail "timeout: QEMU left running"
# The user backend dropped the frames between groups into its dropped capture.
[ "$(stat -c %s "$WORK/user/lan-dropped.pcap")" -gt 24 ] || fail "user: nothing in lan-dropped.pcap"
after=$("$HERE/host_net_snapshot.sh")
[ "$before" = "$after" ] || fail "host namespace changed: $(diff <(echo "$before") <(echo "$after"))"
echo "ok: fleet partitions on both backends"
