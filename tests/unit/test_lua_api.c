/* Unit tests for the scenario Lua API (harness/lua/, harness/run/) in
 * dry-run mode, as `vharness check` runs it: constructors validate, nothing
 * boots, waits return at once. Each scenario is a real file in a temporary
 * directory so error messages carry its name and line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"
#include "script.h"
#include "test_skip.h"

static char dir[64];

struct result {
	enum vh_outcome outcome;
	char message[4096];
};

static int setup_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vh-test-lua-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

/* Removes the scenario files the tests wrote, then the directory. */
static int teardown_dir(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Writes source to <dir>/<name> and runs it in dry run with seed. */
static struct result run_scenario_seeded(const char *name, const char *source, uint64_t seed)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(source, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);

	struct run_config cfg = {
		.scenario_path = path,
		.artifacts_dir = dir,
		.image_dir = "/nonexistent/vharness-image",
		.accel = "tcg",
		.seed = seed,
		.timeout_ms = 60000,
		.dry_run = true,
	};
	struct vh_run *run = run_new(&cfg);
	assert_non_null(run);
	struct script *script = script_new(run);
	assert_non_null(script);
	struct result r = { 0 };
	assert_int_equal(run_start(run), 0);
	r.outcome = script_execute(script);
	assert_int_equal(r.outcome, run_outcome(run));
	if (run_message(run))
		snprintf(r.message, sizeof(r.message), "%s", run_message(run));
	else
		assert_int_equal(r.outcome, VH_PASS);
	run_free(run);
	script_free(script);
	return r;
}

static struct result run_scenario(const char *name, const char *source)
{
	return run_scenario_seeded(name, source, 1);
}

static void assert_passes(const char *name, const char *source)
{
	struct result r = run_scenario(name, source);
	if (r.outcome != VH_PASS)
		fail_msg("%s: outcome %d, message:\n%s", name, r.outcome, r.message);
}

/* Asserts a configuration error (exit 2) whose message names name:line: and
 * contains needle. */
static void assert_config_error_at(const char *name, const char *source, int line,
				   const char *needle)
{
	struct result r = run_scenario(name, source);
	char where[128];
	snprintf(where, sizeof(where), "%s:%d:", name, line);
	if (r.outcome != VH_CONFIG)
		fail_msg("%s: outcome %d, want VH_CONFIG (2); message:\n%s", name, r.outcome,
			 r.message);
	if (!strstr(r.message, where))
		fail_msg("%s: message does not name '%s':\n%s", name, where, r.message);
	if (needle && !strstr(r.message, needle))
		fail_msg("%s: message does not mention '%s':\n%s", name, needle, r.message);
}

#define PRELUDE "local vh = require \"vharness\"\n"
#define FW "{ kernel = \"/k/vmlinuz\" }"

static void test_lua_syntax_error_is_config_error_naming_file_and_line(void **state)
{
	(void)state;
	assert_config_error_at("syntax.lua",
			       PRELUDE "local x = 1\n"
				       "local y = = 2\n",
			       3, NULL);
}

static void test_lua_missing_scenario_file_is_config_error(void **state)
{
	(void)state;
	struct run_config cfg = {
		.scenario_path = "/nonexistent/none.lua",
		.artifacts_dir = "/tmp",
		.image_dir = "/nonexistent",
		.timeout_ms = 1000,
		.dry_run = true,
	};
	struct vh_run *run = run_new(&cfg);
	assert_non_null(run);
	struct script *script = script_new(run);
	assert_int_equal(run_start(run), 0);
	assert_int_equal(script_execute(script), VH_CONFIG);
	assert_non_null(run_message(run));
	assert_non_null(strstr(run_message(run), "none.lua"));
	run_free(run);
	script_free(script);
}

static void test_lua_calling_nil_is_config_error_naming_file_and_line(void **state)
{
	(void)state;
	assert_config_error_at("callnil.lua",
			       PRELUDE "local t = {}\n"
				       "\n"
				       "t.missing()\n",
			       4, "attempt to call a nil value");
}

static void test_lua_error_in_spawned_function_names_its_line(void **state)
{
	(void)state;
	assert_config_error_at("spawnerr.lua",
			       PRELUDE "vh.spawn(function()\n"
				       "  error(\"boom\")\n"
				       "end)\n",
			       3, "boom");
}

static void test_lua_device_without_name_is_config_error_at_call_line(void **state)
{
	(void)state;
	assert_config_error_at("noname.lua",
			       PRELUDE "local fw = " FW "\n"
				       "local d = vh.device { firmware = fw }\n",
			       3, "'name' is required");
}

