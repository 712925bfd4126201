# revoke.mk: take a bad image, and every copy and build of it, out of use everywhere (included by
# amicycle.mk).
#
#	image-revoke IMAGE=ami-... [REASON=TEXT]
#	image-revoke GIT_SHA=SHA [REASON=TEXT]
#		1. the roots: the image IMAGE, or the project's images tagged GitSha=SHA, owned by this
#		   account in AMICYCLE_REVOKE_REGIONS (ec2-describe); none found: exit 1, nothing
#		   changed;
#		2. the family: every copy in another region or account of AMICYCLE_ACCOUNTS, and every
#		   build made from them, at any depth (image-lineage);
#		3. the channels: in each account of the family (as its Role from AMICYCLE_ACCOUNTS,
#		   this account with the caller's credentials), each SSM parameter that holds one of
#		   the family's images, and each launch template whose default or latest version
#		   launches one (what launches naming $Default or $Latest read; image-users), is
#		   rolled back to the newest earlier image that is not revoked (publish --rollback: a
#		   template gets a new version made from the earlier one, and it becomes the default
#		   when the default launched a family image, so that neither $Default nor $Latest
#		   launches one). All channels are planned first (--dry-run): when any has no
#		   earlier good image, nothing at all is changed, the channel is named, and the
#		   target fails. Disabling an image a channel still points at would turn a bad image
#		   into failed launches: a person decides what that channel should hold;
#		4. every image of the family, in its account: tagged Revoked=true, RevokedReason and
#		   RevokedAt (an image already tagged Revoked=true keeps its tags), deprecated now
#		   (deprecate --now), unshared from everyone, snapshots included (share --remove
#		   --all --snapshots; before disabling, since a disabled image cannot be unshared),
#		   and disabled (disable).
#		Nothing is deregistered: the images stay as evidence, and image-cleanup (lifecycle.mk)
#		retires them as it retires any other. Every call is in the audit log. Run again, it
#		makes no change: no channel holds the images any more, and each filter skips what is
#		already so. With DRY_RUN=1 every step is planned (EC2's DryRun where it has one) and
#		nothing is changed. A step that fails fails the target after the steps of every
#		account have run (step 4); run it again to finish.
#		Records: $(AMICYCLE_DIR)/revoke.jsonl (each channel rolled back, with publish's
#		Result, then each image of the family with its Revoke: {Tag, Deprecate, Share,
#		Disable}, the Status of each step);
#		each step's own records in $(AMICYCLE_DIR)/revoke.d/, out of image-summary's sight.
#
# IMAGE, GIT_SHA and REASON come from a person, often through a CI form. IMAGE and GIT_SHA are
# checked as typed ($(value)), before make expands a $(...) in them and before any recipe runs:
# ami- and 8 or 17 lowercase hex digits, lowercase hex digits. REASON never reaches make's
# expansion or a command line: the recipe reads it from its environment (at most 256 characters,
# a tag's value).
#
# Knobs:
#	IMAGE			the image to revoke (on the command line)
#	GIT_SHA			instead of IMAGE: revoke the project's images tagged GitSha=SHA
#	REASON			the RevokedReason tag (default: "none given")
#	AMICYCLE_REVOKE_REGIONS	where this account's images (the roots and their family) are
#				looked for (default: AMICYCLE_REGIONS and AMICYCLE_PROMOTE_REGIONS);
#				other accounts' in the Regions of AMICYCLE_ACCOUNTS
#	AMICYCLE_ACCOUNTS	the accounts file (lifecycle.mk; default: accounts.jsonl): the other
#				accounts the copies may be in, each with the Role to act as there;
#				without the file, only this account is searched

ifndef AMICYCLE_REVOKE_MK
AMICYCLE_REVOKE_MK := 1

IMAGE ?=
REASON ?=
AMICYCLE_REVOKE_REGIONS ?= $(sort $(AMICYCLE_REGIONS) $(AMICYCLE_PROMOTE_REGIONS))

amicycle_image_lineage ?= $(call amicycle_bin,image-lineage) $(AMICYCLE_AWS_FLAGS)
amicycle_image_users ?= $(call amicycle_bin,image-users) $(AMICYCLE_AWS_FLAGS)
amicycle_disable ?= $(call amicycle_bin,disable) $(AMICYCLE_AWS_FLAGS)

# REASON is free text: never exported as make would export it (expanded), only as it was typed.
unexport REASON

