/* Interop: our env codec and Debian's libubootenv (fw_printenv / fw_setenv)
 * on the same image file, both ways, including a torn write, runs of stores
 * through the 255 -> 0 flags wrap and hand-made flag pairs.
 *
 * Exit 0 pass, 1 fail, 77 skip (fw_printenv / fw_setenv not installed). */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fw_env_fixture.h"
#include "ubootenv.h"

#define IMAGE_SIZE (8 * 1024 * 1024) /* room for a user layout at 4 MiB */

static uint8_t image_flags(int copy)
{
	uint8_t b = 0;
	int fd = open(fwenv_image, O_RDONLY);
	if (fd >= 0) {
		if (pread(fd, &b, 1, (copy ? UBOOTENV_COPY1_OFFSET : UBOOTENV_COPY0_OFFSET) + 4) !=
		    1)
			b = 0;
		close(fd);
	}
	return b;
}

static int load(struct ubootenv *env)
{
	char err[256];
	int rc = ubootenv_file_load(fwenv_image, env, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "load: %s\n", err);
	return rc;
}

static int store(struct ubootenv *env)
{
	char err[256];
	int rc = ubootenv_file_store(fwenv_image, env, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "store: %s\n", err);
	return rc;
}

/* (a) what our codec writes, fw_printenv reads: with one valid copy, with
 * two, and after a delete. */
static void test_fw_printenv_reads_what_ubootenv_writes(void)
{
	struct ubootenv env;

	fwenv_fresh_image();
	ubootenv_init(&env);
	ubootenv_set(&env, "upgrade_available", "0");
	ubootenv_set(&env, "boot_slot", "a");
	ubootenv_set(&env, "bootargs", "console=ttyS0 root=/dev/vda1 quiet");
	ubootenv_set(&env, "empty", "");
	for (int round = 0; round < 3; round++) {
		if (round == 1)
			ubootenv_set(&env, "boot_slot", "b");
		if (round == 2)
			ubootenv_set(&env, "upgrade_available", NULL);
		CHECK(store(&env) == 0, "round %d", round);
		CHECK(fwenv_printenv_agrees(&env), "round %d: fw_printenv disagrees", round);
	}
	ubootenv_free(&env);
}

/* (b) what fw_setenv writes, our codec reads, in the copy and with the
 * flags libubootenv says is current. */
static void test_ubootenv_reads_what_fw_setenv_writes(void)
{
	struct ubootenv env;

	fwenv_fresh_image();
	ubootenv_init(&env);
	ubootenv_set(&env, "boot_slot", "a");
	ubootenv_set(&env, "bootcount", "0");
	ubootenv_set(&env, "doomed", "1");
	CHECK(store(&env) == 0, "store");
	CHECK(store(&env) == 0, "store"); /* copy 0 active, flags 2 */

	CHECK(fwenv_set("bootcount", "1") == 0, "fw_setenv");
	CHECK(fwenv_set("bootargs", "console=ttyS0 root=/dev/vda2") == 0, "fw_setenv");
	CHECK(fwenv_set("doomed", NULL) == 0, "fw_setenv delete");
	/* ours: copy 1 flags 1, copy 0 flags 2; fw_setenv: 1<-3, 0<-4, 1<-5 */
	CHECK(load(&env) == 1, "copy 1 should hold the third fw_setenv");
	CHECK(env.flags == 5, "flags %u", env.flags);
	CHECK(image_flags(0) == 4, "copy 0 flags %u", image_flags(0));
	CHECK(strcmp(ubootenv_get(&env, "bootcount"), "1") == 0, "bootcount");
	CHECK(strcmp(ubootenv_get(&env, "boot_slot"), "a") == 0, "boot_slot");
	CHECK(ubootenv_get(&env, "bootargs") &&
		      strcmp(ubootenv_get(&env, "bootargs"), "console=ttyS0 root=/dev/vda2") == 0,
	      "bootargs");
	CHECK(ubootenv_get(&env, "doomed") == NULL, "doomed still there");
	CHECK(env.count == 3, "count %zu", env.count);
	ubootenv_free(&env);
}

/* (c) power cut while writing the new copy: only its header and first half
 * reach the disk. Both readers must see the old env, and the next store by
 * either side must go over the torn copy, not the good one. */
