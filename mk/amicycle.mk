# amicycle.mk: the one fragment a project includes, after setting its variables:
#
#	AMICYCLE_PROJECT = web
#	AMICYCLE_PROMOTE_REGIONS = eu-west-1
#	include /usr/local/share/amicycle/mk/amicycle.mk
#
# It pulls in packer.mk (image-validate, image-build), image-test.mk (image-test), promote.mk
# (image-promote), publish.mk (image-publish), revoke.mk (image-revoke), lifecycle.mk
# (image-cleanup, image-deprecate, image-sweep-snapshots, image-cleanup-matrix) and summary.mk
# (image-summary, which the others end with); each documents its own knobs.
# The knobs shared by all of them:
#
#	AMICYCLE_PROJECT	the value of the Project tag that marks this project's images
#				(default: the directory's name)
#	AMICYCLE_REGIONS	the regions images are built and tested in (default: $AWS_REGION, else
#				$AWS_DEFAULT_REGION, else us-east-1); image-test refuses, before
#				launching anything, a manifest with images in a region not listed here
#	AMICYCLE_DIR		where each stage leaves its JSON-lines records (default: .amicycle);
#				upload it as a CI artifact
#	AMICYCLE_BIN		the directory of the filters, or empty for $PATH (default: empty)
#	AMICYCLE_AUDIT_LOG	the audit log of every call that changes something
#				(default: $(AMICYCLE_DIR)/audit.jsonl)
#	AMICYCLE_AWS_FLAGS	flags every AWS filter gets, e.g. --endpoint-url URL (default: empty)
#
# Switches are given on the command line: ENV=NAME (image-promote's and image-publish's
# environment), FROM=NAME and GIT_SHA=SHA (image-promote finds the image in EC2 by its tags:
# promote.mk), IMAGE=ami-..., GIT_SHA=SHA and REASON=TEXT (what image-revoke revokes, and why:
# revoke.mk) and DRY_RUN=1 (image-cleanup, image-deprecate, image-sweep-snapshots, image-publish and
# image-revoke write their plan and change nothing). V=1 shows every command.
#
# Targets are files under $(AMICYCLE_DIR) where that makes sense, so make skips what is done. Every
# recipe runs in bash with -e and -o pipefail: no failure hides in a pipe. Regions fan out as
# separate targets, so make -j works on them in parallel.

ifndef AMICYCLE_MK
AMICYCLE_MK := $(abspath $(lastword $(MAKEFILE_LIST)))
amicycle_mkdir := $(patsubst %/,%,$(dir $(AMICYCLE_MK)))

AMICYCLE_PROJECT ?= $(notdir $(CURDIR))
AMICYCLE_REGIONS ?= $(or $(AWS_REGION),$(AWS_DEFAULT_REGION),us-east-1)
AMICYCLE_DIR ?= .amicycle
AMICYCLE_BIN ?=
AMICYCLE_AUDIT_LOG ?= $(AMICYCLE_DIR)/audit.jsonl
AMICYCLE_AWS_FLAGS ?=

export AMICYCLE_AUDIT_LOG

# The filters, from AMICYCLE_BIN or $PATH.
amicycle_bin = $(if $(AMICYCLE_BIN),$(AMICYCLE_BIN)/$(1),$(1))
amicycle_ami_from_manifest = $(call amicycle_bin,ami-from-manifest)
amicycle_ec2_describe = $(call amicycle_bin,ec2-describe) $(AMICYCLE_AWS_FLAGS)
amicycle_sort_by_date = $(call amicycle_bin,sort-by-date)
amicycle_keep_last = $(call amicycle_bin,keep-last)
amicycle_tag = $(call amicycle_bin,tag) $(AMICYCLE_AWS_FLAGS)
amicycle_deregister = $(call amicycle_bin,deregister) $(AMICYCLE_AWS_FLAGS)
amicycle_delete_snapshot = $(call amicycle_bin,delete-snapshot) $(AMICYCLE_AWS_FLAGS)
amicycle_copy_image = $(call amicycle_bin,copy-image) $(AMICYCLE_AWS_FLAGS)
amicycle_deprecate = $(call amicycle_bin,deprecate) $(AMICYCLE_AWS_FLAGS)
amicycle_share = $(call amicycle_bin,share) $(AMICYCLE_AWS_FLAGS)
amicycle_ec2_launch = $(call amicycle_bin,ec2-launch) $(AMICYCLE_AWS_FLAGS)
amicycle_ec2_wait = $(call amicycle_bin,ec2-wait) $(AMICYCLE_AWS_FLAGS)
amicycle_ec2_terminate = $(call amicycle_bin,ec2-terminate) $(AMICYCLE_AWS_FLAGS)
amicycle_ssh_probe = $(call amicycle_bin,ssh-probe) $(AMICYCLE_AWS_FLAGS)
amicycle_amicycle_summary = $(call amicycle_bin,amicycle-summary)
amicycle_accounts_matrix = $(call amicycle_bin,accounts-matrix)

# Quiet by default; V=1 shows the commands. amicycle_say prints one line of the account.
ifeq ($(V),1)
amicycle_q :=
else
amicycle_q := @
endif
amicycle_say = printf 'amicycle: %s\n' "$(1)"
, := ,

# A recipe of ours runs in bash, stopping at the first failure, pipes included.
amicycle_targets = image-validate image-build image-test image-promote image-cleanup image-deprecate \
	image-sweep-snapshots image-summary image-cleanup-matrix
$(amicycle_targets): SHELL := /bin/bash
$(amicycle_targets): .SHELLFLAGS := -e -u -o pipefail -c
$(AMICYCLE_DIR)/%: SHELL := /bin/bash
$(AMICYCLE_DIR)/%: .SHELLFLAGS := -e -u -o pipefail -c

.DELETE_ON_ERROR:
.PHONY: image-validate image-build image-test image-promote image-cleanup image-deprecate \
	image-sweep-snapshots image-summary image-cleanup-matrix amicycle-force

$(AMICYCLE_DIR):
	$(amicycle_q)mkdir -p $@

include $(amicycle_mkdir)/packer.mk
include $(amicycle_mkdir)/image-test.mk
include $(amicycle_mkdir)/promote.mk
include $(amicycle_mkdir)/publish.mk
include $(amicycle_mkdir)/revoke.mk
include $(amicycle_mkdir)/lifecycle.mk
include $(amicycle_mkdir)/summary.mk
endif
