-- A user's Mender-style image (tests/integration/it_user_firmware.sh fills
-- in its path): slot B is on trial and cannot boot, so the device must come
-- back on slot A with the env saying so; its append's ${...} are filled in.
local vh = require "vharness"
local fw = vh.firmware {
	disk = "@IMAGE@",
	profile = "mender",
	kernel = "/boot/vmlinuz",
	initrd = "/boot/initrd.img",
	-- what the harness knows of the device, filled in at each power-on
	append = "panic=-1 vht.name=${device} vht.ip=${ip}/${prefix} vht.gw=${gateway}",
}
local lan = vh.network { name = "lan", subnet = "10.77.14.0/24" }
local dut = vh.device { name = "dut", network = lan, firmware = fw }
vh.check(dut:env("mender_boot_part") == "3", "the image starts with slot B on trial")
dut:power_on()
dut:expect("vh# ", "180s")
dut:send("cat /proc/cmdline\n")
local line = dut:expect("root=/dev/vda%d", "10s")
vh.check(line:find("root=/dev/vda2", 1, true), "slot A runs: " .. line)
vh.check(line:find("vht.name=dut vht.ip=10.77.14.2/24 vht.gw=10.77.14.1", 1, true),
  "the append's ${device}, ${ip}, ${prefix}, ${gateway} were filled in: " .. line)
vh.check(dut.boots == 2, "one failed boot of B, then A: " .. dut.boots)
vh.check(dut:env("mender_boot_part") == "2", "the env points at A")
vh.check(dut:env("upgrade_available") == "0", "the trial is over")
