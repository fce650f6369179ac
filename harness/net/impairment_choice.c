/* Which impairment backend a run uses (impairment.h): apart from the rest of
 * impairment.c so that the kernel backend's guest check
 * (tests/kernel_backend/) can prove `auto` picks kernel where sch_netem loads. */
#include "impairment.h"

#include "kernel_netem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *impairment_backend_name(enum impairment_backend backend)
{
	return backend == IMPAIRMENT_KERNEL ? "kernel" : "user";
}

/* tc ends its messages with a full stop; ours go inside sentences. */
static void trim_reason(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == '.' || s[n - 1] == ' ' || s[n - 1] == '\n'))
		s[--n] = '\0';
}

int impairment_resolve(const char *requested, enum impairment_backend *out, char *why,
		       size_t whylen, char *err, size_t errlen)
{
	char reason[256] = "";
	if (!strcmp(requested, "user")) {
		*out = IMPAIRMENT_USER;
		snprintf(why, whylen, "--backend user");
		return 0;
	}
	if (!strcmp(requested, "kernel")) {
		const char *skip = getenv(IMPAIRMENT_NO_PROBE_ENV);
		if (skip && !strcmp(skip, "1")) {
			*out = IMPAIRMENT_KERNEL;
			snprintf(why, whylen, "--backend kernel, not probed: %s=1",
				 IMPAIRMENT_NO_PROBE_ENV);
			return 0;
		}
		if (kernel_netem_probe(reason, sizeof(reason)) < 0) {
			trim_reason(reason);
			snprintf(err, errlen,
				 "--backend kernel: this kernel cannot create a netem qdisc "
				 "(sch_netem: %s); use --backend user or auto",
				 reason);
			return -1;
		}
		*out = IMPAIRMENT_KERNEL;
		snprintf(why, whylen, "--backend kernel: sch_netem loads");
		return 0;
	}
	if (strcmp(requested, "auto") != 0) {
		snprintf(err, errlen, "--backend takes auto, kernel or user, not '%s'", requested);
		return -1;
	}
	if (kernel_netem_probe(reason, sizeof(reason)) == 0) {
		*out = IMPAIRMENT_KERNEL;
		snprintf(why, whylen, "auto: sch_netem loads");
	} else {
		trim_reason(reason);
		*out = IMPAIRMENT_USER;
		snprintf(why, whylen, "auto: sch_netem unavailable: %s", reason);
	}
	return 0;
}
