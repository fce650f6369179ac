local vh = require "vharness"
vh.device { name = "dut", firmware = { kernel = "/bin/true" } }
vh.sleep("1s")
