#!/usr/bin/env bash
# How fast a fleet comes up against how many of its guests may boot at once
# (vharness run --boot-slots): bench/fleet.lua at one fleet size, once per
# slot count, the counts taken in turn round after round so that a machine
# whose speed drifts weighs on all alike. Prints one row per run, then per
# slot count the median time from the first power-on to the last device's
# `connected`, its range, and the median ratio to the default (auto).
#   bench/boot_slots.sh [-n ROUNDS] [-N DEVICES] [-s 1,2,4,auto,...] [-- RUN OPTIONS]
# RUN OPTIONS go to `vharness run`, e.g. -- --image-dir build/image-small.
# Exit 1 when a run did not pass (its output is kept in the printed path).
set -euo pipefail
rounds=1 devices=30 slots=1,2,4,auto,8,30
while getopts 'n:N:s:h' opt; do
	case $opt in
	n) rounds=$OPTARG ;;
	N) devices=$OPTARG ;;
	s) slots=$OPTARG ;;
	*)
		sed -n '2,10s/^# \{0,1\}//p' "$0" >&2
		exit 2
		;;
	esac
done
shift $((OPTIND - 1))
[ "${1:-}" != -- ] || shift
root=$(cd "$(dirname "$0")/.." && pwd)
vh=$root/build/vharness
[ -x "$vh" ] || {
	echo "boot_slots.sh: no $vh (run scripts/setup.sh)" >&2
	exit 2
}
out=$(mktemp -d /tmp/vh-bench-slots.XXXXXX)
IFS=, read -ra counts <<<"$slots"
printf '%-6s %-6s %10s %14s %8s\n' round slots "up s" "CPU/dev %" load
for r in $(seq "$rounds"); do
	for s in "${counts[@]}"; do
		log=$out/r$r-s$s.log
		if ! "$vh" run "$root/bench/fleet.lua" -q --boot-slots "$s" -D "sizes=$devices" \
			-D idle=5 --artifacts "$out/r$r-s$s" "$@" >"$log" 2>&1; then
			echo "boot_slots.sh: round $r, --boot-slots $s did not pass: $log" >&2
			exit 1
		fi
		# bench/fleet.lua's row: N RSS PSS CPU/dev harness-CPU up-to-last
		row=$(awk -v n="$devices" '$1 == n && NF == 6' "$log")
		up=$(awk '{print $6}' <<<"$row")
		cpu=$(awk '{print $4}' <<<"$row")
		printf '%-6s %-6s %10s %14s %8s\n' "$r" "$s" "$up" "$cpu" "$(cut -d' ' -f1 /proc/loadavg)"
		echo "$s $up" >>"$out/ups"
	done
done
echo
printf '%-6s %10s %18s %14s\n' slots "median s" "range s" "vs auto"
base=$(awk '$1 == "auto" {print $2}' "$out/ups" | sort -n | awk '{a[NR]=$1} END {print (NR ? (NR % 2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2) : "")}')
for s in "${counts[@]}"; do
	awk -v s="$s" '$1 == s {print $2}' "$out/ups" | sort -n | awk -v s="$s" -v base="$base" '
		{a[NR] = $1}
		END {
			m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
			printf "%-6s %10.2f %18s %14s\n", s, m, a[1] "-" a[NR], base ? sprintf("%.2f", m / base) : "-"
		}'
done
echo "$devices devices, $rounds round(s), $(nproc) cores; runs in $out"
