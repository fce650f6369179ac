/* Checks for code that runs in a forked child (tests that enter their own
 * namespaces): cmocka's asserts would longjmp into a copy of the runner, so
 * these report on stderr and fail the child's exit status instead. The
 * enclosing function returns int; CHECK_OK expects a char err[] in scope. */
#ifndef VH_TEST_CHILD_CHECK_H
#define VH_TEST_CHILD_CHECK_H

#include <stdio.h>

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			return 1;                                                                  \
		}                                                                                  \
	} while (0)

#define CHECK_OK(call)                                                                             \
	do {                                                                                       \
		if ((call) < 0) {                                                                  \
			fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, err); \
			return 1;                                                                  \
		}                                                                                  \
	} while (0)

#endif