# $(1) with a space after each hex digit: $(words) of it counts them.
amicycle_spaced1 = $(subst 0,0 ,$(subst 1,1 ,$(subst 2,2 ,$(subst 3,3 ,$(subst 4,4 ,$(subst 5,5 ,$(subst 6,6 ,$(subst 7,7 ,$(1)))))))))
amicycle_spaced = $(call amicycle_spaced1,$(subst 8,8 ,$(subst 9,9 ,$(subst a,a ,$(subst b,b ,$(subst c,c ,$(subst d,d ,$(subst e,e ,$(subst f,f ,$(1))))))))))
# Non-empty unless $(1) is one word of lowercase hex digits (amicycle_nothex: promote.mk).
amicycle_badhex = $(if $(filter-out 1,$(words $(1))),bad,$(call amicycle_nothex,$(1)))
# Non-empty unless $(1) is an image id: ami- and 8 or 17 lowercase hex digits.
amicycle_badimage = $(if $(filter ami-%,$(1)),$(or $(call amicycle_badhex,$(patsubst ami-%,%,$(1))),$(if $(filter 8 17,$(words $(call amicycle_spaced,$(patsubst ami-%,%,$(1))))),,bad)),bad)

ifneq ($(filter image-revoke,$(MAKECMDGOALS)),)
amicycle_revoke_image := $(value IMAGE)
amicycle_revoke_sha := $(value GIT_SHA)
ifeq ($(strip $(amicycle_revoke_image)$(amicycle_revoke_sha)),)
$(error image-revoke: say which image: make image-revoke IMAGE=ami-... [REASON=...], or GIT_SHA=SHA)
endif
ifneq ($(strip $(amicycle_revoke_image)),)
ifneq ($(strip $(amicycle_revoke_sha)),)
$(error image-revoke: IMAGE or GIT_SHA, not both)
endif
ifneq ($(call amicycle_badimage,$(amicycle_revoke_image)),)
$(error image-revoke: IMAGE '$(amicycle_revoke_image)' is not an image id (ami- and 8 or 17 lowercase hex digits))
endif
else ifneq ($(call amicycle_badhex,$(amicycle_revoke_sha)),)
$(error image-revoke: GIT_SHA '$(amicycle_revoke_sha)' is not a git commit sha (lowercase hex digits))
endif
endif

amicycle_revoke_d = $(AMICYCLE_DIR)/revoke.d
amicycle_revoke_what = $(if $(IMAGE),$(IMAGE),of $(AMICYCLE_PROJECT) tagged GitSha=$(GIT_SHA))
amicycle_revoke_find = $(if $(IMAGE),--filter 'Name=image-id$(,)Values=$(IMAGE)',--filter 'Name=tag:Project$(,)Values=$(AMICYCLE_PROJECT)' --filter 'Name=tag:GitSha$(,)Values=$(GIT_SHA)')

# Shell functions of the recipe. as_of ACCOUNT sets ra, the flags that act in ACCOUNT ("self":
# none, the caller's credentials); family_of ACCOUNT [REGION] prints the family's images there;
# fail STATUS writes the summary and exits.
amicycle_revoke_fns = \
	as_of () { \
		ra=(); [ "$$1" != self ] || return 0; \
		ra=(--role-arn "$$($(JQ) -r --arg a "$$1" 'select(.Account == $$a) | .Role' '$(AMICYCLE_ACCOUNTS)' | head -n 1)"); \
	}; \
	family_of () { \
		$(JQ) -c --arg a "$$1" --arg r "$${2:-}" \
			'select((.Account // "self") == $$a and ($$r == "" or .Region == $$r))' "$$d/family.jsonl"; \
	}; \
	fail () { \
		local rc=$$1; $(amicycle_summary); exit $$rc; \
	}

# The channels among an image's Users (image-users), as {Account,Region,Kind,Id}: a parameter
# holding it, a template whose default or latest version launches it (image-users' Detail: "NAME,
# version N (default)", "(latest)" or "(default, latest)"; not through a resolve:ssm: parameter:
# that parameter is the channel).
amicycle_revoke_channels_of = .Region as $$r | .Users[]? | select(.Kind == "ssm-parameter" or \
	(.Kind == "launch-template" and (.Detail | test("[(](default|latest)")) and \
	(.Detail | contains("resolve:ssm:") | not))) | {Account: $$a, Region: $$r, Kind, Id}

