-- bench/fleet: what a fleet costs on this machine, one table row per fleet
-- size N (default 1, 4, 10; `-D sizes=1,10,30`): QEMU's host memory per
-- device once the guests idle (RSS, and PSS where pages are shared), host
-- CPU per idle device (QEMU, and the harness's own share), and the time
-- from the first power-on to the last device's `connected`.
--   build/vharness run bench/fleet.lua [-D sizes=1,4,10] [-D stagger=50ms]
--        [-D memory=96M] [-D idle=5] [--image-dir build/image-small]
-- (memory: each guest's -m; idle: the CPU window in seconds; --image-dir
-- picks the image and so the guest kernel, docs/fleet.md.)
-- Each size is its own fleet, powered on with vh.fleet's stagger and cut
-- before the next; one uncounted boot first pays for the accelerator probe.
-- All sizes share one /24, so they add up to at most 250 devices.
local vh = require "vharness"

local sizes = {}
for n in vh.param("sizes", "1,4,10"):gmatch("%d+") do sizes[#sizes + 1] = tonumber(n) end
local STAGGER = vh.param("stagger", "50ms")
local MEMORY = vh.param("memory", "96M")
local SETTLE, IDLE_S = "3s", tonumber(vh.param("idle", "5"))

local lan = vh.network { name = "lan", subnet = "10.77.0.0/24" }
local ota = vh.update_server { network = lan }
local fw = vh.reference_firmware { version = "1.0.0" }
local warm = vh.device { name = "warm", network = lan, server = ota, firmware = fw,
                         memory = MEMORY }
local fleets = {}
for i, n in ipairs(sizes) do
  fleets[i] = vh.fleet { n = n, name = string.char(96 + i) .. "%03d", network = lan,
                         server = ota, firmware = fw, stagger = STAGGER, memory = MEMORY }
end

local function read(path)
  local f = io.open(path)
  if not f then return "" end
  local text = f:read("a")
  f:close()
  return text
end

-- utime + stime of a process, in clock ticks (0 under `vharness check`,
-- which starts no process).
local function cpu_ticks(pid)
  if not pid then return 0 end
  local fields = {}
  for w in read("/proc/" .. pid .. "/stat"):match("%) (.*)"):gmatch("%S+") do
    fields[#fields + 1] = w
  end
  return tonumber(fields[12]) + tonumber(fields[13]) -- fields 14 and 15 of stat(5)
end

local function clk_tck()
  local ok, p = pcall(io.popen, "getconf CLK_TCK")
  if ok and p then
    local v = tonumber(p:read("l"))
    p:close()
    if v then return v end
  end
  return 100
end
local TCK = clk_tck()

-- Rss and Pss of a process in KiB.
local function memory_kib(pid)
  if not pid then return 0, 0 end
  local text = read("/proc/" .. pid .. "/smaps_rollup")
  return tonumber(text:match("\nRss:%s+(%d+) kB")), tonumber(text:match("\nPss:%s+(%d+) kB"))
end

warm:power_on()
warm:expect("vh%-agent: connected server=", "120s")
warm:power_cut()

-- Other work on the machine moves every column: the table says how busy it was.
local load_before = read("/proc/loadavg"):match("^(%S+)")
print(string.format("%-5s %12s %12s %12s %14s %14s", "N", "RSS/dev MiB", "PSS/dev MiB",
  "CPU/dev %", "harness CPU %", "up to last s"))
for _, fleet in ipairs(fleets) do
  local n = #fleet
  local t0 = vh.now()
  fleet:power_on()
  vh.all(fleet, "vh%-agent: connected server=", "10m")
  local up_s = vh.now() - t0
  vh.sleep(SETTLE)
  local function ticks()
    local sum = 0
    for _, d in ipairs(fleet) do sum = sum + cpu_ticks(d.pid) end
    return sum, cpu_ticks("self")
  end
  local q0, h0 = ticks()
  local w0 = vh.now()
  vh.sleep(IDLE_S .. "s")
  local q1, h1 = ticks()
  local window = vh.now() - w0
  local rss, pss = 0, 0
  for _, d in ipairs(fleet) do
    local r, p = memory_kib(d.pid)
    rss, pss = rss + r, pss + p
  end
  print(string.format("%-5d %12.1f %12.1f %12.2f %14.2f %14.2f", n, rss / n / 1024,
    pss / n / 1024, (q1 - q0) / TCK / window / n * 100, (h1 - h0) / TCK / window / n * 100,
    up_s))
  vh.log(string.format("fleet of %d: all connected %.2f s after the first power-on", n, up_s))
  for _, d in ipairs(fleet) do d:power_cut() end
end
print(string.format("memory %s, idle window %d s", MEMORY, IDLE_S))
print(string.format("stagger %s; 1-minute load average %s before, %s after (%d cores)",
  STAGGER, load_before, read("/proc/loadavg"):match("^(%S+)"),
  select(2, read("/proc/cpuinfo"):gsub("\nprocessor", "")) + 1))
