-- QEMU itself dies (SIGSEGV, sent from here as a crash would deliver it):
-- that is the harness's failure, not the firmware's (exit 3).
local vh = require "vharness"
local dut = vh.device { name = "dut", firmware = vh.reference_firmware {} }
dut:power_on()
dut:expect("vh%-agent: boot slot=a", "30s")
vh.log("crashing QEMU pid " .. tostring(dut.pid))
if dut.pid then os.execute("kill -SEGV " .. dut.pid) end -- nil under `vharness check`
dut:expect("this line never appears", "60s")
