#!/usr/bin/env bash
# report.html in a real browser: a real failing run (the reference guest
# boots on a network, pings the host, prints a line that would be markup,
# an expect times out) leaves
# report.html and trace.json; headless Chromium renders the page, and the
# rendered DOM has the device's lane, its boot marker, the failed expect
# with its message, the line the scenario marked, and the hostile serial
# line as text only. Also
# `vharness report DIR`'s usage errors and a rewrite.
. "$(dirname "$0")/lib.sh"
chromium=$(command -v chromium || command -v chromium-browser || true)
[ -n "$chromium" ] || vh_skip "no chromium (scripts/install-deps.sh installs it)"
out=$WORK/run
run_vh run run "$SCENARIOS/report_failed.lua" --artifacts "$out"
assert_exit run 1
for f in report.html trace.json events.jsonl serial-dut.log; do
	[ -s "$out/$f" ] || fail "artifact $f missing"
done
assert_contains "$out/trace.json" '"traceEvents":['
assert_contains "$out/trace.json" '"ph":"X"'
assert_contains "$out/trace.json" '"cat":"expect,failed"'

# Rendered by a real browser, scripts run, as a user opening the file.
render() { # HTML DOM_OUT
	timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --no-first-run \
		--user-data-dir="$WORK/chromium" --dump-dom "file://$1" >"$2" 2>"$WORK/chromium.err" ||
		fail "chromium could not render $1: $(tail -5 "$WORK/chromium.err")"
}
start_ms=$(($(date +%s%N) / 1000000))
render "$out/report.html" "$WORK/dom.html"
echo "rendered in $(($(date +%s%N) / 1000000 - start_ms)) ms; report.html $(stat -c %s "$out/report.html") bytes"
dom=$WORK/dom.html
# The page's script ran to its end (it records how long drawing took).
grep -q '<body data-parse-ms="[0-9]*" data-draw-ms="[0-9]*">' "$dom" || fail "the page's script did not finish"
assert_contains "$dom" 'class="lane device has-failure" data-lane="device:dut"'
assert_contains "$dom" 'class="mk boot" data-i='
assert_contains "$dom" 'class="mk power" data-i='
assert_contains "$dom" 'class="mk expect failed" data-i='
# The line the scenario marked (dut:mark), on the device's lane.
assert_contains "$out/events.jsonl" '"event":"mark","device":"dut","label":"ping","line":"3 packets transmitted, '
assert_contains "$dom" 'class="mk mark" data-i='
# The pings, from the network's capture: traffic bars with frames both ways.
grep -q 'class="tr"[^>]*title="[0-9]*-[0-9]* s: to the device [1-9][0-9]* frames, [0-9]* bytes; from it [1-9]' "$dom" ||
	fail "no traffic bar with frames to and from the device"
assert_contains "$out/trace.json" '"name":"traffic bytes/s","ph":"C"'
# The failure, with its message (file:line) and the serial lines before it.
assert_contains "$dom" 'class="failure" data-lane="device:dut"'
assert_contains "$dom" 'report_failed.lua:16: expect "this line never appears" on dut: timed out'
assert_contains "$dom" 'packets transmitted, '
assert_contains "$dom" 'class="verdict FAIL" id="verdict">FAIL<'
# The guest's line is text wherever it appears: no element made of it, no
# script of it ran.
assert_contains "$dom" '&lt;/script&gt;&lt;img src=x onerror=document.title=1337&gt;</div>'
assert_not_contains "$dom" '<img'
assert_not_contains "$dom" '<title>1337'
[ "$(grep -o '<script' "$dom" | wc -l)" = 2 ] || fail "the page has scripts it did not bring"

# A marker's details and the serial log at its moment, as a click opens them
# (report.html#m=N is that click as a link).
i=$(grep -o 'class="mk expect failed" data-i="[0-9]*"' "$dom" | grep -o '[0-9]*"$' | tr -d '"')
[ -n "$i" ] || fail "no data-i on the failed expect's marker"
render "$out/report.html#m=$i" "$WORK/moment.html"
assert_contains "$WORK/moment.html" '<div id="detail" class="">'
assert_contains "$WORK/moment.html" '<td>pattern</td><td>this line never appears</td>'
assert_contains "$WORK/moment.html" '<section id="serial" class="">'
grep -q '<div class="at" id="serial-line-[0-9]*"><span class="ts">\[[0-9.]*\]</span>vh# </div>' \
	"$WORK/moment.html" || fail "the serial log is not opened at the failure's last line"

# vharness report rewrites both from the artifacts; bad directories are
# usage errors that say what is missing.
rm "$out/report.html" "$out/trace.json"
run_vh again report "$out"
assert_exit again 0
for f in report.html trace.json; do [ -s "$out/$f" ] || fail "vharness report did not write $f"; done
run_vh none report "$WORK/no-such-dir"
assert_exit none 2
assert_contains "$WORK/none.err" "no-such-dir: No such file or directory"
mkdir "$WORK/empty"
run_vh empty report "$WORK/empty"
assert_exit empty 2
assert_contains "$WORK/empty.err" "is not a run's artifacts directory"
assert_contains "$WORK/empty.err" "events.jsonl"
run_vh bare report
assert_exit bare 2
run_vh help report --help
assert_exit help 0
assert_contains "$WORK/help.out" "usage: vharness report DIR"
[ -z "$(vh_qemu_pids "$out")" ] || fail "QEMU left running: $(vh_qemu_pids "$out")"
echo "ok: report.html renders lanes, boot, the failure and its message; hostile lines stay text"
