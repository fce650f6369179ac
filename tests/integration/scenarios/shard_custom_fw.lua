-- One of four tiny scenarios that it_promises_run.sh splits into shards:
-- passes, booting firmware given as its own kernel and initrd (the image's
-- base initramfs, which carries no /etc/vh-release) instead of a reference
-- build: no bootloader, no A/B disk, the harness boots what it is given.
local vh = require "vharness"
local image = vh.param("image_dir", "build/image") -- the tests pass -D image_dir=
local dut = vh.device { name = "dut", firmware = {
  kernel = image .. "/vmlinuz", initrd = image .. "/initramfs.cpio", append = "quiet" } }
dut:power_on()
dut:expect("vh%-agent: release missing path=/etc/vh%-release", "30s")
dut:expect("vh%-agent: boot slot=%S* version=unknown", "10s")
