-- mender_ota: a real update client under test. Debian's mender-client 3.4
-- runs in the Mender image (build/image-mender, the image-mender target),
-- booted through the mender bootloader profile, and installs a real
-- .mender artifact from the update server in standalone mode
-- ('mender install <url>', then 'mender commit' on the trial boot).
--   build/vharness run scenarios/mender_ota.lua
--   -D image_dir=DIR   (default: build/image-mender) where flash.img and release-2.mender are
-- On a bad link, power dies mid-install: the device must come back on its
-- old rootfs with mender_boot_part unchanged. It then installs again,
-- resuming its download (HTTP Range) after the update server restarts,
-- boots the new rootfs on trial, and commits it once its health check passes.
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

local lan = vh.network { name = "lan", subnet = "10.77.0.0/24" } -- host side is .1
local ota = vh.update_server { network = lan }                  -- http://10.77.0.1:8080
local fw = vh.firmware {
  disk = dir .. "/flash.img",
  profile = "mender",
  kernel = "/boot/vmlinuz",
  initrd = "/boot/initrd.img",
  -- Where U-Boot was built to keep its env (two copies), not what the
  -- rootfs's /etc/fw_env.config says: they must agree, and a scenario
  -- catches an image where they do not.
  env = { offset = 0x400000, size = 0x4000, redundant = 0x800000 },
  -- reboot=t: microvm has no keyboard controller, and a reboot by another
  -- method was seen to hang the guest instead of resetting it. The image
  -- takes its address, gateway and server from the command line; the
  -- harness fills them in for each device (${ip}, ${prefix}, ${gateway},
  -- ${server}), so the same description serves a fleet.
  append = "panic=-1 reboot=t vhm.ip=${ip}/${prefix} vhm.gw=${gateway} " ..
    "vhm.server=http://${server}",
}
-- mender-client is a Go program: 96M is not enough to run it and write a slot.
local dut = vh.device { name = "dut", network = lan, server = ota, firmware = fw,
                        memory = "256M" }

-- The image's own U-Boot env, as its build wrote it with fw_setenv.
vh.check(dut:env("mender_boot_part") == "2" and dut:env("bootlimit") == "1",
  "the image boots partition 2 with bootlimit 1")
dut:power_on()
dut:expect("initramfs: root=/dev/vda2", "60s")
dut:expect("vhm: release release%-1", "120s")
vh.check(dut:env("mender_boot_part") == "2", "release-1 runs from partition 2")

-- A bad link for the whole update: latency with jitter, and loss.
lan:impair(dut, "delay 20ms 5ms loss 0.3%")
ota:serve("/release-2.mender", dir .. "/release-2.mender")
ota:serve("/release", dir .. "/release-2.offer")
dut:expect("Performing remote update from: %[http://10%.77%.0%.1:8080/release%-2%.mender%]", "60s")

-- Power dies while Mender writes rootfs B.
dut:expect("Opening device \"/dev/vda3\" for writing", "120s")
dut:expect("%-  30 %%", "300s")
dut:power_cut()
vh.check(dut:env("mender_boot_part") == "2", "an interrupted install leaves mender_boot_part at 2")
vh.check(dut:env("upgrade_available") == "0", "an interrupted install is not on trial")

dut:power_on()
dut:expect("initramfs: root=/dev/vda2", "60s")
dut:expect("vhm: boot root=/dev/vda2 rootfs=release%-1 client=release%-1", "120s")

-- The release is still offered: Mender installs it again (from the start: a
-- standalone install keeps no state across a power cut). Mid-download the
-- update server restarts, dropping the connection: Mender waits (a minute,
-- its own choice) and resumes from where it stopped with an HTTP Range
-- request, writing on into the same slot.
dut:expect("Opening device \"/dev/vda3\" for writing", "120s")
dut:expect("%-  20 %%", "300s")
ota:down()
dut:expect("Resuming download in", "60s")
ota:up()
dut:expect("Attempting to resume artifact download from offset [1-9]%d*", "180s")
dut:expect("vhm: reboot reason=update release=release%-2", "600s")

-- The trial boot of rootfs B: healthy, so the integration commits it.
dut:expect("initramfs: root=/dev/vda3", "120s")
dut:expect("vhm: boot root=/dev/vda3 rootfs=release%-2 client=release%-2 " ..
  "mender_boot_part=3 upgrade_available=1", "120s")
dut:expect("vhm: health ok", "60s")
dut:expect("vhm: commit release=release%-2", "120s")
vh.check(dut:env("upgrade_available") == "0", "release-2 is committed")
vh.check(dut:env("mender_boot_part") == "3", "release-2 runs from partition 3")
-- The client itself, asked on the console, reports the new release.
dut:send("echo \"show-artifact: $(mender --no-syslog show-artifact 2>/dev/null)\"\n")
dut:expect("show%-artifact: release%-2", "60s")
dut:expect_not("Kernel panic", "1s")
