#!/usr/bin/env bash
# Exit codes and messages: 1 for a failed expect (within its timeout, with the
# pattern, timeout and last serial lines), 2 for a syntax error naming
# file:line, 2 for API misuse, 2 for a missing image naming its path.
. "$(dirname "$0")/lib.sh"

start=$(date +%s)
run_vh timeout run "$SCENARIOS/expect_timeout.lua" --artifacts "$WORK/a1"
took=$(($(date +%s) - start))
assert_exit timeout 1
assert_contains "$WORK/timeout.err" 'expect_timeout.lua:5: expect "this line never appears" on dut: timed out (timeout 3s)'
assert_contains "$WORK/timeout.err" "last serial lines of dut:"
assert_contains "$WORK/timeout.err" "vh-agent: boot slot=a"
assert_contains "$WORK/a1/junit.xml" '<failure'
# The failure's body repeats the last serial lines (not only its message attribute).
[ "$(grep -c 'vh-agent: boot slot=a' "$WORK/a1/junit.xml")" -ge 2 ] || fail "junit.xml lost the serial lines"
# boot (about 2-4 s under TCG, 4 more for a first KVM probe) + 3 s timeout
[ "$took" -lt 25 ] || fail "a 3 s expect timeout took ${took}s to fail the run"

run_vh syntax run "$SCENARIOS/syntax_error.lua" --artifacts "$WORK/a2"
assert_exit syntax 2
assert_contains "$WORK/syntax.err" "syntax_error.lua:3:"

run_vh api run "$SCENARIOS/api_error.lua" --artifacts "$WORK/a3"
assert_exit api 2
assert_contains "$WORK/api.err" "api_error.lua:2:"
assert_contains "$WORK/api.err" "unknown field 'netwrok'"

run_vh noimage run "$SCENARIOS/expect_timeout.lua" --artifacts "$WORK/a4" --image-dir "$WORK/no-such-image"
assert_exit noimage 2
assert_contains "$WORK/noimage.err" "reference firmware image not found: $WORK/no-such-image/vmlinuz"
assert_contains "$WORK/noimage.err" "vharness image build"

# `image build`: a profile it cannot build is a usage error naming it; the
# Mender image, cached by the hash of its inputs, is up to date here (ctest
# built it), so building it again only checks that.
run_vh badprofile image build --profile nerves
assert_exit badprofile 2
assert_contains "$WORK/badprofile.err" "--profile takes reference, mender or rauc, not 'nerves'"
run_vh menderarm image build --profile mender --arch aarch64
assert_exit menderarm 2
assert_contains "$WORK/menderarm.err" "the Mender image is x86-64 only"
if [ "$(uname -m)" = x86_64 ]; then
	run_vh mender image build --profile mender
	assert_exit mender 0
	assert_contains "$WORK/mender.out" "image-mender"
fi

run_vh badspec run "$SCENARIOS/bad_spec.lua" --artifacts "$WORK/a5"
assert_exit badspec 2
assert_contains "$WORK/badspec.err" 'bad_spec.lua:4: netem: "lossy"'

run_vh check_ok check "$SCENARIOS/boot_pass.lua" "$SCENARIOS/two_devices.lua" \
	"$SCENARIOS/impair.lua" "$HERE"/../../scenarios/*.lua
assert_exit check_ok 0
run_vh check_bad check "$SCENARIOS/api_error.lua"
assert_exit check_bad 2
assert_contains "$WORK/check_bad.err" "api_error.lua:2:"

run_vh missing run "$WORK/nope.lua"
assert_exit missing 2
assert_contains "$WORK/missing.err" "nope.lua"
[ -z "$(vh_qemu_pids "$WORK"/a*)" ] || fail "QEMU left running"
echo "ok: exit codes 1 and 2 with their messages"
