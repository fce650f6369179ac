-- chaos_ota: two devices on one network update from 1.0.0 to 2.0.0 at once,
-- over a link with some latency: boot, download, install, reboot into the
-- new slot, commit. scripts/chaos-kill kills vharness at random moments of
-- this run and checks that nothing of it survives; each phase lasts long
-- enough to be hit (about 40-60 s under TCG).
local vh = require "vharness"

local lan = vh.network { name = "lan", subnet = "10.77.9.0/24" }
local ota = vh.update_server { network = lan }
local old = vh.reference_firmware { version = "1.0.0" }
local devices = {
  vh.device { name = "a", network = lan, server = ota, firmware = old },
  vh.device { name = "b", network = lan, server = ota, firmware = old },
}
ota:publish(vh.reference_firmware { version = "2.0.0" })

for _, dev in ipairs(devices) do
  lan:impair(dev, "delay 20ms 5ms rate 6mbit")
  vh.spawn(function()
    dev:power_on()
    dev:expect("vh%-agent: boot slot=a version=1.0.0", "60s")
    dev:expect("vh%-agent: update offered version=2.0.0", "60s")
    dev:expect("vh%-agent: install complete slot=b", "180s")
    dev:expect("vh%-agent: boot slot=b version=2.0.0", "60s")
    dev:expect("vh%-agent: commit slot=b", "60s")
    vh.check(dev:slot() == "b", dev.name .. ": 2.0.0 is the boot slot")
  end)
end
