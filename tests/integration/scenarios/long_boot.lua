-- Boots and then waits: tests interrupt it.
local vh = require "vharness"
local lan = vh.network { name = "lan" }
local dut = vh.device { name = "dut", network = lan, firmware = vh.reference_firmware {} }
dut:power_on()
dut:expect("this line never appears", "120s")
