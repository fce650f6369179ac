/* Unit tests for QEMU command-line construction (harness/machine/qemu_argv.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "qemu_argv.h"
#include "test_skip.h"

static struct qemu_argv qa;
static char err[256];

/* A complete x86_64 launch with every optional part present. */
static struct qemu_launch full_launch(void)
{
	return (struct qemu_launch){
		.arch = "x86_64",
		.accel = "tcg",
		.memory_mib = 128,
		.kernel = "/img/vmlinuz",
		.initrd = "/img/initramfs.cpio",
		.append = "console=ttyS0 vh.slot=a",
		.disk = "/tmp/disk.img",
		.tap_ifname = "vht0-dut",
		.mac = "52:54:00:12:34:56",
		.serial_socket = "vh-serial-1",
		.qmp_socket = "vh-qmp-1",
	};
}

/* A launch with only the required fields. */
static struct qemu_launch minimal_launch(void)
{
	return (struct qemu_launch){
		.kernel = "/img/vmlinuz",
		.serial_socket = "ser",
		.qmp_socket = "qmp",
	};
}

static void build_ok(const struct qemu_launch *l)
{
	memset(err, 0, sizeof(err));
	if (qemu_argv_build(l, &qa, err, sizeof(err)) != 0)
		fail_msg("qemu_argv_build failed: %s", err);
	assert_non_null(qa.argv);
	assert_null(qa.argv[qa.argc]);
}

static void build_fails_mentioning(const struct qemu_launch *l, const char *needle)
{
	memset(err, 0, sizeof(err));
	assert_int_equal(qemu_argv_build(l, &qa, err, sizeof(err)), -1);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
	qemu_argv_free(&qa);
}

/* Index of the first argv word equal to word, or -1. */
static int find_word(const char *word)
{
	for (int i = 0; i < qa.argc; i++)
		if (!strcmp(qa.argv[i], word))
			return i;
	return -1;
}

static int count_word(const char *word)
{
	int n = 0;
	for (int i = 0; i < qa.argc; i++)
		n += !strcmp(qa.argv[i], word);
	return n;
}

/* Asserts that some occurrence of flag is immediately followed by value. */
static void assert_flag_value(const char *flag, const char *value)
{
	for (int i = 0; i + 1 < qa.argc; i++)
		if (!strcmp(qa.argv[i], flag) && !strcmp(qa.argv[i + 1], value))
			return;
	fprintf(stderr, "argv:");
	for (int i = 0; i < qa.argc; i++)
		fprintf(stderr, " '%s'", qa.argv[i]);
	fprintf(stderr, "\n");
	fail_msg("no '%s %s' in argv", flag, value);
}

static void assert_absent(const char *word)
{
	if (find_word(word) >= 0)
		fail_msg("'%s' should not be in argv", word);
}

static int teardown(void **state)
{
	(void)state;
	qemu_argv_free(&qa);
	return 0;
}

static void test_qemu_argv_x86_uses_microvm_and_default_binary(void **state)
{
	(void)state;
	struct qemu_launch l = full_launch();
	build_ok(&l);
	assert_string_equal(qa.argv[0], "qemu-system-x86_64");
	assert_flag_value("-M", "microvm");
	assert_absent("-cpu");
	assert_flag_value("-m", "128");
}

/* The small kernel's image asks for it (docs/fleet.md): QEMU then lists the
 * virtio-mmio devices on the kernel command line. */
static void test_qemu_argv_x86_no_acpi_turns_microvm_acpi_off(void **state)
{
	(void)state;
	struct qemu_launch l = full_launch();
	l.no_acpi = true;
	build_ok(&l);
	assert_flag_value("-M", "microvm,acpi=off");
}

/* The small kernel's image asks for a smaller TCG buffer (docs/fleet.md). */
static void test_qemu_argv_tcg_buffer_is_32_mib_unless_the_image_asks(void **state)
{
	(void)state;
	struct qemu_launch l = full_launch();
	l.accel = "tcg";
	build_ok(&l);
	assert_flag_value("-accel", "tcg,tb-size=32");
	qemu_argv_free(&qa);
	l.tb_size_mib = 8;
	build_ok(&l);
	assert_flag_value("-accel", "tcg,tb-size=8");
	qemu_argv_free(&qa);
	l.accel = "kvm";
	build_ok(&l);
	assert_absent("tcg,tb-size=8");
}

