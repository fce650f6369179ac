-- One of four tiny scenarios that it_promises_run.sh splits into shards: fails.
local vh = require "vharness"
local dut = vh.device { name = "dut", firmware = vh.reference_firmware {} }
dut:power_on()
dut:expect("vh%-agent: boot slot=a", "30s")
vh.check(false, "shard_fail fails on purpose")
