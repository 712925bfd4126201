# publish.mk: publish the images image-promote released to an environment where launches read
# them (included by amicycle.mk).
#
#	image-publish ENV=NAME	publishes each image image-promote released to NAME, one a region, to
#				the SSM parameter AMICYCLE_PARAMETER_<NAME> in its region (publish
#				--create: a new version, labelled git-SHA from the image's GitSha tag),
#				and, when AMICYCLE_LAUNCH_TEMPLATE_<NAME> is set, to that launch template
#				as a new default version (publish --set-default). The released images are
#				the records of $(AMICYCLE_DIR)/promoted-NAME.jsonl and its copies'
#				promoted-NAME-REGION.jsonl, or with FROM=SOURCE image-promote's
#				promote-NAME.jsonl, whose Result is done or skipped. Records in
#				$(AMICYCLE_DIR)/publish-NAME.jsonl. An image a channel holds already is
#				skipped, so running it again changes nothing.
#
# Run it after image-promote, in the same job or a later one that has $(AMICYCLE_DIR):
#
#	make image-promote image-publish ENV=production FROM=staging
#
# (given together, image-publish waits for image-promote, also under make -j). Nothing released
# (image-promote not run, or nothing it did succeeded) is a failure, exit 1: a deployment that
# expects a new image must not carry on with the old one unnoticed. DRY_RUN=1 plans it: SSM has
# no dry run, so the parameter is read and nothing is written; the launch template's calls are sent
# with DryRun. Every call is in the audit log, AMICYCLE_AUDIT_LOG. Launch templates read the
# parameter as ImageId resolve:ssm:NAME; publish(1) --rollback takes an image back out.
#
# Knobs:
#	ENV				the environment (required, on the command line: ENV=production)
#	FROM				as for image-promote: the records are promote-ENV.jsonl
#	AMICYCLE_PARAMETER_<env>	the SSM parameter of <env> (default:
#					/amicycle/$(AMICYCLE_PROJECT)/<env>)
#	AMICYCLE_LAUNCH_TEMPLATE_<env>	a launch template of <env>, by name or id (default: empty:
#					none)
#	AMICYCLE_ROLE_<env>		the role to act as in <env>'s account (default: empty: the
#					caller's credentials), as for image-promote

ifndef AMICYCLE_PUBLISH_MK
AMICYCLE_PUBLISH_MK := 1

ifneq ($(filter image-publish,$(MAKECMDGOALS)),)
ifeq ($(strip $(ENV)),)
$(error image-publish: say which environment: make image-publish ENV=production)
endif
endif

amicycle_publish = $(call amicycle_bin,publish) $(AMICYCLE_AWS_FLAGS)
amicycle_publish_parameter = $(or $(AMICYCLE_PARAMETER_$(ENV)),/amicycle/$(AMICYCLE_PROJECT)/$(ENV))
amicycle_publish_template = $(strip $(AMICYCLE_LAUNCH_TEMPLATE_$(ENV)))
amicycle_publish_flags = $(if $(AMICYCLE_ROLE_$(ENV)),--role-arn '$(AMICYCLE_ROLE_$(ENV))') \
	$(if $(filter 1,$(DRY_RUN)),--dry-run)
# The files image-promote leaves, as shell words: globbed when the recipe runs, after image-promote.
amicycle_released = $(if $(strip $(FROM)),'$(AMICYCLE_DIR)'/promote-'$(ENV)'.jsonl,\
	'$(AMICYCLE_DIR)'/promoted-'$(ENV)'.jsonl '$(AMICYCLE_DIR)'/promoted-'$(ENV)'-*.jsonl)

image-publish: SHELL := /bin/bash
image-publish: .SHELLFLAGS := -e -u -o pipefail -c
.PHONY: image-publish

# One shell: the released records, then each channel. In publish-ENV.d/, out of image-summary's
# sight: released.jsonl, parameter.jsonl and template.jsonl (publish's records, joined in
# publish-ENV.jsonl).
image-publish: $(filter image-promote,$(MAKECMDGOALS)) | $(AMICYCLE_DIR)
	$(amicycle_q)out='$(AMICYCLE_DIR)/publish-$(ENV)'.jsonl; d='$(AMICYCLE_DIR)/publish-$(ENV)'.d; \
	rm -rf "$$out" "$$d"; mkdir "$$d"; \
	files=; for f in $(amicycle_released); do [ ! -f "$$f" ] || files="$$files $$f"; done; \
	if [ -n "$$files" ]; then \
		$(JQ) -c 'select(.Result.Status == "done" or .Result.Status == "skipped") | del(.Result)' \
			$$files >"$$d/released.jsonl"; \
	else \
		: >"$$d/released.jsonl"; \
	fi; \
	if [ ! -s "$$d/released.jsonl" ]; then \
		$(call amicycle_say,image-publish: no image released to $(ENV) in$${files:- $(amicycle_released)} (run image-promote ENV=$(ENV) first)) >&2; \
		exit 1; \
	fi; \
	$(call amicycle_say,image-publish: $(ENV): $$(wc -l <"$$d/released.jsonl") image(s) to $(amicycle_publish_parameter)$(if $(amicycle_publish_template), and launch template $(amicycle_publish_template))); \
	$(amicycle_publish) --parameter '$(amicycle_publish_parameter)' --create $(amicycle_publish_flags) \
		<"$$d/released.jsonl" >"$$d/parameter.jsonl" || rc=$$?; \
	$(if $(amicycle_publish_template),$(amicycle_publish) --launch-template '$(amicycle_publish_template)' \
		--set-default $(amicycle_publish_flags) <"$$d/released.jsonl" >"$$d/template.jsonl" || rc=$$?;) \
	cat "$$d"/parameter.jsonl $(if $(amicycle_publish_template),"$$d"/template.jsonl) >"$$out"; \
	$(JQ) -r '"amicycle: image-publish: \(.Region): \(.ImageId): \(.Published.Parameter // .Published.LaunchTemplateName // "-") \(.Result.Status)\(if .Result.Reason then ": " + .Result.Reason else "" end)"' "$$out"; \
	[ "$${rc:-0}" = 0 ] || { $(amicycle_summary); exit $$rc; }
	$(amicycle_q)$(amicycle_summary)
endif