static void test_qemu_argv_honours_explicit_binary(void **state)
{
	(void)state;
	struct qemu_launch l = full_launch();
	l.binary = "/opt/qemu/bin/qemu-system-x86_64";
	build_ok(&l);
	assert_string_equal(qa.argv[0], "/opt/qemu/bin/qemu-system-x86_64");
}

static void test_qemu_argv_tcg_sets_translation_block_size(void **state)
{
	(void)state;
	struct qemu_launch l = full_launch();
	build_ok(&l);
	assert_flag_value("-accel", "tcg,tb-size=32");
	assert_int_equal(count_word("-accel"), 1);
}

static void test_qemu_argv_kvm_uses_plain_kvm_accel(void **state)
{
	(void)state;
	struct qemu_launch l = full_launch();
	l.accel = "kvm";
	build_ok(&l);
	assert_flag_value("-accel", "kvm");
	assert_absent("tcg,tb-size=32");
}

static void test_qemu_argv_defaults_to_x86_tcg_and_96_mib(void **state)
{
	(void)state;
	struct qemu_launch l = minimal_launch();
	build_ok(&l);
	assert_string_equal(qa.argv[0], "qemu-system-x86_64");
	assert_flag_value("-M", "microvm");
	assert_flag_value("-accel", "tcg,tb-size=32");
	assert_flag_value("-m", "96");
}

static void test_qemu_argv_starts_stopped_without_reboot_or_defaults(void **state)
{
	(void)state;
	struct qemu_launch l = full_launch();
	build_ok(&l);
	assert_int_equal(count_word("-S"), 1);
	assert_int_equal(count_word("-no-reboot"), 1);
	assert_int_equal(count_word("-nodefaults"), 1);
	assert_int_equal(count_word("-no-user-config"), 1);
	assert_flag_value("-display", "none");
	assert_flag_value("-smp", "1");
}

static void test_qemu_argv_connects_serial_and_qmp_to_abstract_sockets(void **state)
{
	(void)state;
	struct qemu_launch l = full_launch();
	build_ok(&l);
	assert_flag_value("-chardev", "socket,id=ser0,path=vh-serial-1,abstract=on,server=off");
	assert_flag_value("-serial", "chardev:ser0");
	assert_flag_value("-chardev", "socket,id=qmp0,path=vh-qmp-1,abstract=on,server=off");
	assert_flag_value("-mon", "chardev=qmp0,mode=control");
	assert_int_equal(count_word("-chardev"), 2);
}

static void test_qemu_argv_passes_kernel_initrd_append_when_given(void **state)
{
	(void)state;
	struct qemu_launch l = full_launch();
	build_ok(&l);
	assert_flag_value("-kernel", "/img/vmlinuz");
	assert_flag_value("-initrd", "/img/initramfs.cpio");
	assert_flag_value("-append", "console=ttyS0 vh.slot=a");
	assert_absent("-bios");
}

static void test_qemu_argv_omits_initrd_append_disk_nic_when_absent(void **state)
{
	(void)state;
	struct qemu_launch l = minimal_launch();
	build_ok(&l);
	assert_flag_value("-kernel", "/img/vmlinuz");
	assert_absent("-initrd");
	assert_absent("-append");
	assert_absent("-drive");
	assert_absent("-device");
	assert_absent("-netdev");
	assert_absent("-bios");
}

static void test_qemu_argv_bios_boot_has_no_kernel(void **state)
{
	(void)state;
	struct qemu_launch l = minimal_launch();
	l.kernel = NULL;
	l.bios = "/img/u-boot.bin";
	build_ok(&l);
	assert_flag_value("-bios", "/img/u-boot.bin");
	assert_absent("-kernel");
	assert_absent("-initrd");
	assert_absent("-append");
}

static void test_qemu_argv_attaches_tap_as_virtio_net_with_mac(void **state)
{
	(void)state;
	struct qemu_launch l = full_launch();
	build_ok(&l);
	assert_flag_value("-netdev", "tap,id=net0,ifname=vht0-dut,script=no,downscript=no");
	assert_flag_value("-device", "virtio-net-device,netdev=net0,mac=52:54:00:12:34:56");
}

static void test_qemu_argv_attaches_disk_as_virtio_blk(void **state)
{
	(void)state;
	struct qemu_launch l = full_launch();
	build_ok(&l);
	assert_flag_value("-drive", "file=/tmp/disk.img,if=none,id=disk0,format=raw");
	assert_flag_value("-device", "virtio-blk-device,drive=disk0");
}