static void test_torn_write_leaves_old_env_for_both_readers(void)
{
	struct ubootenv env;
	uint8_t *copy = malloc(UBOOTENV_COPY_SIZE);
	char *blob = malloc(100000);

	memset(blob, 'x', 99999);
	blob[99999] = '\0';
	fwenv_fresh_image();
	ubootenv_init(&env);
	ubootenv_set(&env, "boot_slot", "a");
	ubootenv_set(&env, "upgrade_available", "0");
	CHECK(store(&env) == 0, "store");
	CHECK(store(&env) == 0, "store"); /* copy 0 active (flags 2), copy 1 older */

	/* the new env is big enough that its data runs past the tear */
	ubootenv_set(&env, "boot_slot", "b");
	ubootenv_set(&env, "upgrade_available", "1");
	ubootenv_set(&env, "blob", blob);
	int target = ubootenv_target_copy(&env);
	CHECK(target == 1, "target %d", target);
	uint8_t flags;
	CHECK(ubootenv_encode(&env, copy, UBOOTENV_COPY_SIZE, &flags) == 0, "encode");
	int fd = open(fwenv_image, O_WRONLY);
	CHECK(fd >= 0, "open");
	ssize_t n = pwrite(fd, copy, UBOOTENV_COPY_SIZE / 2, UBOOTENV_COPY1_OFFSET);
	close(fd);
	CHECK(n == UBOOTENV_COPY_SIZE / 2, "pwrite");
	CHECK(image_flags(1) == 3, "the torn copy carries the newer flags (%u)", image_flags(1));

	const char *v = fwenv_get("boot_slot");
	CHECK(v && strcmp(v, "a") == 0, "fw_printenv boot_slot=%s", v ? v : "(failed)");
	v = fwenv_get("upgrade_available");
	CHECK(v && strcmp(v, "0") == 0, "fw_printenv upgrade_available=%s", v ? v : "(failed)");

	struct ubootenv back;
	ubootenv_init(&back);
	CHECK(load(&back) == 0, "our codec did not pick copy 0");
	CHECK(strcmp(ubootenv_get(&back, "boot_slot"), "a") == 0, "boot_slot");
	CHECK(strcmp(ubootenv_get(&back, "upgrade_available"), "0") == 0, "upgrade_available");
	CHECK(ubootenv_get(&back, "blob") == NULL, "blob from the torn copy");

	/* recovery: fw_setenv rewrites the torn copy, and we read it */
	CHECK(fwenv_set("boot_slot", "b") == 0, "fw_setenv");
	CHECK(load(&back) == 1, "fw_setenv should have written copy 1");
	CHECK(strcmp(ubootenv_get(&back, "boot_slot"), "b") == 0, "boot_slot");
	CHECK(back.flags == 3, "flags %u", back.flags);

	ubootenv_free(&back);
	ubootenv_free(&env);
	free(copy);
	free(blob);
}

/* (d) stores through the 255 -> 0 wrap, alternating writers (two fw_setenv,
 * then one of ours); after every store both readers agree on the value and
 * on the flags of the current copy. A strict alternation keeps each copy's
 * flags parity, so one run only ever wraps in one direction: start_flags
 * picks which (0: copy 1 holds odd flags and copy 0 wraps to 0; 127: copy 1
 * holds even flags and is the one that wraps to 0). */
static void test_both_agree_through_flag_wrap(uint8_t start_flags, int wrapping_copy)
{
	struct ubootenv env;
	char val[32];
	bool saw_wrap = false;

	fwenv_fresh_image();
	ubootenv_init(&env);
	env.flags = start_flags;
	ubootenv_set(&env, "n", "start");
	CHECK(store(&env) == 0, "store");
	CHECK(env.active == 1, "first store on a blank image goes to copy 1");
	for (int i = 0; i < 300; i++) {
		snprintf(val, sizeof(val), "%d", i);
		if (i % 3 == 2) {
			CHECK(load(&env) >= 0, "load before store %d", i);
			ubootenv_set(&env, "n", val);
			CHECK(store(&env) == 0, "store %d", i);
		} else {
			CHECK(fwenv_set("n", val) == 0, "fw_setenv %d", i);
		}
		const char *v = fwenv_get("n");
		CHECK(v && strcmp(v, val) == 0, "step %d: fw_printenv n=%s", i, v ? v : "(failed)");
		int copy = load(&env);
		CHECK(copy >= 0 && strcmp(ubootenv_get(&env, "n"), val) == 0,
		      "step %d: we read n=%s", i, copy >= 0 ? ubootenv_get(&env, "n") : "-");
		/* the first store plus i + 1 more */
		CHECK(env.flags == (uint8_t)(start_flags + i + 2), "step %d: flags %u", i,
		      env.flags);
		if (env.flags == 0) {
			CHECK(copy == wrapping_copy, "wrapped in copy %d", copy);
			saw_wrap = true;
		}
	}
	CHECK(saw_wrap, "never wrapped");
	ubootenv_free(&env);
}

/* (e) hand-made flag pairs, including ones a normal store sequence never
 * produces (ties, 255 vs 1) and bad CRCs: both readers pick the same copy. */
