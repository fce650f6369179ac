-- README promises about one device, on a real guest (it_promises_device.sh
-- reads the artifacts afterwards): the fields of a run, how expect reads the
-- console (consumption, the 25 ms quiet rule, prompts without a newline),
-- power_cut{on=} cutting before anything after the line is logged (from the
-- shell and from the agent), and link(false)/link(true) stopping and
-- restoring traffic.
local vh = require "vharness"

local lan = vh.network { name = "lan", subnet = "10.77.0.0/24" }
local ota = vh.update_server { network = lan }
local dut = vh.device { name = "dut", network = lan, server = ota, memory = "96M",
                        firmware = vh.reference_firmware { version = "1.0.0" } }

-- Fields. The test compares them with events.jsonl.
vh.check(not dut.powered and dut.boots == 0 and dut.pid == nil,
  "a new device is off, no boots, no pid")
dut:power_on()
vh.check(dut.powered and dut.boots == 1 and math.type(dut.pid) == "integer",
  "powered, 1 boot, a pid")
vh.log("fields name=" .. dut.name .. " ip=" .. dut.ip .. " mac=" .. dut.mac ..
  " pid=" .. tostring(dut.pid) ..
  " host_ip=" .. lan.host_ip .. " subnet=" .. lan.subnet .. " bridge=" .. lan.bridge ..
  " url=" .. ota.url .. " seed=" .. vh.seed())
local t0 = vh.now()
vh.sleep("500ms")
local slept = vh.now() - t0
vh.check(slept >= 0.5 and slept < 2, "vh.now() advances with vh.sleep (500ms took " .. slept .. ")")

-- Once connected the agent is silent until an offer: the console is the shell's.
dut:expect("vh%-agent: connected server=", "30s")
-- Under TCG the kernel gets the host TSC rate (the test checks it when the run used TCG).
dut:send("cat /proc/cmdline; printf 'CMDLINE%s\\n' -END\n")
vh.log("tsc_early_khz=" .. tostring(dut:try_expect("tsc_early_khz=(%d+)", "5s")))
dut:expect("CMDLINE%-END", "10s") -- the command line holds vh.ip=: consume it

-- An expect consumes the text up to its match; the next one sees what follows.
-- (printf's %s keeps the typed command from matching, should the console echo it.)
dut:send("printf 'one%s two%s one%s\\n' -A -B -C\n")
vh.check(dut:expect("one%-(%u)", "10s") == "A", "the first expect takes the first one-X")
vh.check(dut:expect("one%-(%u)", "10s") == "C", "the next expect sees what follows: one-C")
vh.check(dut:try_expect("two%-B", "1s") == nil, "text before a match is consumed with it")

-- A value written in two pieces with no pause is captured whole: a match at
-- the end of an unfinished line counts only once the line ends or the
-- console pauses for 25 ms.
dut:send("printf 'i%s=10.1' p; printf '2.3.4\\n'\n")
local ip = dut:expect("ip=(%S+)", "10s")
vh.check(ip == "10.12.3.4", "ip=(%S+) captures the whole address (got " .. ip .. ")")
-- The same pieces a second apart: after 25 ms of quiet the match counts, so
-- the first piece is what an expect sees; the rest is left for the next one.
dut:send("printf 'i%s=10.1' p; sleep 1; printf '2.3.4\\n'\n")
local half = dut:expect("ip=(%S+)", "10s")
vh.check(half == "10.1", "a pause of 1 s ends the match at what had arrived (got " .. half .. ")")
vh.check(dut:expect("([%d.]+)", "10s") == "2.3.4", "the rest of the line goes to the next expect")
-- A prompt without a newline matches: "word: " then the shell's own "vh# ".
dut:send("printf 'pass%s: ' word\n")
dut:expect("password: ", "10s")
dut:expect("vh# ", "10s")

-- power_cut{on=} from the shell: STEP1 reaches the disk, then two lines in
-- one write; the cut on the first means the second is never logged, and
-- STEP2 (written a second later) never reaches the disk.
dut:send("sleep 1; printf STEP1 | dd of=/dev/vda3 conv=fsync 2>/dev/null; " ..
  "printf 'CUT%s\\nAFTER%s\\n' -HERE -CUT | cat; sleep 1; " ..
  "printf STEP2 | dd of=/dev/vda3 bs=512 seek=8 conv=fsync 2>/dev/null; printf 'LATE%s\\n' -LINE\n")
local line = dut:power_cut { on = "CUT%-HERE$", timeout = "30s" } -- after a prompt: no ^
vh.check(line:find("CUT-HERE", 1, true) and not dut.powered, "cut on the shell's line")
dut:power_on()
vh.check(dut.boots == 2, "boot 2")

-- PING-OK or PING-FAILED: whether the host side answered within ping's wait.
local function ping(args)
  dut:send("ping " .. args .. " " .. lan.host_ip ..
    " >/dev/null 2>&1 && printf 'PING%s\\n' -OK || printf 'PING%s\\n' -FAILED\n")
  return dut:expect("PING%-(%u+)", "20s")
end

-- link(false) pulls the cable: the device cannot reach the host side, and
-- its check-in channel hears nothing; link(true) brings both back.
dut:expect("vh%-agent: connected server=", "30s")
dut:link(false)
dut:expect("vh%-agent: disconnected reason=heartbeat_timeout", "20s")
local down = ping("-c 2 -W 2")
vh.check(down == "FAILED", "no ping with the cable pulled (got " .. down .. ")")
dut:link(true)
dut:expect("vh%-agent: connected server=", "40s")
local up = ping("-c 3 -W 5")
vh.check(up == "OK", "ping works once the cable is back (got " .. up .. ")")

-- power_cut{on=} on an agent line: "install slot=b progress=40" follows
-- "download progress=40" within about a millisecond (one 64 KiB block
-- write later); the cut on the first leaves the second unlogged. This is
-- the last boot, so the log's last agent line is the cut line. The flash
-- keeps every write here (durable): the agent's O_DIRECT writes are not
-- flushed, and this promise is about when the cut lands, which the blocks in
-- slot b show; what a volatile flash loses is it_flash's.
ota:publish(vh.reference_firmware { version = "2.0.0" })
vh.log("agent cut at: " ..
  dut:power_cut { on = "vh%-agent: download progress=40 ", timeout = "120s", flash = "durable" })
vh.check(dut:slot() == "a" and dut:env("upgrade_available") == "0",
  "a cut mid-download leaves the env on a")