static void test_qemu_argv_serves_disk_over_nbd_when_the_harness_holds_the_flash(void **state)
{
	(void)state;
	struct qemu_launch l = full_launch();
	l.disk_nbd_socket = "vharness/1/dut/nbd";
	build_ok(&l);
	assert_flag_value("-blockdev",
			  "driver=nbd,node-name=disk0,server.type=unix,"
			  "server.path=vharness/1/dut/nbd,server.abstract=on,export=flash");
	assert_flag_value("-device", "virtio-blk-device,drive=disk0");
	assert_int_equal(find_word("-drive"), -1);
}

static void test_qemu_argv_aarch64_uses_virt_and_cortex_a53_under_tcg(void **state)
{
	(void)state;
	struct qemu_launch l = full_launch();
	l.arch = "aarch64";
	build_ok(&l);
	assert_string_equal(qa.argv[0], "qemu-system-aarch64");
	assert_flag_value("-M", "virt");
	assert_flag_value("-cpu", "cortex-a53");
	assert_flag_value("-accel", "tcg,tb-size=32");
	assert_absent("microvm");
	assert_absent("virt,gic-version=host");
}

static void test_qemu_argv_aarch64_uses_host_cpu_and_gic_under_kvm(void **state)
{
	(void)state;
	struct qemu_launch l = full_launch();
	l.arch = "aarch64";
	l.accel = "kvm";
	build_ok(&l);
	assert_string_equal(qa.argv[0], "qemu-system-aarch64");
	/* virt's default GICv2 does not exist on GICv3-only hosts */
	assert_flag_value("-M", "virt,gic-version=host");
	assert_flag_value("-cpu", "host");
	assert_flag_value("-accel", "kvm");
	assert_int_equal(count_word("-cpu"), 1);
}

static void test_qemu_argv_aarch64_has_every_x86_device_on_virtio_mmio(void **state)
{
	(void)state;
	struct qemu_launch l = full_launch();
	l.arch = "aarch64";
	l.append = "console=ttyAMA0 vh.slot=a";
	build_ok(&l);
	/* serial (virt's PL011), QMP, kernel boot, disk, tap NIC: as on x86 */
	assert_flag_value("-serial", "chardev:ser0");
	assert_flag_value("-mon", "chardev=qmp0,mode=control");
	assert_flag_value("-kernel", "/img/vmlinuz");
	assert_flag_value("-initrd", "/img/initramfs.cpio");
	assert_flag_value("-append", "console=ttyAMA0 vh.slot=a");
	assert_flag_value("-device", "virtio-blk-device,drive=disk0");
	assert_flag_value("-netdev", "tap,id=net0,ifname=vht0-dut,script=no,downscript=no");
	assert_flag_value("-device", "virtio-net-device,netdev=net0,mac=52:54:00:12:34:56");
	assert_int_equal(count_word("-S"), 1);
	assert_int_equal(count_word("-no-reboot"), 1);
	assert_int_equal(count_word("-nodefaults"), 1);
	assert_flag_value("-m", "128");
}

static void test_qemu_argv_aarch64_stream_nic_for_the_user_datapath(void **state)
{
	(void)state;
	struct qemu_launch l = full_launch();
	l.arch = "aarch64";
	l.net_socket = "vharness/1/dut/net";
	build_ok(&l);
	assert_flag_value("-netdev", "stream,id=net0,server=off,addr.type=unix,"
				     "addr.path=vharness/1/dut/net,addr.abstract=on");
	assert_flag_value("-device", "virtio-net-device,netdev=net0,mac=52:54:00:12:34:56");
	assert_absent("tap,id=net0,ifname=vht0-dut,script=no,downscript=no");
}

static void test_qemu_probe_argv_x86_boots_microvm_under_kvm_on_stdio(void **state)
{
	(void)state;
	assert_int_equal(
		qemu_probe_argv_build("x86_64", NULL, "/img/vmlinuz", &qa, err, sizeof(err)), 0);
	assert_string_equal(qa.argv[0], "qemu-system-x86_64");
	assert_flag_value("-M", "microvm");
	assert_absent("-cpu");
	assert_flag_value("-accel", "kvm");
	assert_flag_value("-serial", "stdio");
	assert_flag_value("-kernel", "/img/vmlinuz");
	assert_flag_value("-append", "console=ttyS0 panic=-1");
	assert_int_equal(count_word("-no-reboot"), 1);
	assert_absent("-S");
}

