-- flash_fault_ota: the flash fails a write while an update is installed.
-- Good firmware reports the failed update, stays on its slot (the env is only
-- flipped once the new slot is whole) and tries again at its next check-in;
-- with the fault spent, the retry installs and commits 2.0.0.
--   build/vharness run scenarios/flash_fault_ota.lua
--   -D bugs=flip-after-write-error   firmware that flips the env after a
--                                    failed write (the tests use this)
local vh = require "vharness"
local bugs = vh.param("bugs", "")
local MiB = 1024 * 1024

local lan = vh.network { name = "lan" }
local ota = vh.update_server { network = lan }
local dut = vh.device {
  name = "dut", network = lan, server = ota,
  firmware = vh.reference_firmware { version = "1.0.0", bugs = bugs },
}

dut:power_on()
dut:expect("vh%-agent: connected", "30s")

-- Slot b is the 40 MiB from 41 MiB (docs/ota-protocol.md). Once the install
-- is under way, the next write there fails with EIO, once.
dut:flash_fault {
  op = "write", error = "EIO", range = { 41 * MiB, 40 * MiB },
  on = "vh%-agent: install slot=b progress=30", count = 1,
}
ota:publish(vh.reference_firmware { version = "2.0.0", bugs = bugs })

dut:expect("vh%-agent: update failed reason=download", "120s")
vh.check(dut:slot() == "a",
  "after a failed write to slot b the boot slot is still a (it is " .. dut:slot()
    .. ": the env was flipped to a slot that is not whole)")

-- A reboot now (the retry has not got far) boots the old firmware.
dut:reset()
local slot, version = dut:expect("vh%-agent: boot slot=(%a) version=(%S+)", "30s")
vh.check(slot == "a" and version == "1.0.0",
  "the reboot after the failed install runs 1.0.0 from a (got " .. version .. " from " .. slot
    .. ")")

-- The fault is spent: the offer comes back at the next check-in.
dut:expect("vh%-agent: install complete slot=b", "120s")
slot, version = dut:expect("vh%-agent: boot slot=(%a) version=(%S+)", "60s")
vh.check(slot == "b" and version == "2.0.0",
  "the retry installed 2.0.0 in b (booted " .. version .. " from " .. slot .. ")")
dut:expect("vh%-agent: commit slot=b", "60s")
vh.check(dut:env("upgrade_available") == "0", "2.0.0 committed after the retry")
