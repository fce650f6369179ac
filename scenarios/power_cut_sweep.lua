-- power_cut_sweep: power dies at every step of an install, and right after
-- the boot environment is flipped to the new slot. After every cut the device
-- must boot a whole, good slot: the old one while the install was
-- incomplete, the new one once the flip (the commit point) has happened.
--   build/vharness run scenarios/power_cut_sweep.lua
--   -D bugs=a,b   runs the reference firmware with planted bugs (tests use this)
local vh = require "vharness"
local bugs = vh.param("bugs", "")

local lan = vh.network { name = "lan" }
local ota = vh.update_server { network = lan }
local dut = vh.device {
  name = "dut", network = lan, server = ota,
  firmware = vh.reference_firmware { version = "1.0.0", bugs = bugs },
}

dut:power_on()
dut:expect("vh%-agent: connected", "30s")

-- The env copy in use before the update. U-Boot keeps two copies so that a
-- power cut in the middle of an env write can fall back to the old one:
-- firmware must write the other copy and leave this one alone.
local function env_in_use()
  for i, copy in ipairs(dut:env_copies()) do
    if copy.active then return i, copy end
  end
end
local kept_index, kept = env_in_use()
ota:publish(vh.reference_firmware { version = "2.0.0", bugs = bugs })

for progress = 10, 100, 10 do
  dut:power_cut { on = "vh%-agent: install slot=b progress=" .. progress .. "$", timeout = "120s" }
  vh.check(dut:slot() == "a", "cut at install progress " .. progress .. ": boot slot still a")
  dut:power_on()
  local slot, version = dut:expect("vh%-agent: boot slot=(%a) version=(%S+)", "30s")
  vh.check(slot == "a" and version == "1.0.0",
    "first boot after a cut at progress " .. progress .. " runs 1.0.0 from a (got "
      .. version .. " from " .. slot .. ")")
  dut:expect("vh%-agent: connected", "30s")
end

-- The flip is the commit point: once it is done, the new slot must be whole.
dut:power_cut { on = "vh%-agent: install complete slot=b", timeout = "120s" }
vh.check(dut:slot() == "b", "cut right after the flip: boot slot is b")
local old = dut:env_copies()[kept_index]
vh.check(old.valid and old.flags == kept.flags and old.env.boot_slot == kept.env.boot_slot,
  "the flip wrote the other env copy: the one in use before it is intact"
    .. " (a torn flip could fall back to it)")
dut:power_on()
local slot, version = dut:expect("vh%-agent: boot slot=(%a) version=(%S+)", "30s")
vh.check(slot == "b" and version == "2.0.0",
  "first boot after a cut right after the flip runs 2.0.0 from b (got " .. version .. " from "
    .. slot .. ")")
dut:expect_not("vh%-agent: rollback", "2s")
dut:expect("vh%-agent: commit slot=b", "60s")
vh.check(dut:env("upgrade_available") == "0", "2.0.0 committed after the cut")