static void test_qemu_probe_argv_aarch64_boots_virt_with_host_cpu(void **state)
{
	(void)state;
	assert_int_equal(qemu_probe_argv_build("aarch64", "/opt/q/qemu-system-aarch64",
					       "/img/Image", &qa, err, sizeof(err)),
			 0);
	assert_string_equal(qa.argv[0], "/opt/q/qemu-system-aarch64");
	assert_flag_value("-M", "virt,gic-version=host");
	assert_flag_value("-cpu", "host");
	assert_flag_value("-accel", "kvm");
	assert_flag_value("-append", "console=ttyAMA0 panic=-1");
	assert_null(qa.argv[qa.argc]);
}

static void test_qemu_probe_argv_rejects_unknown_arch_and_no_kernel(void **state)
{
	(void)state;
	assert_int_equal(qemu_probe_argv_build("riscv64", NULL, "/k", &qa, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "riscv64"));
	qemu_argv_free(&qa);
	assert_int_equal(qemu_probe_argv_build("aarch64", NULL, NULL, &qa, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "kernel"));
}

static void test_qemu_arch_names(void **state)
{
	(void)state;
	assert_true(qemu_arch_known("x86_64"));
	assert_true(qemu_arch_known("aarch64"));
	assert_false(qemu_arch_known("arm64"));
	assert_false(qemu_arch_known(NULL));
#if defined(__x86_64__)
	assert_string_equal(qemu_host_arch(), "x86_64");
#elif defined(__aarch64__)
	assert_string_equal(qemu_host_arch(), "aarch64");
#endif
}

static void test_qemu_argv_rejects_unknown_arch(void **state)
{
	(void)state;
	struct qemu_launch l = full_launch();
	l.arch = "riscv64";
	build_fails_mentioning(&l, "unknown arch 'riscv64'");
}

static void test_qemu_argv_rejects_launch_without_kernel_or_bios(void **state)
{
	(void)state;
	struct qemu_launch l = full_launch();
	l.kernel = NULL;
	l.bios = NULL;
	build_fails_mentioning(&l, "kernel or a bios");
}

static void test_qemu_argv_rejects_missing_serial_or_qmp_socket(void **state)
{
	(void)state;
	struct qemu_launch l = full_launch();
	l.serial_socket = NULL;
	build_fails_mentioning(&l, "sockets are required");
	l = full_launch();
	l.qmp_socket = NULL;
	build_fails_mentioning(&l, "sockets are required");
}

static void test_qemu_argv_free_resets_and_tolerates_repeat(void **state)
{
	(void)state;
	struct qemu_launch l = minimal_launch();
	build_ok(&l);
	qemu_argv_free(&qa);
	assert_null(qa.argv);
	assert_int_equal(qa.argc, 0);
	qemu_argv_free(&qa);
}

static void test_qemu_binary_and_console_follow_arch(void **state)
{
	(void)state;
	assert_string_equal(qemu_binary_for_arch("x86_64"), "qemu-system-x86_64");
	assert_string_equal(qemu_binary_for_arch("aarch64"), "qemu-system-aarch64");
	assert_string_equal(qemu_binary_for_arch(NULL), "qemu-system-x86_64");
	assert_string_equal(qemu_console_for_arch("x86_64"), "ttyS0");
	assert_string_equal(qemu_console_for_arch("aarch64"), "ttyAMA0");
}

/* Snapshot boot (harness/machine/snapshot.h): a template writes its RAM to
 * a shared file; a device maps the same file privately and waits for its
 * machine state over QMP. */
static void test_qemu_argv_template_ram_is_a_shared_file(void **state)
{
	(void)state;
	struct qemu_launch l = full_launch();
	l.tap_ifname = NULL;
	l.nic_unplugged = true;
	l.disk_snapshot = true;
	l.ram_file = "/a/snap.ram";
	l.ram_shared = true;
	build_ok(&l);
	assert_flag_value("-M", "microvm,memory-backend=ram0");
	assert_flag_value("-object", "memory-backend-file,id=ram0,size=128M,mem-path=/a/snap.ram,"
				     "share=on");
	assert_flag_value("-drive", "file=/tmp/disk.img,if=none,id=disk0,format=raw,snapshot=on");
	/* A NIC the guest probes like the device's, with nothing behind it. */
	assert_flag_value("-device", "virtio-net-device");
	assert_absent("-netdev");
	assert_absent("-incoming");
}

