#include "cmd_image.h"

#include "cli_args.h"
#include "qemu_argv.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f, const char *binary_dir, const char *mender_dir, const char *rauc_dir)
{
	fprintf(f,
		"usage: vharness image build [--profile reference|mender|rauc] [--arch "
		"x86_64|aarch64]\n"
		"  reference (default): the reference firmware (kernel + initramfs) in\n"
		"    %s/image (aarch64: %s/image/aarch64); --arch defaults to this host's\n"
		"  mender: an A/B disk with Debian's mender-client 3.4, U-Boot env, release\n"
		"    artifacts and the planted integration mistakes, in %s (x86-64 only);\n"
		"    cached by the hash of its inputs: a rebuild with nothing changed is instant\n"
		"  rauc: an A/B disk with Debian's rauc 1.8 (rauc service on a system bus),\n"
		"    U-Boot env for the rauc profile, signed release bundles and their CA, in\n"
		"    %s (x86-64 only); cached the same way\n",
		binary_dir, binary_dir, mender_dir, rauc_dir);
}

int cmd_image(int argc, char **argv, const char *binary_dir, const char *mender_dir,
	      const char *rauc_dir)
{
	const char *arch = NULL, *profile = "reference";
	char err[256] = "";
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout, binary_dir, mender_dir, rauc_dir);
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "build"))
		cli_usage_error(err, sizeof(err), "image takes 'build', not '%s'",
				argc < 2 ? "" : argv[1]);
	for (int i = 2; !*err && i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout, binary_dir, mender_dir, rauc_dir);
			return 0;
		} else if (cli_is_option(argv[i], "--arch")) {
			arch = cli_option_value(argc, argv, &i, "--arch");
			if (!arch || !qemu_arch_known(arch))
				cli_usage_error(err, sizeof(err),
						"--arch takes x86_64 or aarch64, not '%s'",
						arch ? arch : "");
		} else if (cli_is_option(argv[i], "--profile")) {
			profile = cli_option_value(argc, argv, &i, "--profile");
			if (!profile || (strcmp(profile, "reference") &&
					 strcmp(profile, "mender") && strcmp(profile, "rauc")))
				cli_usage_error(
					err, sizeof(err),
					"--profile takes reference, mender or rauc, not '%s' "
					"(the other bootloader profiles describe your own "
					"image: vh.firmware { profile = ... })",
					profile ? profile : "");
		} else {
			cli_usage_error(err, sizeof(err), "image build: unknown option '%s'",
					argv[i]);
		}
	}
	if (!*err && strcmp(profile, "reference") && arch && strcmp(arch, "x86_64"))
		cli_usage_error(err, sizeof(err),
				"--profile %s: the %s image is x86-64 only for now, "
				"not --arch %s",
				profile, strcmp(profile, "mender") ? "RAUC" : "Mender", arch);
	if (*err) {
		fprintf(stderr, "vharness: %s\n", err);
		usage(stderr, binary_dir, mender_dir, rauc_dir);
		return 2;
	}
	if (!arch)
		arch = qemu_host_arch() ? qemu_host_arch() : "x86_64";
	char target[32];
	if (strcmp(profile, "reference"))
		snprintf(target, sizeof(target), "image-%s", profile);
	else
		snprintf(target, sizeof(target), "image-%s", arch);
	fflush(NULL);
	execlp("cmake", "cmake", "--build", binary_dir, "--target", target, (char *)NULL);
	perror("vharness: cannot run cmake");
	return 3;
}
