-- The chosen QEMU configuration must boot every time: 30 power cycles, each
-- bounded, each to the agent's "net up".
local vh = require "vharness"
local lan = vh.network { name = "lan" }
local dut = vh.device { name = "dut", network = lan, firmware = vh.reference_firmware {} }
for i = 1, 30 do
  dut:power_on()
  local ok, why = dut:try_expect("vh%-agent: net up", "20s")
  vh.check(ok, "boot " .. i .. " reached net up: " .. tostring(why))
  dut:power_cut()
end
