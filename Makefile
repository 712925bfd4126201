# amicycle: small C filters for the machine-image lifecycle, and make fragments that chain them.
#
#   make                 build every filter into $(B)/bin
#   make check           install missing Debian packages (deps), build, run the test suite with prove
#   make check SANITIZE=1  the same under AddressSanitizer and UndefinedBehaviorSanitizer (in build-san/)
#   make check VALGRIND=1  the same with every filter run under valgrind (slow; not part of CI)
#   make demo            the whole pipeline against the local EC2 endpoint and a local sshd
#   make install PREFIX=/usr/local DESTDIR=   filters, man pages, mk/ fragments, examples
#   make bench           the benchmarks in bench/ (slow; never part of check; make deps-bench first)
#   make bench-scale     bench/scale.sh alone: cleanups of 50 to 10,000 images at EC2's rate limits
#   make fuzz FUZZ_SECONDS=60  the libFuzzer harnesses in t/fuzz/ (clang; never part of check)
#
# Quiet by default; V=1 shows the full commands.

VERSION	= 0.1.0
PREFIX	?= /usr/local
DESTDIR	?=
BINDIR	= $(PREFIX)/bin
MANDIR	= $(PREFIX)/share/man
MKDIR	= $(PREFIX)/share/amicycle/mk
SHAREDIR = $(PREFIX)/share/amicycle

CC	?= cc
PKG_CONFIG ?= pkg-config
PKGS	= libcurl openssl libssh2 expat inih
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

# CFLAGS and LDFLAGS are the user's (make CFLAGS=-O0 replaces them); what the project requires
# (the language, the warnings, the sanitizers) is in AM_CFLAGS and AM_LDFLAGS, which always apply.
CFLAGS	?= -O2 -g
AM_CFLAGS = -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
AM_CPPFLAGS = -D_GNU_SOURCE -DAMICYCLE_VERSION='"$(VERSION)"' $(PKG_CFLAGS) -MMD -MP
# --as-needed keeps the offline filters from loading libcurl, OpenSSL or libssh2 at all.
AM_LDFLAGS = -Wl,--as-needed
LDLIBS	= -ljq $(PKG_LIBS) -lm

ifeq ($(SANITIZE),1)
B	?= build-san
AM_CFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
AM_LDFLAGS += -fsanitize=address,undefined
# Leaks inside libjq and libssh2 (t/lsan.supp; t/test-lib.sh sets the same for each test).
LSAN_ENV = LSAN_OPTIONS=suppressions='$(CURDIR)/t/lsan.supp':fast_unwind_on_malloc=0:print_suppressions=0
else
B	?= build
endif

ifneq ($(V),1)
Q	= @
QCC	= @printf '  CC      %s\n' $@;
QLD	= @printf '  LD      %s\n' $@;
QAR	= @printf '  AR      %s\n' $@;
endif