static void test_both_pick_the_same_copy_for_any_flags(void)
{
	static const struct {
		int flags0, flags1; /* negative: that copy's CRC is broken */
	} cases[] = {
		{ 0, 0 },   { 5, 5 },	  { 255, 255 }, { 1, 2 },   { 2, 1 },	{ 255, 0 },
		{ 0, 255 }, { 254, 255 }, { 255, 254 }, { 255, 1 }, { 1, 255 }, { 0, 254 },
		{ 254, 0 }, { 200, 3 },	  { 3, 200 },	{ 0, 128 }, { 128, 0 }, { -5, 3 },
		{ 3, -5 },  { -255, 0 },  { 0, -255 },
	};
	uint8_t *copy = malloc(UBOOTENV_COPY_SIZE);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fwenv_fresh_image();
		int fd = open(fwenv_image, O_WRONLY);
		CHECK(fd >= 0, "open");
		for (int c = 0; c < 2; c++) {
			int f = c ? cases[i].flags1 : cases[i].flags0;
			struct ubootenv env;
			ubootenv_init(&env);
			ubootenv_set(&env, "who", c ? "copy1" : "copy0");
			env.flags = (uint8_t)((f < 0 ? -f : f) - 1);
			CHECK(ubootenv_encode(&env, copy, UBOOTENV_COPY_SIZE, NULL) == 0, "encode");
			if (f < 0)
				copy[0] ^= 0x01;
			CHECK(pwrite(fd, copy, UBOOTENV_COPY_SIZE,
				     c ? UBOOTENV_COPY1_OFFSET : UBOOTENV_COPY0_OFFSET) ==
				      UBOOTENV_COPY_SIZE,
			      "pwrite");
			ubootenv_free(&env);
		}
		close(fd);
		struct ubootenv env;
		ubootenv_init(&env);
		int ours = load(&env);
		const char *theirs = fwenv_get("who");
		CHECK(theirs && ours >= 0 && strcmp(theirs, ours ? "copy1" : "copy0") == 0 &&
			      strcmp(ubootenv_get(&env, "who"), theirs) == 0,
		      "flags %d/%d: we pick copy %d, fw_printenv %s", cases[i].flags0,
		      cases[i].flags1, ours, theirs ? theirs : "(failed)");
		ubootenv_free(&env);
	}
	free(copy);
}

/* (e) a user's layout: one copy, no redundancy, at another offset (as a
 * one-line fw_env.config says): both write the crc32-only format and read
 * the other's. */
static void test_single_copy_layout_both_ways(void)
{
	char *single = (char *)fwenv_file("fw_env_single.config");
	FILE *f = fopen(single, "w");
	CHECK(f != NULL, "%s", single);
	fprintf(f, "%s 0x400000 0x4000\n", fwenv_image);
	fclose(f);
	const struct ubootenv_layout l = { .offset = { 0x400000 }, .size = 0x4000, .copies = 1 };
	fwenv_fresh_image();
	char out[512], err[256];
	struct ubootenv env;
	ubootenv_init(&env);
	/* fw_setenv will not start from a blank copy without a default env
	 * file: ours writes the first one. */
	ubootenv_set(&env, "mender_boot_part", "2");
	CHECK(ubootenv_file_store_layout(fwenv_image, &l, &env, err, sizeof(err)) == 0, "store: %s",
	      err);
	char *get[] = { "fw_printenv", "-c", single, "-n", "mender_boot_part", NULL };
	CHECK(fwenv_run(get, out, sizeof(out)) == 0 && !strcmp(out, "2\n"),
	      "fw_printenv read \"%s\"", out);
	char *set[] = { "fw_setenv", "-c", single, "upgrade_available", "1", NULL };
	CHECK(fwenv_run(set, out, sizeof(out)) == 0, "fw_setenv on one copy");
	CHECK(ubootenv_file_load_layout(fwenv_image, &l, &env, err, sizeof(err)) == 0, "load: %s",
	      err);
	CHECK(ubootenv_get(&env, "upgrade_available") &&
		      !strcmp(ubootenv_get(&env, "upgrade_available"), "1"),
	      "upgrade_available");
	CHECK(ubootenv_get(&env, "mender_boot_part") &&
		      !strcmp(ubootenv_get(&env, "mender_boot_part"), "2"),
	      "mender_boot_part");
	ubootenv_free(&env);
}

int main(void)
{
	fwenv_setup("vh_ubootenv_interop", IMAGE_SIZE);

	test_fw_printenv_reads_what_ubootenv_writes();
	test_ubootenv_reads_what_fw_setenv_writes();
	test_torn_write_leaves_old_env_for_both_readers();
	test_both_agree_through_flag_wrap(0, 0);
	test_both_agree_through_flag_wrap(127, 1);
	test_both_pick_the_same_copy_for_any_flags();
	test_single_copy_layout_both_ways();

	return fwenv_finish("ubootenv interop with fw_printenv/fw_setenv");
}
