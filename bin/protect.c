/*
 * protect turns on the deregistration protection of the images named by the records it reads
 * (EnableImageDeregistrationProtection), with --cooldown the kind that keeps refusing
 * deregistration for 24 hours after it is turned off; with --undo it turns it off
 * (DisableImageDeregistrationProtection). It reads and checks all of its input, describes the
 * images as they are, and calls only for those not protected (or, --undo, protected) yet: running
 * it twice changes nothing. Every record is written back in input order with its
 * DeregistrationProtection (and the rest of the image) as it now is, and a Result.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "awsopt.h"
#include "imagestate.h"
#include "interrupt.h"
#include "out.h"
#include "record.h"
#include "timefmt.h"
#include "util.h"

/* How long a protection enabled with cooldown still refuses deregistration once disabled. */
#define COOLDOWN	(24 * 3600)

enum {
	OPT_COOLDOWN = OPT_FIRST,
	OPT_UNDO,
	OPT_VERSION
};

struct mode {
	int	cooldown, undo;
};

static void __attribute__((noreturn))
usage(void)
{
	print_help(
	    "usage: protect [--cooldown | --undo]\n"
	    "           [--dry-run] [--audit FILE] [--region REGION] [--endpoint-url URL]\n"
	    "           [-P N] [--debug]\n"
	    "           " AWSOPT_USAGE_CREDS " [FILE ...]\n"
	    "Protect images from deregistration, or stop protecting them.\n"
	    "\n"
	    "      --cooldown           keep refusing deregistration for 24 hours after the\n"
	    "                           protection is turned off\n"
	    "      --undo               turn the protection off\n"
	    AWSOPT_HELP);
}

/* Borrows img. Its DeregistrationProtection: "disabled" when EC2 says nothing. */
static const char *
protection(jv img)
{
	const char *v = rec_str(img, "DeregistrationProtection");

	return v != NULL ? v : "disabled";
}

/*
 * Borrows img. Protecting: EnableImageDeregistrationProtection, unless img is protected already
 * (without --cooldown, either way; with it, with the cooldown). --undo:
 * DisableImageDeregistrationProtection, unless img is not protected.
 */
static const char *
plan(jv img, const void *arg, jv *params, char **why)
{
	const struct mode *mode = arg;
	const char *v = protection(img);
	int on = strncmp(v, "enabled", 7) == 0;

	if (mode->undo) {
		if (on)
			return "DisableImageDeregistrationProtection";
		if (strncmp(v, "disabled-until ", 15) == 0)
			xasprintf(why, "not protected, but in its cooldown: deregistration is refused "
			    "until %s", v + 15);
		else
			*why = xstrdup("not protected");
		return NULL;
	}
	if (on && (!mode->cooldown || strcmp(v, "enabled-with-cooldown") == 0)) {
		xasprintf(why, "already protected (%s)", v);
		return NULL;
	}
	if (mode->cooldown)
		*params = jv_object_set(*params, jv_string("WithCooldown"), jv_true());
	return "EnableImageDeregistrationProtection";
}

/* Borrows img. Its DeregistrationProtection once the call is done. */
static jv
after(jv img, const void *arg)
{
	const struct mode *mode = arg;
	char at[RFC3339_SIZE];

	if (!mode->undo)
		return jv_string(mode->cooldown ? "enabled-with-cooldown" : "enabled");
	if (strcmp(protection(img), "enabled-with-cooldown") != 0)
		return jv_string("disabled");
	rfc3339_format((int64_t)time(NULL) + COOLDOWN, at);
	return jv_string_fmt("disabled-until %s", at);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		AWSOPT_LONGOPTS,
		{ "cooldown",		no_argument,		NULL,	OPT_COOLDOWN },
		{ "help",		no_argument,		NULL,	'h' },
		{ "undo",		no_argument,		NULL,	OPT_UNDO },
		{ "version",		no_argument,		NULL,	OPT_VERSION },
		{ NULL,			0,			NULL,	0 }
	};
	struct imagestate is = { "protect", "DeregistrationProtection", plan, after, NULL };
	struct mode mode = { 0, 0 };
	struct awsopt ao;
	int ch, status;

	out_init();
	awsopt_init(&ao);
	while ((ch = getopt_cli(argc, argv, "hP:", longopts)) != -1) {
		switch (ch) {
		case OPT_COOLDOWN:
			mode.cooldown = 1;
			break;
		case 'h':
			usage();
		case OPT_UNDO:
			mode.undo = 1;
			break;
		case OPT_VERSION:
			print_version();
		default:
			if (!awsopt_parse(&ao, ch, optarg))
				usage_error(NULL);
		}
	}
	argv += optind;
	if (mode.cooldown && mode.undo)
		usage_error("--cooldown and --undo: give one or the other (--undo turns off either "
		    "kind of protection)");
	is.arg = &mode;

	status = imagestate_run(&is, &ao, argv);
	ch = out_close();
	intr_resend();
	return status != EXIT_OK ? status : ch;
}
