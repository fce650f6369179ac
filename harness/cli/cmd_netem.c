/* `vharness netem`: a thin shell around netem_spec_parse/format. */
#include "cmd_netem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netem_spec.h"

static const char usage[] =
	"usage: vharness netem SPEC...\n"
	"Parses a tc-netem spec, checks it as tc would and prints its normalised form.\n"
	"  [ limit PACKETS ]\n"
	"  [ delay TIME [ JITTER [ CORRELATION ] ] ]\n"
	"  [ distribution {uniform|normal|pareto|paretonormal|experimental} ]\n"
	"  [ loss [random] PERCENT [ CORRELATION ] ]\n"
	"  [ loss state P13 [ P31 [ P32 [ P23 [ P14 ] ] ] ] ]\n"
	"  [ loss gemodel PERCENT [ R [ 1-H [ 1-K ] ] ] ]\n"
	"  [ ecn ]\n"
	"  [ duplicate PERCENT [ CORRELATION ] ]\n"
	"  [ corrupt PERCENT [ CORRELATION ] ]\n"
	"  [ reorder PERCENT [ CORRELATION ] [ gap DISTANCE ] ]\n"
	"  [ rate RATE [ PACKETOVERHEAD [ CELLSIZE [ CELLOVERHEAD ] ] ] ]\n"
	"  [ slot MIN_DELAY [ MAX_DELAY ] [ packets N ] [ bytes N ] ]\n"
	"  [ slot distribution NAME DELAY JITTER [ packets N ] [ bytes N ] ]\n"
	"  [ seed N ]\n"
	"\"none\" is no impairment. An empty spec is refused: it is most often a\n"
	"parameter that was not set. Exit status: 0 valid, 2 invalid.\n";

int cmd_netem(int argc, char **argv)
{
	size_t total = 1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage, stdout);
			return 0;
		}
		total += strlen(argv[i]) + 1;
	}
	char *text = malloc(total);
	if (!text) {
		fputs("netem: out of memory\n", stderr);
		return 2;
	}
	text[0] = '\0';
	size_t used = 0;
	for (int i = 1; i < argc; i++) {
		size_t n = strlen(argv[i]);
		if (used)
			text[used++] = ' ';
		memcpy(text + used, argv[i], n + 1);
		used += n;
	}
	if (text[strspn(text, " \t\n")] == '\0') {
		fputs(NETEM_EMPTY_SPEC_MESSAGE "\n", stderr);
		free(text);
		return 2;
	}
	struct netem_spec spec;
	struct netem_error err;
	int rc = netem_spec_parse(text, &spec, &err);
	free(text);
	if (rc < 0) {
		char msg[320];
		netem_error_format(&err, msg, sizeof msg);
		fprintf(stderr, "%s\n", msg);
		return 2;
	}
	size_t need = netem_spec_format(&spec, NULL, 0);
	char *out = malloc(need + 1);
	if (!out) {
		fputs("netem: out of memory\n", stderr);
		return 2;
	}
	netem_spec_format(&spec, out, need + 1);
	printf("%s\n", out);
	free(out);
	return 0;
}
