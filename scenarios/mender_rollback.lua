-- mender_rollback: a release that installs but is not healthy. Debian's
-- mender-client 3.4 in the Mender image (build/image-mender) installs
-- release-3, whose self test fails: the trial boot does not commit and
-- reboots, the mender profile's bootlimit rolls back to the old partition
-- (meta-mender's altbootcmd), and the client, asked to commit on the old
-- rootfs, reports the update as failed and keeps release-1.
--   build/vharness run scenarios/mender_rollback.lua
--   -D image_dir=DIR   (default: build/image-mender) where flash.img and release-3.mender are
--   -D bugs=NAME       the image with an integration mistake planted (tests
--                      use this; each must fail here): commit-always,
--                      single-env-copy, no-bootlimit
local vh = require "vharness"
-- The Mender image is built next to the reference image (both in build/):
-- beside $VH_IMAGE_DIR when that is set, else in the build/ of the
-- checkout this scenario is in.
local function default_image_dir()
  local ref = os.getenv("VH_IMAGE_DIR")
  if ref and ref ~= "" then
    return ref .. "/../image-mender"
  end
  local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "scenarios"
  return here .. "/../build/image-mender"
end
local dir = vh.param("image_dir", default_image_dir())
local bugs = vh.param("bugs", "")
local disk, artifact = "/flash.img", "/release-3.mender"
if bugs == "commit-always" then
  artifact = "/release-3-commit-always.mender"
elseif bugs ~= "" then
  disk = "/flash-" .. bugs .. ".img"
end

local lan = vh.network { name = "lan", subnet = "10.77.0.0/24" } -- host side is .1
local ota = vh.update_server { network = lan }                  -- http://10.77.0.1:8080
local fw = vh.firmware {
  disk = dir .. disk,
  profile = "mender",
  kernel = "/boot/vmlinuz",
  initrd = "/boot/initrd.img",
  -- Where U-Boot was built to keep its env (two copies), not what the
  -- rootfs's /etc/fw_env.config says: they must agree, and a scenario
  -- catches an image where they do not.
  env = { offset = 0x400000, size = 0x4000, redundant = 0x800000 },
  -- reboot=t and the image's settings: as in scenarios/mender_ota.lua.
  append = "panic=-1 reboot=t vhm.ip=${ip}/${prefix} vhm.gw=${gateway} " ..
    "vhm.server=http://${server}",
}
local dut = vh.device { name = "dut", network = lan, server = ota, firmware = fw,
                        memory = "256M" }

-- The image's own U-Boot env, as its build wrote it with fw_setenv.
vh.check(dut:env("mender_boot_part") == "2" and dut:env("bootlimit") == "1",
  "the image boots partition 2 with bootlimit 1")
dut:power_on()
dut:expect("vhm: release release%-1", "120s")
ota:serve("/release-3.mender", dir .. artifact)
ota:serve("/release", dir .. "/release-3.offer")
-- The client must take the release (it refuses when it cannot tell which
-- partition is active, e.g. when it cannot read the env).
local installed = dut:expect("vhm: (reboot reason=update|install failed) release=release-3", "300s",
  { regex = true })
vh.check(installed:find("reboot reason=update", 1, true),
  "mender installs release-3: " .. installed)

-- The trial boot of partition 3: the health check fails, no commit.
local root = dut:expect("initramfs: root=/dev/vda%d", "120s")
vh.check(root:find("vda3", 1, true), "the trial boot runs partition 3: " .. root)
-- Each alternative is matched whole: the line may arrive in pieces.
local health = dut:expect("vhm: health (failed reason=selftest|ok)", "120s", { regex = true })
vh.check(health:find("health failed reason=selftest", 1, true),
  "release-3's health check finds its failing self test: " .. health)
dut:expect("vhm: reboot reason=unhealthy", "30s")

-- The bootloader's second look: past bootlimit, back to partition 2.
dut:expect("initramfs: root=/dev/vda2", "120s")
-- Mender's own word on it, from 'mender commit' on the old rootfs.
dut:expect("Commit failed: Reboot to the new update failed", "120s")
dut:expect("vhm: rollback release=release%-1 failed=release%-3", "120s")
vh.check(dut:env("mender_boot_part") == "2", "rolled back to partition 2")
vh.check(dut:env("upgrade_available") == "0", "no trial pending after the rollback")
dut:send("echo \"show-artifact: $(mender --no-syslog show-artifact 2>/dev/null)\"\n")
dut:expect("show%-artifact: release%-1", "60s")
-- The integration does not offer the failed release again.
dut:expect_not("vhm: update offered release=release%-3", "10s")
