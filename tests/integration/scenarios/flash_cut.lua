-- The flash model as the guest sees it: a sector written straight to the
-- disk (O_DIRECT: past the guest's page cache, so QEMU has it) but never
-- flushed is gone after power_cut{flash="volatile"} and kept after
-- power_cut{flash="durable"}.
local vh = require "vharness"
local dut = vh.device { name = "dut", firmware = vh.reference_firmware {} }
-- The first sector of the reference disk's data partition (81 MiB), unused.
local SECTOR = 81 * 2048

local function write_marker(text)
  dut:send(("printf %s | dd of=/dev/vda bs=512 seek=%d count=1 conv=sync oflag=direct"
    .. " && echo WROTE_$((1+1))\n"):format(text, SECTOR))
  dut:expect("WROTE_2", "10s")
end

-- "FOUND_1" or "FOUND_0": the sector holds text. The arithmetic keeps the
-- typed command's echo from matching.
local function marker_found(text)
  dut:send(("dd if=/dev/vda bs=512 skip=%d count=1 iflag=direct 2>/dev/null | grep -q %s;"
    .. " echo FOUND_$((1-$?))\n"):format(SECTOR, text))
  return dut:expect("FOUND_(%d)", "10s") == "1"
end

-- The boot line first: it consumes the last boot's prompt, still unread on
-- the console, which would otherwise let the marker check run mid-boot.
local function boot()
  dut:power_on()
  dut:expect("vh%-agent: boot slot=", "30s")
  dut:expect("vh# ", "10s")
end

boot()
write_marker("VHMARK_VOLATILE")
vh.check(marker_found("VHMARK_VOLATILE"), "the guest reads its unflushed write back")
dut:power_cut { flash = "volatile" }
boot()
vh.check(not marker_found("VHMARK_VOLATILE"), "volatile: the unflushed write is gone")

write_marker("VHMARK_DURABLE")
dut:power_cut { flash = "durable" }
boot()
vh.check(marker_found("VHMARK_DURABLE"), "durable: the unflushed write is kept")
