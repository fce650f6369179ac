-- Issue 14: a scenario that loops without waiting after its device booted.
local vh = require "vharness"
local lan = vh.network { name = "lan", subnet = "10.77.0.0/24" }
local dut = vh.device { name = "dut", network = lan, memory = "96M",
                        firmware = vh.reference_firmware { version = "1.0.0" } }
dut:power_on()
dut:expect("vh%-agent: boot", "30s")
while true do end
