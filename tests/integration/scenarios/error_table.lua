local vh = require "vharness"
vh.device { name = "dut", firmware = vh.reference_firmware {} }
error({ code = 1 })
