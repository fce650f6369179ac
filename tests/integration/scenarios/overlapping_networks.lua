local vh = require "vharness"
local lan = vh.network { name = "lan", subnet = "10.77.0.0/24" }
local lab = vh.network { name = "lab", subnet = "10.77.0.0/16" }