# channels [--dry-run]: publish --rollback on each channel of $$d/channels.jsonl, given the
# family's images in its account and region, into $$d/rollback-N.jsonl and all of them into
# $$d/rollback.jsonl (planned: plan-N.jsonl, plan.jsonl), with a line for each channel that holds
# one of them; fails when one could not be rolled back, after trying them all.
amicycle_revoke_channels = \
	channels () { \
		local n=0 c f=rollback rc=0 what; local -a how; \
		[ -z "$${1:-}" ] || f=plan; \
		: >"$$d/$$f.jsonl"; \
		while IFS= read -r c <&3; do \
			n=$$((n + 1)); \
			what=$$($(JQ) -r '"\(.Kind) \(.Id) (\(.Region)\(if .Account == "self" then "" else ", account \(.Account)" end))"' <<<"$$c"); \
			if [ "$$($(JQ) -r .Kind <<<"$$c")" = ssm-parameter ]; then how=(--parameter); \
			else how=(--launch-template); fi; \
			how+=("$$($(JQ) -r .Id <<<"$$c")"); \
			as_of "$$($(JQ) -r .Account <<<"$$c")"; \
			family_of "$$($(JQ) -r .Account <<<"$$c")" "$$($(JQ) -r .Region <<<"$$c")" \
			| $(amicycle_publish) --rollback $${1:-} "$${how[@]}" "$${ra[@]}" >"$$d/$$f-$$n.jsonl" || rc=1; \
			cat "$$d/$$f-$$n.jsonl" >>"$$d/$$f.jsonl"; \
			$(JQ) -r --arg w "$$what" 'select(.Result.Status != "skipped") \
				| "amicycle: image-revoke: \($$w): \(.Result.Status): \(.Result.Reason // "")"' "$$d/$$f-$$n.jsonl"; \
		done 3<"$$d/channels.jsonl"; \
		return $$rc; \
	}

