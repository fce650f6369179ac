local vh = require "vharness"
local dut = vh.device { name = "dut", netwrok = "lan", firmware = vh.reference_firmware {} }
