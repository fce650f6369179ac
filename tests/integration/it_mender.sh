#!/usr/bin/env bash
# A real update client end to end: scenarios/mender_ota.lua boots the Mender
# image (the image-mender target: Debian's mender-client 3.4 in an A/B disk),
# cuts power mid-install and then lets Debian's mender-client install and
# commit a real release-2.mender artifact over an impaired link, resuming
# its download after the update server restarts; then
# scenarios/mender_rollback.lua: an unhealthy release-3 is rolled back by the
# bootloader and reported by the client, and the same scenario fails on each
# integration mistake planted in the image. Beyond the
# scenario's own checks: the artifact went over the update server, the
# device's flash copy says partition 3 is committed, and the user's image is
# untouched.
. "$(dirname "$0")/lib.sh"
: "${VH_MENDER_IMAGE_DIR:?ctest sets VH_MENDER_IMAGE_DIR to the Mender image}"
img=$VH_MENDER_IMAGE_DIR
for f in flash.img release-2.mender release-2.offer; do
	[ -f "$img/$f" ] || fail "no $img/$f: build the image-mender target"
done
before=$(sha256sum <"$img/flash.img")
scenario=$(cd "$HERE/../.." && pwd)/scenarios/mender_ota.lua
run_vh mender run "$scenario" -D "image_dir=$img" --artifacts "$WORK/a"
assert_exit mender 0
events=$WORK/a/events.jsonl
# The cut came while Mender wrote slot B, and the next boot was slot 2 again.
sed -n '/"event":"power_cut"/,$p' "$events" | grep -m1 '"event":"boot_choice"' |
	grep -q '"slot":"2","trial":false' ||
	fail "no boot of partition 2 right after the power cut"
# Mender downloaded the artifact from the update server: one download cut
# short by the power cut ...
size=$(stat -c %s "$img/release-2.mender")
grep -Eq '"path":"/release-2.mender".*"status":"200","bytes":"[0-9]*","result":"(error|client_gone|timeout)"' "$events" ||
	fail "no download of /release-2.mender cut by the power cut"
# Then the server restart: Mender resumed with Range, and the resumed
# request carried the rest of the file.
resumed=$(grep -o '"path":"/release-2.mender","range":"bytes=[0-9]*-","status":"206","bytes":"[0-9]*","result":"ok"' "$events" | head -n 1)
[ -n "$resumed" ] || fail "no resumed (Range, 206) download of /release-2.mender"
from=${resumed#*bytes=}
from=${from%%-*}
got=${resumed#*\"bytes\":\"}
got=${got%%\"*}
[ $((from + got)) -eq "$size" ] || fail "resumed from $from with $got bytes: not the rest of $size"
# The trial boot of partition 3 and nothing after it: committed, no rollback.
grep '"event":"boot_choice"' "$events" | tail -1 | grep -q '"slot":"3","trial":true' ||
	fail "the last boot was not the trial of partition 3"
assert_contains "$WORK/a/serial-dut.log" "Mender running on partition: /dev/vda3"

# A release whose health check fails: the bootloader rolls back and Mender,
# committing on the old rootfs, says the update failed.
scenario=$(cd "$HERE/../.." && pwd)/scenarios/mender_rollback.lua
run_vh rollback run "$scenario" -D "image_dir=$img" --artifacts "$WORK/b"
assert_exit rollback 0
grep '"event":"boot_choice"' "$WORK/b/events.jsonl" | tail -1 |
	grep -q '"slot":"2".*"why":"bootcount 2 > bootlimit 1: altbootcmd' ||
	fail "the last boot was not the profile's rollback to partition 2"
assert_contains "$WORK/b/serial-dut.log" "Expected \"upgrade_available\" flag to be true but it was false"

# Integration mistakes planted in the image: the rollback scenario fails on
# each, at the check that names it.
planted() { # BUG LINE-TEXT
	run_vh "bug-$1" run "$scenario" -D "image_dir=$img" -D "bugs=$1" --artifacts "$WORK/bug-$1"
	assert_exit "bug-$1" 1
	assert_contains "$WORK/bug-$1.err" "$2"
}
# No bootlimit in the env: U-Boot would never roll back.
planted no-bootlimit "check failed: the image boots partition 2 with bootlimit 1"
# A health check that always passes commits a broken release.
planted commit-always "check failed: release-3's health check finds its failing self test: vhm: health ok"
# fw_env.config names one env copy: fw_printenv cannot read U-Boot's
# redundant env, and Mender refuses to install.
planted single-env-copy "check failed: mender installs release-3: vhm: install failed release=release-3"
assert_contains "$WORK/bug-single-env-copy/serial-dut.log" "No match between boot and root partitions"

[ "$(sha256sum <"$img/flash.img")" = "$before" ] || fail "the Mender image was written"
[ -z "$(vh_qemu_pids "$WORK/a" "$WORK/b" "$WORK"/bug-*)" ] || fail "QEMU left running"
echo "ok: mender-client survives a power cut mid-install, installs and commits release-2;" \
	"a release that fails its health check is rolled back; three planted mistakes caught"
