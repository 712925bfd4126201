/*
 * disable takes the images named by the records it reads out of use (DisableImage): a disabled
 * image cannot be launched, is listed only to its owner and only when asked for, and is private:
 * EC2 removes its launch permissions. With --undo it enables them again (EnableImage), which does
 * not share them again. It reads and checks all of its input, describes the images as they are,
 * and calls only for those not in that state yet: running it twice changes nothing. Every record
 * is written back in input order with its State (and the rest of the image) as it now is, and a
 * Result.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "awsopt.h"
#include "imagestate.h"
#include "interrupt.h"
#include "out.h"
#include "record.h"
#include "util.h"

enum {
	OPT_UNDO = OPT_FIRST,
	OPT_VERSION
};

static void __attribute__((noreturn))
usage(void)
{
	print_help(
	    "usage: disable [--undo]\n"
	    "           [--dry-run] [--audit FILE] [--region REGION] [--endpoint-url URL]\n"
	    "           [-P N] [--debug]\n"
	    "           " AWSOPT_USAGE_CREDS " [FILE ...]\n"
	    "Disable images, or enable them again.\n"
	    "\n"
	    "      --undo               enable the images again (EnableImage)\n"
	    AWSOPT_HELP);
}

/* Borrows img. DisableImage, or EnableImage under --undo, unless img is so already. */
static const char *
plan(jv img, const void *arg, jv *params, char **why)
{
	const int *undo = arg;
	const char *state = rec_str(img, "State");
	int disabled = state != NULL && strcmp(state, "disabled") == 0;

	(void)params;
	if (!*undo && disabled)
		*why = xstrdup("already disabled");
	else if (*undo && !disabled)
		xasprintf(why, "not disabled (%s)", state != NULL ? state : "no State");
	else
		return *undo ? "EnableImage" : "DisableImage";
	return NULL;
}

/* Borrows img. Its State once the call is done. */
static jv
after(jv img, const void *arg)
{
	const int *undo = arg;

	(void)img;
	return jv_string(*undo ? "available" : "disabled");
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		AWSOPT_LONGOPTS,
		{ "help",		no_argument,		NULL,	'h' },
		{ "undo",		no_argument,		NULL,	OPT_UNDO },
		{ "version",		no_argument,		NULL,	OPT_VERSION },
		{ NULL,			0,			NULL,	0 }
	};
	struct imagestate is = { "disable", "State", plan, after, NULL };
	struct awsopt ao;
	int ch, undo = 0, status;

	out_init();
	awsopt_init(&ao);
	while ((ch = getopt_cli(argc, argv, "hP:", longopts)) != -1) {
		switch (ch) {
		case 'h':
			usage();
		case OPT_UNDO:
			undo = 1;
			break;
		case OPT_VERSION:
			print_version();
		default:
			if (!awsopt_parse(&ao, ch, optarg))
				usage_error(NULL);
		}
	}
	argv += optind;
	is.arg = &undo;

	status = imagestate_run(&is, &ao, argv);
	ch = out_close();
	intr_resend();
	return status != EXIT_OK ? status : ch;
}
