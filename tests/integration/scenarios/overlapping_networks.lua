local vh = require "vharness"
vh.network { name = "lan", subnet = "10.77.0.0/24" }
vh.network { name = "lab", subnet = "10.77.0.0/16" }
