#!/bin/bash
# ssh-probe: waiting for SSH to come up, giving up at --timeout, and the progress line.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-sshd.sh

test_have_prereq SSHD || test_skip_all 'no /usr/sbin/sshd'

probe () {
	ssh-probe -u "$SSHD_USER" -i "$SSHD_USER_KEY" --port "$SSHD_PORT" \
		--known-hosts "$SSHD_KNOWN_HOSTS" -c "echo up" "$@"
}

test_expect_success 'setup: an sshd configured, not started' '
	sshd_setup &&
	echo "{\"InstanceId\":\"i-0a1b2c3d\",\"PublicIpAddress\":\"127.0.0.1\"}" >inst.jsonl
'

test_expect_success 'never up: gives up at --timeout, exit 1, fails closed' '
	test_expect_code 1 probe --timeout 2s inst.jsonl >out 2>err &&
	jq -r .Reason out >actual &&
	cat >expect <<-EOF &&
	no SSH on 127.0.0.1:$SSHD_PORT after 2s: connect: Connection refused
	not run: ssh failed
	EOF
	test_cmp expect actual &&
	echo "ssh-probe: i-0a1b2c3d: no SSH on 127.0.0.1:$SSHD_PORT after 2s: connect: Connection refused" >expect &&
	test_cmp expect err
'

test_expect_success 'on a terminal, the progress line is rewritten in place' '
	(unset AMICYCLE_PROGRESS &&
	 test_expect_code 1 script -qec "ssh-probe -u $SSHD_USER -i $SSHD_USER_KEY --port $SSHD_PORT --known-hosts $SSHD_KNOWN_HOSTS --timeout 2s inst.jsonl 2>&1" /dev/null >tty) &&
	test_grep "$(printf "\r\033")\[Kssh-probe: 0 of 1 done, 1 waiting for SSH (i-0a1b2c3d) [0-9]s / 2s" tty &&
	test_grep "ssh-probe: i-0a1b2c3d: no SSH" tty
'

test_expect_success 'SSH not up yet, then up: it waits, then checks; plain progress lines' '
	sshd_start_later 2 &&
	(unset AMICYCLE_PROGRESS && probe --timeout 30s inst.jsonl >out 2>err) &&
	jq -c "[.Check, .Passed]" out >actual &&
	printf "[\"ssh\",true]\n[\"echo up\",true]\n" >expect &&
	test_cmp expect actual &&
	# Not a terminal: a line at each change (the instance queued, waiting, done).
	sed "s/ [0-9hms]* \/ / T \/ /" err >lines &&
	grep -x -F "ssh-probe: 0 of 1 done, 1 waiting for SSH (i-0a1b2c3d) T / 30s" lines &&
	tail -n 1 lines >actual &&
	echo "ssh-probe: 1 of 1 done T / 30s" >expect &&
	test_cmp expect actual &&
	{ grep -v "^ssh-probe: [01] of 1 done" lines >other || :; } &&
	test_line_count = 0 other
'

test_expect_success 'one instance up (the sshd started above), one not: both reported, exit 1' '
	echo "{\"InstanceId\":\"i-0b2c3d4e\",\"PublicIpAddress\":\"127.0.0.2\"}" >>inst.jsonl &&
	# Long enough for the instance that is up, even on a loaded machine.
	test_expect_code 1 probe --timeout 5s inst.jsonl >out 2>err &&
	jq -r "[.InstanceId, .Check, .Passed] | @tsv" out | sort >actual &&
	printf "i-0a1b2c3d\techo up\ttrue\ni-0a1b2c3d\tssh\ttrue\ni-0b2c3d4e\techo up\tfalse\ni-0b2c3d4e\tssh\tfalse\n" >expect &&
	test_cmp expect actual &&
	test_grep "^ssh-probe: i-0b2c3d4e: no SSH on 127.0.0.2:$SSHD_PORT after 5s" err
'

test_expect_success 'a server that stalls in the key exchange: given up at --timeout' '
	cat >stall.py <<-\EOF &&
	# Relays to sshd, but passes on only the start of what sshd says (its banner and KEXINIT).
	import socket, sys, threading
	up, limit = int(sys.argv[1]), int(sys.argv[2])
	s = socket.socket()
	s.bind(("127.0.0.1", 0))
	s.listen(5)
	open("stall.port.tmp", "w").write(str(s.getsockname()[1]))
	import os; os.rename("stall.port.tmp", "stall.port")
	def pump(a, b, lim):
	    n = 0
	    try:
	        while True:
	            d = a.recv(4096)
	            if not d:
	                break
	            if lim is not None:
	                d = d[:max(0, lim - n)]
	            n += len(d)
	            if d:
	                b.sendall(d)
	    except OSError:
	        pass
	while True:
	    c, _ = s.accept()
	    r = socket.create_connection(("127.0.0.1", up))
	    threading.Thread(target=pump, args=(c, r, None), daemon=True).start()
	    threading.Thread(target=pump, args=(r, c, limit), daemon=True).start()
	EOF
	{ "$PYTHON" stall.py "$SSHD_PORT" 1200 & } &&
	stall_pid=$! &&
	test_atexit "kill $stall_pid" &&
	i=0 && while ! [ -s stall.port ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done &&
	head -n 1 inst.jsonl >one.jsonl &&
	test_expect_code 1 ssh-probe -u "$SSHD_USER" -i "$SSHD_USER_KEY" --port "$(cat stall.port)" \
		--known-hosts "$SSHD_KNOWN_HOSTS" --timeout 2s one.jsonl >out 2>err &&
	jq -r "select(.Check == \"ssh\") | .Reason" out >actual &&
	echo "no SSH on 127.0.0.1:$(cat stall.port) after 2s: SSH handshake: timed out" >expect &&
	test_cmp expect actual
'

test_done
