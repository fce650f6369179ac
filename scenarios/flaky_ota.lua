-- flaky_ota: an over-the-air update on a bad network, with a power cut in the
-- middle of the install. Good firmware survives all of it: it resumes its
-- download after the network drops, stays on its old slot when power dies
-- mid-install, updates once power is back, commits the new version only
-- once it is healthy, and reconnects with backoff when its server restarts.
--   build/vharness run scenarios/flaky_ota.lua
--   -D bugs=a,b   runs the reference firmware with planted bugs (tests use this)
local vh = require "vharness"
local bugs = vh.param("bugs", "")

local lan = vh.network { name = "lan", subnet = "10.77.0.0/24" } -- host side is .1
local ota = vh.update_server { network = lan }                  -- http://10.77.0.1:8080
local dut = vh.device {
  name = "dut", network = lan, server = ota, memory = "96M",
  firmware = vh.reference_firmware { version = "1.0.0", bugs = bugs },
}

dut:power_on()
dut:expect("vh%-agent: boot slot=a version=1.0.0", "30s")
dut:expect("vh%-agent: connected", "30s")

-- A bad link: latency with jitter and loss, both ways, for the whole download.
lan:impair(dut, "delay 40ms 10ms loss 0.5%")
ota:publish(vh.reference_firmware { version = "2.0.0", bugs = bugs })
dut:expect("vh%-agent: update offered version=2.0.0", "30s")

-- Mid-download the device drops off the network for longer than its stall
-- timeout: it must resume where it stopped (HTTP Range), not start over.
dut:expect("vh%-agent: download progress=20", "120s")
lan:partition { dut }
vh.sleep("7s")
lan:heal()
dut:expect("vh%-agent: download resumed offset=[1-9]%d*", "60s")

-- Power dies while the new slot is being written.
dut:power_cut { on = "vh%-agent: install slot=b progress=70", timeout = "180s" }
vh.check(dut:slot() == "a", "an interrupted install leaves the boot slot on a")
dut:power_on()
dut:expect("vh%-agent: boot slot=a version=1.0.0", "30s")

-- Power is back and the network is better (latency, no loss): the device
-- updates, boots the new slot on trial and commits it once reconnected.
lan:impair(dut, "delay 40ms 10ms")
dut:expect("vh%-agent: install complete slot=b", "180s")
dut:expect("vh%-agent: boot slot=b version=2.0.0", "30s")
dut:expect("vh%-agent: commit slot=b", "60s")
vh.check(dut:slot() == "b", "2.0.0 is the boot slot")
vh.check(dut:env("upgrade_available") == "0", "2.0.0 is committed")

-- The update server restarts: the device backs off instead of hammering it,
-- and reconnects once the server is back.
lan:clear(dut)
ota:down()
dut:expect("vh-agent: (disconnected|connect failed)", "10s", { regex = true })
dut:expect_not("vh%-agent: connect failed server=%S+ attempt=%d%d", "5s")
ota:up()
dut:expect("vh%-agent: connected", "30s")
dut:expect_not("Kernel panic", "1s")
