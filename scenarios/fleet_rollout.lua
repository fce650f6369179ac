-- fleet_rollout: a staged rollout to a fleet on a flaky network. Release
-- 2.0.0 goes to 10% of the fleet, then to everyone; a device outside the
-- current share checks in and is held back (no offer). Mid-download half the
-- fleet drops off the network, then comes back at once: the devices must
-- come back spread out by their backoff jitter, not as a herd, resume, and
-- every device must update and commit. reconnects.txt in the artifacts
-- shows the reconnect storm.
--   build/vharness run scenarios/fleet_rollout.lua
--   -D devices=100       fleet size (devices d001, d002, ...)
--   -D stages=10,100     the shares in percent; the last must be 100
--   -D herd_share=0.5    the most of the healed half's reconnections one
--                        second may hold (default: 0.5 from 20 healed
--                        devices up; below that all but one of them, see
--                        herd_limit)
--   -D partition=20s     how long half the fleet is cut off
--   -D impair="delay 30ms 10ms loss 0.5%"   each device's link (netem spec)
--   -D bugs=no-backoff   planted bugs (the herd then fails the check)
-- Which devices a share takes is fixed by their names and the version
-- (ota:bucket): of d001..d010, 10% is d005 and d009.
local vh = require "vharness"
local N = math.tointeger(tonumber(vh.param("devices", "100")))
local stages = {}
for p in vh.param("stages", "10,100"):gmatch("%d+") do stages[#stages + 1] = tonumber(p) end
local HERD_PARAM = vh.param("herd_share", "")
local HERD = HERD_PARAM == "" and 0.5 or tonumber(HERD_PARAM)
local CUT = vh.param("partition", "20s")
local bugs = vh.param("bugs", "")
local IMPAIR = vh.param("impair", "delay 30ms 10ms loss 0.5%")
if not N or N < 2 or #stages == 0 or stages[#stages] ~= 100 or not HERD then
  error("fleet_rollout: -D devices= needs an integer >= 2, -D stages= must end at 100,"
    .. " -D herd_share= is a number")
end

local lan = vh.network { name = "lan", subnet = N > 250 and "10.77.0.0/16" or "10.77.0.0/24" }
local ota = vh.update_server { network = lan }
local fleet = vh.fleet {
  n = N, name = "d%03d", network = lan, server = ota, stagger = "200ms",
  firmware = vh.reference_firmware { version = "1.0.0", bugs = bugs },
}
fleet:power_on()
vh.all(fleet, "vh%-agent: connected", "1800s")
for _, d in ipairs(fleet) do lan:impair(d, IMPAIR) end

-- How many of n healed devices one second may hold. Correct devices wait
-- out a residual of their 4-12 s jittered backoff, so by chance several land
-- in one second: simulated, 3 or more of 5 do in 24% of runs, 11 or more of
-- 20 in 0.03%, 16 of 30 in under 0.003%. A share is a fair test only from 20
-- up; below that the default asks only that not all of them come back in one
-- second (5 of 5: 0.07%), which a herd without backoff still fails. Fewer
-- than 5 cannot be judged without flaking, unless -D herd_share says how.
local function herd_limit(n)
  if HERD_PARAM ~= "" or n >= 20 then return math.floor(HERD * n) end
  if n >= 5 then return n - 1 end
  return nil
end

-- Cuts the first half of the fleet off, then lets it back in at once, and
-- judges how the healed devices come back from the server's connections.
local function cut_half_and_heal()
  local half, by_ip = {}, {}
  for i = 1, N // 2 do
    half[i] = fleet[i]
    by_ip[fleet[i].ip] = fleet[i]
  end
  lan:partition(half)
  vh.sleep(CUT)
  local healed_at = vh.now()
  lan:heal()
  -- the first connection of each healed device, in the order they came
  local first, times = {}, {}
  -- 240 polls of 500 ms: two minutes (counted, not timed by vh.now(), so that
  -- `vharness check`, whose sleeps return at once, does not spin for them)
  for _ = 1, 240 do
    if #times == #half then break end
    vh.sleep("500ms")
    for _, c in ipairs(ota:connections(healed_at)) do
      local d = by_ip[c.ip]
      if d and not first[d] then
        first[d] = c.t
        times[#times + 1] = c.t
      end
    end
  end
  vh.check(#times == #half, string.format("%d of %d healed devices reconnected within 120 s",
    #times, #half))
  if #times == 0 then return end -- `vharness check`: nothing ran
  table.sort(times)
  local most, j = 0, 1
  for i = 1, #times do
    while times[i] - times[j] >= 1.0 do j = j + 1 end
    most = math.max(most, i - j + 1)
  end
  vh.log(string.format("reconnections of %d healed devices: first after %.1f s, last after"
    .. " %.1f s, at most %d in one second", #times, times[1] - healed_at,
    times[#times] - healed_at, most))
  local limit = herd_limit(#times)
  if not limit then
    vh.log(string.format("%d healed devices are too few to tell a herd from chance", #times))
    return
  end
  vh.check(most <= limit, string.format("the healed devices came back spread out:"
    .. " at most %d of %d in one second (got %d)", limit, #times, most))
end

local release = vh.reference_firmware { version = "2.0.0", bugs = bugs }
local updated = {}
for i, percent in ipairs(stages) do
  if i == 1 then
    ota:publish(release, { percent = percent })
  else
    ota:rollout(percent)
  end
  local stage = {}
  for _, d in ipairs(fleet) do
    if not updated[d] and ota:bucket(d) < percent then stage[#stage + 1] = d end
  end
  vh.log(string.format("stage %d: %d%%, %d new device(s)", i, percent, #stage))
  if percent == 100 then
    -- mid-download: once one device of this stage is a fifth of the way in
    if #stage > 0 then vh.count(stage, "vh%-agent: download progress=20", 1, "600s") end
    cut_half_and_heal()
  end
  if #stage > 0 then vh.all(stage, "vh%-agent: commit slot=b", "1800s") end
  for _, d in ipairs(stage) do updated[d] = true end
  for _, d in ipairs(fleet) do
    if not updated[d] then
      vh.check(d:slot() == "a" and d:env("upgrade_available") ~= "1",
        d.name .. " is held back at " .. percent .. "%: still on slot a, no update armed")
    end
  end
end
for _, d in ipairs(fleet) do
  vh.check(updated[d] and d:slot() == "b", d.name .. " runs 2.0.0 from slot b")
end
