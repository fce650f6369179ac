local vh = require "vharness"
local dut = vh.device { name = "dut", firmware = vh.reference_firmware {} }
error({ code = 1 })
