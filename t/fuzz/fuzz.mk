# fuzz.mk: libFuzzer harnesses for amicycle's parsers (t/fuzz/NAME.c), and their corpora replayed
# as a regression test. The top-level Makefile includes it after its build rules.
#
#   make fuzz-replay    each harness built with the project's compiler and flags (the sanitizers
#                       with SANITIZE=1) and t/fuzz/replay.c, as $(B)/fuzz/NAME; make check
#                       builds them and t/t0150-fuzz-replay.sh runs each over t/fuzz/corpus/NAME/
#   make fuzz           each harness built with clang's libFuzzer (and ASan, UBSan) in
#                       $(FUZZ_B)/, run for FUZZ_SECONDS from its corpus and dictionary
#                       (t/fuzz/NAME.dict); new inputs are merged into t/fuzz/corpus/NAME/, and
#                       crashes kept in $(FUZZ_B)/findings/. Never part of check.
#   make fuzz-deps      installs FUZZ_DEPS (as root; else prints the apt-get command)
#
# Knobs (set before the include, or on the command line):
#   FUZZ_SECONDS        seconds each harness runs under make fuzz (default: 60)
#   FUZZ_CC             a compiler with -fsanitize=fuzzer (default: clang-14)
#   FUZZ_B              the libFuzzer build directory (default: build-fuzz)
#   FUZZ_LIBS           the project's archives, in link order, as paths under a build directory;
#                       the top-level Makefile's rules build them as $(B)/ARCHIVE (default:
#                       libamicycle.a)
#   FUZZ_CPPFLAGS       include paths for the harnesses beside CPPFLAGS (default: -Ilib and
#                       every lib/*/ folder, so that a harness reaches every layer)
#   FUZZ_SANITIZE       the sanitizers of the libFuzzer build (default: address,undefined)
#   FUZZ_ARGS           more libFuzzer options for make fuzz (default: none)

ifndef AMICYCLE_FUZZ_MK
AMICYCLE_FUZZ_MK = 1

FUZZ_SECONDS	?= 60
FUZZ_CC		?= clang-14
FUZZ_B		?= build-fuzz
FUZZ_LIBS	?= libamicycle.a
FUZZ_CPPFLAGS	?= -Ilib $(patsubst %/,-I%,$(wildcard lib/*/))
FUZZ_SANITIZE	?= address,undefined
FUZZ_ARGS	?=
FUZZ_DEPS	= clang-14 libclang-rt-14-dev

FUZZ_NAMES	= $(filter-out replay,$(patsubst t/fuzz/%.c,%,$(wildcard t/fuzz/*.c)))
FUZZ_HDRS	= $(wildcard lib/*.h lib/*/*.h) t/fuzz/fuzz.h
FUZZ_REPLAY	= $(addprefix $(B)/fuzz/,$(FUZZ_NAMES))
FUZZ_BINS	= $(addprefix $(FUZZ_B)/fuzz/,$(FUZZ_NAMES))
# Coverage for libFuzzer in the project's objects too; the harness links the fuzzer's main.
FUZZ_CFLAGS	= -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,$(FUZZ_SANITIZE) \
		  -fno-sanitize-recover=all

.PHONY: fuzz fuzz-build fuzz-replay fuzz-deps fuzz-clean fuzz-force
.DELETE_ON_ERROR:

fuzz-replay: $(FUZZ_REPLAY)

$(B)/fuzz/%.o: t/fuzz/%.c $(FUZZ_HDRS) | $(B)/fuzz
	$(QCC)$(CC) $(AM_CPPFLAGS) $(FUZZ_CPPFLAGS) -It/fuzz $(CPPFLAGS) $(CFLAGS) $(AM_CFLAGS) -c -o $@ $<

$(B)/fuzz/%: $(B)/fuzz/%.o $(B)/fuzz/replay.o $(addprefix $(B)/,$(FUZZ_LIBS))
	$(QLD)$(CC) $(CFLAGS) $(AM_CFLAGS) $(LDFLAGS) $(AM_LDFLAGS) -o $@ $< $(B)/fuzz/replay.o \
	    $(addprefix $(B)/,$(FUZZ_LIBS)) $(LDLIBS)

# The project's archives built again by its own rules, with clang and the coverage flags (in
# that make, B is FUZZ_B and its rules build them).
ifneq ($(B),$(FUZZ_B))
$(addprefix $(FUZZ_B)/,$(FUZZ_LIBS)): fuzz-force
	$(Q)CFLAGS='$(FUZZ_CFLAGS)' $(MAKE) --no-print-directory B='$(FUZZ_B)' CC='$(FUZZ_CC)' \
	  SANITIZE= $@
endif

$(FUZZ_B)/fuzz/%.o: t/fuzz/%.c $(FUZZ_HDRS) | $(FUZZ_B)/fuzz
	$(QCC)$(FUZZ_CC) $(AM_CPPFLAGS) $(FUZZ_CPPFLAGS) -It/fuzz $(CPPFLAGS) -std=c11 -Wall -Wextra -Werror \
	  $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_B)/fuzz/%: $(FUZZ_B)/fuzz/%.o $(addprefix $(FUZZ_B)/,$(FUZZ_LIBS))
	$(QLD)$(FUZZ_CC) -fsanitize=fuzzer,$(FUZZ_SANITIZE) -o $@ $< \
	  $(addprefix $(FUZZ_B)/,$(FUZZ_LIBS)) $(LDLIBS)

$(sort $(B)/fuzz $(FUZZ_B)/fuzz):
	$(Q)mkdir -p $@

fuzz:
	$(Q)$(MAKE) --no-print-directory fuzz-deps
	$(Q)$(MAKE) --no-print-directory fuzz-build
	$(Q)status=0; for n in $(FUZZ_NAMES); do \
	  /bin/bash t/fuzz/run.sh "$$n" '$(FUZZ_B)' '$(FUZZ_SECONDS)' $(FUZZ_ARGS) || status=1; \
	done; exit $$status

fuzz-build: $(FUZZ_BINS)

fuzz-deps:
	$(Q)$(call deps_install,$(FUZZ_DEPS))

fuzz-clean:
	rm -rf $(FUZZ_B)

clean: fuzz-clean

fuzz-force:

endif
