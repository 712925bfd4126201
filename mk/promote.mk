# promote.mk: promote the images that passed image-test to an environment and across regions
# (included by amicycle.mk).
#
#	image-promote ENV=NAME	tags the tested images Environment=NAME, Promoted=true, PromotedAt and
#				GitSha, then copies them (with their tags) to each promotion region,
#				one make target per region, waiting until each copy is available
#
# With AMICYCLE_PROTECT_<env>=1 (either form), the images promoted are then protected from
# deregistration (protect(1), which skips those protected already): deregister, image-cleanup
# and a person at the console are refused until the protection is turned off (protect --undo).
#
# Only images that passed image-test are promoted: the target depends on image-test's
# $(AMICYCLE_DIR)/tested.jsonl. A second `make image-promote` finds its records up to date and
# copies nothing; were it run again anyway, copy-image's client tokens return the first copies.
#
#	image-promote ENV=NAME FROM=SOURCE [GIT_SHA=SHA]
#				finds in EC2, not in $(AMICYCLE_DIR), the newest image of the project
#				tagged Environment=SOURCE and Tested=passed (image-test's tag), or with
#				GIT_SHA the newest tagged Environment=SOURCE and GitSha=SHA; shares it
#				and its snapshots with AMICYCLE_ACCOUNT_<NAME> (share --snapshots),
#				copies it into that account's AMICYCLE_REGIONS_<NAME> (copy-image
#				--role-arn AMICYCLE_ROLE_<NAME> --wait) and tags the copies
#				Environment=NAME, Promoted=true, PromotedAt and Project (which a copy
#				into another account does not carry over). Nothing is read from
#				local state, so a later job on another runner (the approval-gated one)
#				can run it. An image that never passed image-test (GIT_SHA naming one
#				tagged Tested=failed or not at all) is refused: exit 1, its record with
#				Result.Status "refused" and the Reason in $(AMICYCLE_DIR)/promote-NAME.jsonl,
#				nothing changed. A region that already holds a copy of the image (found
#				by its SourceImageId tag) is not copied to again, and a copy already
#				tagged Environment=NAME is not tagged again: promoting the same image
#				twice changes nothing the second time.
#
# Knobs:
#	ENV			the environment (required, on the command line: ENV=staging)
#	FROM			the environment to promote from (on the command line; default: empty:
#				promote image-test's tested.jsonl, as above)
#	GIT_SHA			with FROM: promote the image tagged GitSha=GIT_SHA (default: empty: the
#				newest that passed image-test)
#	AMICYCLE_ACCOUNT_<env>	with FROM: the account of environment <env> (default: empty: the
#				caller's own, nothing is shared)
#	AMICYCLE_ROLE_<env>	with FROM: the role to act as in <env>'s account, for copy-image and
#				tag (and, for FROM's, for ec2-describe and share) (default: empty:
#				the caller's credentials)
#	AMICYCLE_REGIONS_<env>	with FROM: the regions of <env>: where FROM's image is looked for,
#				and where ENV's copies go (default: AMICYCLE_REGIONS)
#	AMICYCLE_PROMOTE_REGIONS	the regions to copy promoted images to (default: none)
#	AMICYCLE_PROMOTE_TAGS	more tags, as tag(1) flags: -t KEY=VALUE ... (default: empty)
#	AMICYCLE_COPY_FLAGS	more copy-image flags: --name, --encrypted, --kms-key (default: empty)
#	AMICYCLE_COPY_TIMEOUT	how long a copy may take to become available (default: 45m)
#	AMICYCLE_PROTECT_<env>	1: protect the images promoted to <env> (the tagged images and
#				their copies; with FROM, the copies, as AMICYCLE_ROLE_<env>) from
#				deregistration, after tagging them; protect's records in
#				$(AMICYCLE_DIR)/protected-<env>.jsonl (with FROM:
#				promote-<env>.d/step-protected.jsonl) (default: empty: not protected)

ifndef AMICYCLE_PROMOTE_MK
AMICYCLE_PROMOTE_MK := 1

