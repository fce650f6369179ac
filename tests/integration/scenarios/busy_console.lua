-- Issue 8: while one device is controlled hard (power cut and on, reset, cable
-- pulled and restored, five times), another device's console keeps being read:
-- "busy" prints its uptime every 10 ms and it_busy_console.sh measures, from the
-- harness's receive timestamps in serial-busy.log, how late each line was read.
local vh = require "vharness"
local lan = vh.network { name = "lan", subnet = "10.77.0.0/24" }
local busy = vh.device { name = "busy", network = lan, firmware = vh.reference_firmware {} }
local other = vh.device { name = "other", network = lan, firmware = vh.reference_firmware {} }
busy:power_on()
other:power_on()
busy:expect("vh# ", "60s")
other:expect("vh%-agent: net up", "60s")
busy:send("while :; do cat /proc/uptime; usleep 10000; done\n")
busy:expect("^%d+%.%d+ %d+%.%d+$", "10s")
vh.log("cycles begin")
for i = 1, 5 do
  other:power_cut()
  other:power_on()
  other:expect("vh%-agent: boot", "60s")
  other:reset()
  other:expect("vh%-agent: boot", "60s")
  other:link(false)
  other:link(true)
  vh.log("cycle " .. i .. " done")
end
vh.log("cycles end")
busy:expect("^%d+%.%d+ %d+%.%d+$", "10s")