# The accounts of the family, in the order they come ("self" for this one: first, with the roots).
amicycle_revoke_accounts = reduce (.[] | .Account // "self") as $$a ([]; if index([$$a]) then . else . + [$$a] end) | .[]

# Each image of the family in account $$a, with its Lineage and Revoke: each step's Status.
amicycle_revoke_merge = . as $$i | [$$s[] | select(.ImageId == $$i.ImageId and .Region == $$i.Region)] as $$r \
	| ($$r | map({key: .Result.Action, value: .Result.Status}) | from_entries) as $$st \
	| {Tag: ($$st.tag // "skipped"), Deprecate: $$st.deprecate, Share: $$st.share, Disable: $$st.disable} as $$st \
	| ($$r | map(select(.Result.Action == "disable")) | .[0] // $$i) + {Lineage: $$i.Lineage, Revoke: $$st} \
	| .Result = {Action: "image-revoke", Status: ([$$st[]] | if any(. == null or . == "failed") then "failed" \
		elif any(. == "dry-run") then "dry-run" elif any(. == "done") then "done" else "skipped" end)}

image-revoke: SHELL := /bin/bash
image-revoke: .SHELLFLAGS := -e -u -o pipefail -c
image-revoke: export AMICYCLE_REVOKE_REASON = $(value REASON)
.PHONY: image-revoke
image-revoke: | $(AMICYCLE_DIR)
	$(amicycle_q)d='$(amicycle_revoke_d)'; out='$(AMICYCLE_DIR)'/revoke.jsonl; \
	reason=$${AMICYCLE_REVOKE_REASON:-none given}; at=$$(date -u +%Y-%m-%dT%H:%M:%SZ); \
	if [ $${#reason} -gt 256 ]; then \
		$(call amicycle_say,image-revoke: REASON: $${#reason} characters; a tag's value has at most 256) >&2; \
		exit 1; \
	fi; \
	rm -rf "$$d" "$$out"; mkdir "$$d"; \
	$(amicycle_revoke_fns); $(amicycle_revoke_channels); \
	$(call amicycle_say,image-revoke: looking for the image $(amicycle_revoke_what) in $(AMICYCLE_REVOKE_REGIONS)); \
	$(amicycle_ec2_describe) images --owner self $(foreach r,$(AMICYCLE_REVOKE_REGIONS),--region $(r)) \
		$(amicycle_revoke_find) >"$$d/roots.jsonl" || fail $$?; \
	if [ ! -s "$$d/roots.jsonl" ]; then \
		$(call amicycle_say,image-revoke: no image $(amicycle_revoke_what) in $(AMICYCLE_REVOKE_REGIONS): nothing revoked) >&2; \
		fail 1; \
	fi; \
	accounts=(); [ ! -f '$(AMICYCLE_ACCOUNTS)' ] || accounts=(--accounts '$(AMICYCLE_ACCOUNTS)'); \
	$(amicycle_image_lineage) "$${accounts[@]}" $(foreach r,$(AMICYCLE_REVOKE_REGIONS),--region $(r)) \
		"$$d/roots.jsonl" >"$$d/family.jsonl" || fail $$?; \
	fam=$$($(JQ) -r -s 'map("\(.ImageId) (\(.Region)\(if .Account then ", account \(.Account)" else "" end))") | join(", ")' "$$d/family.jsonl"); \
	$(call amicycle_say,image-revoke: the family: $$(wc -l <"$$d/family.jsonl") image(s): $$fam); \
	for a in $$($(JQ) -r -s '$(amicycle_revoke_accounts)' "$$d/family.jsonl"); do \
		as_of "$$a"; \
		family_of "$$a" | $(amicycle_image_users) "$${ra[@]}" >"$$d/users-$$a.jsonl" || fail $$?; \
		$(JQ) -c --arg a "$$a" '$(amicycle_revoke_channels_of)' "$$d/users-$$a.jsonl" || fail $$?; \
	done >"$$d/channels-all.jsonl"; \
	$(JQ) -s -c 'unique[]' "$$d/channels-all.jsonl" >"$$d/channels.jsonl"; \
	$(call amicycle_say,image-revoke: $$(wc -l <"$$d/channels.jsonl") channel(s) hold them: planning their rollback); \
	if ! channels --dry-run; then \
		cp "$$d/plan.jsonl" "$$out"; \
		$(call amicycle_say,image-revoke: a channel cannot be rolled back: nothing revoked$(,) nothing changed) >&2; \
		fail 1; \
	fi; \
	if [ -z '$(DRY_RUN)' ] && ! channels; then \
		cp "$$d/rollback.jsonl" "$$out"; \
		$(call amicycle_say,image-revoke: a channel was not rolled back: no image revoked yet; run it again) >&2; \
		fail 1; \
	fi; \
	$(JQ) -c 'select(.Result.Status != "skipped")' "$$d"/$(if $(DRY_RUN),plan,rollback).jsonl >"$$out"; \
	rc=0; \
	for a in $$($(JQ) -r -s '$(amicycle_revoke_accounts)' "$$d/family.jsonl"); do \
		as_of "$$a"; \
		family_of "$$a" | $(JQ) -c 'select($(amicycle_revoked) | not)' \
		| $(amicycle_tag) $(amicycle_dry) "$${ra[@]}" -t Revoked=true -t "RevokedReason=$$reason" \
			-t "RevokedAt=$$at" >"$$d/tagged-$$a.jsonl" || rc=1; \
		family_of "$$a" | $(amicycle_deprecate) $(amicycle_dry) --now "$${ra[@]}" \
			>"$$d/deprecated-$$a.jsonl" || rc=1; \
		family_of "$$a" | $(amicycle_share) $(amicycle_dry) --remove --all --snapshots "$${ra[@]}" \
			>"$$d/unshared-$$a.jsonl" || rc=1; \
		family_of "$$a" | $(amicycle_disable) $(amicycle_dry) "$${ra[@]}" >"$$d/disabled-$$a.jsonl" || rc=1; \
		family_of "$$a" | $(JQ) -c --slurpfile s <(cat "$$d"/{tagged,deprecated,unshared,disabled}-"$$a".jsonl) \
			'$(amicycle_revoke_merge)' >>"$$out"; \
	done; \
	$(JQ) -r 'select(.Revoke) | "amicycle: image-revoke: \(.ImageId) (\(.Region)\(if .Account then ", account \(.Account)" else "" end)): \(.Result.Status): \(.Revoke | to_entries | map("\(.key | ascii_downcase) \(.value // "not run")") | join(", "))"' "$$out"; \
	$(call amicycle_say,image-revoke: $(amicycle_mode); records in $$out); \
	[ $$rc = 0 ] || fail $$rc
	$(amicycle_q)$(amicycle_summary)
endif
