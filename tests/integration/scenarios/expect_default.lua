-- An expect without a timeout waits the default 30 s, then fails with the
-- pattern, the timeout and the console's last 20 lines (more than 20 are
-- printed first: 1..40).
local vh = require "vharness"
local dut = vh.device { name = "dut", firmware = vh.reference_firmware {} }
dut:power_on()
dut:expect("vh# ", "30s")
dut:send("seq 1 40\n")
dut:expect("^40$", "10s", { regex = true })
dut:expect("this line never appears")
