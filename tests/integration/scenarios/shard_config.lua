-- One of four tiny scenarios that it_promises_run.sh splits into shards: a
-- configuration error, before anything boots.
local vh = require "vharness"
vh.device { name = "dut", firmware = vh.reference_firmware { version = "no spaces allowed" } }
