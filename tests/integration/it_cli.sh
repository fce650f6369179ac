#!/usr/bin/env bash
# CLI transcripts: help, usage errors, netem validation, doctor.
. "$(dirname "$0")/lib.sh"
run_vh help --help
assert_exit help 0
assert_contains "$WORK/help.out" "usage: vharness"
run_vh unknown frobnicate
assert_exit unknown 2
assert_contains "$WORK/unknown.err" "unknown command 'frobnicate'"
run_vh badopt run x.lua --accel warp
assert_exit badopt 2
assert_contains "$WORK/badopt.err" "--accel takes auto, tcg or kvm, not 'warp'"
run_vh netem_ok netem "delay 100ms 10ms loss 1%"
assert_exit netem_ok 0
assert_contains "$WORK/netem_ok.out" "delay 100ms 10ms loss 1%"
run_vh netem_bad netem "delay 100ms lossy 5%"
assert_exit netem_bad 2
assert_contains "$WORK/netem_bad.err" '"lossy"'
run_vh doctor doctor
assert_exit doctor 0
for what in "qemu x86_64:" "kvm:" "accel auto picks:" "tun:" "user namespaces:" "sch_netem:" "impairment auto:"; do
	assert_contains "$WORK/doctor.out" "$what"
done

# --backend: a bad value is a usage error; kernel needs sch_netem (unless
# VH_KERNEL_BACKEND_NO_PROBE=1, see it_kernel_plumbing.sh); auto and user run
# and say which backend they use and why, in events.jsonl and on stderr.
if unshare -rn tc qdisc add dev lo root netem delay 1ms 2>/dev/null; then host_netem=1; else host_netem=0; fi
run_vh badbackend run x.lua --backend bogus
assert_exit badbackend 2
assert_contains "$WORK/badbackend.err" "--backend takes auto, kernel or user, not 'bogus'"
assert_contains "$WORK/help.out" "--backend auto|kernel|user"
assert_contains "$WORK/help.out" "VH_KERNEL_BACKEND_NO_PROBE=1"
boot=$HERE/../../scenarios/boot.lua
if [ "$host_netem" = 0 ]; then
	assert_contains "$WORK/doctor.out" "impairment auto:  user (auto: sch_netem unavailable: "
	run_vh kernel run "$boot" --backend kernel --artifacts "$WORK/bk"
	assert_exit kernel 2
	assert_contains "$WORK/kernel.err" "--backend kernel: this kernel cannot create a netem qdisc (sch_netem: "
	assert_contains "$WORK/kernel.err" "use --backend user or auto"
	assert_contains "$WORK/bk/junit.xml" 'type="config"'
	auto_backend=user auto_why="auto: sch_netem unavailable: "
else
	echo "note: this kernel has sch_netem; --backend kernel is not refused here"
	auto_backend=kernel auto_why="auto: sch_netem loads"
fi
run_vh auto run "$boot" --backend auto --artifacts "$WORK/ba"
assert_exit auto 0
assert_contains "$WORK/ba/events.jsonl" "\"impairment_backend\":\"$auto_backend\",\"impairment_backend_why\":\"$auto_why"
assert_contains "$WORK/auto.err" "boot.lua: impairment backend $auto_backend ($auto_why"
run_vh user run "$boot" --backend user --artifacts "$WORK/bu"
assert_exit user 0
assert_contains "$WORK/bu/events.jsonl" '"impairment_backend":"user","impairment_backend_why":"--backend user"'
assert_contains "$WORK/user.err" "boot.lua: impairment backend user (--backend user)"
[ -z "$(vh_qemu_pids "$WORK"/b?)" ] || fail "QEMU left running"
echo "ok: CLI transcripts"
