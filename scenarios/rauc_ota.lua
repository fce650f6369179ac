-- rauc_ota: a second real update client under test. Debian's rauc 1.8 runs
-- in the RAUC image (build/image-rauc, the image-rauc target) as a D-Bus
-- service on the guest's system bus, booted through the rauc bootloader
-- profile (RAUC's contrib/uboot.sh: BOOT_ORDER, BOOT_<x>_LEFT,
-- rauc.slot=<x>), and installs a signed bundle made on the host.
--   build/vharness run scenarios/rauc_ota.lua
--   -D image_dir=DIR   (default: build/image-rauc) where flash.img and the bundles are
-- release-1 runs from slot A. The update server offers release-2: the
-- device downloads the bundle and `rauc install` starts writing slot B;
-- power dies mid-write and the device comes back on A. It installs again,
-- RAUC makes B primary, the device reboots into B on trial, its health
-- check passes and `rauc status mark-good` keeps it.
local vh = require "vharness"
-- Built next to the reference image (both in build/): beside $VH_IMAGE_DIR
-- when that is set, else in the build/ of the checkout this scenario is in.
local function default_image_dir()
  local ref = os.getenv("VH_IMAGE_DIR")
  if ref and ref ~= "" then
    return ref .. "/../image-rauc"
  end
  local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "scenarios"
  return here .. "/../build/image-rauc"
end
local dir = vh.param("image_dir", default_image_dir())

local lan = vh.network { name = "lan", subnet = "10.77.0.0/24" } -- host side is .1
local ota = vh.update_server { network = lan }                  -- http://10.77.0.1:8080
local fw = vh.firmware {
  disk = dir .. "/flash.img",
  profile = "rauc",
  -- uboot.sh's root= of each slot, as the harness's machine names them.
  boot = { root_a = "/dev/vda2", root_b = "/dev/vda3" },
  kernel = "/boot/vmlinuz",
  initrd = "/boot/initrd.img",
  -- Where U-Boot keeps its env (two copies); the rootfs's
  -- /etc/fw_env.config, which RAUC's fw_setenv reads, says the same.
  env = { offset = 0x400000, size = 0x4000, redundant = 0x800000 },
  -- reboot=t: as in scenarios/mender_ota.lua. The harness fills in each
  -- device's address, gateway and server.
  append = "panic=-1 reboot=t vhr.ip=${ip}/${prefix} vhr.gw=${gateway} " ..
    "vhr.server=http://${server}",
}
local dut = vh.device { name = "dut", network = lan, server = ota, firmware = fw,
                        memory = "256M" }

vh.check(dut:env("BOOT_ORDER") == "A B" and dut:env("BOOT_B_LEFT") == "3",
  "the image boots A first, 3 tries per slot")
dut:power_on()
dut:expect("initramfs: root=/dev/vda2", "300s")
dut:expect("vhr: boot slot=A release=release%-1", "300s")
-- RAUC's own view: the service found the slot it booted from.
dut:expect("Booted from: rootfs%.0 %(A%)", "60s")
dut:expect("vhr: release release%-1", "60s")

ota:serve("/release-2.raucb", dir .. "/release-2.raucb")
ota:serve("/release", dir .. "/release-2.offer")
dut:expect("vhr: update offered release=release%-2", "60s")
dut:expect("vhr: downloaded release=release%-2", "300s")

-- Power dies as RAUC copies the image into slot B. RAUC took B out of
-- BOOT_ORDER before writing it, so the bootloader boots A again, as if
-- nothing had happened. The cut comes on the copy's own progress line: a
-- fixed delay after "writing data" raced the copy, which took 1.8 s on an
-- idle machine and so was sometimes over (and B bootable) at the cut.
dut:expect("Marking target slot rootfs%.1 as non%-bootable", "120s")
dut:power_cut { on = "%d+%% Copying image to rootfs%.1$", timeout = "120s" }
vh.check(dut:env("BOOT_ORDER") == "A", "an interrupted install leaves BOOT_ORDER=\"A\": " ..
  tostring(dut:env("BOOT_ORDER")))
vh.check(dut:env("BOOT_B_LEFT") == "0", "an interrupted install leaves B no tries")
dut:power_on()
dut:expect("initramfs: root=/dev/vda2", "300s")
dut:expect("vhr: boot slot=A release=release%-1", "300s")

-- The release is still offered: the device downloads and installs it again.
dut:expect("vhr: downloaded release=release%-2", "300s")
-- rauc install's progress, from the client itself.
dut:expect("Installing `/data/vhr/update%.raucb` succeeded", "600s")
dut:expect("vhr: reboot reason=update release=release%-2", "60s")

-- The trial boot of slot B: healthy, so the integration marks it good.
dut:expect("initramfs: root=/dev/vda3", "300s")
dut:expect("vhr: boot slot=B release=release%-2", "300s")
dut:expect("vhr: health ok", "60s")
dut:expect("vhr: mark%-good release=release%-2 slot=B", "120s")
vh.check(tostring(dut:env("BOOT_ORDER")):match("^B") ~= nil,
  "BOOT_ORDER starts with B after mark-good: " .. tostring(dut:env("BOOT_ORDER")))
vh.check(dut:env("BOOT_B_LEFT") == "3", "mark-good gave B its 3 tries back")
-- The client itself, asked on the console.
dut:send("rauc status 2>/dev/null | grep -E 'Booted from|Activated'\n")
dut:expect("Booted from: rootfs%.1 %(B%)", "60s")
dut:expect("Activated: rootfs%.1 %(B%)", "60s")
dut:expect_not("Kernel panic", "1s")
