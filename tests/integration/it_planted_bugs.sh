#!/usr/bin/env bash
# Each planted bug in the reference firmware makes a shipped scenario fail,
# and its artifacts show why. Every bugged run sits next to a clean run of
# the same scenario with the same --seed (the same impairment decisions);
# the test asserts the mechanism from what differs between the two
# (events.jsonl, serial-dut.log, disk-dut.img), not only the failure
# message. One clean run per scenario serves all the bugs it catches.
#   it_planted_bugs.sh [power_cut_sweep|flaky_ota|rollback_bad_image]...
# ctest runs one scenario's group per test; no argument runs all three.
. "$(dirname "$0")/lib.sh"
. "$HERE/evidence.sh"
root=$(cd "$HERE/../.." && pwd)
SEED=20261201
cd "$WORK" || exit 1

# run_scenario NAME SCENARIO [BUGS]: one run with the shared seed, artifacts
# in $WORK/NAME (unless ahead ran it); nothing may be left running.
run_scenario() {
	[ -f "$WORK/$1.rc" ] ||
		run_vh "$1" run "$root/scenarios/$2.lua" --seed "$SEED" --artifacts "$WORK/$1" ${3:+-D "bugs=$3"}
	[ -z "$(vh_qemu_pids "$WORK/$1")" ] || fail "QEMU left running for $1"
	assert_contains "$WORK/$1/events.jsonl" "\"event\":\"run_start\",\"scenario\":\"$root/scenarios/$2.lua\",\"seed\":$SEED,"
}

# ahead SCENARIO CLEAN_NAME BUGS...: a group's runs, AHEAD at once in the
# background (each run has one guest; two share the two cores of a CI
# machine), before its checks read them in order. The seed fixes every
# impairment decision, so the verdicts do not depend on the company.
AHEAD=${VH_PLANTED_BUGS_JOBS:-2}
ahead() {
	local scenario=$1 clean=$2 bug
	shift 2
	for bug in "" "$@"; do
		while [ "$(jobs -rp | wc -l)" -ge "$AHEAD" ]; do wait -n || true; done
		if [ -z "$bug" ]; then
			run_vh "$clean" run "$root/scenarios/$scenario.lua" --seed "$SEED" --artifacts "$WORK/$clean" >"$WORK/$clean.log" &
		else
			run_vh "$bug" run "$root/scenarios/$scenario.lua" --seed "$SEED" --artifacts "$WORK/$bug" -D "bugs=$bug" >"$WORK/$bug.log" &
		fi
	done
	wait
	for bug in "$clean" "$@"; do cat "$WORK/$bug.log"; done
}

# caught NAME MESSAGE: the bugged run failed the scenario with MESSAGE.
caught() {
	assert_exit "$1" 1
	assert_contains "$WORK/$1.err" "$2"
}

# check_result NAME WHAT RESULT: the scenario's vh.check WHAT gave RESULT.
check_result() {
	assert_contains "$WORK/$1/events.jsonl" "\"event\":\"check\",\"what\":\"$2\",\"result\":\"$3\""
}

# Boot choices, as "slot version bootcount trial rollback_from" lines.
boot_choices() { # NAME
	events "$WORK/$1" boot_choice | while read -r line; do
		echo "$(field slot <<<"$line") $(field version <<<"$line") $(field bootcount <<<"$line")" \
			"$(field trial <<<"$line") $(field rollback_from <<<"$line")"
	done
}

# The first EVENT line after the first power cut whose reason matches ERE.
after_cut() { # NAME ERE EVENT
	window "$WORK/$1" "\"event\":\"power_cut\".*$2" '^$' | grep -m1 -F "\"event\":\"$3\""
}

# The boot choice that follows the first power cut whose reason matches ERE.
choice_after_cut() { # NAME ERE
	after_cut "$1" "$2" boot_choice
}