# lib/ in layers, lowest first. A layer's files see only the headers of the layers it names
# (LAYER_USES_x), so an include that points up the stack fails to compile; the layers' archives
# are linked highest first, so a call that points up fails to link.
LAYERS	= core json aws ec2 ssh
LAYER_USES_core	= core
LAYER_USES_json	= core json
LAYER_USES_aws	= core aws
LAYER_USES_ec2	= core json aws ec2
LAYER_USES_ssh	= core ssh
layer_inc = $(addprefix -Ilib/,$(LAYER_USES_$(1)))
layer_objs = $(patsubst lib/%.c,$(B)/lib/%.o,$(wildcard lib/$(1)/*.c))
LIBARS	= $(foreach l,$(call reverse,$(LAYERS)),$(B)/lib/lib$(l).a)
reverse	= $(if $(1),$(call reverse,$(wordlist 2,$(words $(1)),$(1))) $(firstword $(1)))
ALL_INC	= $(addprefix -Ilib/,$(LAYERS))

PROGS	= $(patsubst bin/%.c,%,$(wildcard bin/*.c))
UNITS	= $(patsubst t/unit/%.c,%,$(wildcard t/unit/*.c))
BINS	= $(addprefix $(B)/bin/,$(PROGS))
UNITBINS = $(addprefix $(B)/t/,$(UNITS))
SHIMS	= $(patsubst t/preload/%.c,$(B)/t/%.so,$(wildcard t/preload/*.c))
LIBOBJ	= $(patsubst lib/%.c,$(B)/lib/%.o,$(wildcard $(addsuffix /*.c,$(addprefix lib/,$(LAYERS)))))
MAN1	= $(wildcard share/man/man1/*.1)
MAN7	= $(wildcard share/man/man7/*.7)
MKFRAG	= $(wildcard mk/*.mk)
TESTS	?= $(sort $(wildcard t/t[0-9]*.sh))
PROVE	?= prove
PROVE_FLAGS ?= -j2

.PHONY: all check test deps deps-build deps-demo deps-bench demo install uninstall bench bench-scale clean
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BINS) $(UNITBINS) $(SHIMS)

# lib/LAYER/NAME.c: the layer is the first part of the stem.
$(B)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(QCC)$(CC) $(AM_CPPFLAGS) $(call layer_inc,$(firstword $(subst /, ,$*))) $(CPPFLAGS) \
	    $(CFLAGS) $(AM_CFLAGS) -c -o $@ $<

$(B)/bin/%.o: bin/%.c
	@mkdir -p $(@D)
	$(QCC)$(CC) $(AM_CPPFLAGS) $(ALL_INC) $(CPPFLAGS) $(CFLAGS) $(AM_CFLAGS) -c -o $@ $<

$(B)/t/%.o: t/unit/%.c
	@mkdir -p $(@D)
	$(QCC)$(CC) $(AM_CPPFLAGS) $(ALL_INC) -It/unit $(CPPFLAGS) $(CFLAGS) $(AM_CFLAGS) -c -o $@ $<

.SECONDEXPANSION:
$(B)/lib/lib%.a: $$(call layer_objs,$$*)
	$(QAR)rm -f $@ && $(AR) rcs $@ $^

$(B)/bin/%: $(B)/bin/%.o $(LIBARS)
	$(QLD)$(CC) $(CFLAGS) $(AM_CFLAGS) $(LDFLAGS) $(AM_LDFLAGS) -o $@ $< $(LIBARS) $(LDLIBS)

$(B)/t/%: $(B)/t/%.o $(LIBARS)
	$(QLD)$(CC) $(CFLAGS) $(AM_CFLAGS) $(LDFLAGS) $(AM_LDFLAGS) -o $@ $< $(LIBARS) $(LDLIBS)

# t/preload/NAME.c: LD_PRELOAD shims a test puts between a filter and its libraries. Never
# sanitized (AM_CFLAGS is left out): they load ahead of the sanitizers' runtime.
$(B)/t/%.so: t/preload/%.c
	@mkdir -p $(@D)
	$(QLD)$(CC) $(AM_CPPFLAGS) $(CPPFLAGS) $(CFLAGS) -std=c11 -Wall -Wextra -Werror -fPIC -shared \
	    $(LDFLAGS) -o $@ $< -ldl

-include $(LIBOBJ:.o=.d) $(BINS:=.d) $(UNITBINS:=.d) $(SHIMS:.so=.d)

# deps: the packages the build and the tests need; deps-build: only what building and using the
# filters needs (what a CI job that installs amicycle wants); demo's and bench's: what make demo
# and make bench need (bench takes the AWS CLI where the archive has it, as the tests do). As root
# they install the missing ones with apt-get, waiting up to 10 minutes for the dpkg lock (a fresh
# machine's unattended-upgrades holds it); otherwise they print the apt-get command to run and stop.
# Debian 12, Ubuntu 22.04 and Ubuntu 24.04 have every package below under these names, except the
# optional test tools: packer where the archive has it, and the AWS CLI v2 on Debian only (Ubuntu
# 22.04's awscli is v1, 24.04 has none). Missing, they are named, and the tests that need them skip.
OS_ID	:= $(shell . /etc/os-release 2>/dev/null && echo "$$ID")
BUILD_DEPS = gcc make pkg-config libc6-dev libjq-dev libcurl4-openssl-dev libssl-dev libssh2-1-dev \
	libexpat1-dev libinih-dev jq ca-certificates
TEST_DEPS = perl curl procps python3 python3-botocore python3-yaml python3-markdown openssh-server openssh-client time valgrind
TEST_OPTIONAL = packer $(if $(filter debian,$(OS_ID)),awscli)
DEMO_DEPS = curl python3 python3-botocore openssh-server openssh-client
# make bench's tools (bench/startup.sh times with hyperfine); never needed by check.
BENCH_DEPS = time hyperfine
APT_GET	= DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600
# $(call deps_install,REQUIRED,OPTIONAL)
deps_missing = $$(for p in $(1); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done | tr '\n' ' ')
deps_install = missing=$(call deps_missing,$(1)); optional=$(call deps_missing,$(2)); \
	if [ -n "$$missing$$optional" ] && [ "$$(id -u)" = 0 ]; then \
	  $(APT_GET) update -qq || exit 1; \
	  for p in $$optional; do \
	    if apt-cache show --no-all-versions $$p >/dev/null 2>&1; then missing="$$missing$$p "; \
	    else echo "deps: $$p is not in this release's archive; the tests that need it skip" >&2; fi; \
	  done; \
	  if [ -n "$$missing" ]; then \
	    echo "deps: installing $$missing"; \
	    $(APT_GET) install -y -qq --no-install-recommends $$missing; \
	  fi; \
	elif [ -n "$$missing" ]; then \
	  echo "deps: missing packages; run: sudo apt-get install $$missing" >&2; exit 1; \
	elif [ -n "$$optional" ]; then \
	  echo "deps: optional test tools not installed: $$optional(the tests that need them skip)" >&2; \
	fi
deps:
	$(Q)$(call deps_install,$(BUILD_DEPS) $(TEST_DEPS),$(TEST_OPTIONAL))
deps-build:
	$(Q)$(call deps_install,$(BUILD_DEPS))
deps-demo:
	$(Q)$(call deps_install,$(BUILD_DEPS) $(DEMO_DEPS))
deps-bench:
	$(Q)$(call deps_install,$(BUILD_DEPS) $(BENCH_DEPS),$(filter awscli,$(TEST_OPTIONAL)))

check test:
	$(Q)$(MAKE) --no-print-directory deps
	$(Q)$(MAKE) --no-print-directory all fuzz-replay
	$(Q)AMICYCLE_BUILD='$(CURDIR)/$(B)' AMICYCLE_SHARED='$(abspath $(SHARED))' $(LSAN_ENV) \
	  $(if $(VALGRIND),AMICYCLE_VALGRIND=1) \
	  $(PROVE) $(PROVE_FLAGS) --exec /bin/bash $(TESTS)

# make fuzz, make fuzz-replay (which check runs through t/t0150): the libFuzzer harnesses,
# linked with the layers' archives.
FUZZ_LIBS = $(patsubst $(B)/%,%,$(LIBARS))
include t/fuzz/fuzz.mk

# The reference data the tests read (SigV4 suite, trimmed service models, protocol tests, Packer
# manifests; t/data/NOTICE says where each comes from). SHARED=DIR reads the same layout from DIR.
SHARED	?= t/data

demo:
	$(Q)$(MAKE) --no-print-directory deps-demo
	$(Q)$(MAKE) --no-print-directory all
	$(Q)AMICYCLE_BUILD='$(CURDIR)/$(B)' share/demo/run

# bench/gen-images: EC2-image records for the benchmarks' inputs and seeds (not installed).
$(B)/bench/gen-images: bench/gen-images.c
	@mkdir -p $(@D)
	$(QLD)$(CC) -D_GNU_SOURCE $(CFLAGS) $(AM_CFLAGS) $(LDFLAGS) -o $@ $<

BENCHES	= $(filter-out bench/lib-%,$(wildcard bench/*.sh))
bench: all $(B)/bench/gen-images
	$(Q)for s in $(BENCHES); do AMICYCLE_BUILD='$(CURDIR)/$(B)' /bin/bash $$s || exit 1; done

# bench/scale.sh alone; BENCH_FLAGS=--quick for a smaller run, --cli-full for the AWS CLI at full size.
bench-scale: all $(B)/bench/gen-images
	$(Q)AMICYCLE_BUILD='$(CURDIR)/$(B)' /bin/bash bench/scale.sh $(BENCH_FLAGS)

install: $(BINS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(MKDIR)
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)
	$(if $(MAN1),install -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1)
	$(if $(MAN7),install -m 644 $(MAN7) $(DESTDIR)$(MANDIR)/man7)
	$(if $(MKFRAG),install -m 644 $(MKFRAG) $(DESTDIR)$(MKDIR))
	install -d $(DESTDIR)$(SHAREDIR)/examples/packer
	install -m 644 share/examples/Makefile share/examples/*.yml share/examples/*.jsonl \
		$(DESTDIR)$(SHAREDIR)/examples
	install -m 644 share/examples/packer/*.hcl $(DESTDIR)$(SHAREDIR)/examples/packer

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(PROGS))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN1)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man7/,$(notdir $(MAN7)))
	rm -rf $(DESTDIR)$(SHAREDIR)

clean:
	rm -rf build build-san
