# lifecycle.mk: retire the project's old images, region by region (included by amicycle.mk).
#
#	image-cleanup	ec2-describe the project's images -> sort-by-date -> keep-last -> deregister,
#			per region: $(AMICYCLE_DIR)/cleanup-REGION.jsonl records what was deregistered.
#			Images tagged Revoked=true (make image-revoke, revoke.mk) are retirable:
#			they do not count among the newest AMICYCLE_KEEP, so a revoked image never
#			keeps a good one from being kept; AMICYCLE_MIN_AGE, the protect tags, the
#			in-use checks and AMICYCLE_MAX_DEREGISTER hold for them as for any other
#	image-deprecate	deprecates the images older than AMICYCLE_DEPRECATE_AFTER (but the newest
#			AMICYCLE_DEPRECATE_KEEP) that are not deprecated yet:
#			$(AMICYCLE_DIR)/deprecate-REGION.jsonl
#	image-sweep-snapshots	deletes the account's snapshots older than AMICYCLE_SWEEP_MIN_AGE that
#			were made for an image that no longer exists (those of images deregistered
#			with AMICYCLE_KEEP_SNAPSHOTS, by hand, or whose DeleteSnapshot failed), per
#			region: $(AMICYCLE_DIR)/sweep-REGION.jsonl. It runs the sweep of
#			delete-snapshot(1):
#			ec2-describe snapshots --owner self | sort-by-date -k .StartTime |
#			keep-last -k .StartTime -n 0 --allow-zero --min-age 7d | delete-snapshot --orphans
#	image-cleanup-matrix	prints the CI matrix of a cleanup across accounts: a job per account
#			and region of AMICYCLE_ACCOUNTS (accounts-matrix(1)), as GitHub's
#			strategy.matrix (JSON on one line) or GitLab's parallel:matrix (YAML); each
#			job runs image-cleanup in its region with its account's role
#			(share/examples/github-workflow.yml and gitlab-ci.yml). It prints nothing
#			else, so `matrix=$(make image-cleanup-matrix)` captures it. A bad line is
#			accounts-matrix's exit 3 naming FILE:LINE, and nothing is printed.
#
# With DRY_RUN=1 they write the plan (EC2's DryRun checks permissions for real) and change nothing.
# deregister refuses images still in use (instances, launch templates, Auto Scaling, launch
# configurations, SSM parameters, sharing: deregister(1)), protected by a tag or by deregistration
# protection, and more than AMICYCLE_MAX_DEREGISTER at once. Each region is its own
# target, so make -j cleans regions in parallel.
#
# Knobs:
#	AMICYCLE_KEEP		the newest images to keep in each group (default: 5)
#	AMICYCLE_KEEP_GROUP	a jq expression grouping images, newest N kept per group
#				(default: empty: one group per region)
#	AMICYCLE_MIN_AGE	images younger than this are always kept (default: 1d)
#	AMICYCLE_PROTECT_TAGS	tags that protect an image, KEY or KEY=VALUE (default:
#				Environment=production)
#	AMICYCLE_MAX_DEREGISTER	the most images one run may deregister (default: 50)
#	AMICYCLE_KEEP_SNAPSHOTS	1 to keep the snapshots of deregistered images (default: empty)
#	AMICYCLE_LT_VERSIONS	the launch template versions that count as use: default or all
#				(default: default)
#	AMICYCLE_ALLOW_SHARED	1 to retire images shared with other accounts too (default: empty)
#	AMICYCLE_PROTECT_LAUNCHED_WITHIN	keep images launched within this (default: empty: none)
#	AMICYCLE_CLEANUP_REGIONS	the regions to clean (default: AMICYCLE_REGIONS and
#				AMICYCLE_PROMOTE_REGIONS)
#	AMICYCLE_DEPRECATE_AFTER	deprecate images older than this (default: 90d)
#	AMICYCLE_DEPRECATE_KEEP	the newest images never deprecated (default: 1)
#	AMICYCLE_SWEEP_MIN_AGE	snapshots younger than this are never swept (default: 7d)
#	AMICYCLE_MAX_DELETE_SNAPSHOTS	the most snapshots one sweep may delete in a region
#				(default: 50)
#	AMICYCLE_ACCOUNTS	the accounts file image-cleanup-matrix reads: a line
#				{"Account","Role","Regions","Environment"} per account
#				(default: accounts.jsonl)
#	AMICYCLE_MATRIX		the matrix it prints: github or gitlab (default: github)
#	JQ			the jq command image-cleanup, image-deprecate and image-test use
#				(default: jq)

