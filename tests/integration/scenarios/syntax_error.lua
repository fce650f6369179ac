local vh = require "vharness"
local dut = vh.device { name = "dut", firmware = vh.reference_firmware {} }
local x = = 1
dut:power_on()
