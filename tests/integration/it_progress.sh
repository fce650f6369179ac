#!/usr/bin/env bash
# Live progress of a run (issue 13 §3), on a real guest boot, four ways:
# - on a terminal (a pseudo-terminal from util-linux's script): a block on
#   stderr with the device's power, slot and version and the scenario's
#   file:line, redrawn in place, in colour;
# - the same with NO_COLOR=1: still redrawn, no SGR colour codes;
# - without a terminal: one plain line per significant event (power on,
#   boot, expect, verdict) and not one escape byte; a failed expect is told
#   at once with the device's last lines, before the verdict;
# - with -q: the verdict only.
. "$(dirname "$0")/lib.sh"
command -v script >/dev/null || vh_skip "no script (util-linux) for a pseudo-terminal"
ESC=$'\033'

# script -e: the run's exit code; -f: every write as it comes. stdout and
# stderr share the terminal, as they do for a person.
on_tty() { # NAME ARGS...: vharness on a pseudo-terminal; output in $WORK/NAME.tty
	local name=$1
	shift
	local rc=0 cmd
	cmd=$(printf '%q ' "$VHARNESS" "$@")
	TERM=xterm script -qfec "$cmd" /dev/null >"$WORK/$name.tty" 2>&1 </dev/null || rc=$?
	echo "$rc" >"$WORK/$name.rc"
	echo "--- (pty) vharness $* -> exit $rc"
}

# 1. A terminal: the block is drawn and redrawn.
(unset NO_COLOR && on_tty tty run "$SCENARIOS/pass_after_boot.lua" --artifacts "$WORK/t")
assert_exit tty 0
tty=$WORK/tty.tty
# The device's line with its slot and version, once the agent's boot line came.
grep -aqE "^  dut  .*on.* boot 1 +slot a  1\.0\.0 " <(sed "s/$ESC\[[0-9;]*m//g" "$tty") ||
	fail "no device line with slot a and version 1.0.0: $(tail -c 600 "$tty" | cat -v)"
# The scenario's file:line in the header: the expect (line 7) or the sleep (8).
grep -aqE "vharness.* [^ ]*pass_after_boot\.lua:[78]  [0-9]+\.[0-9]s" "$tty" ||
	fail "no header with the scenario's file:line: $(head -c 600 "$tty" | cat -v)"
# Redrawn in place: the cursor goes back up over the two lines, many times.
redraws=$(grep -aoF "${ESC}[2A" "$tty" | wc -l)
[ "$redraws" -ge 5 ] || fail "the block was redrawn $redraws times"
grep -aqF "${ESC}[32mon" "$tty" || fail "no colour on a terminal"
assert_contains "$tty" "pass_after_boot.lua: PASS in "

# 2. NO_COLOR: the same block, without colour codes.
NO_COLOR=1 on_tty nocolor run "$SCENARIOS/pass_after_boot.lua" --artifacts "$WORK/n"
assert_exit nocolor 0
! grep -aqE "$ESC\[[0-9;]*m" "$WORK/nocolor.tty" || fail "NO_COLOR=1 and yet SGR codes"
grep -aqF "${ESC}[2A" "$WORK/nocolor.tty" || fail "NO_COLOR=1 and no redraws"
grep -aqE "^  dut  on +boot 1 +slot a  1\.0\.0 " "$WORK/nocolor.tty" ||
	fail "NO_COLOR=1: no device line: $(tail -c 600 "$WORK/nocolor.tty" | cat -v)"

# 3. No terminal: plain lines, no escape bytes.
run_vh plain run "$SCENARIOS/pass_after_boot.lua" --artifacts "$WORK/p"
assert_exit plain 0
err=$WORK/plain.err
grep -qE '^\[ +[0-9]+\.[0-9]{3}\] dut: power on \(boot 1\)$' "$err" || fail "no power-on line"
grep -qE '^\[ +[0-9]+\.[0-9]{3}\] dut: boot slot=a version=1\.0\.0 bootcount=0$' "$err" ||
	fail "no boot line"
grep -qE '^\[ +[0-9]+\.[0-9]{3}\] dut: expect "vh%-agent: boot" matched after ' "$err" ||
	fail "no expect line"
grep -qE '^\[ +[0-9]+\.[0-9]{3}\] verdict PASS$' "$err" || fail "no verdict line"
! grep -q "$ESC" "$WORK/plain.err" "$WORK/plain.out" || fail "escape bytes without a terminal"
# The verdict's own line is as it was, on stdout for a pass.
grep -qE '^vharness: [^ ]*pass_after_boot\.lua: PASS in [0-9.]+s \(seed [0-9]+, artifacts ' \
	"$WORK/plain.out" || fail "the verdict line changed: $(cat "$WORK/plain.out")"

# A failed expect: told at once, with the device's last lines, before the
# verdict (which then gives the last 20 as before).
run_vh failed run "$SCENARIOS/expect_timeout.lua" --artifacts "$WORK/f"
assert_exit failed 1
err=$WORK/failed.err
note=$(grep -nE '^\[ +[0-9.]+\] dut: expect "this line never appears" FAILED after 3\.0s: timed out \(at [^ ]*expect_timeout\.lua:5\)$' "$err" | cut -d: -f1)
[ -n "$note" ] || fail "no failed-expect line"
verdict=$(grep -n 'expect_timeout.lua: FAIL in ' "$err" | cut -d: -f1)
[ -n "$verdict" ] || fail "no verdict line"
[ "$note" -lt "$verdict" ] || fail "the failed expect was not told before the verdict"
sed -n "$((note + 1))p" "$err" | grep -qE '^    dut \| .' || fail "the failed expect has no context lines"
assert_contains "$err" "    dut | vh-agent: boot slot=a"
! grep -q "$ESC" "$err" || fail "escape bytes without a terminal"

# 4. -q: the verdict only (a pass's on stdout), nothing on stderr.
run_vh quiet run -q "$SCENARIOS/pass_after_boot.lua" --artifacts "$WORK/q"
assert_exit quiet 0
[ ! -s "$WORK/quiet.err" ] || fail "-q and yet stderr: $(cat "$WORK/quiet.err")"
[ "$(wc -l <"$WORK/quiet.out")" = 1 ] || fail "-q: stdout is not one line: $(cat "$WORK/quiet.out")"
assert_contains "$WORK/quiet.out" "pass_after_boot.lua: PASS in "
run_vh quietfail run -q "$SCENARIOS/expect_timeout.lua" --artifacts "$WORK/qf"
assert_exit quietfail 1
head -1 "$WORK/quietfail.err" | grep -q 'expect_timeout.lua: FAIL in ' ||
	fail "-q: a failure's stderr does not start with its verdict: $(head -3 "$WORK/quietfail.err")"
assert_not_contains "$WORK/quietfail.err" "FAILED after"
[ ! -s "$WORK/quietfail.out" ] || fail "-q: a failure wrote to stdout"

[ -z "$(vh_qemu_pids "$WORK"/?)" ] || fail "QEMU left running"
echo "ok: progress (a redrawn block on a terminal, NO_COLOR, plain lines, a failed expect at once, -q)"
