/* fuzz.h: what each harness in t/fuzz defines (libFuzzer's entry point, which replay.c also calls). */
#ifndef AMICYCLE_FUZZ_H
#define AMICYCLE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Runs one input. Returns 0; a finding aborts (FUZZ_ASSERT) or is caught by a sanitizer. */
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant: "fuzz: FILE:LINE: what", then abort() so that libFuzzer keeps the input. */
#define FUZZ_ASSERT(cond, ...) do {						\
	if (!(cond)) {								\
		fprintf(stderr, "fuzz: %s:%d: ", __FILE__, __LINE__);		\
		fprintf(stderr, __VA_ARGS__);					\
		fputc('\n', stderr);						\
		abort();							\
	}									\
} while (0)

#endif
