# image-test.mk: boot each image of the manifest's current run and check it over SSH before anyone
# uses it (included by amicycle.mk).
#
#	image-test	images of the current run -> ec2-launch -> ec2-wait --running -> ssh-probe
#			-> ec2-terminate; $(AMICYCLE_DIR)/tested.jsonl lists the images that passed
#
# The images are tested in the manifest's regions, which must all be among AMICYCLE_REGIONS (else
# the target refuses before launching anything). The test instances are terminated whatever
# happens: a failing check, an error, or make interrupted (Ctrl-C). They are found twice over: from
# ec2-launch's output, and by their TestRunId tag in every region they were launched in, so that
# even an instance whose launch answer was lost is terminated. Only instances EC2 says
# it terminated (or found already terminated) are counted as such; a termination that fails fails
# the target. A failed test leaves no tested.jsonl, so image-promote has nothing to promote.
# Each image probed is tagged in EC2 with its verdict, so that a later job elsewhere can find it
# (image-promote FROM=...): Tested=passed and TestedAt (UTC) if all its checks passed, else
# Tested=failed (an image ssh-probe has no result for is not tagged); tag's records are in
# $(AMICYCLE_DIR)/test-tagged.jsonl, its calls in the audit log.
# Passed or failed, image-test ends by writing the summary (image-summary, summary.mk).
#
# Knobs:
#	AMICYCLE_SSH_KEY	the private key the test instances accept (required: a readable
#				file, checked before anything is launched); with AMICYCLE_KEY_NAME,
#				the EC2 key pair it belongs to
#	AMICYCLE_KEY_NAME	the EC2 key pair to launch with (default: empty: the image or its
#				user data has the key)
#	AMICYCLE_SSH_USER	the user to log in as (default: ec2-user)
#	AMICYCLE_CHECKS		the checks, JSON lines {"Name","Run","ExpectExit","ExpectStdout","Timeout"}
#				(default: checks.jsonl); see ssh-probe(1)
#	AMICYCLE_INSTANCE_TYPE	the test instances' type (default: t3.micro)
#	AMICYCLE_LAUNCH_FLAGS	more ec2-launch flags: --subnet, --security-group, --iam-profile,
#				--user-data (default: empty)
#	AMICYCLE_PROBE_FLAGS	more ssh-probe flags: --private, --port, --known-hosts
#				(default: empty: host keys are verified through the console output)
#	AMICYCLE_WAIT_TIMEOUT	how long instances may take to run (default: 10m)
#	AMICYCLE_PROBE_TIMEOUT	how long SSH may take to come up (default: 5m)
#	AMICYCLE_RUN_ID		the test run's id, tagged on its instances (default: a new one per run)

ifndef AMICYCLE_IMAGE_TEST_MK
AMICYCLE_IMAGE_TEST_MK := 1

AMICYCLE_SSH_KEY ?=
AMICYCLE_KEY_NAME ?=
AMICYCLE_SSH_USER ?= ec2-user
AMICYCLE_CHECKS ?= checks.jsonl
AMICYCLE_INSTANCE_TYPE ?= t3.micro
AMICYCLE_LAUNCH_FLAGS ?=
AMICYCLE_PROBE_FLAGS ?=
AMICYCLE_WAIT_TIMEOUT ?= 10m
AMICYCLE_PROBE_TIMEOUT ?= 5m
AMICYCLE_RUN_ID ?=

# The regions of the images in $(1), ami-from-manifest's records, one a line.
amicycle_image_regions = $(JQ) -r '.Region // empty' $(1) | sort -u

# No manifest: say what makes one, rather than make's "No rule to make target".
$(AMICYCLE_MANIFEST):
	$(amicycle_q)$(call amicycle_say,no Packer manifest at $@: run make image-build first) >&2; exit 2

$(AMICYCLE_DIR)/images.jsonl: $(AMICYCLE_MANIFEST) | $(AMICYCLE_DIR)
	$(amicycle_q)$(amicycle_ami_from_manifest) $< >$@
	$(amicycle_q)$(call amicycle_say,images of the current run: $$(wc -l <$@))

