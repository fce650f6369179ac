-- Two guests boot at once on one network, each waited for by its own
-- coroutine, and reach each other.
local vh = require "vharness"
local lan = vh.network { name = "lan", subnet = "10.77.5.0/24" }
local fw = vh.reference_firmware { version = "1.0.0" }
local a = vh.device { name = "a", network = lan, firmware = fw }
local b = vh.device { name = "b", network = lan, firmware = fw }
local up = {}
for _, d in ipairs { a, b } do
  vh.spawn(function()
    d:power_on()
    d:expect("vh%-agent: net up", "40s")
    up[#up + 1] = d.name
  end)
end
for _ = 1, 200 do
  if #up == 2 then break end
  vh.sleep("200ms")
end
vh.check(#up == 2, "both devices came up")
a:expect("vh# ", "10s")
a:send("ping -c 1 -W 2 " .. b.ip .. " && echo A-REACHES-B\n")
a:expect("A%-REACHES%-B", "15s")
