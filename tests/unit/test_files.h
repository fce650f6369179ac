/* A scratch directory per test group and small file helpers for the CMocka
 * tests that read and write images and bundles. Include after <cmocka.h>;
 * pass test_files_setup/test_files_teardown to cmocka_run_group_tests. */
#ifndef VH_TEST_FILES_H
#define VH_TEST_FILES_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char tmpdir[64];

static inline int test_files_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/vh-test-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static inline int test_files_teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static inline void path_in(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", tmpdir, name);
}

static inline void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

#endif
