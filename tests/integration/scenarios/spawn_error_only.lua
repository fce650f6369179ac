local vh = require "vharness"
vh.spawn(function() error("x") end)
