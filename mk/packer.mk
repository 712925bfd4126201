# packer.mk: validate and build the project's Packer templates (included by amicycle.mk).
#
#	image-validate	checks this Packer is recent enough for the templates, then packer init
#			(when this Packer has it), packer validate, packer fmt -check
#	image-build	packer build, with the build's metadata as variables, writing the manifest
#
# Knobs:
#	PACKER			the packer command (default: packer)
#	PACKER_DIR		the directory of the HCL2 templates (default: packer)
#	AMICYCLE_MANIFEST	the manifest the template's manifest post-processor writes
#				(default: manifest.json)
#	AMICYCLE_VERSION	-var version= (default: git describe --tags --always, else "dev")
#	AMICYCLE_GIT_SHA	-var git_sha= (default: git rev-parse HEAD)
#	AMICYCLE_BUILD_NUMBER	-var build_number= (default: GitHub's GITHUB_RUN_NUMBER or GitLab's
#				CI_PIPELINE_IID; empty locally)
#	AMICYCLE_BUILD_URL	-var build_url= (default: the GitHub Actions run or the GitLab job;
#				empty locally)
#	AMICYCLE_PACKER_FLAGS	more flags for packer validate and build (default: empty)
#	AMICYCLE_PACKER_MIN_VERSION  the oldest Packer the templates work with (default: the
#				templates' required_version = ">= X", else 1.7.0 when they use
#				required_plugins, else no check)
#
# The templates must declare the four variables (version, git_sha, build_number, build_url); the
# example in share/examples/packer records them as tags and in the manifest's custom_data.

ifndef AMICYCLE_PACKER_MK
AMICYCLE_PACKER_MK := 1

PACKER ?= packer
PACKER_DIR ?= packer
AMICYCLE_MANIFEST ?= manifest.json
AMICYCLE_VERSION ?= $(or $(shell git describe --tags --always 2>/dev/null),dev)
AMICYCLE_GIT_SHA ?= $(shell git rev-parse HEAD 2>/dev/null)
AMICYCLE_BUILD_NUMBER ?= $(or $(GITHUB_RUN_NUMBER),$(CI_PIPELINE_IID))
AMICYCLE_BUILD_URL ?= $(if $(GITHUB_RUN_ID),$(GITHUB_SERVER_URL)/$(GITHUB_REPOSITORY)/actions/runs/$(GITHUB_RUN_ID),$(CI_JOB_URL))
AMICYCLE_PACKER_FLAGS ?=
AMICYCLE_PACKER_MIN_VERSION ?=

amicycle_packer_vars = -var 'version=$(AMICYCLE_VERSION)' -var 'git_sha=$(AMICYCLE_GIT_SHA)' \
	-var 'build_number=$(AMICYCLE_BUILD_NUMBER)' -var 'build_url=$(AMICYCLE_BUILD_URL)'

# Packer 1.7 brought required_plugins and packer init; older ones (Debian 12 ships 1.6.6) fail on
# such a template with an error about an unsupported block, so say what is wrong first, in one line.
amicycle_packer_need = $(or $(AMICYCLE_PACKER_MIN_VERSION),$(shell \
	sed -n 's/^[[:space:]]*required_version[[:space:]]*=[[:space:]]*">=[[:space:]]*\([0-9][0-9.]*\)".*/\1/p' \
	$(wildcard $(PACKER_DIR)/*.pkr.hcl) /dev/null | sort -V | tail -n 1),$(if $(shell \
	grep -ls '^[[:space:]]*required_plugins' $(wildcard $(PACKER_DIR)/*.pkr.hcl) /dev/null),1.7.0))

image-validate:
	$(amicycle_q)$(call amicycle_say,image-validate: $(PACKER_DIR))
	$(amicycle_q)need='$(amicycle_packer_need)'; \
	have=$$($(PACKER) version 2>/dev/null | sed -n '1s/^Packer v\([0-9][0-9.]*\).*/\1/p'); \
	if [ -n "$$need" ] && [ -n "$$have" ] && ! printf '%s\n' "$$need" "$$have" | sort -V -C; then \
		$(call amicycle_say,image-validate: $(PACKER_DIR) needs Packer $$need or later; $(PACKER) version is $$have) >&2; \
		exit 1; \
	fi
	$(amicycle_q)if $(PACKER) init -help >/dev/null 2>&1; then $(PACKER) init $(PACKER_DIR); fi
	$(amicycle_q)$(PACKER) validate $(amicycle_packer_vars) $(AMICYCLE_PACKER_FLAGS) $(PACKER_DIR)
	$(amicycle_q)$(PACKER) fmt -check $(PACKER_DIR) || \
		{ $(call amicycle_say,image-validate: run '$(PACKER) fmt $(PACKER_DIR)'); exit 1; }

image-build:
	$(amicycle_q)$(call amicycle_say,image-build: version $(AMICYCLE_VERSION)$(if $(AMICYCLE_GIT_SHA), at $(AMICYCLE_GIT_SHA)))
	$(amicycle_q)$(PACKER) build $(amicycle_packer_vars) $(AMICYCLE_PACKER_FLAGS) $(PACKER_DIR)
	$(amicycle_q)test -s $(AMICYCLE_MANIFEST) || \
		{ $(call amicycle_say,image-build: no manifest at $(AMICYCLE_MANIFEST)); exit 1; }
endif
