-- update_cut_sweep: an over-the-air update from 1.0.0 to 2.0.0, written for
-- `vharness sweep`: the sweep cuts the power at each of its cut points (the
-- console lines, flushes or writes --cut-at names) and, in place of the rest
-- of the scenario, runs the vh.after_power_loss check below. Alone (`vharness run`) it is the
-- update with no cut, which is the sweep's recording run.
--   build/vharness sweep scenarios/update_cut_sweep.lua \
--     --cut-at 'line:vh%-agent: install slot=b progress=' --max 4
--   build/vharness sweep scenarios/update_cut_sweep.lua \
--     --cut-at flush --from 'vh%-agent: install slot=b' --jobs 2
--   -D bugs=a,b   both firmware builds carry these planted bugs
local vh = require "vharness"
local bugs = vh.param("bugs", "")

local lan = vh.network { name = "lan" }
local ota = vh.update_server { network = lan }
local dut = vh.device {
  name = "dut", network = lan, server = ota,
  firmware = vh.reference_firmware { version = "1.0.0", bugs = bugs },
}

-- Whatever the cut interrupted, the device must boot a whole slot, the
-- old one (a, 1.0.0) or the new one (b, 2.0.0), and get back to its server.
-- The first boot after one cut must not be a rollback: the harness's
-- bootloader rolls back from a slot whose image fails its check, but one
-- that trusts the env (U-Boot without verified boot) boots the half-written
-- slot, so an env naming an incomplete slot is a brick on such a device.
-- Once the agent has said "install complete", the flip is its promise: a cut
-- after it must find the device on the new slot. The line may be any before
-- the cut (cut.lines): a flush or write point comes lines after it.
vh.after_power_loss(function(dev, cut)
  local promised = false
  for _, line in ipairs(cut.lines) do
    promised = promised or line:find("install complete", 1, true) ~= nil
  end
  -- A redundant env survives a cut in any store only while each store goes
  -- to the copy not in use, with the next flags: then the two copies on the
  -- flash are one store apart, or the one being written is torn (invalid).
  -- Two whole copies further apart mean a store overwrote the copy in use,
  -- and the env before it is gone: a tear in that store would leave none.
  -- Read as the cut left them (cut.env_copies), before the bootloader's next
  -- store writes the other copy again.
  local copies = cut.env_copies
  if copies and copies[1].valid and copies[2].valid then
    local apart = (copies[1].flags - copies[2].flags) % 256
    vh.check(apart == 1 or apart == 255, string.format("at the cut the env copies were one "
      .. "store apart (flags %d and %d): each store wrote the copy not in use",
      copies[1].flags, copies[2].flags))
  end
  local slot, version = dev:expect("vh%-agent: boot slot=(%a) version=(%S+)", "60s")
  vh.check((slot == "a" and version == "1.0.0") or (slot == "b" and version == "2.0.0"),
    "after the cut the device boots a whole slot: a 1.0.0 or b 2.0.0 (got " .. version
      .. " from " .. slot .. ")")
  if promised then
    vh.check(slot == "b", "a cut after \"install complete\" boots the new slot b (got "
      .. slot .. ")")
  end
  -- The agent prints its rollback line, if any, right after the boot line.
  local next_line = dev:expect("vh%-agent: (%l[^\n]*)", "60s")
  vh.check(not next_line:find("^rollback"),
    "after the cut the env named a slot that cannot boot (" .. next_line .. ")")
  dev:expect("vh%-agent: connected", "60s")
end)

dut:power_on()
dut:expect("vh%-agent: connected", "30s")
ota:publish(vh.reference_firmware { version = "2.0.0", bugs = bugs })
dut:expect("vh%-agent: commit slot=b", "180s")
vh.check(dut:env("upgrade_available") == "0", "2.0.0 committed")
