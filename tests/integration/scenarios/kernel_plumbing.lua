-- The kernel backend's plumbing on a kernel without sch_netem (run with
-- VH_KERNEL_BACKEND_NO_PROBE=1 --backend kernel): QEMU on its own tap on the
-- bridge, the tap's ingress redirected through an IFB, the bridge captured
-- live. Traffic flows both ways through it; then impair() fails, naming the
-- kernel's reason and this file's line.
local vh = require "vharness"
local lan = vh.network { name = "lan", subnet = "10.77.0.0/24" }
local ota = vh.update_server { network = lan }
local dut = vh.device { name = "dut", network = lan, server = ota,
                        firmware = vh.reference_firmware { version = "1.0.0" } }
dut:power_on()
local ip = dut:expect("vh%-agent: net up ip=(%S+)", "30s")
vh.check(ip == dut.ip, "took the address the harness assigned")
-- TCP from the device, through the IFB. It races the shell's prompt, so no
-- expect for "vh# ": the console buffers what we type until the shell reads.
dut:expect("vh%-agent: connected server=", "30s")
dut:send("ping -c 3 -W 2 " .. lan.host_ip .. "\n")
dut:expect("3 packets received", "15s")
-- The test script, inside this run's namespace, checks the links and qdiscs,
-- then connects from the host side to this listener.
dut:send("nc -l -p 7777\n")
dut:expect("host%-reached%-guest", "40s")
-- A new QEMU attaches to the same tap, still redirected through the IFB.
dut:reset()
dut:expect("vh%-agent: net up", "30s")
dut:expect("vh# ", "10s")
dut:send("ping -c 1 -W 2 " .. lan.host_ip .. "\n")
dut:expect("1 packets received", "15s")
-- No sch_netem: impair fails, with the kernel's own words (a spec libnl cannot
-- express goes through tc; one it can falls back to tc to quote the kernel)...
local ok, err = pcall(lan.impair, lan, dut, "delay 10ms rate 1mbit")
local msg = type(err) == "table" and err.message or tostring(err)
vh.log("tc path: " .. msg)
vh.check(not ok and msg:find("qdisc kind is unknown", 1, true), "tc names the missing qdisc kind")
-- ... and uncaught: the run ends on the next line with exit 2.
lan:impair(dut, "delay 10ms")
vh.check(false, "impair cannot work without sch_netem")
