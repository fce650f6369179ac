-- A release that never gets healthy must not stick: the device installs it,
-- tries it on a trial boot, never commits it, and the bootloader's bootcount
-- rolls it back to the known-good slot, where the device reconnects.
--   build/vharness run scenarios/rollback_bad_image.lua
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
dut:expect("vh%-agent: boot slot=a version=1.0.0", "30s")
dut:expect("vh%-agent: connected", "30s")

-- 2.0.0 is broken: it never reaches its server, so it never proves healthy.
local broken = bugs == "" and "never-healthy" or bugs .. ",never-healthy"
ota:publish(vh.reference_firmware { version = "2.0.0", bugs = broken })
dut:expect("vh%-agent: install complete slot=b", "90s")
ota:unpublish() -- the release is pulled; the device must heal by itself

dut:expect("vh%-agent: boot slot=b version=2.0.0", "30s")
vh.check(dut:env("upgrade_available") == "1", "2.0.0 boots on trial")
-- An unhealthy trial must never be committed, not even early.
dut:expect_not("vh%-agent: commit", "10s")

-- Each trial boot waits for health, gives up and reboots; past bootlimit the
-- bootloader falls back to slot a.
dut:expect("vh%-agent: rollback from=b to=a", "150s")
dut:expect("vh%-agent: connected", "30s")
vh.check(dut:slot() == "a", "back on slot a")
vh.check(dut:env("upgrade_available") == "0", "the trial is over")
dut:expect_not("vh%-agent: commit slot=b", "3s")