static void test_qemu_argv_restore_maps_ram_privately_and_defers_incoming(void **state)
{
	(void)state;
	struct qemu_launch l = full_launch();
	l.no_acpi = true;
	l.ram_file = "/a/snap.ram";
	l.incoming = true;
	build_ok(&l);
	assert_flag_value("-M", "microvm,acpi=off,memory-backend=ram0");
	assert_flag_value("-object", "memory-backend-file,id=ram0,size=128M,mem-path=/a/snap.ram,"
				     "share=off");
	assert_flag_value("-incoming", "defer");
	assert_flag_value("-drive", "file=/tmp/disk.img,if=none,id=disk0,format=raw");
	assert_flag_value("-device", "virtio-net-device,netdev=net0,mac=52:54:00:12:34:56");
	/* Started stopped as always: the state loads into a paused machine. */
	assert_int_equal(count_word("-S"), 1);
}

static void test_qemu_argv_refuses_a_ram_file_qemu_would_split(void **state)
{
	(void)state;
	struct qemu_launch l = full_launch();
	l.ram_file = "/a,b/snap.ram";
	build_fails_mentioning(&l, "/a,b/snap.ram");
}

static void test_qemu_argv_aarch64_ram_file_on_virt(void **state)
{
	(void)state;
	struct qemu_launch l = full_launch();
	l.arch = "aarch64";
	l.ram_file = "/a/snap.ram";
	build_ok(&l);
	assert_flag_value("-M", "virt,memory-backend=ram0");
}

#define T(f) cmocka_unit_test_teardown(f, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_qemu_argv_x86_uses_microvm_and_default_binary),
		T(test_qemu_argv_x86_no_acpi_turns_microvm_acpi_off),
		T(test_qemu_argv_tcg_buffer_is_32_mib_unless_the_image_asks),
		T(test_qemu_argv_honours_explicit_binary),
		T(test_qemu_argv_tcg_sets_translation_block_size),
		T(test_qemu_argv_kvm_uses_plain_kvm_accel),
		T(test_qemu_argv_defaults_to_x86_tcg_and_96_mib),
		T(test_qemu_argv_starts_stopped_without_reboot_or_defaults),
		T(test_qemu_argv_connects_serial_and_qmp_to_abstract_sockets),
		T(test_qemu_argv_passes_kernel_initrd_append_when_given),
		T(test_qemu_argv_omits_initrd_append_disk_nic_when_absent),
		T(test_qemu_argv_bios_boot_has_no_kernel),
		T(test_qemu_argv_attaches_tap_as_virtio_net_with_mac),
		T(test_qemu_argv_attaches_disk_as_virtio_blk),
		T(test_qemu_argv_serves_disk_over_nbd_when_the_harness_holds_the_flash),
		T(test_qemu_argv_aarch64_uses_virt_and_cortex_a53_under_tcg),
		T(test_qemu_argv_aarch64_uses_host_cpu_and_gic_under_kvm),
		T(test_qemu_argv_aarch64_has_every_x86_device_on_virtio_mmio),
		T(test_qemu_argv_aarch64_stream_nic_for_the_user_datapath),
		T(test_qemu_probe_argv_x86_boots_microvm_under_kvm_on_stdio),
		T(test_qemu_probe_argv_aarch64_boots_virt_with_host_cpu),
		T(test_qemu_probe_argv_rejects_unknown_arch_and_no_kernel),
		T(test_qemu_arch_names),
		T(test_qemu_argv_rejects_unknown_arch),
		T(test_qemu_argv_rejects_launch_without_kernel_or_bios),
		T(test_qemu_argv_rejects_missing_serial_or_qmp_socket),
		T(test_qemu_argv_free_resets_and_tolerates_repeat),
		T(test_qemu_binary_and_console_follow_arch),
		T(test_qemu_argv_template_ram_is_a_shared_file),
		T(test_qemu_argv_restore_maps_ram_privately_and_defers_incoming),
		T(test_qemu_argv_refuses_a_ram_file_qemu_would_split),
		T(test_qemu_argv_aarch64_ram_file_on_virt),
	};
	return vh_run_tests(tests, NULL, NULL);
}
