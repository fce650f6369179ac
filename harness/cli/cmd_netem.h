/* `vharness netem SPEC...`: parse a netem spec and print its normalised form. */
#ifndef VH_CMD_NETEM_H
#define VH_CMD_NETEM_H

/* argv[0] is "netem"; argv[1..] are the spec's words (joined with spaces, so
 * `netem "delay 1ms loss 2%"` and `netem delay 1ms loss 2%` are the same) or
 * --help/-h. Prints the normalised spec and a newline on stdout and returns 0; on a
 * bad spec prints `netem: "TOKEN" (at N): MESSAGE` on stderr and returns 2 (usage
 * error, DESIGN §7); --help prints usage on stdout and returns 0. Owns nothing. */
int cmd_netem(int argc, char **argv);

#endif
