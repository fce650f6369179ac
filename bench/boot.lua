-- bench/boot: boot-to-"net up" wall time over 10 boots of the reference
-- firmware, and the QEMU process's RSS once the guest is idle, for the
-- configuration the harness picks (x86_64: microvm, TCG or KVM,
-- tsc_early_khz; aarch64: virt, cortex-a53 under TCG or the host CPU under KVM).
--   build/vharness run bench/boot.lua
--   build/vharness run bench/boot.lua --arch aarch64
--   build/vharness run bench/boot.lua --image-dir build/image-small -D memory=48M
-- (`-D memory=` is the guest's -m; --image-dir picks the image, and so the
-- kernel: build/image-small has the small one, docs/fleet.md.)
local vh = require "vharness"
local BOOTS, IDLE = 10, "3s"

local lan = vh.network { name = "lan" }
local fw = vh.reference_firmware {}
local dut = vh.device { name = "dut", network = lan, firmware = fw,
                        memory = vh.param("memory", "96M") }

local function rss_kib(pid)
  local f = assert(io.open("/proc/" .. pid .. "/status"))
  local text = f:read("a")
  f:close()
  return tonumber(text:match("VmRSS:%s+(%d+) kB"))
end

local function median(t)
  table.sort(t)
  local n = #t
  return n % 2 == 1 and t[(n + 1) / 2] or (t[n / 2] + t[n / 2 + 1]) / 2
end

-- One boot that is not counted: it pays for the accelerator probe.
dut:power_on()
dut:expect("vh%-agent: net up", "30s")
dut:power_cut()

local boot_s, rss = {}, {}
for i = 1, BOOTS do
  local t0 = vh.now()
  dut:power_on()
  dut:expect("vh%-agent: net up", "30s")
  boot_s[i] = vh.now() - t0
  vh.sleep(IDLE)
  rss[i] = rss_kib(dut.pid) / 1024
  dut:power_cut()
end

local sorted = { table.unpack(boot_s) }
table.sort(sorted)
print(string.format("%-28s %8s %8s %8s %8s", "bench/boot " .. fw.arch .. " (n=" .. BOOTS .. ")",
  "median", "min", "max", "spread"))
print(string.format("%-28s %8.2f %8.2f %8.2f %8.2f", "power-on to net up (s)", median(boot_s),
  sorted[1], sorted[#sorted], sorted[#sorted] - sorted[1]))
local rs = { table.unpack(rss) }
table.sort(rs)
print(string.format("%-28s %8.1f %8.1f %8.1f %8.1f", "QEMU RSS after " .. IDLE .. " idle (MiB)",
  median(rss), rs[1], rs[#rs], rs[#rs] - rs[1]))
