-- bench/fleet: what a fleet costs on this machine, one table row per fleet
-- size N (default 1, 4, 10; `-D sizes=1,10,30`): QEMU's host memory per
-- device once the guests idle (RSS, and PSS where pages are shared), host
-- CPU per idle device (QEMU, and the harness's own share), the time
-- from the first power-on to the last device's `connected`, and the time to
-- update them all (published to all at once, until the last `commit`). A
-- second table splits the harness's CPU by component of its loop
-- (vh.harness_cpu) for the boot, the idle window and the update.
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
local release = vh.reference_firmware { version = "2.0.0" }
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
print(string.format("%-5s %12s %12s %12s %14s %14s %14s", "N", "RSS/dev MiB", "PSS/dev MiB",
  "CPU/dev %", "harness CPU %", "up to last s", "update all s"))
-- Harness CPU seconds by component between two vh.harness_cpu() readings.
local phases = {}
local function cpu_since(before)
  local now, d = vh.harness_cpu(), {}
  for k, v in pairs(now) do d[k] = v - (before[k] or 0) end
  return d
end
for _, fleet in ipairs(fleets) do
  local n = #fleet
  local t0, c0 = vh.now(), vh.harness_cpu()
  fleet:power_on()
  vh.all(fleet, "vh%-agent: connected server=", "10m")
  local up_s = vh.now() - t0
  phases[#phases + 1] = { n = n, what = "boot", cpu = cpu_since(c0), s = up_s }
  vh.sleep(SETTLE)
  local function ticks()
    local sum = 0
    for _, d in ipairs(fleet) do sum = sum + cpu_ticks(d.pid) end
    return sum, cpu_ticks("self")
  end
  local q0, h0 = ticks()
  local w0, c1 = vh.now(), vh.harness_cpu()
  vh.sleep(IDLE_S .. "s")
  local q1, h1 = ticks()
  local window = vh.now() - w0
  phases[#phases + 1] = { n = n, what = "idle", cpu = cpu_since(c1), s = window }
  local rss, pss = 0, 0
  for _, d in ipairs(fleet) do
    local r, p = memory_kib(d.pid)
    rss, pss = rss + r, pss + p
  end
  local t1, c2 = vh.now(), vh.harness_cpu()
  ota:publish(release)
  vh.all(fleet, "vh%-agent: commit slot=b", "30m")
  local update_s = vh.now() - t1
  phases[#phases + 1] = { n = n, what = "update", cpu = cpu_since(c2), s = update_s }
  ota:publish(fw) -- the next fleet boots 1.0.0 and is offered 2.0.0 again
  print(string.format("%-5d %12.1f %12.1f %12.2f %14.2f %14.2f %14.2f", n, rss / n / 1024,
    pss / n / 1024, (q1 - q0) / TCK / window / n * 100, (h1 - h0) / TCK / window / n * 100,
    up_s, update_s))
  vh.log(string.format("fleet of %d: all connected %.2f s after the first power-on, all "
    .. "updated %.2f s after the publish", n, up_s, update_s))
  for _, d in ipairs(fleet) do d:power_cut() end
end

-- The components in a fixed order, the busiest of the first phase first.
local names, seen = {}, {}
for _, p in ipairs(phases) do
  for k in pairs(p.cpu) do
    if not seen[k] then names[#names + 1], seen[k] = k, true end
  end
end
table.sort(names, function(a, b)
  local ca, cb = phases[1].cpu[a] or 0, phases[1].cpu[b] or 0
  if ca ~= cb then return ca > cb end
  return a < b
end)
print()
print("harness CPU by component, % of one core over each phase")
local head = string.format("%-5s %-7s %8s", "N", "phase", "phase s")
for _, k in ipairs(names) do head = head .. string.format(" %13s", k) end
print(head)
for _, p in ipairs(phases) do
  local row = string.format("%-5d %-7s %8.1f", p.n, p.what, p.s)
  for _, k in ipairs(names) do
    row = row .. string.format(" %13.2f", (p.cpu[k] or 0) / p.s * 100)
  end
  print(row)
end
print(string.format("memory %s, idle window %d s", MEMORY, IDLE_S))
print(string.format("stagger %s; 1-minute load average %s before, %s after (%d cores)",
  STAGGER, load_before, read("/proc/loadavg"):match("^(%S+)"),
  select(2, read("/proc/cpuinfo"):gsub("\nprocessor", "")) + 1))
