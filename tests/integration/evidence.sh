# shellcheck shell=bash
# Helpers that read a run's artifacts (sourced after lib.sh): events.jsonl,
# serial-<device>.log and disk-<device>.img, with plain bash, grep, sed, awk
# and cmp, so a test can assert why a run failed, not only that it did.
# DIR is a run's artifacts directory; the device is "dut" unless said.

# The disk layout of docs/ota-protocol.md.
SLOT_A_OFFSET=$((1 << 20))
SLOT_B_OFFSET=$((41 << 20))
ENV_COPY_OFFSETS=(0x2000 0x22000)
: "${VH_ENV_TOOL:=$(dirname "$VHARNESS")/wire/vh-env}"

# events DIR EVENT: the events.jsonl lines of one event type, in order.
events() {
	grep -F "\"event\":\"$2\"" "$1/events.jsonl" || true
}

# field KEY: the value of "KEY" in each JSON line read (quotes removed).
field() {
	sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p"
}

# serial DIR [DEVICE]: the serial log as "SECONDS TEXT" lines.
serial() {
	sed -E 's/^\[ *([0-9]+\.[0-9]+)\] /\1 /' "$1/serial-${2:-dut}.log"
}

# agent_lines DIR ERE [DEVICE]: "SECONDS TEXT" of the serial lines matching ERE.
agent_lines() {
	serial "$1" "${3:-dut}" | grep -E -- "$2" || true
}

# count_lines DIR ERE [DEVICE]: how many serial lines match ERE.
count_lines() {
	agent_lines "$@" | wc -l
}

# bundle DIR VERSION: the bundle of that version the run built (any bugs).
bundle() {
	local f
	for f in "$1"/firmware-"$2".bundle "$1"/firmware-"$2"-*.bundle; do
		[ -f "$f" ] && { echo "$f"; return; }
	done
	fail "no bundle of $2 in $1"
}

# slot_holds DIR SLOT BUNDLE: how many leading bytes of the slot on the disk
# equal the bundle: its size when the slot holds it whole.
slot_holds() {
	local off size out
	off=$([ "$2" = a ] && echo "$SLOT_A_OFFSET" || echo "$SLOT_B_OFFSET")
	size=$(stat -c %s "$3")
	if out=$(LC_ALL=C cmp -i "$off:0" -n "$size" "$1/disk-${4:-dut}.img" "$3" 2>&1); then
		echo "$size"
		return
	fi
	out=$(echo "$out" | sed -nE 's/.* differ: (byte|char) ([0-9]+),.*/\2/p')
	[ -n "$out" ] || fail "cmp could not compare slot $2 of $1 with $3"
	echo $((out - 1))
}

# env_now DIR: the env a bootloader reads from the disk (key=value lines).
env_now() {
	"$VH_ENV_TOOL" "$1/disk-${2:-dut}.img"
}

# env_copy DIR I: env copy I (0 or 1) alone: "flags=N", then its key=value
# lines, or "invalid" when its CRC does not hold. vh-env reads both copies,
# so it gets an image holding copy I in place and an invalid (zero) other.
env_copy() {
	local off=$((ENV_COPY_OFFSETS[$2])) img=$WORK/env-copy.img
	echo "flags=$(od -An -tu1 -j $((off + 4)) -N1 "$1/disk-${3:-dut}.img" | tr -d ' ')"
	rm -f "$img"
	truncate -s 1M "$img"
	dd if="$1/disk-${3:-dut}.img" of="$img" bs=4096 skip=$((off / 4096)) seek=$((off / 4096)) \
		count=32 conv=notrunc status=none
	"$VH_ENV_TOOL" "$img" 2>/dev/null || echo invalid
}

# env_key KEY: the value of KEY in env lines read.
env_key() {
	sed -n "s/^$1=//p"
}

# retry_gaps DIR: the reconnects after the last "disconnected" line, up to
# the next "connected": one "ATTEMPT SECONDS-SINCE-PREVIOUS-LINE" per
# "connect failed" line (the first counted from the disconnect).
retry_gaps() {
	serial "$1" | awk '
		/vh-agent: disconnected reason=/ { n = 0; prev = $1; open = 1; next }
		open && /vh-agent: connect failed .* attempt=/ {
			a = $0; sub(/.* attempt=/, "", a); sub(/ .*/, "", a)
			out[++n] = a " " sprintf("%.3f", $1 - prev); prev = $1; next
		}
		open && /vh-agent: connected / { open = 0 }
		END { for (i = 1; i <= n; i++) print out[i] }'
}

# window DIR FROM-ERE UNTIL-ERE: the events.jsonl lines after the first line
# matching FROM-ERE, up to the next line matching UNTIL-ERE (or the end).
window() {
	awk -v from="$2" -v until="$3" '
		state == 1 && $0 ~ until { exit }
		state == 1 { print }
		state == 0 && $0 ~ from { state = 1 }' "$1/events.jsonl"
}

# conns_in: the connection ids of the http_connect events read.
conns_in() {
	grep -F '"event":"http_connect"' | field conn
}

# boot_lines DIR BOOT-ERE: "SECONDS TEXT" serial lines of the boot whose line
# matches BOOT-ERE (its first such line), up to the next boot line.
boot_lines() {
	serial "$1" | awk -v boot="$2" '
		state == 1 && /vh-agent: boot slot=/ { exit }
		state == 0 && $0 ~ boot { state = 1 }
		state == 1 { print }'
}

# requests_on DIR PATH-PREFIX CONN...: the http_request events for paths
# starting with PATH-PREFIX on those connections.
requests_on() {
	local dir=$1 path=$2 conn
	shift 2
	for conn in "$@"; do
		events "$dir" http_request | grep -F "\"conn\":\"$conn\"" |
			grep -F "\"path\":\"$path" || true
	done
}

# float_ge A B / float_lt A B: numeric comparisons of decimals.
float_ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
float_lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 < b + 0) }'; }

# has_lines FILE LINE...: every LINE is a whole line of FILE.
has_lines() {
	local file=$1 line
	shift
	for line in "$@"; do
		grep -qxF -- "$line" "$file" || return 1
	done
}
