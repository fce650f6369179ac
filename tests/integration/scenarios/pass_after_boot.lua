-- Boots, then passes a few seconds later. it_chaos freezes the guest's QEMU
-- in between, so the teardown after the PASS verdict takes the whole grace
-- period, and signals vharness during it.
local vh = require "vharness"
local dut = vh.device { name = "dut", firmware = vh.reference_firmware {} }
dut:power_on()
dut:expect("vh%-agent: boot", "60s")
vh.sleep("3s")
