-- A fleet of four (vh.fleet) split into two groups: traffic crosses inside a
-- group, not between the groups and not to the host; heal() joins them again.
-- Each device pings one of its own group, one of the other group and the
-- host from its console; vh.all and vh.count wait for the verdict lines.
-- it_fleet.sh runs it on both impairment backends.
local vh = require "vharness"
local lan = vh.network { name = "lan", subnet = "10.77.12.0/24" }
local ota = vh.update_server { network = lan }
local fleet = vh.fleet { n = 4, name = "f%d", network = lan, server = ota,
                         firmware = vh.reference_firmware { version = "1.0.0" },
                         stagger = "100ms" }
vh.check(#fleet == 4 and fleet[1].name == "f1" and fleet[4].name == "f4", "vh.fleet made f1..f4")
fleet:power_on()
local first_up = vh.count(fleet, "vh%-agent: net up", 2, "120s")
vh.check(#first_up == 2, "vh.count returned the first two devices up")
vh.all(fleet, "vh%-agent: connected server=", "120s")

-- Groups {f1, f2} and {f3, f4}: f1's mate is f2, its other is f3, and so on.
local function mate(i) return fleet[i % 2 == 1 and i + 1 or i - 1] end
local function other(i) return fleet[(i + 1) % 4 + 1] end

-- Prints "PROBE-<tag> in=OK|NO out=OK|NO host=OK|NO"; the echoed command
-- never matches (printf puts the dash next to PROBE).
local function probe(tag)
  for i, d in ipairs(fleet) do
    d:send(string.format(
      "ping -c 2 -W 3 %s >/dev/null 2>&1 && i=OK || i=NO; " ..
      "ping -c 2 -W 2 %s >/dev/null 2>&1 && o=OK || o=NO; " ..
      "ping -c 2 -W 2 %s >/dev/null 2>&1 && h=OK || h=NO; " ..
      "printf '%%s%%s in=%%s out=%%s host=%%s\\n' PROBE -%s $i $o $h\n",
      mate(i).ip, other(i).ip, lan.host_ip, tag))
  end
end

probe("whole")
vh.all(fleet, "PROBE%-whole in=OK out=OK host=OK", "120s")

lan:partition { { fleet[1], fleet[2] }, { fleet[3], fleet[4] } }
probe("split")
vh.all(fleet, "PROBE%-split in=OK out=NO host=NO", "120s")

lan:heal()
probe("healed")
local first = vh.count(fleet, "PROBE%-healed in=OK out=OK host=OK", 2, "120s")
vh.check(#first == 2, "vh.count returned two devices")
local rest = {}
for _, d in ipairs(fleet) do
  if d ~= first[1] and d ~= first[2] then rest[#rest + 1] = d end
end
vh.all(rest, "PROBE%-healed in=OK out=OK host=OK", "120s")

-- A wait that cannot succeed fails with one message naming every device.
local ok, err = pcall(vh.all, fleet, "never%-printed", "2s")
local msg = type(err) == "table" and err.message or tostring(err)
vh.log("vh.all failure: " .. msg)
vh.check(not ok and msg:find("0 of 4 devices matched", 1, true)
         and msg:find("f1 (timed out)", 1, true) and msg:find("f4 (", 1, true),
         "vh.all's failure lists the devices that did not match")
ok, err = pcall(vh.count, { fleet[2], fleet[3] }, "never%-printed", 1, "1s")
msg = type(err) == "table" and err.message or tostring(err)
vh.log("vh.count failure: " .. msg)
vh.check(not ok and msg:find("f2 (", 1, true) and msg:find("f3 (", 1, true)
         and not msg:find("f1", 1, true), "vh.count's failure lists its devices")
