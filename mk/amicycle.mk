# amicycle.mk: the one fragment a project includes, after setting its variables:
#
#	AMICYCLE_PROJECT = web
#	AMICYCLE_PROMOTE_REGIONS = eu-west-1
#	include /usr/local/share/amicycle/mk/amicycle.mk
#
# It pulls in packer.mk (image-validate, image-build), image-test.mk (image-test), promote.mk
# (image-promote) and lifecycle.mk (image-cleanup, image-deprecate); each documents its own knobs.
# The knobs shared by all of them:
#
#	AMICYCLE_PROJECT	the value of the Project tag that marks this project's images
#				(default: the directory's name)
#	AMICYCLE_REGIONS	the regions images are built and tested in (default: $AWS_REGION, else
#				$AWS_DEFAULT_REGION, else us-east-1)
#	AMICYCLE_DIR		where each stage leaves its JSON-lines records (default: .amicycle);
#				upload it as a CI artifact
#	AMICYCLE_BIN		the directory of the filters, or empty for $PATH (default: empty)
#	AMICYCLE_AUDIT_LOG	the audit log of every call that changes something
#				(default: $(AMICYCLE_DIR)/audit.jsonl)
#	AMICYCLE_AWS_FLAGS	flags every AWS filter gets, e.g. --endpoint-url URL (default: empty)
#
# Two switches are given on the command line: ENV=NAME (image-promote's environment) and DRY_RUN=1
# (image-cleanup and image-deprecate write their plan and change nothing). V=1 shows every command.
#
# Targets are files under $(AMICYCLE_DIR) where that makes sense, so make skips what is done. Every
# recipe runs in bash with -e and -o pipefail: no failure hides in a pipe. Regions fan out as
# separate targets, so make -j works on them in parallel.

ifndef AMICYCLE_MK
AMICYCLE_MK := $(abspath $(lastword $(MAKEFILE_LIST)))
AMICYCLE_MKDIR := $(patsubst %/,%,$(dir $(AMICYCLE_MK)))

AMICYCLE_PROJECT ?= $(notdir $(CURDIR))
AMICYCLE_REGIONS ?= $(or $(AWS_REGION),$(AWS_DEFAULT_REGION),us-east-1)
AMICYCLE_DIR ?= .amicycle
AMICYCLE_BIN ?=
AMICYCLE_AUDIT_LOG ?= $(AMICYCLE_DIR)/audit.jsonl
AMICYCLE_AWS_FLAGS ?=

export AMICYCLE_AUDIT_LOG

# The filters, from AMICYCLE_BIN or $PATH.
amicycle_bin = $(if $(AMICYCLE_BIN),$(AMICYCLE_BIN)/$(1),$(1))
AMI_FROM_MANIFEST = $(call amicycle_bin,ami-from-manifest)
EC2_DESCRIBE = $(call amicycle_bin,ec2-describe) $(AMICYCLE_AWS_FLAGS)
SORT_BY_DATE = $(call amicycle_bin,sort-by-date)
KEEP_LAST = $(call amicycle_bin,keep-last)
TAG = $(call amicycle_bin,tag) $(AMICYCLE_AWS_FLAGS)
DEREGISTER = $(call amicycle_bin,deregister) $(AMICYCLE_AWS_FLAGS)
COPY_IMAGE = $(call amicycle_bin,copy-image) $(AMICYCLE_AWS_FLAGS)
DEPRECATE = $(call amicycle_bin,deprecate) $(AMICYCLE_AWS_FLAGS)
EC2_LAUNCH = $(call amicycle_bin,ec2-launch) $(AMICYCLE_AWS_FLAGS)
EC2_WAIT = $(call amicycle_bin,ec2-wait) $(AMICYCLE_AWS_FLAGS)
EC2_TERMINATE = $(call amicycle_bin,ec2-terminate) $(AMICYCLE_AWS_FLAGS)
SSH_PROBE = $(call amicycle_bin,ssh-probe) $(AMICYCLE_AWS_FLAGS)

# Quiet by default; V=1 shows the commands. amicycle_say prints one line of the account.
ifeq ($(V),1)
amicycle_q :=
else
amicycle_q := @
endif
amicycle_say = printf 'amicycle: %s\n' "$(1)"

# A recipe of ours runs in bash, stopping at the first failure, pipes included.
amicycle_targets = image-validate image-build image-test image-promote image-cleanup image-deprecate
$(amicycle_targets): SHELL := /bin/bash
$(amicycle_targets): .SHELLFLAGS := -e -u -o pipefail -c
$(AMICYCLE_DIR)/%: SHELL := /bin/bash
$(AMICYCLE_DIR)/%: .SHELLFLAGS := -e -u -o pipefail -c

.DELETE_ON_ERROR:
.PHONY: image-validate image-build image-test image-promote image-cleanup image-deprecate amicycle-force

$(AMICYCLE_DIR):
	$(amicycle_q)mkdir -p $@

include $(AMICYCLE_MKDIR)/packer.mk
include $(AMICYCLE_MKDIR)/image-test.mk
include $(AMICYCLE_MKDIR)/promote.mk
include $(AMICYCLE_MKDIR)/lifecycle.mk
endif
