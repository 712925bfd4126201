# summary.mk: the run's summary for people, in Markdown (included by amicycle.mk).
#
#	image-summary	amicycle-summary over the records in $(AMICYCLE_DIR) and the audit log:
#			$(AMICYCLE_SUMMARY), appended to the file $GITHUB_STEP_SUMMARY names when
#			that is set (GitHub Actions shows it on the job's page)
#
# image-test, image-promote, image-cleanup and image-deprecate end with it, and run it too when they
# fail (a failing check, a call that failed), so each leaves the summary of the run so far, the
# failure included: a failure is when people read one. In the step summary it
# sits between two HTML comments: a second target in the same make (or the same step) replaces it
# there instead of adding another copy, and whatever else the step wrote stays as it was. GitLab
# has no such page: publish $(AMICYCLE_DIR) as an artifact (share/examples/gitlab-ci.yml does).
#
# Knobs:
#	AMICYCLE_SUMMARY	the summary's file (default: $(AMICYCLE_DIR)/summary.md)
#	AMICYCLE_SUMMARY_TITLE	its heading (default: amicycle: $(AMICYCLE_PROJECT))

ifndef AMICYCLE_SUMMARY_MK
AMICYCLE_SUMMARY_MK := 1

AMICYCLE_SUMMARY ?= $(AMICYCLE_DIR)/summary.md
AMICYCLE_SUMMARY_TITLE ?= amicycle: $(AMICYCLE_PROJECT)

# A shell function, not make's $(wildcard): make expands a recipe before its first line runs, and
# the summary must see the records the recipe's own lines wrote. The audit log is read once, also
# when it is one of $(AMICYCLE_DIR)'s files. A summary that cannot be made is said, and is no
# reason to fail a target whose work is done.
amicycle_summary = { amicycle_summary () { \
		local a='$(AMICYCLE_AUDIT_LOG)' s='$(AMICYCLE_SUMMARY)' f; \
		local begin='<!-- amicycle-summary: begin -->' end='<!-- amicycle-summary: end -->'; \
		set -- '$(AMICYCLE_DIR)'/*.jsonl; \
		[ -e "$$1" ] || set --; \
		for f in "$$@"; do [ ! "$$f" -ef "$$a" ] || a=; done; \
		[ -z "$$a" ] || [ ! -f "$$a" ] || set -- "$$@" "$$a"; \
		mkdir -p "$$(dirname "$$s")" && \
		$(amicycle_amicycle_summary) -t '$(AMICYCLE_SUMMARY_TITLE)' "$$@" >"$$s.$$$$" && \
		mv "$$s.$$$$" "$$s" || { rm -f "$$s.$$$$"; $(call amicycle_say,image-summary: no summary) >&2; return 0; }; \
		if [ -n "$${GITHUB_STEP_SUMMARY:-}" ]; then \
			[ ! -f "$$GITHUB_STEP_SUMMARY" ] || \
			sed -i "/^$$begin\$$/,/^$$end\$$/d" "$$GITHUB_STEP_SUMMARY" || :; \
			{ echo "$$begin"; cat "$$s"; echo "$$end"; } >>"$$GITHUB_STEP_SUMMARY"; \
		fi; \
		$(call amicycle_say,image-summary: $$s$${GITHUB_STEP_SUMMARY:+ and the step summary}); \
	}; amicycle_summary; }

# After a command of a recipe: when it fails, the summary, then the recipe fails as the command did.
amicycle_or_summary = || { rc=$$?; $(amicycle_summary); exit $$rc; }

image-summary:
	$(amicycle_q)$(amicycle_summary)
endif
