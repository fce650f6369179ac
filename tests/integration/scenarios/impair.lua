-- Impairments on the user backend, end to end with a real guest: RTT under
-- delay both ways and one way, a partition, heal restoring the delay, clear.
local vh = require "vharness"
local lan = vh.network { name = "lan" }
local dut = vh.device { name = "dut", network = lan, firmware = vh.reference_firmware {} }
dut:power_on()
dut:expect("vh%-agent: net up", "30s")
dut:expect("vh# ", "10s")
local function rtt()
  dut:send("ping -c 5 -i 0.2 " .. lan.host_ip .. " | tail -1\n")
  local avg = dut:expect("min/avg/max = [%d.]+/([%d.]+)/", "20s")
  return tonumber(avg)
end
local base = rtt()
lan:impair(dut, "delay 100ms")
local both = rtt()
lan:impair(dut, { delay = "50ms" }, { direction = "to_device" })
local mixed = rtt()
lan:partition { dut }
dut:send("ping -c 2 -W 1 " .. lan.host_ip .. " >/dev/null || echo CUT-OFF\n")
dut:expect("CUT%-OFF", "10s")
lan:heal()
local healed = rtt()
lan:clear(dut)
local cleared = rtt()
vh.log(string.format(
  "rtt base %.1f, delay 100ms both %.1f, to_device 50ms %.1f, healed %.1f, cleared %.1f",
  base, both, mixed, healed, cleared))
-- The delay adds to the path's own RTT (base: guest and host scheduling,
-- which a loaded host stretches), so the upper bounds are above base.
vh.check(both >= 200 and both < 220 + base,
  "delay 100ms both ways: RTT within 10% of 200ms over base")
vh.check(mixed >= 150 and mixed < 165 + base, "50ms + 100ms, within 10% over base")
vh.check(healed >= 150, "heal restores the impairment")
vh.check(cleared < 50, "clear removes it")