power_cut_sweep() {
	local b2 size held flip nofsync single unsynced f0 f1 flushes

	flip=flip-env-before-image-complete nofsync=no-fsync-before-flip
	unsynced=env-write-not-synced single=single-env-copy
	ahead power_cut_sweep sweep "$flip" "$nofsync" "$unsynced" "$single"
	run_scenario sweep power_cut_sweep
	assert_exit sweep 0
	b2=$(bundle "$WORK/sweep" 2.0.0)
	size=$(stat -c %s "$b2")
	# The clean firmware: a cut mid-install boots slot a again; the env points
	# at b only once the slot is whole (the bootloader then tries it).
	choice_after_cut sweep 'install slot=b progress=10' | grep -qF '"slot":"a","version":"1.0.0","bootcount":0,"trial":false}' ||
		fail "sweep: the boot after the cut at progress 10 was not slot a: $(choice_after_cut sweep 'progress=10')"
	choice_after_cut sweep 'install complete slot=b' | grep -qF '"slot":"b","version":"2.0.0","bootcount":1,"trial":true}' ||
		fail "sweep: the boot after the cut right after the flip was not a trial of b: $(choice_after_cut sweep 'install complete')"
	[ "$(boot_choices sweep | grep -c '^b ')" = 1 ] || fail "sweep: slot b was chosen before the flip: $(boot_choices sweep)"
	[ "$(slot_holds "$WORK/sweep" b "$b2")" = "$size" ] || fail "sweep: slot b does not hold the whole 2.0.0 bundle"
	# Every env store went to the other copy: the two copies are one store apart.
	f0=$(env_copy "$WORK/sweep" 0 | env_key flags)
	f1=$(env_copy "$WORK/sweep" 1 | env_key flags)
	env_copy "$WORK/sweep" 0 | grep -qx invalid && fail "sweep: env copy 0 invalid"
	env_copy "$WORK/sweep" 1 | grep -qx invalid && fail "sweep: env copy 1 invalid"
	[ $(((f0 - f1 + 256) % 256)) = 1 ] || [ $(((f1 - f0 + 256) % 256)) = 1 ] ||
		fail "sweep: env copies' flags $f0 and $f1 are not one store apart"
	check_result sweep "the flip wrote the other env copy: the one in use before it is intact (a torn flip could fall back to it)" pass
	flushes=$(after_cut sweep 'install complete slot=b' flash_cut | field flushes)
	[ "${flushes:-0}" -ge 2 ] || fail "sweep: the flash saw ${flushes:-no} flushes before the cut after the flip (the slot's and the env's)"
	echo "clean power_cut_sweep: slot a after every mid-install cut, a trial of b after the flip, slot b whole ($size bytes), env copies flags $f0/$f1"

	# flip-env-before-image-complete: the env is armed for slot b while slot b
	# holds a fraction of the image, and nothing said the install completed.
	run_scenario "$flip" power_cut_sweep "$flip"
	caught "$flip" "check failed: cut at install progress 10: boot slot still a"
	[ "$(count_lines "$WORK/$flip" 'vh-agent: install complete')" = 0 ] || fail "$flip: the install completed"
	agent_lines "$WORK/$flip" 'vh-agent: install slot=' | tail -1 | grep -q 'install slot=b progress=10$' ||
		fail "$flip: the cut was not at install progress 10"
	env_now "$WORK/$flip" >"$WORK/$flip.env"
	has_lines "$WORK/$flip.env" boot_slot=b upgrade_available=1 bootcount=0 || fail "$flip: env not armed for b: $(cat "$WORK/$flip.env")"
	b2=$(bundle "$WORK/$flip" 2.0.0)
	size=$(stat -c %s "$b2")
	held=$(slot_holds "$WORK/$flip" b "$b2")
	# Only what the guest flushed before the cut is on the flash (the flash
	# model's volatile default, docs/flash-model.md): the env's flush took
	# along what had reached the disk of slot b, a fraction of the 10%.
	[ "$held" -lt "$size" ] || fail "$flip: slot b holds $held of $size bytes"
	echo "$flip: env says boot_slot=b upgrade_available=1 bootcount=0 while slot b holds $held of $size bytes and no install completed; clean: slot a after that cut"

	# no-fsync-before-flip: the flip is durable but the slot's tail is not:
	# the bootloader finds b broken and falls back to a.
	run_scenario "$nofsync" power_cut_sweep "$nofsync"
	caught "$nofsync" "check failed: first boot after a cut right after the flip runs 2.0.0 from b (got 1.0.0 from a)"
	check_result "$nofsync" "cut right after the flip: boot slot is b" pass
	agent_lines "$WORK/$nofsync" 'vh-agent: install' | tail -2 | grep -q 'install slot=b progress=100$' ||
		fail "$nofsync: the agent did not write the whole slot before the flip"
	choice_after_cut "$nofsync" 'install complete slot=b' | grep -qF '"slot":"a","version":"1.0.0","bootcount":0,"trial":false,"rollback_from":"b"}' ||
		fail "$nofsync: the boot after the flip did not fall back from b: $(choice_after_cut "$nofsync" 'install complete')"
	b2=$(bundle "$WORK/$nofsync" 2.0.0)
	size=$(stat -c %s "$b2")
	held=$(slot_holds "$WORK/$nofsync" b "$b2")
	[ "$held" -lt "$size" ] || fail "$nofsync: slot b holds the whole bundle"
	echo "$nofsync: after 'install slot=b progress=100' and the flip, slot b held $held of $size bytes on the disk, the bootloader fell back (rollback_from b); clean: a trial of b, slot whole"

	# env-write-not-synced: the slot is whole and synced, the flip was written
	# through the page cache and never flushed. The cut right after "install
	# complete" (before the reboot's sync) takes it along: the flash still
	# says slot a, and it saw one flush less than the clean run (the slot's
	# fsync, not the env's).
	run_scenario "$unsynced" power_cut_sweep "$unsynced"
	caught "$unsynced" "check failed: cut right after the flip: boot slot is b"
	[ "$(count_lines "$WORK/$unsynced" 'vh-agent: install complete slot=b')" = 1 ] || fail "$unsynced: no flip was reported"
	env_now "$WORK/$unsynced" >"$WORK/$unsynced.env"
	[ "$(env_key boot_slot <"$WORK/$unsynced.env")" = a ] || fail "$unsynced: the flip reached the flash: $(cat "$WORK/$unsynced.env")"
	b2=$(bundle "$WORK/$unsynced" 2.0.0)
	size=$(stat -c %s "$b2")
	[ "$(slot_holds "$WORK/$unsynced" b "$b2")" = "$size" ] || fail "$unsynced: slot b is not whole"
	[ "$(after_cut "$unsynced" 'install complete slot=b' flash_cut | field flushes)" = $((flushes - 1)) ] ||
		fail "$unsynced: the flash saw $(after_cut "$unsynced" 'install complete slot=b' flash_cut | field flushes) flushes before the cut, the clean run $flushes"
	echo "$unsynced: 'install complete slot=b' was printed with slot b whole on the flash, but the env there says boot_slot=a; the flash saw $((flushes - 1)) flushes before the cut, the clean run $flushes"

	# single-env-copy: the flip rewrote the env copy in use, in place. A
	# redundant store writes the other copy with flags + 1, so the copies
	# stay one store apart; here the newest copy (the flip) is two stores
	# ahead of the other: the env it replaced is gone from the disk.
	run_scenario "$single" power_cut_sweep "$single"
	caught "$single" "check failed: the flip wrote the other env copy"
	check_result "$single" "cut right after the flip: boot slot is b" pass
	env_copy "$WORK/$single" 0 >"$WORK/$single.0"
	env_copy "$WORK/$single" 1 >"$WORK/$single.1"
	f0=$(env_key flags <"$WORK/$single.0")
	f1=$(env_key flags <"$WORK/$single.1")
	has_lines "$WORK/$single.0" boot_slot=b upgrade_available=1 ||
		fail "$single: copy 0 does not hold the flip: $(cat "$WORK/$single.0")"
	[ "$(env_key boot_slot <"$WORK/$single.1")" = a ] || fail "$single: copy 1 changed: $(cat "$WORK/$single.1")"
	[ $(((f0 - f1 + 256) % 256)) = 2 ] || fail "$single: copy flags $f0 (flip) and $f1 are not two stores apart"
	echo "$single: the flip is copy 0 with flags $f0, the other copy has flags $f1: the copy in use (flags $((f0 - 1))) was overwritten in place; clean: copies one store apart"
}

