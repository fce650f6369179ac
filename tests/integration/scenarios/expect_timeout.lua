local vh = require "vharness"
local dut = vh.device { name = "dut", firmware = vh.reference_firmware {} }
dut:power_on()
dut:expect("vh%-agent: boot", "30s")
dut:expect("this line never appears", "3s")
