#!/bin/bash
# ssh-probe interrupted: its probes go through the queue every filter's calls go through
# (lib/core/runq.h). The probe running finishes with its real outcome, those not started are
# printed as interrupted, a probe still waiting for SSH stops waiting, and the program dies by
# the signal.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-sshd.sh

test_have_prereq SSHD || test_skip_all 'no /usr/sbin/sshd'

test_expect_success 'setup: an sshd, three instances on it' '
	sshd_setup && sshd_start &&
	for i in 1 2 3; do
		echo "{\"InstanceId\":\"i-0000000$i\",\"PublicIpAddress\":\"127.0.0.1\"}" || return 1
	done >three.jsonl
'

test_expect_success 'SIGTERM while the first check runs: it finishes, the others are interrupted' '
	rm -f started &&
	{ ssh-probe -u "$SSHD_USER" -i "$SSHD_USER_KEY" --port "$SSHD_PORT" \
		--known-hosts "$SSHD_KNOWN_HOSTS" -P 1 \
		-c "touch $TRASH/started; sleep 2; echo slow" three.jsonl >out 2>err & } &&
	pid=$! &&
	i=0 && while ! [ -e started ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done &&
	kill -TERM $pid &&
	{ wait $pid; rc=$?; } &&
	test $rc = 143 &&
	jq -r "[.InstanceId, .Check, .Passed, .Reason // \"-\"] | @tsv" out | sort >actual &&
	cat >expect <<-EOF &&
	i-00000001	ssh	true	-
	i-00000001	touch $TRASH/started; sleep 2; echo slow	true	-
	i-00000002	ssh	false	interrupted before the probe started
	i-00000002	touch $TRASH/started; sleep 2; echo slow	false	interrupted before the probe started
	i-00000003	ssh	false	interrupted before the probe started
	i-00000003	touch $TRASH/started; sleep 2; echo slow	false	interrupted before the probe started
	EOF
	test_cmp expect actual &&
	test "$(jq -r "select(.InstanceId == \"i-00000001\" and .Check != \"ssh\") | .Stdout" out)" = slow
'

test_expect_success 'SIGHUP while a probe waits for SSH: it stops waiting' '
	echo "{\"InstanceId\":\"i-0000000a\",\"PublicIpAddress\":\"127.0.0.1\"}" >down.jsonl &&
	{ ssh-probe -u "$SSHD_USER" -i "$SSHD_USER_KEY" --port 1 \
		--known-hosts "$SSHD_KNOWN_HOSTS" --timeout 5m -c true down.jsonl >out 2>err & } &&
	pid=$! &&
	sleep 1 &&
	kill -$HUP_SIG $pid &&
	{ wait $pid; rc=$?; } &&
	test $rc = $HUP_RC &&
	jq -r "[.Check, .Passed, .Reason] | @tsv" out >actual &&
	printf "%s\n" "ssh	false	interrupted while waiting for SSH on 127.0.0.1:1" \
		"true	false	not run: ssh failed" >expect &&
	test_cmp expect actual
'

test_done