static void test_lua_device_with_duplicate_name_is_config_error(void **state)
{
	(void)state;
	assert_config_error_at("dupdev.lua",
			       PRELUDE "vh.device { name = \"dut\", firmware = " FW " }\n"
				       "vh.device { name = \"dut\", firmware = " FW " }\n",
			       3, "already exists");
}

static void test_lua_device_unknown_field_is_config_error_naming_field(void **state)
{
	(void)state;
	assert_config_error_at("typo.lua",
			       PRELUDE
			       "local lan = vh.network { name = \"lan\" }\n"
			       "local d = vh.device { name = \"dut\", netwrok = lan, firmware = " FW
			       " }\n",
			       3, "unknown field 'netwrok'");
}

static void test_lua_error_in_multiline_constructor_names_its_first_line(void **state)
{
	(void)state;
	assert_config_error_at("multiline.lua",
			       PRELUDE "local d = vh.device {\n"
				       "  name = \"dut\",\n"
				       "  memroy = \"96M\",\n"
				       "  firmware = " FW ",\n"
				       "}\n",
			       2, "unknown field 'memroy'");
}

static void test_lua_device_memory_with_unknown_unit_is_config_error(void **state)
{
	(void)state;
	assert_config_error_at(
		"mem.lua",
		PRELUDE "local d = vh.device { name = \"dut\", memory = \"64K\", firmware = " FW
			" }\n",
		2, "memory must be like");
}

static void test_lua_firmware_ready_must_be_text(void **state)
{
	(void)state;
	assert_config_error_at(
		"ready.lua",
		PRELUDE "local d = vh.device { name = \"dut\",\n"
			"  firmware = { kernel = \"/k\", initrd = \"/i\", ready = \"\" } }\n",
		2, "'ready' must be the text of a console line");
	assert_passes("readyok.lua", PRELUDE
		      "local d = vh.device { name = \"dut\",\n"
		      "  firmware = { kernel = \"/k\", initrd = \"/i\", ready = \"login:\" } }\n");
}

static void test_lua_device_memory_in_mib_or_gib_is_accepted(void **state)
{
	(void)state;
	assert_passes("memok.lua",
		      PRELUDE "vh.device { name = \"a\", memory = \"96M\", firmware = " FW " }\n"
			      "vh.device { name = \"b\", memory = \"1G\", firmware = " FW " }\n"
			      "vh.device { name = \"c\", memory = 64, firmware = " FW " }\n");
}

static void test_lua_reference_firmware_with_64M_on_x86_is_config_error(void **state)
{
	(void)state;
	assert_config_error_at(
		"refmem.lua",
		PRELUDE
		"local fw = vh.reference_firmware { version = \"1.0.0\", arch = \"x86_64\" }\n"
		"local d = vh.device { name = \"dut\", memory = \"64M\", firmware = fw }\n",
		3, "needs memory >= 80M");
}

/* An image whose manifest names a lower floor (the small kernel's image,
 * build-image.sh VH_KERNEL=small) takes less: its floor, not the cloud
 * kernel's 80 MiB. */
