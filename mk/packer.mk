# packer.mk: validate and build the project's Packer templates (included by amicycle.mk).
#
#	image-validate	packer init (when this Packer has it), packer validate, packer fmt -check
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

amicycle_packer_vars = -var 'version=$(AMICYCLE_VERSION)' -var 'git_sha=$(AMICYCLE_GIT_SHA)' \
	-var 'build_number=$(AMICYCLE_BUILD_NUMBER)' -var 'build_url=$(AMICYCLE_BUILD_URL)'

image-validate:
	$(amicycle_q)$(call amicycle_say,image-validate: $(PACKER_DIR))
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
