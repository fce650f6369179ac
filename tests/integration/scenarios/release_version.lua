-- The reference firmware knows itself: a device booted from a 2.0.0 build
-- reports 2.0.0 from the build's /etc/vh-release, even though its kernel
-- command line ends with a different vh.version= (the agent ignores it).
local vh = require "vharness"
local fw = vh.reference_firmware { version = "2.0.0" }
fw.append = "vh.version=9.9.9 vh.bugs=never-healthy"
local dut = vh.device { name = "dut", memory = "96M", firmware = fw }
dut:power_on()
local version = dut:expect("vh%-agent: boot slot=a version=(%S+)", "30s")
vh.check(version == "2.0.0", "the build's release says 2.0.0 (got " .. version .. ")")
dut:expect("vh# ", "15s")
dut:send("cat /proc/cmdline; cat /etc/vh-release\n")
dut:expect("vh%.version=9%.9%.9 vh%.bugs=never%-healthy", "10s")
dut:expect("VERSION=2%.0%.0", "10s")
dut:expect_not("vh%-agent: release", "1s")
