-- Fails when run with -D fail=yes.
local vh = require "vharness"
vh.device { name = "dut", firmware = { kernel = "/bin/true" } }
vh.check(vh.param("fail", "no") ~= "yes", "asked to fail")
