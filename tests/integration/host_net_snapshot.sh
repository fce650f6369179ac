#!/bin/sh
# Read-only views of the host's network namespace, for integration tests to
# prove a run left it as it was. Never changes anything.
#
#   host_net_snapshot.sh                 stable snapshot: links, addresses, routes,
#                                        qdiscs, one sorted line each (exit 0)
#   host_net_snapshot.sh --leftovers [--tree DIR]
#                                        QEMU processes started from DIR (default:
#                                        this repository) and host links named vh*
#                                        or tap*; exit 1 if there are any
#
# Snapshot lines drop what changes on its own (counters, carrier state,
# address lifetimes, route expiry, qdisc refcounts, netns ids) and keep what a
# careless harness could change (names, admin flags, mtu, master, MAC, qdisc
# kinds and parameters, addresses, routes). Interface indexes are dropped so
# unrelated churn elsewhere on the host does not reorder the output.
#
# Usage in a test:
#   before=$(host_net_snapshot.sh); run...; after=$(host_net_snapshot.sh)
#   [ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after"); exit 1; }
set -eu

export LC_ALL=C

usage() {
	echo "usage: $0 [--leftovers [--tree DIR]]" >&2
	exit 2
}

for tool in ip tc; do
	command -v "$tool" >/dev/null 2>&1 || { echo "$0: $tool not found (iproute2)" >&2; exit 2; }
done

snapshot() {
	# `ip -o` puts a whole record on one line with "\" where it would wrap.
	ip -o link show | sed 's/\\ */ /g' | awk '
	{
		sub(/^[0-9]+: /, "")
		name = $1; sub(/:$/, "", name)
		flags = $2; gsub(/[<>]/, "", flags)
		n = split(flags, f, ",")
		kept = ""
		for (i = 1; i <= n; i++)
			if (f[i] != "LOWER_UP" && f[i] != "NO-CARRIER" && f[i] != "DORMANT" &&
			    f[i] != "M-DOWN" && f[i] != "RUNNING")
				kept = kept (kept == "" ? "" : ",") f[i]
		line = "link " name " <" kept ">"
		for (i = 3; i <= NF; i++) {
			if ($i == "state" || $i == "link-netnsid" || $i == "link-netns") { i++; continue }
			line = line " " $i
		}
		print line
	}'

	ip -o addr show | sed 's/\\ */ /g' | awk '
	{
		sub(/^[0-9]+: /, "")
		line = "addr"
		for (i = 1; i <= NF; i++) {
			if ($i == "valid_lft" || $i == "preferred_lft") { i++; continue }
			if ($i == "dynamic" || $i == "tentative" || $i == "dadfailed") continue
			line = line " " $i
		}
		print line
	}'

	for family in -4 -6; do
		ip "$family" -o route show table all | awk -v fam="$family" '
		{
			line = "route" fam
			for (i = 1; i <= NF; i++) {
				if ($i == "expires") { i++; continue }
				line = line " " $i
			}
			print line
		}'
	done

	tc qdisc show | awk '
	{
		line = "qdisc"
		for (i = 2; i <= NF; i++) {
			if ($i == "refcnt") { i++; continue }
			line = line " " $i
		}
		print line
	}'
}

leftovers() {
	tree=$1
	found=0

	# QEMU whose command line names the tree (images, sockets, artifacts) or
	# whose working directory is inside it.
	for dir in /proc/[0-9]*; do
		pid=${dir#/proc/}
		# Processes come and go while we look: a vanished one is not a leftover.
		cmd=$({ tr '\0' ' ' <"$dir/cmdline"; } 2>/dev/null) || continue
		case $cmd in *qemu-system*) ;; *) continue ;; esac
		cwd=$(readlink "$dir/cwd" 2>/dev/null || true)
		case "$cmd" in
		*"$tree"*) ;;
		*)
			case "$cwd/" in "$tree"/*) ;; *) continue ;; esac
			;;
		esac
		echo "qemu pid $pid cwd ${cwd:-?}: $cmd"
		found=1
	done

	for name in $(ip -o link show | awk '{ n = $2; sub(/:$/, "", n); sub(/@.*/, "", n); print n }'); do
		case $name in
		vh* | tap*)
			echo "link $name in the host namespace"
			found=1
			;;
		esac
	done
	return $found
}

case ${1-} in
"")
	snapshot | sort
	;;
--leftovers)
	shift
	tree=$(cd "$(dirname "$0")/../.." && pwd -P)
	case ${1-} in
	"") ;;
	--tree)
		[ $# -eq 2 ] || usage
		tree=$(cd "$2" && pwd -P)
		;;
	*) usage ;;
	esac
	leftovers "$tree"
	;;
*)
	usage
	;;
esac
