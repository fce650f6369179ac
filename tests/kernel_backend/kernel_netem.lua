-- Boots the Debian kernel with the image-tc initramfs (sch_netem, ifb, tc and
-- vh-kernel-netem-check inside) and runs the kernel backend's check there:
-- the same kernel_netem.c the harness uses on hosts whose kernel has netem.
local vh = require "vharness"
local dir = vh.param("image_dir")
-- -D arch=aarch64 for an aarch64 image-tc (default: this host's).
local arch = vh.param("arch", "")
local box = vh.device {
  name = "netemhost",
  memory = "160M",
  firmware = {
    arch = arch ~= "" and arch or nil,
    kernel = dir .. "/vmlinuz",
    initrd = dir .. "/initramfs-tc.cpio",
    -- No NIC here: the agent need not wait for one.
    append = "quiet panic=-1 vh.net_wait_ms=200",
  },
}
box:power_on()
box:expect("vh# ", "60s")
box:send("vh-kernel-netem-check; echo kn-exit=$?\n")
local verdict = box:expect("kn%-check: (%u+) %(%d+ checks", "120s")
box:expect("kn%-exit=%d", "10s")
vh.check(verdict == "PASS", "vh-kernel-netem-check passes in a guest with sch_netem")
