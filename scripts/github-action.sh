#!/usr/bin/env bash
# The steps of the vharness composite action (action.yml), as a script so
# they run the same on a laptop and are tested (tests/integration/it_action.sh).
#
#   scripts/github-action.sh setup   install the Debian packages, build vharness
#   scripts/github-action.sh run     run the suite from the INPUT_* variables
#
# Inputs (environment, as action.yml passes them):
#   INPUT_SCENARIOS  scenario files and directories, separated by spaces or newlines
#   INPUT_PARAMS     -D values: KEY=VALUE, separated by spaces or newlines
#   INPUT_JOBS       --jobs (default auto)      INPUT_SHARD    --shard I/N
#   INPUT_BACKEND    --backend (default auto)   INPUT_ARCH     --arch (default: the host's)
#   INPUT_ARTIFACTS  the suite's root (default vharness-out)
#   INPUT_TIMINGS    --timings FILE, when it exists
# GitHub's files: the verdict table is appended to $GITHUB_STEP_SUMMARY (without
# summary.md's links to the reports, which live in the artifacts) and
# verdict=, exit-code=, junit= and summary= go to $GITHUB_OUTPUT (either may
# be unset outside GitHub). The exit code is vharness's.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${VH_BUILD_DIR:-$here/build}

case ${1:-} in
setup)
	VH_BUILD_DIR=$build "$here/scripts/setup.sh"
	exit 0
	;;
run) ;;
*)
	echo "usage: $0 setup|run" >&2
	exit 2
	;;
esac

root=${INPUT_ARTIFACTS:-vharness-out}
args=(run --artifacts "$root" --jobs "${INPUT_JOBS:-auto}" --backend "${INPUT_BACKEND:-auto}")
[ -n "${INPUT_SHARD:-}" ] && args+=(--shard "$INPUT_SHARD")
[ -n "${INPUT_ARCH:-}" ] && args+=(--arch "$INPUT_ARCH")
[ -n "${INPUT_TIMINGS:-}" ] && [ -f "$INPUT_TIMINGS" ] && args+=(--timings "$INPUT_TIMINGS")
read -r -a params <<<"$(echo "${INPUT_PARAMS:-}" | tr '\n' ' ')"
for p in "${params[@]}"; do
	args+=(-D "$p")
done
read -r -a scenarios <<<"$(echo "${INPUT_SCENARIOS:?the scenarios input is required}" | tr '\n' ' ')"
[ ${#scenarios[@]} -gt 0 ] || { echo "vharness action: no scenarios given" >&2; exit 2; }
args+=("${scenarios[@]}")

rc=0
"$build/vharness" "${args[@]}" || rc=$?

case $rc in
0) verdict=PASS ;;
1) verdict=FAIL ;;
2) verdict=ERROR ;;
129 | 130 | 143) verdict=CANCELLED ;;
*) verdict="HARNESS FAULT" ;;
esac
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
	if [ -f "$root/summary.md" ]; then
		# The runs' report links are relative to the artifacts, which the
		# summary page does not hold: there the run names are plain text.
		sed -E 's/^\| \[([^]]*)\]\([^)]*\) \|/| \1 |/' "$root/summary.md" >>"$GITHUB_STEP_SUMMARY"
	else
		echo "### vharness: $verdict (exit $rc, no summary was written)" >>"$GITHUB_STEP_SUMMARY"
	fi
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
	{
		echo "verdict=$verdict"
		echo "exit-code=$rc"
		echo "summary=$root/summary.md"
		echo "junit=$root/junit.xml"
	} >>"$GITHUB_OUTPUT"
fi
exit "$rc"
