# promote.mk: promote the images that passed image-test to an environment and across regions
# (included by amicycle.mk).
#
#	image-promote ENV=NAME	tags the tested images Environment=NAME, Promoted=true, PromotedAt and
#				GitSha, then copies them (with their tags) to each promotion region,
#				one make target per region, waiting until each copy is available
#
# Only images that passed image-test are promoted: the target depends on image-test's
# $(AMICYCLE_DIR)/tested.jsonl. A second `make image-promote` finds its records up to date and
# copies nothing; were it run again anyway, copy-image's client tokens return the first copies.
#
# Knobs:
#	ENV			the environment (required, on the command line: ENV=staging)
#	AMICYCLE_PROMOTE_REGIONS	the regions to copy promoted images to (default: none)
#	AMICYCLE_PROMOTE_TAGS	more tags, as tag(1) flags: -t KEY=VALUE ... (default: empty)
#	AMICYCLE_COPY_FLAGS	more copy-image flags: --name, --encrypted, --kms-key (default: empty)
#	AMICYCLE_COPY_TIMEOUT	how long a copy may take to become available (default: 45m)

ifndef AMICYCLE_PROMOTE_MK
AMICYCLE_PROMOTE_MK := 1

ENV ?=
AMICYCLE_PROMOTE_REGIONS ?=
AMICYCLE_PROMOTE_TAGS ?=
AMICYCLE_COPY_FLAGS ?=
AMICYCLE_COPY_TIMEOUT ?= 45m

ifneq ($(filter image-promote,$(MAKECMDGOALS)),)
ifeq ($(strip $(ENV)),)
$(error image-promote: say which environment: make image-promote ENV=staging)
endif
endif

amicycle_promoted = $(AMICYCLE_DIR)/promoted-$(ENV).jsonl

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

image-promote: $(amicycle_promoted) \
	$(foreach r,$(AMICYCLE_PROMOTE_REGIONS),$(AMICYCLE_DIR)/promoted-$(ENV)-$(r).jsonl)
	$(amicycle_q)$(call amicycle_say,image-promote: $(ENV): done; records in $(AMICYCLE_DIR)/promoted-$(ENV)*.jsonl)
	$(amicycle_q)$(amicycle_summary)
endif
