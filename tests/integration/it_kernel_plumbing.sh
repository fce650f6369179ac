#!/usr/bin/env bash
# The kernel backend without sch_netem (VH_KERNEL_BACKEND_NO_PROBE=1 --backend
# kernel): the guest gets its address and traffic flows both ways through its
# tap and IFB (ping and TCP from the guest, TCP from the host side into it,
# ping again after a reset gives the tap to a new QEMU);
# the tap's ingress goes to the IFB; the bridge's live capture holds frames;
# impair() then fails with exit 2 naming netem's absence and the scenario's
# line; nothing is left behind.
. "$(dirname "$0")/lib.sh"

# Records in a classic pcap file: tcpdump when installed, else the headers.
pcap_frames() { # FILE
	if command -v tcpdump >/dev/null; then
		tcpdump -r "$1" 2>/dev/null | wc -l
		return
	fi
	local size off=24 n=0 len
	size=$(stat -c %s "$1")
	while [ $((off + 16)) -le "$size" ]; do
		len=$(od -An -tu4 -j $((off + 8)) -N 4 "$1" | tr -d ' ')
		off=$((off + 16 + len))
		n=$((n + 1))
	done
	echo "$n"
}

before=$("$HERE/host_net_snapshot.sh")
out=$WORK/k
VH_KERNEL_BACKEND_NO_PROBE=1 "$VHARNESS" run "$SCENARIOS/kernel_plumbing.lua" --backend kernel \
	--artifacts "$out" >"$WORK/run.out" 2>"$WORK/run.err" &
vh=$!
# Wait until the guest listens (the scenario sent the nc command), then look
# at the run's namespace from outside and connect to the guest.
for _ in $(seq 300); do
	grep -q '"text":"nc -l -p 7777' "$out/events.jsonl" 2>/dev/null && break
	kill -0 "$vh" 2>/dev/null || break
	sleep 0.1
done
runpid=$(grep -o '"event":"run_start".*"pid":[0-9]*' "$out/events.jsonl" | grep -o '[0-9]*$')
[ -n "$runpid" ] || { cat "$WORK/run.err"; fail "no run_start pid in events.jsonl"; }
nsenter -t "$runpid" -n ip -o link show >"$WORK/links.txt"
nsenter -t "$runpid" -n tc filter show dev vht0-dut ingress >"$WORK/filter.txt" 2>&1
# timeout: once the guest's nc has printed the line the run ends, and a
# connection whose far end vanished with QEMU would keep our nc waiting.
for _ in $(seq 20); do
	echo host-reached-guest | timeout 3 nsenter -t "$runpid" -n busybox nc 10.77.0.2 7777 >/dev/null 2>&1
	grep -q '"pattern":"host%-reached%-guest","result":"matched"' "$out/events.jsonl" && break
	kill -0 "$vh" 2>/dev/null || break
	sleep 0.5
done
rc=0
wait "$vh" || rc=$?
cat "$WORK/run.out" "$WORK/run.err"
sed 's/^/  links | /' "$WORK/links.txt"
sed 's/^/  filter | /' "$WORK/filter.txt"

# The plumbing: the tap on the bridge (QEMU attached to it), the IFB, the redirect.
grep -q 'vht0-dut: .* master vhb0-lan' "$WORK/links.txt" || fail "tap vht0-dut is not on the bridge"
grep -q 'vhi0-dut: ' "$WORK/links.txt" || fail "no IFB vhi0-dut"
assert_contains "$WORK/filter.txt" "mirred"
assert_contains "$WORK/filter.txt" "vhi0-dut"

assert_exit_code() { [ "$rc" = "$1" ] || fail "exit $rc, expected $1"; }
assert_exit_code 2
assert_contains "$WORK/run.err" "impairment backend kernel (--backend kernel, not probed: VH_KERNEL_BACKEND_NO_PROBE=1)"
assert_contains "$out/events.jsonl" '"impairment_backend":"kernel","impairment_backend_why":"--backend kernel, not probed: VH_KERNEL_BACKEND_NO_PROBE=1"'
assert_contains "$out/events.jsonl" '"event":"device","device":"dut","ip":"10.77.0.2","tap":"vht0-dut","ifb":"vhi0-dut"'
assert_contains "$out/events.jsonl" '"pattern":"host%-reached%-guest","result":"matched"'
assert_contains "$out/events.jsonl" '"event":"power_on","device":"dut","boot":2'
assert_contains "$out/events.jsonl" '"pattern":"1 packets received","result":"matched"'
assert_contains "$WORK/run.err" "kernel_plumbing.lua:36: impair dut:"
assert_contains "$WORK/run.err" "Specified qdisc kind is unknown"
# The tc path's error (caught in the scenario) quotes the kernel.
assert_contains "$out/events.jsonl" '"what":"tc names the missing qdisc kind","result":"pass"'
grep -o '"message":"tc path: [^"]*"' "$out/events.jsonl"
assert_not_contains "$out/events.jsonl" '"event":"impair"'

frames=$(pcap_frames "$out/lan.pcap")
echo "lan.pcap: $frames frames"
[ "$(head -c 4 "$out/lan.pcap" | od -An -tx1 | tr -d ' ')" = d4c3b2a1 ] || fail "lan.pcap is not a pcap file"
# ARP, 3 pings and replies, the check-in's TCP and the host's nc: dozens.
[ "$frames" -ge 10 ] || fail "lan.pcap holds $frames frames"
[ "$(stat -c %s "$out/lan-dropped.pcap")" = 24 ] || fail "lan-dropped.pcap is not empty on the kernel backend"

after=$("$HERE/host_net_snapshot.sh")
[ "$before" = "$after" ] || fail "host namespace changed: $(diff <(echo "$before") <(echo "$after"))"
[ -z "$(vh_qemu_pids "$out")" ] || fail "QEMU left running: $(vh_qemu_pids "$out")"
[ ! -e "/proc/$runpid" ] || fail "the run's process (and its namespace with the tap and IFB) is still there"
echo "ok: kernel backend plumbing"
