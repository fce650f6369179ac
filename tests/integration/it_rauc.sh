#!/usr/bin/env bash
# A second real update client end to end: scenarios/rauc_ota.lua boots the
# RAUC image (the image-rauc target: Debian's rauc 1.8 as a D-Bus service in
# an A/B disk for the rauc bootloader profile), cuts power while RAUC writes
# slot B, then lets RAUC install the signed release-2 bundle, boot B on trial
# and mark it good; then scenarios/rauc_rollback.lua: an unhealthy release-3
# is given up by the rauc profile after three trials. Beyond the scenarios'
# own checks: the bundle went over the update server, RAUC verified its
# signature, the boots were the profile's, and the user's image is
# untouched.
. "$(dirname "$0")/lib.sh"
: "${VH_RAUC_IMAGE_DIR:?ctest sets VH_RAUC_IMAGE_DIR to the RAUC image}"
img=$VH_RAUC_IMAGE_DIR
for f in flash.img release-2.raucb release-2.offer; do
	[ -f "$img/$f" ] || fail "no $img/$f: build the image-rauc target"
done
before=$(sha256sum <"$img/flash.img")
scenario=$(cd "$HERE/../.." && pwd)/scenarios/rauc_ota.lua
run_vh rauc run "$scenario" -D "image_dir=$img" --artifacts "$WORK/a"
assert_exit rauc 0
events=$WORK/a/events.jsonl
serial=$WORK/a/serial-dut.log
# Right after the power cut the profile booted slot A (index 0), not on trial.
sed -n '/"event":"power_cut"/,$p' "$events" | grep -m1 '"event":"boot_choice"' |
	grep -q '"slot":"A"' || fail "no boot of slot A right after the power cut"
# The whole bundle went over the update server, twice (the cut one was read
# to the end before the cut: RAUC installs from a downloaded file).
size=$(stat -c %s "$img/release-2.raucb")
[ "$(grep -c "\"path\":\"/release-2.raucb\".*\"status\":\"200\",\"bytes\":\"$size\"" "$events")" -ge 2 ] ||
	fail "not two whole downloads of /release-2.raucb ($size bytes)"
# RAUC checked the bundle against the keyring the image carries.
assert_contains "$serial" "Verified detached signature by 'O = vharness, CN = vharness RAUC signing'"
# The last boot: slot B, chosen by uboot.sh's BOOT_ORDER walk.
grep '"event":"boot_choice"' "$events" | tail -1 | grep -q '"slot":"B"' ||
	fail "the last boot was not slot B"

# A release whose health check fails: three trials of B, then the profile
# (uboot.sh's count) boots A and the integration marks B bad through RAUC.
scenario=$(cd "$HERE/../.." && pwd)/scenarios/rauc_rollback.lua
run_vh rollback run "$scenario" -D "image_dir=$img" --artifacts "$WORK/b"
assert_exit rollback 0
grep '"event":"boot_choice"' "$WORK/b/events.jsonl" | tail -1 |
	grep -q '"slot":"A".*"why":"BOOT_B_LEFT=0: no attempts left for B' ||
	fail "the last boot was not the profile's fallback to slot A"
assert_contains "$WORK/b/serial-dut.log" "marked slot rootfs.1 as bad"

[ "$(sha256sum <"$img/flash.img")" = "$before" ] || fail "the RAUC image was written"
[ -z "$(vh_qemu_pids "$WORK/a" "$WORK/b")" ] || fail "QEMU left running"
echo "ok: rauc survives a power cut mid-install, installs release-2 into B and marks it good;" \
	"a release that fails its health check is given up by the profile after three trials"