ifndef AMICYCLE_LIFECYCLE_MK
AMICYCLE_LIFECYCLE_MK := 1

AMICYCLE_KEEP ?= 5
AMICYCLE_KEEP_GROUP ?=
AMICYCLE_MIN_AGE ?= 1d
AMICYCLE_PROTECT_TAGS ?= Environment=production
AMICYCLE_MAX_DEREGISTER ?= 50
AMICYCLE_KEEP_SNAPSHOTS ?=
AMICYCLE_LT_VERSIONS ?= default
AMICYCLE_ALLOW_SHARED ?=
AMICYCLE_PROTECT_LAUNCHED_WITHIN ?=
AMICYCLE_CLEANUP_REGIONS ?= $(sort $(AMICYCLE_REGIONS) $(AMICYCLE_PROMOTE_REGIONS))
AMICYCLE_DEPRECATE_AFTER ?= 90d
AMICYCLE_DEPRECATE_KEEP ?= 1
AMICYCLE_SWEEP_MIN_AGE ?= 7d
AMICYCLE_MAX_DELETE_SNAPSHOTS ?= 50
AMICYCLE_ACCOUNTS ?= accounts.jsonl
AMICYCLE_MATRIX ?= github
JQ ?= jq
DRY_RUN ?=

amicycle_dry = $(if $(DRY_RUN),--dry-run)
amicycle_mode = $(if $(DRY_RUN),plan (DRY_RUN: nothing changed),done)

# Files a recipe line writes besides its target, which .DELETE_ON_ERROR does not remove: the line
# removes them itself when it fails.
amicycle_rm_on_error = trap 'rc=$$?; [ $$rc = 0 ] || rm -f $(1)' EXIT

# A jq condition: the image is tagged Revoked=true (by image-revoke).
amicycle_revoked = any(.Tags[]?; .Key == "Revoked" and .Value == "true")

# The project's images in region $(1), oldest first, into $(2); $(2).all is gone however it ends.
amicycle_list = trap 'rc=$$?; rm -f $(2).all; [ $$rc = 0 ] || rm -f $(2)' EXIT; \
	$(amicycle_ec2_describe) images --region $(1) --owner self \
	--filter 'Name=tag:Project,Values=$(AMICYCLE_PROJECT)' >$(2).all; \
	$(amicycle_sort_by_date) $(2).all >$(2)

# Each ends with the summary (image-summary, summary.mk), once for all regions; a region's failed
# deregister or deprecate writes it at once.
image-cleanup: $(foreach r,$(AMICYCLE_CLEANUP_REGIONS),$(AMICYCLE_DIR)/cleanup-$(r).jsonl)
	$(amicycle_q)$(amicycle_summary)
image-deprecate: $(foreach r,$(AMICYCLE_CLEANUP_REGIONS),$(AMICYCLE_DIR)/deprecate-$(r).jsonl)
	$(amicycle_q)$(amicycle_summary)
image-sweep-snapshots: $(foreach r,$(AMICYCLE_CLEANUP_REGIONS),$(AMICYCLE_DIR)/sweep-$(r).jsonl)
	$(amicycle_q)$(amicycle_summary)

