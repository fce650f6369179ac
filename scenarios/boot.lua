-- The smallest useful scenario: the reference firmware boots on a private
-- network, says which slot and version it runs, gets its address, reaches the
-- host side, and answers on its console. Copy it to start your own.
--   build/vharness run scenarios/boot.lua
local vh = require "vharness"

local lan = vh.network { name = "lan", subnet = "10.77.0.0/24" } -- host side is .1
local dut = vh.device {
  name = "dut",
  network = lan,
  memory = "96M",
  firmware = vh.reference_firmware { version = "1.0.0" },
}

dut:power_on()
local slot, version = dut:expect("vh%-agent: boot slot=(%a) version=(%S+)", "30s")
vh.check(slot == "a" and version == "1.0.0", "boots version 1.0.0 from slot a")

local ip = dut:expect("vh%-agent: net up ip=(%S+)", "30s")
vh.check(ip == dut.ip, "took the address the harness assigned")

dut:expect("vh# ", "10s") -- the reference firmware's root shell
dut:send("ping -c 1 -W 2 " .. lan.host_ip .. " && echo HOST-REACHABLE\n")
dut:expect("HOST%-REACHABLE", "15s")
dut:expect_not("Kernel panic", "2s")