flaky_ota() {
	local n b2 size resumed nrr nb nh gaps conns

	nrr=no-range-resume nb=no-backoff nh=never-healthy
	ahead flaky_ota flaky "$nrr" "$nb" "$nh"
	run_scenario flaky flaky_ota
	assert_exit flaky 0
	# The clean firmware resumes after the partition: it had N bytes, asked
	# for the rest with a Range, and said so.
	n=$(agent_lines "$WORK/flaky" 'vh-agent: download interrupted' | head -1 | sed -n 's/.* bytes=//p')
	[ "${n:-0}" -gt 0 ] || fail "flaky: the partition did not interrupt a download with bytes written"
	resumed=$(agent_lines "$WORK/flaky" 'vh-agent: download resumed offset=' | head -1 | sed -n 's/.*offset=//p')
	[ "$resumed" = "$n" ] || fail "flaky: resumed at ${resumed:-nothing}, had $n bytes"
	mapfile -t conns < <(window "$WORK/flaky" '"event":"partition"' '"event":"power_cut"' | conns_in)
	requests_on "$WORK/flaky" /firmware/ "${conns[@]}" >"$WORK/flaky.resume"
	grep -qF "\"range\":\"bytes=$n-\",\"status\":\"206\"" "$WORK/flaky.resume" ||
		fail "flaky: no 206 for bytes=$n- after the partition: $(cat "$WORK/flaky.resume")"
	# It commits 2.0.0 once its trial boot reaches the server.
	events "$WORK/flaky" checkin | grep -qF '"version":"2.0.0","slot":"b"' || fail "flaky: no check-in from 2.0.0 on b"
	[ "$(count_lines "$WORK/flaky" 'vh-agent: commit slot=b')" = 1 ] || fail "flaky: 2.0.0 not committed"
	# It backs off while the server is down: 0.5 s doubling, +-50% jitter.
	# Gaps are host seconds between serial lines (0.1 s of stamp jitter
	# allowed); the guest sleeps on its own clock, which under TCG on a busy
	# host runs on refined-jiffies and was measured 7% slow: its sleeps may
	# last up to a quarter longer here.
	gaps=$(retry_gaps "$WORK/flaky")
	[ "$(echo "$gaps" | grep -c .)" -ge 2 ] || fail "flaky: fewer than 2 failed reconnects while the server was down: $gaps"
	echo "$gaps" | awk '{ base = 0.5 * 2 ^ ($1 - 1); if (base > 8) base = 8
		if ($2 < base / 2 - 0.1 || $2 > base * 1.5 * 1.25 + 0.1) { print "attempt " $1 " after " $2 " s, backoff allows " base / 2 "-" base * 1.5; bad = 1 } }
		END { exit bad }' || fail "flaky: reconnects do not follow the backoff: $(echo "$gaps" | tr '\n' ' ')"
	echo "clean flaky_ota: resumed at $n with Range bytes=$n- (206), committed 2.0.0 after checking in, reconnect gaps (attempt s): $(echo "$gaps" | tr '\n' ' ')"

	# no-range-resume: the same partition interrupts the download with bytes
	# written, but every later request asks for the whole bundle again.
	run_scenario "$nrr" flaky_ota "$nrr"
	caught "$nrr" 'expect "vh%-agent: download resumed offset=[1-9]%d*" on dut: timed out'
	n=$(agent_lines "$WORK/$nrr" 'vh-agent: download interrupted' | head -1 | sed -n 's/.* bytes=//p')
	[ "${n:-0}" -gt 0 ] || fail "$nrr: the partition did not interrupt a download with bytes written"
	[ "$(count_lines "$WORK/$nrr" 'vh-agent: download resumed')" = 0 ] || fail "$nrr: a download resumed"
	mapfile -t conns < <(window "$WORK/$nrr" '"event":"partition"' '"event":"power_cut"' | conns_in)
	requests_on "$WORK/$nrr" /firmware/ "${conns[@]}" >"$WORK/$nrr.requests"
	[ -s "$WORK/$nrr.requests" ] || fail "$nrr: no firmware request after the partition"
	! grep -q '"range":"bytes=' "$WORK/$nrr.requests" || fail "$nrr: a request after the partition had a Range"
	! grep -qv '"status":"200"' "$WORK/$nrr.requests" || fail "$nrr: a request after the partition got other than 200"
	b2=$(bundle "$WORK/$nrr" 2.0.0)
	size=$(stat -c %s "$b2")
	grep -qF "\"bytes\":\"$size\",\"result\":\"ok\"" "$WORK/$nrr.requests" ||
		echo "note: $nrr: no whole bundle served after the partition within the run"
	echo "$nrr: interrupted with $n bytes written, then $(grep -c . "$WORK/$nrr.requests") request(s) without Range (200, from byte 0), no 'download resumed'; clean: Range bytes=N- (206)"

	# no-backoff: once the server is down the agent hammers it.
	run_scenario "$nb" flaky_ota "$nb"
	caught "$nb" 'expect_not "vh%-agent: connect failed server=%S+ attempt=%d%d" on dut: seen'
	gaps=$(retry_gaps "$WORK/$nb")
	[ "$(echo "$gaps" | grep -c .)" -ge 10 ] || fail "$nb: fewer than 10 reconnects: $gaps"
	echo "$gaps" | awk '$2 >= 0.25 { print "attempt " $1 " after " $2 " s"; bad = 1 } { t += $2 }
		END { if (t >= 1) { print "10 attempts took " t " s"; bad = 1 } exit bad }' ||
		fail "$nb: reconnects were spaced like a backoff: $(echo "$gaps" | tr '\n' ' ')"
	echo "$nb: $(echo "$gaps" | grep -c .) reconnects in $(echo "$gaps" | awk '{ t += $2 } END { print t }') s after the disconnect, gaps $(echo "$gaps" | awk '{ printf "%s ", $2 }')s; clean: $(retry_gaps "$WORK/flaky" | awk '{ printf "%s ", $2 }')s"

	# never-healthy: the 2.0.0 trial boot never even tries its server, so it
	# is never committed; each trial ends in an unhealthy reboot that the
	# bootloader counts.
	run_scenario "$nh" flaky_ota "$nh"
	caught "$nh" 'expect "vh%-agent: commit slot=b" on dut: timed out'
	! events "$WORK/$nh" checkin | grep -qF '"version":"2.0.0"' || fail "$nh: 2.0.0 checked in"
	[ "$(count_lines "$WORK/$nh" 'vh-agent: commit')" = 0 ] || fail "$nh: something was committed"
	boot_lines "$WORK/$nh" 'vh-agent: boot slot=b version=2.0.0 bootcount=1' >"$WORK/$nh.trial"
	! grep -q 'vh-agent: connect' "$WORK/$nh.trial" || fail "$nh: the trial boot tried to connect: $(cat "$WORK/$nh.trial")"
	grep -q 'vh-agent: reboot reason=unhealthy' "$WORK/$nh.trial" || fail "$nh: the trial boot did not give up"
	window "$WORK/$nh" '"event":"boot_choice".*"version":"2.0.0","bootcount":1,"trial":true' '"event":"reboot"' >"$WORK/$nh.events"
	! grep -qF '"event":"http_connect"' "$WORK/$nh.events" || fail "$nh: the server saw a connection from the trial boot"
	grep -qF '"event":"power_off","device":"dut","status":"exited with status 0","reason":"guest-reset"' "$WORK/$nh.events" ||
		fail "$nh: the trial boot did not end in a guest reboot"
	local on off
	on=$(grep -F '"event":"power_on"' "$WORK/$nh.events" | field t)
	off=$(grep -F '"event":"power_off"' "$WORK/$nh.events" | field t)
	float_ge "$(awk -v a="$on" -v b="$off" 'BEGIN { print b - a }')" 20 ||
		fail "$nh: the trial boot rebooted $on -> $off, before its 20 s health deadline"
	events "$WORK/$nh" boot_choice | grep -qF '"slot":"b","version":"2.0.0","bootcount":2,"trial":true' ||
		fail "$nh: the bootloader did not count a second trial"
	echo "$nh: 2.0.0 trial boots made no connection (no connect line, no http_connect, no check-in), rebooted unhealthy $(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.1f", b - a }') s after power-on, bootcount climbed: $(boot_choices "$nh" | grep '^b ' | cut -d' ' -f3 | tr '\n' ' '); clean: checked in and committed"
}