static void test_lua_reference_firmware_floor_comes_from_its_manifest(void **state)
{
	(void)state;
	char path[128], source[1024];
	snprintf(path, sizeof(path), "%s/manifest", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("arch=x86_64\nkernel_version=small-0123\nmin_memory_mib=48\n", f);
	assert_int_equal(fclose(f), 0);
	snprintf(source, sizeof(source),
		 PRELUDE "local fw = { kernel = \"%s/vmlinuz\", reference = true,\n"
			 "  arch = \"x86_64\" }\n"
			 "vh.device { name = \"a\", memory = \"48M\", firmware = fw }\n"
			 "vh.device { name = \"b\", memory = \"40M\", firmware = fw }\n",
		 dir);
	assert_config_error_at("refmin.lua", source, 5, "needs memory >= 48M");
	unlink(path);
}

static void test_lua_device_without_firmware_is_config_error(void **state)
{
	(void)state;
	assert_config_error_at("nofw.lua", PRELUDE "vh.device { name = \"dut\" }\n", 2,
			       "'firmware' is required");
}

static void test_lua_firmware_without_kernel_or_bios_is_config_error(void **state)
{
	(void)state;
	assert_config_error_at("nokernel.lua",
			       PRELUDE "local fw = { initrd = \"/i\", append = \"quiet\" }\n"
				       "local d = vh.device { name = \"dut\", firmware = fw }\n",
			       3, "firmware needs 'kernel'");
}

static void test_lua_firmware_with_unknown_arch_is_config_error(void **state)
{
	(void)state;
	assert_config_error_at("arch.lua",
			       PRELUDE "local fw = { kernel = \"/k\", arch = \"mips\" }\n"
				       "local d = vh.device { name = \"dut\", firmware = fw }\n",
			       3, "\"mips\"");
}

static void test_lua_user_firmware_without_profile_is_config_error(void **state)
{
	(void)state;
	assert_config_error_at("noprofile.lua",
			       PRELUDE "local fw = vh.firmware { disk = \"/d.img\" }\n", 2,
			       "'profile' is required");
}

static void test_lua_user_firmware_with_missing_disk_names_the_path(void **state)
{
	(void)state;
	assert_config_error_at("nodisk.lua",
			       PRELUDE
			       "local fw = vh.firmware {\n"
			       "  disk = \"/nonexistent/flash.img\", profile = \"mender\",\n"
			       "  kernel = \"/boot/vmlinuz\" }\n",
			       2, "/nonexistent/flash.img");
}

/* An empty file for vh.firmware's disk: the description is checked before
 * the image is read. */
static void blank_disk(char *path, size_t len)
{
	snprintf(path, len, "%s/blank.img", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
}

static void test_lua_user_firmware_with_unknown_profile_lists_the_known_ones(void **state)
{
	(void)state;
	char disk[128];
	blank_disk(disk, sizeof(disk));
	char src[512];
	snprintf(src, sizeof(src),
		 PRELUDE "local fw = vh.firmware { disk = \"%s\", profile = \"grub\", "
			 "kernel = \"/boot/vmlinuz\" }\n",
		 disk);
	assert_config_error_at("profile.lua", src, 2, "uboot-bootcount");
}

/* The option's name, not its value: the key must be read before
 * luaL_tolstring pushes the value (C leaves argument order open). */
static void test_lua_user_firmware_unknown_boot_option_is_named(void **state)
{
	(void)state;
	char disk[128];
	blank_disk(disk, sizeof(disk));
	char src[512];
	snprintf(src, sizeof(src),
		 PRELUDE "local fw = vh.firmware { disk = \"%s\", profile = \"rauc\",\n"
			 "  kernel = \"/boot/vmlinuz\", boot = { bootlimt = \"/dev/vda2\" } }\n",
		 disk);
	assert_config_error_at("bootopt.lua", src, 2, "no option 'bootlimt'");
}

static void test_lua_user_firmware_slots_must_be_two_partition_numbers(void **state)
{
	(void)state;
	assert_config_error_at("slots.lua",
			       PRELUDE
			       "local fw = vh.firmware { disk = \"/d.img\", profile = \"mender\",\n"
			       "  kernel = \"/boot/vmlinuz\", slots = { 2 } }\n",
			       2, "slots = { A, B }");
}

static void test_lua_network_with_prefix_33_is_config_error(void **state)
{
	(void)state;
	assert_config_error_at(
		"net33.lua",
		PRELUDE "local lan = vh.network { name = \"lan\", subnet = \"10.77.0.0/33\" }\n", 2,
		"10.77.0.0/33");
}

static void test_lua_network_with_non_cidr_subnet_is_config_error(void **state)
{
	(void)state;
	assert_config_error_at("banana.lua",
			       PRELUDE
			       "local lan = vh.network { name = \"lan\", subnet = \"banana\" }\n",
			       2, "'banana'");
}

static void test_lua_network_with_duplicate_name_is_config_error(void **state)
{
	(void)state;
	assert_config_error_at("dupnet.lua",
			       PRELUDE "local a = vh.network { name = \"lan\" }\n"
				       "local b = vh.network { name = \"lan\" }\n",
			       3, "a network named 'lan' already exists");
}

static void test_lua_expect_rejects_unclosed_capture_pattern_at_call_line(void **state)
{
	(void)state;
	/* "(%d" never completes a capture: string.find raises "unfinished
	 * capture" on any line with a digit, so expect must refuse it up front
	 * rather than time out in a real run. */
	assert_config_error_at("badpat.lua",
			       PRELUDE "local d = vh.device { name = \"dut\", firmware = " FW " }\n"
				       "d:expect(\"(%d\", \"1s\")\n",
			       3, "expect");
}

static void test_lua_expect_rejects_pattern_ending_in_percent_at_call_line(void **state)
{
	(void)state;
	/* The '%' is only reached once "100" has matched, so trying the pattern
	 * on an empty line does not find it. */
	assert_config_error_at("badpct.lua",
			       PRELUDE "local d = vh.device { name = \"dut\", firmware = " FW " }\n"
				       "d:expect(\"100%\", \"1s\")\n",
			       3, "expect");
}

static void test_lua_expect_rejects_malformed_pattern_first_item_at_call_line(void **state)
{
	(void)state;
	assert_config_error_at("badset.lua",
			       PRELUDE "local d = vh.device { name = \"dut\", firmware = " FW " }\n"
				       "d:try_expect(\"[abc\", \"1s\")\n",
			       3, "missing ']'");
}

static void test_lua_expect_rejects_invalid_regex_at_call_line(void **state)
{
	(void)state;
	assert_config_error_at("badre.lua",
			       PRELUDE "local d = vh.device { name = \"dut\", firmware = " FW " }\n"
				       "\n"
				       "d:expect(\"a(\", \"1s\", { regex = true })\n",
			       4, "invalid regex");
}

static void test_lua_expect_rejects_unknown_option(void **state)
{
	(void)state;
	assert_config_error_at("badopt.lua",
			       PRELUDE "local d = vh.device { name = \"dut\", firmware = " FW " }\n"
				       "d:expect(\"x\", \"1s\", { regexp = true })\n",
			       3, "unknown field 'regexp'");
}

static void test_lua_expect_rejects_bad_duration_at_call_line(void **state)
{
	(void)state;
	assert_config_error_at("baddur.lua",
			       PRELUDE "local d = vh.device { name = \"dut\", firmware = " FW " }\n"
				       "d:expect(\"x\", \"5 parsecs\")\n",
			       3, "5 parsecs");
}

static void test_lua_expect_not_without_duration_is_config_error(void **state)
{
	(void)state;
	assert_config_error_at("expnot.lua",
			       PRELUDE "local d = vh.device { name = \"dut\", firmware = " FW " }\n"
				       "d:expect_not(\"Kernel panic\")\n",
			       3, "needs a duration");
}

static void test_lua_mark_rejects_a_bad_pattern_and_unknown_options(void **state)
{
	(void)state;
	assert_config_error_at("markpat.lua",
			       PRELUDE "local d = vh.device { name = \"dut\", firmware = " FW " }\n"
				       "d:mark(\"mender%\", \"client\")\n",
			       3, "mark");
	assert_config_error_at("markopt.lua",
			       PRELUDE "local d = vh.device { name = \"dut\", firmware = " FW " }\n"
				       "d:mark(\"mender\", \"client\", { regexp = true })\n",
			       3, "unknown field 'regexp'");
}

static void test_lua_sleep_with_bad_duration_is_config_error(void **state)
{
	(void)state;
	assert_config_error_at("sleep.lua", PRELUDE "vh.sleep(\"soon\")\n", 2, "soon");
}

static void test_lua_check_false_passes_because_dry_run_checks_only_syntax_and_api_use(void **state)
{
	(void)state;
	assert_passes("check.lua", PRELUDE "vh.device { name = \"dut\", firmware = " FW " }\n"
					   "vh.check(false, \"why\")\n"
					   "vh.check(1 == 2)\n");
}

static void test_lua_two_device_scenario_using_every_wait_passes_dry_run(void **state)
{
	(void)state;
	assert_passes("full.lua", PRELUDE
		      "local lan = vh.network { name = \"lan\", subnet = \"10.77.0.0/24\" }\n"
		      "local a = vh.device { name = \"a\", network = lan, memory = \"96M\",\n"
		      "  firmware = vh.reference_firmware { version = \"1.0.0\" } }\n"
		      "local b = vh.device { name = \"b\", network = lan, memory = 128,\n"
		      "  firmware = { kernel = \"/k/vmlinuz\", initrd = \"/k/initrd\", append = "
		      "\"quiet\" } }\n"
		      "a:power_on()\n"
		      "b:power_on()\n"
		      "local spawned = false\n"
		      "vh.spawn(function()\n"
		      "  a:expect(\"vh%-agent: boot slot=(%a)\", \"30s\")\n"
		      "  vh.sleep(\"1s\")\n"
		      "  spawned = true\n"
		      "end)\n"
		      "vh.sleep(\"500ms\")\n"
		      "vh.sleep(0.25)\n"
		      "local line = b:try_expect(\"net up ip=(%S+)\", \"10s\")\n"
		      "b:expect(\"^boot [a-z]+$\", \"1s\", { regex = true })\n"
		      "b:expect_not(\"Kernel panic\", \"2s\")\n"
		      "b:send(\"reboot\\n\")\n"
		      "a:power_cut()\n"
		      "vh.check(a.name == \"a\", \"name\")\n"
		      "vh.log(\"done\")\n"
		      /* check() cannot fail in dry run: assert through errors. */
		      "if not spawned then error(\"spawned function did not run\") end\n"
		      "if a.ip ~= \"10.77.0.2\" or b.ip ~= \"10.77.0.3\" then error(\"ips\") end\n"
		      "if lan.host_ip ~= \"10.77.0.1\" then error(\"host ip\") end\n"
		      "if a.mac == b.mac then error(\"macs\") end\n"
		      "if line == nil then error(\"try_expect\") end\n");
}

static void test_lua_power_cut_with_unknown_flash_mode_is_config_error(void **state)
{
	(void)state;
	const char *dev = "local d = vh.device { name = \"dut\", firmware = " FW " }\n";
	char src[1024];
	snprintf(src, sizeof(src), PRELUDE "%sd:power_cut { flash = \"lazy\" }\n", dev);
	assert_config_error_at(
		"flash_mode.lua", src, 3,
		"'flash' must be \"volatile\", \"torn\", \"ordered\" or \"durable\", not lazy");
	snprintf(src, sizeof(src), PRELUDE "%sd:power_cut { on = \"x\", flash = 1 }\n", dev);
	assert_config_error_at("flash_number.lua", src, 3, "not 1");
	snprintf(src, sizeof(src), PRELUDE "%sd:power_cut { flash = \"torn\" }\n", dev);
	assert_passes("flash_torn.lua", src);
}

static void test_lua_flash_fault_and_flash_bad_fields_are_config_errors_naming_them(void **state)
{
	(void)state;
	const char *dev = "local d = vh.device { name = \"dut\", firmware = " FW " }\n";
	static const struct {
		const char *call, *needle;
	} bad[] = {
		{ "d:flash_fault { op = \"trim\" }",
		  "'op' must be \"write\", \"read\" or \"flush\"" },
		{ "d:flash_fault { error = \"ENOSPC\" }", "'error' must be \"EIO\" or \"EPERM\"" },
		{ "d:flash_fault { count = 0 }", "'count' must be an integer >= 1, not 0" },
		{ "d:flash_fault { after = 1.5 }", "'after' must be an integer >= 0" },
		{ "d:flash_fault { range = 5 }", "'range' must be a table { offset, length }" },
		{ "d:flash_fault { range = { 0 } }", "range's length must be an integer >= 1" },
		{ "d:flash_fault { op = \"flush\", range = { 0, 1 } }", "'range' means nothing" },
		{ "d:flash_fault { on = \"[x\" }", "'on' is not a Lua pattern" },
		{ "d:flash_fault { regex = true }", "'regex' goes with 'on'" },
		{ "d:flash_fault { offset = 1 }", "flash_fault{}: unknown field 'offset'" },
		{ "d:flash { write_latency = \"soon\" }", "'write_latency' must be a duration" },
		{ "d:flash { bandwidth = \"2MB/h\" }", "'bandwidth' must be a rate" },
		{ "d:flash { wear_out_after = 0 }", "'wear_out_after' must be an integer >= 1" },
		{ "d:flash { latency = 1 }", "flash{}: unknown field 'latency'" },
	};
	char src[1024];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(src, sizeof(src), PRELUDE "%s%s\n", dev, bad[i].call);
		assert_config_error_at("flash_fault_bad.lua", src, 3, bad[i].needle);
	}
	snprintf(src, sizeof(src),
		 PRELUDE "%sd:flash_fault { op = \"write\", error = \"EIO\", on = \"install\", "
			 "after = 2, count = 3, range = { 41 * 2^20, 40 * 2^20 } }\n"
			 "d:flash_fault { op = \"flush\", on = \"x+\", regex = true }\n"
			 "d:flash { write_latency = \"5ms\", bandwidth = \"2MB/s\", "
			 "wear_out_after = 100 }\n",
		 dev);
	assert_passes("flash_fault_ok.lua", src);
}

static void test_lua_impair_with_an_empty_spec_is_config_error(void **state)
{
	(void)state;
	const char *net =
		"local lan = vh.network { name = \"lan\" }\n"
		"local d = vh.device { name = \"dut\", network = lan, firmware = " FW " }\n";
	char src[1024];
	snprintf(src, sizeof(src), PRELUDE "%slan:impair(d, \"\")\n", net);
	assert_config_error_at("empty_spec.lua", src, 4, "empty spec: say \"none\"");
	snprintf(src, sizeof(src), PRELUDE "%slan:impair(d, {})\n", net);
	assert_config_error_at("empty_table.lua", src, 4, "empty spec");
	snprintf(src, sizeof(src), PRELUDE "%slan:impair(d, \"none\")\n", net);
	assert_passes("none_spec.lua", src);
}

/* The scenario's own work is charged to "scenario", also its first steps,
 * which run before the loop does; they are counted when they yield, so the
 * reading comes after one (in a dry run waits do not yield). */
static void test_lua_harness_cpu_charges_the_scenario_its_work(void **state)
{
	(void)state;
	assert_passes("harness_cpu.lua",
		      PRELUDE "vh.device { name = \"dut\", firmware = " FW " }\n"
			      "local t = os.clock()\n"
			      "while os.clock() - t < 0.08 do end\n"
			      "coroutine.yield()\n"
			      "local cpu = vh.harness_cpu()\n"
			      "if type(cpu.loop) ~= \"number\" then error(\"no loop\") end\n"
			      "if not (cpu.scenario >= 0.07 and cpu.scenario < 0.2) then\n"
			      "  error(\"scenario cpu \" .. tostring(cpu.scenario))\n"
			      "end\n");
}

static const char seed_scenario[] =
	PRELUDE "vh.device { name = \"dut\", firmware = " FW " }\n"
		"if vh.seed() ~= 42 then error(\"seed is \" .. tostring(vh.seed())) end\n";

static void test_lua_seed_returns_configured_seed(void **state)
{
	(void)state;
	struct result r = run_scenario_seeded("seed.lua", seed_scenario, 42);
	if (r.outcome != VH_PASS)
		fail_msg("outcome %d: %s", r.outcome, r.message);
	/* The same scenario with another seed fails: the check can fail. */
	r = run_scenario_seeded("seed.lua", seed_scenario, 7);
	assert_int_equal(r.outcome, VH_CONFIG);
	assert_non_null(strstr(r.message, "seed is 7"));
}

/* --- fleets, group waits, group partitions --- */

static void test_lua_fleet_makes_n_ordinary_devices_named_by_the_format(void **state)
{
	(void)state;
	assert_passes("fleet.lua", PRELUDE
		      "local lan = vh.network { name = \"lan\" }\n"
		      "local f = vh.fleet { n = 12, name = \"x%02d\", network = lan, firmware = " FW
		      ",\n"
		      "  stagger = \"10ms\", memory = \"96M\" }\n"
		      "assert(#f == 12, \"12 devices\")\n"
		      "assert(f[1].name == \"x01\" and f[12].name == \"x12\", f[12].name)\n"
		      "assert(tostring(f[3]) == \"device x03\")\n"
		      "f:power_on()\n"
		      "f[2]:expect(\"net up\", \"1s\")\n");
}

static void test_lua_fleet_default_name_is_d_and_three_digits(void **state)
{
	(void)state;
	assert_passes("fleetname.lua", PRELUDE "local f = vh.fleet { n = 2, firmware = " FW " }\n"
					       "assert(f[2].name == \"d002\", f[2].name)\n");
}

static void test_lua_fleet_without_n_is_config_error_at_call_line(void **state)
{
	(void)state;
	assert_config_error_at("fleetn.lua",
			       PRELUDE "local x = 1\n"
				       "local f = vh.fleet { firmware = " FW " }\n",
			       3, "'n' must be a whole number");
	assert_config_error_at("fleetzero.lua",
			       PRELUDE "local f = vh.fleet { n = 0, firmware = " FW " }\n", 2,
			       "'n' must be a whole number of devices from 1 to");
	assert_config_error_at("fleethalf.lua",
			       PRELUDE "local f = vh.fleet { n = 2.5, firmware = " FW " }\n", 2,
			       "'n' must be a whole number of devices from 1 to");
}

static void test_lua_fleet_name_without_one_integer_conversion_is_config_error(void **state)
{
	(void)state;
	assert_config_error_at(
		"fleetfmt.lua",
		PRELUDE "local f = vh.fleet { n = 3, name = \"dev%s\", firmware = " FW " }\n", 2,
		"'name' must hold one %d");
	assert_config_error_at(
		"fleetfmt2.lua",
		PRELUDE "local f = vh.fleet { n = 3, name = \"dev\", firmware = " FW " }\n", 2,
		"'name' must hold one %d (like \"d%03d\") to give each device its own name, not "
		"\"dev\"");
}

static void test_lua_fleet_error_of_one_device_names_the_line_and_the_device(void **state)
{
	(void)state;
	/* The second fleet's d002 collides with the first's. */
	assert_config_error_at("fleetdup.lua",
			       PRELUDE "vh.device { name = \"d002\", firmware = " FW " }\n"
				       "local f = vh.fleet { n = 3, firmware = " FW " }\n",
			       3, "vh.fleet{}: d002: ");
	assert_config_error_at("fleetmem.lua",
			       PRELUDE "local f = vh.fleet { n = 3, firmware = " FW
				       ", memory = \"9X\" }\n",
			       2, "memory must be like");
}

static void test_lua_fleet_unknown_field_and_bad_stagger_are_config_errors(void **state)
{
	(void)state;
	assert_config_error_at(
		"fleetfield.lua",
		PRELUDE "local f = vh.fleet { n = 3, firmware = " FW ", count = 3 }\n", 2, "count");
	assert_config_error_at("fleetstagger.lua",
			       PRELUDE "local f = vh.fleet { n = 3, firmware = " FW
				       ", stagger = \"soon\" }\n",
			       2, NULL);
}

static void test_lua_all_and_count_return_the_devices_in_dry_run(void **state)
{
	(void)state;
	assert_passes(
		"all.lua", PRELUDE
		"local f = vh.fleet { n = 5, firmware = " FW " }\n"
		"local got = vh.all(f, \"net up\", \"30s\")\n"
		"assert(#got == 5, \"all five\")\n"
		"local some = vh.count(f, \"commit slot=(%a)\", 3, \"1m\", { regex = false })\n"
		"assert(#some == 3 and some[1] == f[1], \"three\")\n"
		"vh.all({ f[1] }, \"^a\", 1, { regex = true })\n");
}

static void test_lua_all_rejects_a_bad_pattern_at_call_line(void **state)
{
	(void)state;
	assert_config_error_at("allpat.lua",
			       PRELUDE "local f = vh.fleet { n = 2, firmware = " FW " }\n"
				       "vh.all(f, \"(%d\", \"1s\")\n",
			       3, "bad argument #2 to 'all' (unfinished capture)");
}

static void test_lua_all_rejects_a_list_holding_something_else_than_devices(void **state)
{
	(void)state;
	assert_config_error_at("alllist.lua",
			       PRELUDE "local f = vh.fleet { n = 2, firmware = " FW " }\n"
				       "vh.all({ f[1], \"d002\" }, \"x\", \"1s\")\n",
			       3, "devices[2] is a string, not a device");
	assert_config_error_at("allempty.lua",
			       PRELUDE "vh.device { name = \"a\", firmware = " FW " }\n"
				       "vh.all({}, \"x\", \"1s\")\n",
			       3, "at least one device");
}

static void test_lua_count_needs_a_number_within_the_list(void **state)
{
	(void)state;
	assert_config_error_at("countn.lua",
			       PRELUDE "local f = vh.fleet { n = 2, firmware = " FW " }\n"
				       "vh.count(f, \"x\", 3, \"1s\")\n",
			       3, "1 to 2");
	assert_config_error_at("countt.lua",
			       PRELUDE "local f = vh.fleet { n = 2, firmware = " FW " }\n"
				       "vh.count(f, \"x\", \"1s\")\n",
			       3, "how many devices");
}

static void test_lua_group_partition_and_heal_pass_dry_run(void **state)
{
	(void)state;
	assert_passes("groups.lua",
		      PRELUDE "local lan = vh.network { name = \"lan\" }\n"
			      "local f = vh.fleet { n = 5, network = lan, firmware = " FW " }\n"
			      "lan:partition { { f[1], f[2] }, { f[3], f[4] } }\n"
			      "lan:heal()\n"
			      "lan:partition { f[5], { f[1], f[2] }, { f[3] } }\n"
			      "lan:heal()\n");
}

static void test_lua_group_partition_with_an_empty_island_is_config_error(void **state)
{
	(void)state;
	assert_config_error_at("emptyisland.lua",
			       PRELUDE "local lan = vh.network { name = \"lan\" }\n"
				       "local f = vh.fleet { n = 2, network = lan, firmware = " FW
				       " }\n"
				       "lan:partition { { f[1] }, {} }\n",
			       4, "an island needs at least one device");
}

static void test_lua_group_partition_of_a_device_elsewhere_is_config_error(void **state)
{
	(void)state;
	assert_config_error_at(
		"islandnet.lua",
		PRELUDE "local lan = vh.network { name = \"lan\" }\n"
			"local wan = vh.network { name = \"wan\" }\n"
			"local a = vh.device { name = \"a\", network = lan, firmware = " FW " }\n"
			"local b = vh.device { name = \"b\", network = wan, firmware = " FW " }\n"
			"lan:partition { { a, b } }\n",
		6, "b is not on network lan");
	assert_config_error_at(
		"islandelem.lua",
		PRELUDE "local lan = vh.network { name = \"lan\" }\n"
			"local a = vh.device { name = \"a\", network = lan, firmware = " FW " }\n"
			"lan:partition { { a, 7 } }\n",
		4, "island element 2 is a number, not a device");
	assert_config_error_at("islandtwice.lua",
			       PRELUDE "local lan = vh.network { name = \"lan\" }\n"
				       "local f = vh.fleet { n = 3, network = lan, firmware = " FW
				       " }\n"
				       "lan:partition { { f[1], f[2] }, { f[3], f[1] } }\n",
			       4, "partition: d001 is named more than once");
}

#define T(fn) cmocka_unit_test(fn)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_lua_fleet_makes_n_ordinary_devices_named_by_the_format),
		T(test_lua_fleet_default_name_is_d_and_three_digits),
		T(test_lua_fleet_without_n_is_config_error_at_call_line),
		T(test_lua_fleet_name_without_one_integer_conversion_is_config_error),
		T(test_lua_fleet_error_of_one_device_names_the_line_and_the_device),
		T(test_lua_fleet_unknown_field_and_bad_stagger_are_config_errors),
		T(test_lua_all_and_count_return_the_devices_in_dry_run),
		T(test_lua_all_rejects_a_bad_pattern_at_call_line),
		T(test_lua_all_rejects_a_list_holding_something_else_than_devices),
		T(test_lua_count_needs_a_number_within_the_list),
		T(test_lua_group_partition_and_heal_pass_dry_run),
		T(test_lua_group_partition_with_an_empty_island_is_config_error),
		T(test_lua_group_partition_of_a_device_elsewhere_is_config_error),
		T(test_lua_syntax_error_is_config_error_naming_file_and_line),
		T(test_lua_missing_scenario_file_is_config_error),
		T(test_lua_calling_nil_is_config_error_naming_file_and_line),
		T(test_lua_error_in_spawned_function_names_its_line),
		T(test_lua_device_without_name_is_config_error_at_call_line),
		T(test_lua_device_with_duplicate_name_is_config_error),
		T(test_lua_device_unknown_field_is_config_error_naming_field),
		T(test_lua_error_in_multiline_constructor_names_its_first_line),
		T(test_lua_device_memory_with_unknown_unit_is_config_error),
		T(test_lua_firmware_ready_must_be_text),
		T(test_lua_device_memory_in_mib_or_gib_is_accepted),
		T(test_lua_reference_firmware_with_64M_on_x86_is_config_error),
		T(test_lua_reference_firmware_floor_comes_from_its_manifest),
		T(test_lua_device_without_firmware_is_config_error),
		T(test_lua_firmware_without_kernel_or_bios_is_config_error),
		T(test_lua_firmware_with_unknown_arch_is_config_error),
		T(test_lua_network_with_prefix_33_is_config_error),
		T(test_lua_network_with_non_cidr_subnet_is_config_error),
		T(test_lua_network_with_duplicate_name_is_config_error),
		T(test_lua_expect_rejects_unclosed_capture_pattern_at_call_line),
		T(test_lua_expect_rejects_pattern_ending_in_percent_at_call_line),
		T(test_lua_expect_rejects_malformed_pattern_first_item_at_call_line),
		T(test_lua_expect_rejects_invalid_regex_at_call_line),
		T(test_lua_expect_rejects_unknown_option),
		T(test_lua_expect_rejects_bad_duration_at_call_line),
		T(test_lua_expect_not_without_duration_is_config_error),
		T(test_lua_mark_rejects_a_bad_pattern_and_unknown_options),
		T(test_lua_sleep_with_bad_duration_is_config_error),
		T(test_lua_user_firmware_without_profile_is_config_error),
		T(test_lua_user_firmware_with_missing_disk_names_the_path),
		T(test_lua_user_firmware_with_unknown_profile_lists_the_known_ones),
		T(test_lua_user_firmware_unknown_boot_option_is_named),
		T(test_lua_user_firmware_slots_must_be_two_partition_numbers),
		T(test_lua_check_false_passes_because_dry_run_checks_only_syntax_and_api_use),
		T(test_lua_two_device_scenario_using_every_wait_passes_dry_run),
		T(test_lua_seed_returns_configured_seed),
		T(test_lua_harness_cpu_charges_the_scenario_its_work),
		T(test_lua_power_cut_with_unknown_flash_mode_is_config_error),
		T(test_lua_flash_fault_and_flash_bad_fields_are_config_errors_naming_them),
		T(test_lua_impair_with_an_empty_spec_is_config_error),
	};
	return vh_run_tests(tests, setup_dir, teardown_dir);
}