ENV ?=
AMICYCLE_PROMOTE_REGIONS ?=
AMICYCLE_PROMOTE_TAGS ?=
AMICYCLE_COPY_FLAGS ?=
AMICYCLE_COPY_TIMEOUT ?= 45m

# GIT_SHA reaches filters and a shell command line, and it is what a person types into a CI form:
# hex digits and nothing else. It is checked as written ($(value)), before make expands a $(...)
# in it, and only when image-promote is asked for.
amicycle_nothex1 = $(subst 0,,$(subst 1,,$(subst 2,,$(subst 3,,$(subst 4,,$(subst 5,,$(subst 6,,$(subst 7,,$(1)))))))))
amicycle_nothex = $(call amicycle_nothex1,$(subst 8,,$(subst 9,,$(subst a,,$(subst b,,$(subst c,,$(subst d,,$(subst e,,$(subst f,,$(1))))))))))

ifneq ($(filter image-promote,$(MAKECMDGOALS)),)
ifeq ($(strip $(ENV)),)
$(error image-promote: say which environment: make image-promote ENV=staging)
endif
ifneq ($(call amicycle_nothex,$(value GIT_SHA)),)
$(error image-promote: GIT_SHA '$(value GIT_SHA)' is not a git commit sha (lowercase hex digits))
endif
ifneq ($(filter-out 0 1,$(value AMICYCLE_PROTECT_$(ENV))),)
$(error image-promote: AMICYCLE_PROTECT_$(ENV) '$(value AMICYCLE_PROTECT_$(ENV))' is neither 1 (protect) nor 0 or empty)
endif
endif

amicycle_protect = $(call amicycle_bin,protect) $(AMICYCLE_AWS_FLAGS)
amicycle_protect_on = $(filter 1,$(AMICYCLE_PROTECT_$(ENV)))
# The images of the records in files $(1) that were promoted (done, or skipped: promoted before),
# protected; $(2): more protect flags; protect's records in $(3).
amicycle_protect_promoted = $(call amicycle_say,image-promote: protecting the images promoted to $(ENV) from deregistration (AMICYCLE_PROTECT_$(ENV)=1)); \
	$(JQ) -c 'select(.Result.Status == "done" or .Result.Status == "skipped")' $(1) \
	| $(amicycle_protect) $(2) >$(3) $(amicycle_or_summary); \
	$(call amicycle_say,image-promote: $(ENV): $$($(JQ) -r 'select(.Result.Status == "done") | .ImageId' $(3) | wc -l) image(s) protected$(,) $$($(JQ) -r 'select(.Result.Status == "skipped") | .ImageId' $(3) | wc -l) protected already)

FROM ?=
GIT_SHA ?=

amicycle_promoted = $(AMICYCLE_DIR)/promoted-$(ENV).jsonl

ifneq ($(strip $(FROM)),)
# Promotion found by tags: per-environment knobs, read as AMICYCLE_<KNOB>_<env>.
amicycle_env_regions = $(strip $(or $(AMICYCLE_REGIONS_$(1)),$(AMICYCLE_REGIONS)))
amicycle_env_flags = $(if $(AMICYCLE_ROLE_$(1)),--role-arn '$(AMICYCLE_ROLE_$(1))')
amicycle_to = $(AMICYCLE_DIR)/promote-$(ENV)
amicycle_from_what = Project=$(AMICYCLE_PROJECT) Environment=$(FROM) $(if $(GIT_SHA),GitSha=$(GIT_SHA),Tested=passed)