$(AMICYCLE_DIR)/cleanup-%.jsonl: amicycle-force | $(AMICYCLE_DIR)
	$(amicycle_q)$(call amicycle_list,$*,$(AMICYCLE_DIR)/images-$*.jsonl)
	$(amicycle_q)$(call amicycle_rm_on_error,$(AMICYCLE_DIR)/retire-$*.jsonl); \
	{ $(JQ) -c 'select($(amicycle_revoked) | not)' $(AMICYCLE_DIR)/images-$*.jsonl \
	  | $(amicycle_keep_last) -n '$(AMICYCLE_KEEP)' --min-age '$(AMICYCLE_MIN_AGE)' \
		$(if $(AMICYCLE_KEEP_GROUP),-g '$(AMICYCLE_KEEP_GROUP)'); \
	  $(JQ) -c 'select($(amicycle_revoked))' $(AMICYCLE_DIR)/images-$*.jsonl \
	  | $(amicycle_keep_last) -n 0 --allow-zero --min-age '$(AMICYCLE_MIN_AGE)'; } \
	| $(amicycle_sort_by_date) >$(AMICYCLE_DIR)/retire-$*.jsonl
	$(amicycle_q)$(call amicycle_say,image-cleanup: $*: $$(wc -l <$(AMICYCLE_DIR)/images-$*.jsonl) image(s) of $(AMICYCLE_PROJECT)$(,) $$(wc -l <$(AMICYCLE_DIR)/retire-$*.jsonl) past the newest $(AMICYCLE_KEEP) or revoked)
	$(amicycle_q)$(amicycle_deregister) $(amicycle_dry) --region $* --max '$(AMICYCLE_MAX_DEREGISTER)' \
		$(foreach t,$(AMICYCLE_PROTECT_TAGS),--protect-tag '$(t)') \
		$(if $(AMICYCLE_KEEP_SNAPSHOTS),--keep-snapshots) \
		--launch-template-versions '$(AMICYCLE_LT_VERSIONS)' $(if $(AMICYCLE_ALLOW_SHARED),--allow-shared) \
		$(if $(AMICYCLE_PROTECT_LAUNCHED_WITHIN),--protect-launched-within '$(AMICYCLE_PROTECT_LAUNCHED_WITHIN)') \
		<$(AMICYCLE_DIR)/retire-$*.jsonl >$@ $(amicycle_or_summary)
	$(amicycle_q)$(call amicycle_say,image-cleanup: $*: $(amicycle_mode): $$(grep -c '"Status":"done"' $@ || :) deregistered$(,) $$(grep -c '"Status":"dry-run"' $@ || :) planned$(,) $$(grep -c '"Status":"skipped"' $@ || :) skipped)

$(AMICYCLE_DIR)/deprecate-%.jsonl: amicycle-force | $(AMICYCLE_DIR)
	$(amicycle_q)$(call amicycle_list,$*,$(AMICYCLE_DIR)/images-$*.jsonl)
	$(amicycle_q)$(call amicycle_rm_on_error,$(AMICYCLE_DIR)/old-$*.jsonl); \
	$(amicycle_keep_last) -n '$(AMICYCLE_DEPRECATE_KEEP)' --min-age '$(AMICYCLE_DEPRECATE_AFTER)' \
		$(AMICYCLE_DIR)/images-$*.jsonl \
		| $(JQ) -c 'select(.DeprecationTime == null)' >$(AMICYCLE_DIR)/old-$*.jsonl
	$(amicycle_q)$(amicycle_deprecate) $(amicycle_dry) --region $* --in 1m <$(AMICYCLE_DIR)/old-$*.jsonl >$@ \
		$(amicycle_or_summary)
	$(amicycle_q)$(call amicycle_say,image-deprecate: $*: $(amicycle_mode): $$(wc -l <$@) image(s) older than $(AMICYCLE_DEPRECATE_AFTER))

$(AMICYCLE_DIR)/sweep-%.jsonl: amicycle-force | $(AMICYCLE_DIR)
	$(amicycle_q)$(call amicycle_rm_on_error,$(AMICYCLE_DIR)/old-snapshots-$*.jsonl); \
	$(amicycle_ec2_describe) snapshots --region $* --owner self \
		| $(amicycle_sort_by_date) -k .StartTime \
		| $(amicycle_keep_last) -k .StartTime -n 0 --allow-zero --min-age '$(AMICYCLE_SWEEP_MIN_AGE)' \
		>$(AMICYCLE_DIR)/old-snapshots-$*.jsonl
	$(amicycle_q)$(call amicycle_say,image-sweep-snapshots: $*: $$(wc -l <$(AMICYCLE_DIR)/old-snapshots-$*.jsonl) snapshot(s) older than $(AMICYCLE_SWEEP_MIN_AGE))
	$(amicycle_q)$(amicycle_delete_snapshot) $(amicycle_dry) --region $* --orphans \
		--max '$(AMICYCLE_MAX_DELETE_SNAPSHOTS)' $(foreach t,$(AMICYCLE_PROTECT_TAGS),--protect-tag '$(t)') \
		<$(AMICYCLE_DIR)/old-snapshots-$*.jsonl >$@ $(amicycle_or_summary)
	$(amicycle_q)$(call amicycle_say,image-sweep-snapshots: $*: $(amicycle_mode): $$(grep -c '"Status":"done"' $@ || :) deleted$(,) $$(grep -c '"Status":"dry-run"' $@ || :) planned$(,) $$(grep -c '"Status":"skipped"' $@ || :) skipped)

image-cleanup-matrix:
	$(amicycle_q)$(amicycle_accounts_matrix) --format '$(AMICYCLE_MATRIX)' '$(AMICYCLE_ACCOUNTS)'

amicycle-force:
endif
