-- The reference firmware boots on the architecture the run asked for: the
-- constructor says which, and the guest's own kernel agrees.
--   vharness run arch.lua --arch aarch64 -D machine=aarch64
local vh = require "vharness"
local want = vh.param("machine", "x86_64")
local fw = vh.reference_firmware {}
vh.check(fw.arch == want, "reference firmware arch " .. tostring(fw.arch) .. ", want " .. want)
local lan = vh.network { name = "lan" }
local dut = vh.device { name = "dut", network = lan, firmware = fw }
dut:power_on()
dut:expect("vh%-agent: net up", "60s")
dut:expect("vh# ", "10s")
dut:send("echo MACHINE=$(uname -m)\n")
local got = dut:expect("MACHINE=(%S+)", "10s")
vh.check(got == want, "uname -m says " .. got .. ", want " .. want)