# One shell: each step reads the one before. Its records: promote-ENV.jsonl (the copies, each with
# its Result); in promote-ENV.d/, out of image-summary's sight, step-source.jsonl (the image found),
# -shared.jsonl (share's), -existing.jsonl (copies already there), -copies.jsonl (copy-image's).
image-promote: | $(AMICYCLE_DIR)
	$(amicycle_q)out='$(amicycle_to)'.jsonl; d='$(amicycle_to)'.d/step; \
	rm -rf "$$out" '$(amicycle_to)'.d; mkdir '$(amicycle_to)'.d; \
	$(call amicycle_say,image-promote: $(FROM) -> $(ENV): looking for the newest image $(amicycle_from_what) in $(call amicycle_env_regions,$(FROM))); \
	$(amicycle_ec2_describe) images --owner self $(call amicycle_env_flags,$(FROM)) \
		$(foreach r,$(call amicycle_env_regions,$(FROM)),--region $(r)) \
		--filter 'Name=tag:Project,Values=$(AMICYCLE_PROJECT)' --filter 'Name=tag:Environment,Values=$(FROM)' \
		$(if $(GIT_SHA),--filter 'Name=tag:GitSha$(,)Values=$(GIT_SHA)',--filter Name=tag:Tested$(,)Values=passed) \
	| $(amicycle_sort_by_date) | $(amicycle_keep_last) -n 1 --kept >"$$d-source.jsonl"; \
	if [ ! -s "$$d-source.jsonl" ]; then \
		$(call amicycle_say,image-promote: no image $(amicycle_from_what) in $(call amicycle_env_regions,$(FROM)): nothing promoted) >&2; \
		exit 1; \
	fi; \
	src=$$($(JQ) -r '"\(.ImageId) (\(.Region)$(,) account \(.OwnerId // "?"))"' "$$d-source.jsonl"); \
	tested=$$($(JQ) -r '[.Tags[]? | select(.Key == "Tested") | .Value][0] // ""' "$$d-source.jsonl"); \
	if [ "$$tested" != passed ]; then \
		if [ -n "$$tested" ]; then why="Tested=$$tested"; else why="no Tested tag"; fi; \
		why="never passed image-test ($$why): not promoted to $(ENV)"; \
		$(JQ) -c --arg why "$$why" '. + {Result: {Action: "image-promote"$(,) Status: "refused"$(,) Reason: $$why}}' \
			"$$d-source.jsonl" >"$$out"; \
		$(call amicycle_say,image-promote: $$src: refused: $$why) >&2; \
		exit 1; \
	fi; \
	$(call amicycle_say,image-promote: found $$src); \
	acct='$(AMICYCLE_ACCOUNT_$(ENV))'; \
	if [ -n "$$acct" ] && [ "$$acct" != "$$($(JQ) -r '.OwnerId // ""' "$$d-source.jsonl")" ]; then \
		$(call amicycle_say,image-promote: sharing it and its snapshots with account $$acct); \
		$(amicycle_share) $(call amicycle_env_flags,$(FROM)) --account "$$acct" --snapshots \
			<"$$d-source.jsonl" >"$$d-shared.jsonl" $(amicycle_or_summary); \
	else \
		cp "$$d-source.jsonl" "$$d-shared.jsonl"; \
	fi; \
	id=$$($(JQ) -r .ImageId "$$d-source.jsonl"); \
	regions='$(call amicycle_env_regions,$(ENV))'; \
	$(amicycle_ec2_describe) images --owner self $(call amicycle_env_flags,$(ENV)) \
		$$(printf -- '--region %s ' $$regions) --filter "Name=tag:SourceImageId,Values=$$id" \
		>"$$d-existing.jsonl"; \
	missing=; \
	for r in $$regions; do \
		$(JQ) -r .Region "$$d-existing.jsonl" | grep -qxF "$$r" || missing="$$missing$${missing:+,}$$r"; \
	done; \
	if [ -n "$$missing" ]; then \
		$(call amicycle_say,image-promote: copying to $$missing$(,) waiting up to $(AMICYCLE_COPY_TIMEOUT) for the copies to become available); \
		$(JQ) -c 'del(.Result)' "$$d-shared.jsonl" \
		| $(amicycle_copy_image) $(call amicycle_env_flags,$(ENV)) --to "$$missing" --wait \
			--timeout '$(AMICYCLE_COPY_TIMEOUT)' $(AMICYCLE_COPY_FLAGS) >"$$d-copies.jsonl" $(amicycle_or_summary); \
	else \
		: >"$$d-copies.jsonl"; \
	fi; \
	{ $(JQ) -c 'del(.Result)' "$$d-copies.jsonl"; \
	  $(JQ) -c 'select(any(.Tags[]?; .Key == "Environment" and .Value == "$(ENV)") | not)' \
		"$$d-existing.jsonl"; } >"$$d-untagged.jsonl"; \
	$(amicycle_tag) $(call amicycle_env_flags,$(ENV)) -t 'Environment=$(ENV)' -t Promoted=true \
		-t "PromotedAt=$$(date -u +%Y-%m-%dT%H:%M:%SZ)" -t 'Project=$(AMICYCLE_PROJECT)' $(AMICYCLE_PROMOTE_TAGS) \
		<"$$d-untagged.jsonl" >"$$out" $(amicycle_or_summary); \
	$(JQ) -c --arg why 'already promoted to $(ENV)' 'select(any(.Tags[]?; .Key == "Environment" and .Value == "$(ENV)")) | . + {Result: {Action: "image-promote", Status: "skipped", Reason: $$why}}' \
		"$$d-existing.jsonl" >>"$$out"; \
	$(if $(amicycle_protect_on),$(call amicycle_protect_promoted,"$$out",$(call amicycle_env_flags,$(ENV)),"$$d-protected.jsonl");) \
	$(call amicycle_say,image-promote: $(ENV): $$(wc -l <"$$d-copies.jsonl") new cop$$([ "$$(wc -l <"$$d-copies.jsonl")" = 1 ] && echo y || echo ies)$(,) $$($(JQ) -r .Region "$$d-existing.jsonl" | wc -l) already there; records in $$out); \
	$(JQ) -r '"amicycle: image-promote: \(.Region): \(.ImageId)"' "$$out" | sort
	$(amicycle_q)$(amicycle_summary)
