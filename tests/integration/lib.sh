# shellcheck shell=bash
# Shared helpers for the integration tests (sourced). Each test runs the real
# vharness binary against real QEMU guests; ctest passes VHARNESS and
# VH_IMAGE_DIR. Tests fail loudly with what they saw.
set -u
: "${VHARNESS:?ctest sets VHARNESS to the built binary}"
: "${VH_IMAGE_DIR:?ctest sets VH_IMAGE_DIR to the reference image}"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034 # used by the tests that source this file
SCENARIOS=$HERE/scenarios
WORK=$(mktemp -d /tmp/vh-it.XXXXXX)
# A failing test keeps its artifacts and says where they are.
cleanup_work() {
	if [ -n "${VH_FAILED:-}" ]; then
		echo "artifacts kept in $WORK" >&2
		for log in "$WORK"/*/serial-*.log "$WORK"/*/*/serial-*.log; do
			[ -f "$log" ] && { echo "--- tail of $log" >&2; tail -15 "$log" >&2; }
		done
	else
		rm -rf "$WORK"
	fi
}
trap cleanup_work EXIT

fail() {
	echo "FAIL: $*" >&2
	VH_FAILED=1
	exit 1
}

# vh_skip REASON: this test cannot run here. Exit 77 is the SKIP_RETURN_CODE
# ctest knows, so it is listed as skipped, never as passed; CI fails on a skip
# that .ci/allowed-skips does not list. Same words as the unit tests' vh_skip.
vh_skip() {
	echo "skipped: $*"
	exit 77
}

# run_vh NAME ARGS...: runs vharness, keeps stdout/stderr/exit code in $WORK/NAME.*
run_vh() {
	local name=$1
	shift
	local rc=0
	"$VHARNESS" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || rc=$?
	echo "$rc" >"$WORK/$name.rc"
	echo "--- vharness $* -> exit $rc"
	sed 's/^/  | /' "$WORK/$name.out" "$WORK/$name.err" | head -60
	return 0
}

assert_exit() { # NAME CODE
	local got
	got=$(cat "$WORK/$1.rc")
	[ "$got" = "$2" ] || fail "$1: exit $got, expected $2"
}

assert_contains() { # FILE TEXT
	grep -qF -- "$2" "$1" || fail "$1 does not contain: $2"
}

assert_not_contains() { # FILE TEXT
	! grep -qF -- "$2" "$1" || fail "$1 contains: $2"
}

# QEMU processes of the runs whose artifacts are in DIR...: their command
# lines carry the run's pid in the abstract socket name (other runs on the
# same machine are not ours to judge).
vh_qemu_pids() { # DIR...
	local dir pid
	for dir in "$@"; do
		while read -r pid; do
			pgrep -f "qemu-system.*path=vharness/$pid/" || true
		done < <(grep -o '"event":"run_start".*"pid":[0-9]*' "$dir/events.jsonl" 2>/dev/null |
			grep -o '[0-9]*$')
	done
}

# The host namespace's links, addresses, routes, MACs and qdiscs: tests
# call host_net_snapshot.sh directly; the name stays for tests that use it.
host_net_snapshot() {
	"$HERE/host_net_snapshot.sh"
}
