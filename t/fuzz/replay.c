/*
 * replay: runs a harness over files without libFuzzer, for make check: each file named on the
 * command line is read whole and passed to LLVMFuzzerTestOneInput once. Built with the project's
 * own compiler and flags (the sanitizers with SANITIZE=1). Prints "NAME: N inputs" and exits 0,
 * or 1 when a file cannot be read; a finding aborts.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static unsigned char *
slurp(const char *path, size_t *lenp)
{
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0, n;
	FILE *fp;

	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	do {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			if ((buf = realloc(buf, cap)) == NULL)
				err(1, "realloc");
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
	} while (n > 0);
	if (ferror(fp)) {
		fclose(fp);
		free(buf);
		return NULL;
	}
	fclose(fp);
	*lenp = len;
	return buf;
}

int
main(int argc, char *argv[])
{
	unsigned char *buf, *exact;
	size_t len;
	int i, status = 0;

	for (i = 1; i < argc; i++) {
		if ((buf = slurp(argv[i], &len)) == NULL) {
			warn("%s", argv[i]);
			status = 1;
			continue;
		}
		/* A copy of exactly len bytes, so that ASan sees a read past the input. */
		if ((exact = malloc(len ? len : 1)) == NULL)
			err(1, "malloc");
		memcpy(exact, buf, len);
		free(buf);
		(void)LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
	printf("%s: %d inputs\n", strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0], argc - 1);
	return status;
}
