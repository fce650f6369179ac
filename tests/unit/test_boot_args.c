/* Tests for ${name} in a firmware's append (harness/device/boot_args.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "boot_args.h"
#include "test_skip.h"

static const struct boot_args_vars full = {
	.device = "d007",
	.ip = "10.77.0.8",
	.prefix = "24",
	.gateway = "10.77.0.1",
	.server = "10.77.0.1:8080",
	.mac = "52:54:00:00:00:08",
};

static void test_every_variable_expands(void **state)
{
	(void)state;
	char out[256], err[256];
	assert_int_equal(boot_args_expand("panic=-1 vhm.ip=${ip}/${prefix} vhm.gw=${gateway} "
					  "vhm.server=http://${server} id=${device} mac=${mac}",
					  &full, out, sizeof(out), err, sizeof(err)),
			 0);
	assert_string_equal(out, "panic=-1 vhm.ip=10.77.0.8/24 vhm.gw=10.77.0.1 "
				 "vhm.server=http://10.77.0.1:8080 id=d007 mac=52:54:00:00:00:08");
	/* text without variables is unchanged; $$ is a $ */
	assert_int_equal(boot_args_expand("a=$$HOME b={ip} ${ip}${ip}", &full, out, sizeof(out),
					  err, sizeof(err)),
			 0);
	assert_string_equal(out, "a=$HOME b={ip} 10.77.0.810.77.0.8");
	assert_int_equal(boot_args_expand("", &full, out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, "");
}

static void test_unknown_or_unclosed_names_are_named(void **state)
{
	(void)state;
	char err[256];
	assert_int_equal(boot_args_check("root=/dev/vda2 ip=${ip}", err, sizeof(err)), 0);
	assert_int_equal(boot_args_check("x=${ipaddr} y", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown \"${ipaddr}\""));
	assert_non_null(strstr(err, "${gateway}"));
	assert_int_equal(boot_args_check("x=${ip", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unclosed \"${ip\""));
	assert_int_equal(boot_args_check("cost=5$", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown \"$\""));
	assert_int_equal(boot_args_check("x=$ip", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown \"$i\""));
}

static void test_a_value_the_device_lacks_is_an_error(void **state)
{
	(void)state;
	struct boot_args_vars no_net = { .device = "dut" };
	char out[256], err[256];
	assert_int_equal(boot_args_expand("ip=${ip}", &no_net, out, sizeof(out), err, sizeof(err)),
			 -1);
	assert_string_equal(err, "append: ${ip}: device dut has no network (network = ...)");
	assert_int_equal(
		boot_args_expand("s=${server}", &no_net, out, sizeof(out), err, sizeof(err)), -1);
	assert_string_equal(err,
			    "append: ${server}: device dut has no update server (server = ...)");
	assert_int_equal(boot_args_expand("${device}", &no_net, out, sizeof(out), err, sizeof(err)),
			 0);
	assert_string_equal(out, "dut");
	/* too long for out: an error, never a cut command line */
	char small[8];
	assert_int_equal(
		boot_args_expand("id=${device}xyz", &full, small, sizeof(small), err, sizeof(err)),
		-1);
	assert_non_null(strstr(err, "longer than 7 bytes"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_variable_expands),
		cmocka_unit_test(test_unknown_or_unclosed_names_are_named),
		cmocka_unit_test(test_a_value_the_device_lacks_is_an_error),
	};
	return vh_run_tests(tests, NULL, NULL);
}
