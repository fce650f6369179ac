-- One reference guest boots, reports its slot and address, answers on its
-- console, and reaches the host side of its network (ICMP and TCP).
local vh = require "vharness"
local lan = vh.network { name = "lan", subnet = "10.77.0.0/24" }
local dut = vh.device {
  name = "dut", network = lan, firmware = vh.reference_firmware { version = "1.0.0" },
}
dut:power_on()
local slot, version = dut:expect("vh%-agent: boot slot=(%a) version=(%S+)", "30s")
vh.check(slot == "a", "boots slot a")
vh.check(version == "1.0.0", "runs the version it was given")
local ip = dut:expect("vh%-agent: net up ip=(%S+)", "30s")
vh.check(ip == dut.ip, "has the address the harness gave it")
dut:expect("vh# ", "10s")
dut:send("echo sum=$((40+2))\n")
dut:expect("^sum=42$", "10s", { regex = true })
dut:send("ping -c 2 -W 2 " .. lan.host_ip .. " && echo PING-OK\n")
dut:expect("PING%-OK", "15s")
-- The test script listens on the host side (port 7777) inside this run's namespace.
for _ = 1, 20 do
  dut:send("echo tcp-from-guest | nc -w 2 " .. lan.host_ip .. " 7777 && echo TCP-SENT\n")
  if dut:try_expect("TCP%-SENT", "3s") then break end
  vh.sleep("500ms")
end
dut:expect_not("Kernel panic", "1s")
