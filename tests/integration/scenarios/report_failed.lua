-- A run that fails for it_report: the reference guest boots, prints a line
-- that would be markup if a report pasted it into its page, and an expect
-- times out right after it.
local vh = require "vharness"
local dut = vh.device { name = "dut", firmware = vh.reference_firmware {} }
dut:power_on()
dut:expect("vh%-agent: boot", "60s")
dut:expect("vh# ", "20s")
dut:send("echo '</script><img src=x onerror=document.title=1337>'\n")
dut:expect("title=1337>", "10s")
dut:expect("this line never appears", "2s")
