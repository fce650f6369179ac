local vh = require "vharness"
vh.device { name = "dut", netwrok = "lan", firmware = vh.reference_firmware {} }
