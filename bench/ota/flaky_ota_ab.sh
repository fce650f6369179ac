#!/usr/bin/env bash
# flaky_ota.lua's wall time under two checkouts of vharness, run in turn
# (A B A B ...) so that a machine whose speed drifts weighs on both alike.
# Each checkout runs its own build and its own copy of the scenario with the
# same --seed, so the impairments draw the same numbers. Prints one row per
# run and the medians, and the ratio A/B of the medians and the median of
# the pairwise ratios.
#   bench/ota/flaky_ota_ab.sh [-n RUNS] [-s SEED] TREE_A TREE_B
# TREE is a checkout with a build in TREE/build (scripts/setup.sh). Example,
# the flash model's cost: a checkout of its merge and one of the commit
# before it. Exit 1 when a run did not pass (its output is kept).
set -euo pipefail
runs=5 seed=20261201
while getopts 'n:s:h' opt; do
	case $opt in
	n) runs=$OPTARG ;;
	s) seed=$OPTARG ;;
	*)
		sed -n '2,11s/^# \{0,1\}//p' "$0" >&2
		exit 2
		;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || {
	sed -n '2,11s/^# \{0,1\}//p' "$0" >&2
	exit 2
}
for t in "$1" "$2"; do
	[ -x "$t/build/vharness" ] || {
		echo "flaky_ota_ab: no $t/build/vharness (build it with scripts/setup.sh)" >&2
		exit 2
	}
done
out=$(mktemp -d /tmp/flaky_ota_ab.XXXXXX)
declare -a wall_a=() wall_b=()

# one TREE NAME: one run; prints its wall seconds.
one() {
	local start end
	start=$EPOCHREALTIME
	if ! "$1/build/vharness" run "$1/scenarios/flaky_ota.lua" --seed "$seed" \
		--artifacts "$out/$2" >"$out/$2.log" 2>&1; then
		echo "flaky_ota_ab: $2 did not pass: $out/$2.log" >&2
		exit 1
	fi
	end=$EPOCHREALTIME
	awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", b - a }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f\n", a / b }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf '%-4s %10s %10s %8s\n' run "A (s)" "B (s)" A/B
for i in $(seq 1 "$runs"); do
	a=$(one "$1" "a$i")
	b=$(one "$2" "b$i")
	wall_a+=("$a")
	wall_b+=("$b")
	printf '%-4s %10.1f %10.1f %8.3f\n' "$i" "$a" "$b" "$(ratio "$a" "$b")"
done
ma=$(printf '%s\n' "${wall_a[@]}" | median)
mb=$(printf '%s\n' "${wall_b[@]}" | median)
mr=$(for i in "${!wall_a[@]}"; do ratio "${wall_a[$i]}" "${wall_b[$i]}"; done | median)
printf '%-4s %10.1f %10.1f %8.3f  (median of pairwise ratios %.3f)\n' median "$ma" "$mb" \
	"$(ratio "$ma" "$mb")" "$mr"
echo "A = $1 ($(git -C "$1" rev-parse --short HEAD 2>/dev/null || echo '?'))"
echo "B = $2 ($(git -C "$2" rev-parse --short HEAD 2>/dev/null || echo '?'))"
rm -rf "$out"
