-- Power controls: cut the instant a line appears, boot again, QMP reset,
-- cable pull and restore, and a guest-initiated reboot that the harness
-- (as bootloader) turns into a new boot.
local vh = require "vharness"
local lan = vh.network { name = "lan" }
local dut = vh.device { name = "dut", network = lan, firmware = vh.reference_firmware {} }
dut:power_on()
local line = dut:power_cut { on = "vh%-agent: boot slot" }
vh.check(not dut.powered, "cut")
vh.log("cut at: " .. line)
dut:power_on()
dut:expect("vh%-agent: net up", "30s")
dut:expect("vh# ", "10s")
dut:reset()
dut:expect("vh%-agent: boot slot", "30s")
dut:expect("vh%-agent: net up", "30s")
vh.check(dut.boots == 3, "three boots: " .. dut.boots)
dut:link(false)
dut:link(true)
dut:send("reboot\n")
dut:expect("vh%-agent: boot slot", "30s")
vh.check(dut.boots == 4, "guest reboot boots again: " .. dut.boots)
