local vh = require "vharness"
local lan = vh.network { name = "lan" }
local dut = vh.device { name = "dut", network = lan, firmware = vh.reference_firmware {} }
lan:impair(dut, "delay 100ms lossy 5%")