else

$(amicycle_promoted): $(AMICYCLE_DIR)/tested.jsonl
	$(amicycle_q)$(call amicycle_say,image-promote: tagging $$(wc -l <$<) image(s) Environment=$(ENV))
	$(amicycle_q)$(amicycle_tag) -t 'Environment=$(ENV)' -t Promoted=true \
		-t "PromotedAt=$$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
		$(if $(AMICYCLE_GIT_SHA),-t 'GitSha=$(AMICYCLE_GIT_SHA)') $(AMICYCLE_PROMOTE_TAGS) \
		<$< >$@ $(amicycle_or_summary)

# One target per destination region, so that make -j copies to them in parallel.
$(AMICYCLE_DIR)/promoted-$(ENV)-%.jsonl: $(amicycle_promoted)
	$(amicycle_q)$(call amicycle_say,image-promote: copying to $*$(,) waiting up to $(AMICYCLE_COPY_TIMEOUT) for the copies to become available)
	$(amicycle_q)$(amicycle_copy_image) --to $* --wait --timeout '$(AMICYCLE_COPY_TIMEOUT)' \
		$(AMICYCLE_COPY_FLAGS) <$< >$@ $(amicycle_or_summary)
	$(amicycle_q)$(call amicycle_say,image-promote: $*: $$(grep -c '"State":"available"' $@ || :) image(s) available)

amicycle_promoted_all = $(amicycle_promoted) \
	$(foreach r,$(AMICYCLE_PROMOTE_REGIONS),$(AMICYCLE_DIR)/promoted-$(ENV)-$(r).jsonl)

$(AMICYCLE_DIR)/protected-$(ENV).jsonl: $(amicycle_promoted_all)
	$(amicycle_q)$(call amicycle_protect_promoted,$^,,$@)

image-promote: $(amicycle_promoted_all) $(if $(amicycle_protect_on),$(AMICYCLE_DIR)/protected-$(ENV).jsonl)
	$(amicycle_q)$(call amicycle_say,image-promote: $(ENV): done; records in $(AMICYCLE_DIR)/promoted-$(ENV)*.jsonl)
	$(amicycle_q)$(amicycle_summary)
endif # FROM
endif
