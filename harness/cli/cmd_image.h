/* `vharness image build`: the build's image targets, by profile and arch. */
#ifndef VH_CMD_IMAGE_H
#define VH_CMD_IMAGE_H

/* argv[0] is "image". `build [--profile reference|mender|rauc] [--arch A]` runs
 * `cmake --build BINARY_DIR --target T` in this process (it does not return on
 * success); --help prints usage and returns 0; a bad word returns 2 with the
 * reason on stderr; 3 when cmake cannot be run. */
int cmd_image(int argc, char **argv, const char *binary_dir, const char *mender_dir,
	      const char *rauc_dir);

#endif
