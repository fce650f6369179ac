-- The scenario ends just as the guest reboots itself: teardown then talks to
-- a QEMU that is exiting (its sockets closed). The harness must still pass.
local vh = require "vharness"
local dut = vh.device { name = "dut", firmware = vh.reference_firmware {} }
dut:power_on()
dut:expect("vh# ", "30s")
dut:send("echo b > /proc/sysrq-trigger\n")
vh.sleep(vh.param("linger", "10ms"))
