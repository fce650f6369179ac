-- rauc_rollback: a release that installs but is not healthy. Debian's rauc
-- 1.8 in the RAUC image (build/image-rauc) installs release-3 into slot B,
-- whose self test fails: each trial boot of B reboots without
-- `rauc status mark-good`, the rauc profile counts BOOT_B_LEFT down
-- (RAUC's contrib/uboot.sh), and when it runs out boots A. There the
-- integration tells RAUC (`rauc status mark-bad other`) and keeps release-1.
--   build/vharness run scenarios/rauc_rollback.lua
--   -D image_dir=DIR   (default: build/image-rauc)
local vh = require "vharness"
local function default_image_dir()
  local ref = os.getenv("VH_IMAGE_DIR")
  if ref and ref ~= "" then
    return ref .. "/../image-rauc"
  end
  local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "scenarios"
  return here .. "/../build/image-rauc"
end
local dir = vh.param("image_dir", default_image_dir())

local lan = vh.network { name = "lan", subnet = "10.77.0.0/24" }
local ota = vh.update_server { network = lan }
local fw = vh.firmware {
  disk = dir .. "/flash.img",
  profile = "rauc",
  boot = { root_a = "/dev/vda2", root_b = "/dev/vda3" },
  kernel = "/boot/vmlinuz",
  initrd = "/boot/initrd.img",
  env = { offset = 0x400000, size = 0x4000, redundant = 0x800000 },
  -- As in scenarios/rauc_ota.lua.
  append = "panic=-1 reboot=t vhr.ip=${ip}/${prefix} vhr.gw=${gateway} " ..
    "vhr.server=http://${server}",
}
local dut = vh.device { name = "dut", network = lan, server = ota, firmware = fw,
                        memory = "256M" }

dut:power_on()
dut:expect("vhr: release release%-1", "120s")
ota:serve("/release-3.raucb", dir .. "/release-3.raucb")
ota:serve("/release", dir .. "/release-3.offer")
dut:expect("vhr: reboot reason=update release=release%-3", "600s")

-- Three trial boots of B (BOOT_B_LEFT 3, 2, 1), each unhealthy.
for try = 1, 3 do
  dut:expect("initramfs: root=/dev/vda3", "300s")
  dut:expect("vhr: boot slot=B release=release%-3", "300s")
  dut:expect("vhr: health failed reason=selftest", "120s")
  dut:expect("vhr: reboot reason=unhealthy", "30s")
  vh.log("unhealthy trial " .. try .. " of B")
end

-- BOOT_B_LEFT=0: the bootloader skips B and boots A.
dut:expect("initramfs: root=/dev/vda2", "300s")
dut:expect("vhr: rollback release=release%-1 slot=A failed=release%-3", "120s")
vh.check(dut:env("BOOT_B_LEFT") == "0", "B has no tries left")
vh.check(tostring(dut:env("BOOT_ORDER")):match("^A") ~= nil,
  "mark-bad other took B out of first place: " .. tostring(dut:env("BOOT_ORDER")))
dut:send("rauc status 2>/dev/null | grep -E 'Booted from|Activated'\n")
dut:expect("Booted from: rootfs%.0 %(A%)", "60s")
-- The integration does not take the failed release again.
dut:expect_not("vhr: update offered release=release%-3", "10s")