# One shell, so that its EXIT trap terminates the instances however the recipe ends.
$(AMICYCLE_DIR)/tested.jsonl: $(AMICYCLE_DIR)/images.jsonl $(AMICYCLE_CHECKS)
	$(amicycle_q)if [ -z '$(AMICYCLE_SSH_KEY)' ]; then \
		$(call amicycle_say,image-test: set AMICYCLE_SSH_KEY to the test instances' private key); \
		exit 2; \
	fi; \
	if [ ! -f '$(AMICYCLE_SSH_KEY)' ] || [ ! -r '$(AMICYCLE_SSH_KEY)' ]; then \
		$(call amicycle_say,image-test: AMICYCLE_SSH_KEY: cannot read $(AMICYCLE_SSH_KEY)) >&2; \
		exit 2; \
	fi; \
	for r in $$($(call amicycle_image_regions,$<)); do \
		case ' $(strip $(AMICYCLE_REGIONS)) ' in *" $$r "*) ;; *) \
			$(call amicycle_say,image-test: the manifest has images in $$r$(,) which is not among AMICYCLE_REGIONS ($(strip $(AMICYCLE_REGIONS)))) >&2; \
			exit 2;; \
		esac; \
	done
	$(amicycle_q)d='$(AMICYCLE_DIR)'; \
	run='$(AMICYCLE_RUN_ID)'; \
	[ -n "$$run" ] || run="$(AMICYCLE_PROJECT)-$$(date -u +%Y%m%dT%H%M%SZ)-$$$$"; \
	regions=$$($(call amicycle_image_regions,$<)); \
	rm -f "$$d"/test-*; \
	terminate() { \
		rc=$$?; \
		trap - EXIT INT TERM HUP; \
		rm -f '$@.tmp'; \
		{ cat "$$d/test-instances.jsonl" 2>/dev/null; \
		  [ -z "$$regions" ] || \
		  $(amicycle_ec2_describe) instances $$(printf -- '--region %s ' $$regions) \
			--filter "Name=tag:TestRunId,Values=$$run" \
			--filter Name=instance-state-name,Values=pending,running,stopping,stopped || :; } \
		| $(amicycle_ec2_terminate) >"$$d/test-terminated.jsonl" || { \
			$(call amicycle_say,image-test: could not terminate every test instance: see $$d/test-terminated.jsonl); \
			[ $$rc != 0 ] || rc=1; }; \
		n=$$(grep -E '"Result":\{"Action":"ec2-terminate","Status":"(done|skipped","Reason":"already [^"]*)"' \
			"$$d/test-terminated.jsonl" | grep -o '"InstanceId":"[^"]*"' | sort -u | wc -l) || n=0; \
		$(call amicycle_say,image-test: test instances terminated: $$n); \
		[ $$rc = 0 ] || $(amicycle_summary); \
		exit $$rc; \
	}; \
	trap terminate EXIT; \
	trap 'exit 130' INT TERM HUP; \
	$(call amicycle_say,image-test: launching $$(wc -l <$<) test instance(s)$(,) run $$run); \
	$(amicycle_ec2_launch) --run-id "$$run" --instance-type '$(AMICYCLE_INSTANCE_TYPE)' \
		$(if $(AMICYCLE_KEY_NAME),--key-name '$(AMICYCLE_KEY_NAME)') \
		-t 'Project=$(AMICYCLE_PROJECT)' $(AMICYCLE_LAUNCH_FLAGS) \
		<$< >"$$d/test-instances.jsonl"; \
	$(call amicycle_say,image-test: waiting up to $(AMICYCLE_WAIT_TIMEOUT) for the instances to run); \
	$(amicycle_ec2_wait) --running --timeout '$(AMICYCLE_WAIT_TIMEOUT)' \
		<"$$d/test-instances.jsonl" >"$$d/test-running.jsonl"; \
	$(call amicycle_say,image-test: probing over SSH$(,) waiting up to $(AMICYCLE_PROBE_TIMEOUT) for each SSH server); \
	status=0; \
	$(amicycle_ssh_probe) -u '$(AMICYCLE_SSH_USER)' -i '$(AMICYCLE_SSH_KEY)' --checks '$(AMICYCLE_CHECKS)' \
		--timeout '$(AMICYCLE_PROBE_TIMEOUT)' --junit "$$d/test-results.xml" $(AMICYCLE_PROBE_FLAGS) \
		<"$$d/test-running.jsonl" >"$$d/test-results.jsonl" || status=$$?; \
	$(call amicycle_say,image-test: checks passed: $$(grep -c '"Passed":true' "$$d/test-results.jsonl" || :) of $$(wc -l <"$$d/test-results.jsonl")); \
	verdicts=$$($(JQ) -c -n --slurpfile run "$$d/test-running.jsonl" '[inputs] as $$res | $$run[] | . as $$i | [$$res[] | select(.InstanceId == $$i.InstanceId) | .Passed == true] as $$v | select($$v != []) | {ImageId, Region, Passed: ($$v | all)}' \
		"$$d/test-results.jsonl"); \
	printf '%s\n' "$$verdicts" | $(JQ) -c 'select(.Passed) | del(.Passed)' \
	| $(amicycle_tag) -t Tested=passed -t "TestedAt=$$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$$d/test-tagged.jsonl"; \
	printf '%s\n' "$$verdicts" | $(JQ) -c 'select(.Passed | not) | del(.Passed)' \
	| $(amicycle_tag) -t Tested=failed >>"$$d/test-tagged.jsonl"; \
	if [ $$status != 0 ]; then \
		$(call amicycle_say,image-test: FAILED: nothing will be promoted; see $$d/test-results.jsonl); \
		exit $$status; \
	fi; \
	cp $< $@.tmp && mv $@.tmp $@

image-test: $(AMICYCLE_DIR)/tested.jsonl
	$(amicycle_q)$(call amicycle_say,image-test: passed: $$(wc -l <$<) image(s) in $<)
	$(amicycle_q)$(amicycle_summary)
endif
