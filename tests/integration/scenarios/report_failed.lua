-- A run that fails for it_report: the reference guest boots on a network,
-- pings the host (traffic for the report to draw), prints a line that
-- would be markup if a report pasted it into its page, and an expect times
-- out right after it. The ping's summary line is marked for the report.
local vh = require "vharness"
local lan = vh.network { name = "lan", subnet = "10.77.9.0/24" } -- host side is .1
local dut = vh.device { name = "dut", network = lan, firmware = vh.reference_firmware {} }
dut:mark("packets transmitted", "ping")
dut:power_on()
dut:expect("vh%-agent: net up", "60s")
dut:expect("vh# ", "20s")
dut:send("ping -c 3 -W 2 10.77.9.1\n")
dut:expect("packets received", "15s")
dut:send("echo '</script><img src=x onerror=document.title=1337>'\n")
dut:expect("title=1337>", "10s")
dut:expect("this line never appears", "2s")
