/* Choosing the impairment backend (harness/net/impairment.c: impairment_resolve)
 * in a real network namespace: the answer for auto and kernel follows what
 * kernel_netem_probe says on this kernel, whichever it is. Each test forks a
 * child that enters its own namespace; tests skip when namespaces are
 * unavailable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "impairment.h"
#include "kernel_netem.h"
#include "sandbox.h"

#include "child_check.h"
#include "sandboxed.h"

static int child_user_is_taken_as_asked_without_probing(void)
{
	char why[256] = "", err[256] = "";
	enum impairment_backend b = IMPAIRMENT_KERNEL;
	CHECK_OK(impairment_resolve("user", &b, why, sizeof why, err, sizeof err));
	CHECK(b == IMPAIRMENT_USER);
	CHECK(!strcmp(why, "--backend user"));
	CHECK(!strcmp(impairment_backend_name(b), "user"));
	return 0;
}

static int child_auto_follows_the_netem_probe(void)
{
	char why[256] = "", err[256] = "", reason[256] = "";
	bool netem = kernel_netem_probe(reason, sizeof reason) == 0;
	enum impairment_backend b;
	CHECK_OK(impairment_resolve("auto", &b, why, sizeof why, err, sizeof err));
	if (netem) {
		CHECK(b == IMPAIRMENT_KERNEL);
		CHECK(!strcmp(why, "auto: sch_netem loads"));
	} else {
		CHECK(b == IMPAIRMENT_USER);
		CHECK(!strncmp(why, "auto: sch_netem unavailable: ", 29));
		/* The kernel's reason, without tc's full stop. */
		CHECK(strlen(why) > 29 && why[strlen(why) - 1] != '.');
		CHECK(!strncmp(why + 29, reason, strlen(why) - 29));
	}
	return 0;
}

static int child_kernel_without_netem_is_a_configuration_error(void)
{
	char why[256] = "", err[256] = "", reason[256] = "";
	unsetenv(IMPAIRMENT_NO_PROBE_ENV);
	bool netem = kernel_netem_probe(reason, sizeof reason) == 0;
	enum impairment_backend b;
	int rc = impairment_resolve("kernel", &b, why, sizeof why, err, sizeof err);
	if (netem) {
		CHECK(rc == 0 && b == IMPAIRMENT_KERNEL);
		return 0;
	}
	CHECK(rc == -1);
	if (!strstr(err,
		    "--backend kernel: this kernel cannot create a netem qdisc (sch_netem: ") ||
	    !strstr(err, "use --backend user or auto"))
		fprintf(stderr, "unexpected error: %s\n", err);
	CHECK(strstr(err, "cannot create a netem qdisc (sch_netem: ") != NULL);
	CHECK(strstr(err, "use --backend user or auto") != NULL);
	return 0;
}

static int child_kernel_with_no_probe_env_skips_the_probe(void)
{
	char why[256] = "", err[256] = "";
	setenv(IMPAIRMENT_NO_PROBE_ENV, "1", 1);
	enum impairment_backend b = IMPAIRMENT_USER;
	CHECK_OK(impairment_resolve("kernel", &b, why, sizeof why, err, sizeof err));
	CHECK(b == IMPAIRMENT_KERNEL);
	CHECK(strstr(why, "not probed") && strstr(why, IMPAIRMENT_NO_PROBE_ENV "=1"));
	/* Only an explicit kernel request: auto still probes. */
	char reason[256];
	bool netem = kernel_netem_probe(reason, sizeof reason) == 0;
	CHECK_OK(impairment_resolve("auto", &b, why, sizeof why, err, sizeof err));
	CHECK(b == (netem ? IMPAIRMENT_KERNEL : IMPAIRMENT_USER));
	return 0;
}

static int child_unknown_request_is_named(void)
{
	char why[256] = "", err[256] = "";
	enum impairment_backend b;
	CHECK(impairment_resolve("tc", &b, why, sizeof why, err, sizeof err) == -1);
	CHECK(strstr(err, "'tc'") != NULL);
	return 0;
}

/* ---- runner ---- */

static void run_sandboxed(int (*fn)(void))
{
	sandboxed_run(fn);
}

#define SANDBOXED(name)                                                                            \
	static void test_impairment_##name(void **state)                                           \
	{                                                                                          \
		(void)state;                                                                       \
		run_sandboxed(child_##name);                                                       \
	}

SANDBOXED(user_is_taken_as_asked_without_probing)
SANDBOXED(auto_follows_the_netem_probe)
SANDBOXED(kernel_without_netem_is_a_configuration_error)
SANDBOXED(kernel_with_no_probe_env_skips_the_probe)
SANDBOXED(unknown_request_is_named)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_impairment_user_is_taken_as_asked_without_probing),
		cmocka_unit_test(test_impairment_auto_follows_the_netem_probe),
		cmocka_unit_test(test_impairment_kernel_without_netem_is_a_configuration_error),
		cmocka_unit_test(test_impairment_kernel_with_no_probe_env_skips_the_probe),
		cmocka_unit_test(test_impairment_unknown_request_is_named),
	};
	return vh_run_tests(tests, NULL, NULL);
}