rollback_bad_image() {
	local cbh=commit-before-healthy

	ahead rollback_bad_image rollback "$cbh"
	run_scenario rollback rollback_bad_image
	assert_exit rollback 0
	# The clean firmware never commits the unhealthy 2.0.0: three counted
	# trials, then the bootloader rolls back to a.
	[ "$(count_lines "$WORK/rollback" 'vh-agent: commit')" = 0 ] || fail "rollback: something was committed"
	boot_choices rollback | grep '^b 2.0.0' | cut -d' ' -f3 | tr '\n' ' ' | grep -qx '1 2 3 ' ||
		fail "rollback: trials were not counted 1 2 3: $(boot_choices rollback)"
	boot_choices rollback | grep -q '^a 1.0.0 0 false b$' || fail "rollback: no rollback from b"
	[ "$(count_lines "$WORK/rollback" 'vh-agent: reboot reason=unhealthy')" = 3 ] || fail "rollback: not 3 unhealthy reboots"
	env_now "$WORK/rollback" | grep -qx 'boot_slot=a' || fail "rollback: not back on a"
	echo "clean rollback_bad_image: trials 1 2 3 of b, 3 unhealthy reboots, no commit, rolled back to a"

	# commit-before-healthy: the trial boot commits at once, before (and
	# without) any connection: the bootloader stops counting, and the broken
	# release stays.
	run_scenario "$cbh" rollback_bad_image "$cbh"
	caught "$cbh" 'expect_not "vh%-agent: commit" on dut: seen:'
	boot_lines "$WORK/$cbh" 'vh-agent: boot slot=b version=2.0.0 bootcount=1' >"$WORK/$cbh.trial"
	grep -q 'vh-agent: commit slot=b' "$WORK/$cbh.trial" || fail "$cbh: no commit in the trial boot"
	! grep -q 'vh-agent: connected' "$WORK/$cbh.trial" || fail "$cbh: the trial boot connected"
	! events "$WORK/$cbh" checkin | grep -qF '"version":"2.0.0"' || fail "$cbh: 2.0.0 checked in"
	env_now "$WORK/$cbh" >"$WORK/$cbh.env"
	has_lines "$WORK/$cbh.env" boot_slot=b upgrade_available=0 ||
		fail "$cbh: env not committed to b: $(cat "$WORK/$cbh.env")"
	echo "$cbh: the 2.0.0 trial printed 'commit slot=b' with no connection before it (no check-in from 2.0.0); env boot_slot=b upgrade_available=0, so the bootloader will never roll it back; clean: trials counted 1 2 3, rolled back"
}

groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(power_cut_sweep flaky_ota rollback_bad_image)
for g in "${groups[@]}"; do
	case $g in
	power_cut_sweep | flaky_ota | rollback_bad_image) "$g" ;;
	*) fail "unknown group '$g'" ;;
	esac
done
echo "ok: planted bugs are caught, for their reasons (${groups[*]})"
