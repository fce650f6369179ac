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
echo "ok: CLI transcripts"
