-- A partition drops every frame of the devices it lists, also between two
-- of them; heal() lets them talk again.
local vh = require "vharness"
local lan = vh.network { name = "lan", subnet = "10.77.6.0/24" }
local fw = vh.reference_firmware { version = "1.0.0" }
local a = vh.device { name = "a", network = lan, firmware = fw }
local b = vh.device { name = "b", network = lan, firmware = fw }
local up = 0
for _, d in ipairs { a, b } do
  vh.spawn(function()
    d:power_on()
    d:expect("vh# ", "40s")
    up = up + 1
  end)
end
for _ = 1, 300 do
  if up == 2 then break end
  vh.sleep("200ms")
end
vh.check(up == 2, "both devices came up")

-- PING-OK or PING-FAILED: whether from reached to within ping's wait.
local function ping(from, to, args)
  from:send("ping " .. args .. " " .. to.ip ..
    " >/dev/null 2>&1 && printf 'PING%s\\n' -OK || printf 'PING%s\\n' -FAILED\n")
  return from:expect("PING%-(%u+)", "30s")
end
vh.check(ping(a, b, "-c 3 -W 5") == "OK", "a reaches b")
lan:partition { a, b }
vh.check(ping(a, b, "-c 2 -W 2") == "FAILED", "with both partitioned, a does not reach b")
lan:heal()
vh.check(ping(a, b, "-c 3 -W 5") == "OK", "healed, a reaches b again")
