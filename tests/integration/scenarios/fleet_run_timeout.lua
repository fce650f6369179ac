-- vh.all waits within the run's --timeout: a 10-minute wait for a line that
-- never comes ends with the run at --timeout, naming this file's line 7.
local vh = require "vharness"
local lan = vh.network { name = "lan", subnet = "10.77.13.0/24" }
local fleet = vh.fleet { n = 2, network = lan, firmware = vh.reference_firmware {} }
fleet:power_on()
vh.all(fleet, "never%-printed", "10m")
