-- Firmware that scribbles over both slots (played here by its shell): slot
-- a's payload no longer matches its sha256 and slot b's header is broken, so
-- at the next power-on the bootloader finds nothing to boot (exit 1).
local vh = require "vharness"
local dut = vh.device { name = "dut", firmware = vh.reference_firmware {} }
dut:power_on()
dut:expect("vh# ", "30s")
dut:send("dd if=/dev/zero of=/dev/vda1 bs=4096 seek=256 count=1 conv=fsync 2>/dev/null; " ..
  "printf 'VHFW1\\nversion=9\\n\\n' | dd of=/dev/vda2 conv=fsync 2>/dev/null; " ..
  "printf 'WIPED%s\\n' -BOTH\n")
dut:expect("WIPED%-BOTH", "20s")
dut:power_cut()
dut:power_on()
vh.check(false, "a device with no bootable slot powered on")
