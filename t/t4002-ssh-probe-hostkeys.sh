#!/bin/bash
# ssh-probe: host keys from known_hosts files, and trust on first use only when asked.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-sshd.sh

test_have_prereq SSHD || test_skip_all 'no /usr/sbin/sshd'

probe () {
	ssh-probe -u "$SSHD_USER" -i "$SSHD_USER_KEY" --port "$SSHD_PORT" --timeout 20s \
		-c "echo in" "$@" inst.jsonl
}

fp () {
	ssh-keygen -l -f "$1" | cut -d" " -f2
}

key () {
	cut -d" " -f1,2 "$1"
}

test_expect_success 'setup' '
	sshd_setup &&
	sshd_start &&
	echo "{\"InstanceId\":\"i-0a1b2c3d\",\"PublicIpAddress\":\"127.0.0.1\"}" >inst.jsonl &&
	ED_FP=$(fp "$SSHD_HOSTKEY_PUB") &&
	EC_FP=$(fp "$SSHD_DIR/host_ecdsa.pub") &&
	ssh-keygen -q -t ed25519 -N "" -f impostor &&
	IMPOSTOR_FP=$(fp impostor.pub)
'

test_expect_success 'a known_hosts file with both of the server'\''s keys' '
	probe --known-hosts "$SSHD_KNOWN_HOSTS" >out 2>err &&
	jq -s -e "map(select(.Check == \"ssh\")) | length == 1 and all(.[]; .Passed)" out &&
	test_line_count = 0 err
'

test_expect_success 'only the ED25519 key known: that key is negotiated (libssh2 would pick ECDSA)' '
	echo "[127.0.0.1]:$SSHD_PORT $(key "$SSHD_HOSTKEY_PUB")" >kh-ed &&
	probe --known-hosts kh-ed >out &&
	jq -r "select(.Check == \"ssh\") | .HostKey" out >actual &&
	echo "$ED_FP" >expect &&
	test_cmp expect actual
'

test_expect_success 'only the ECDSA key known' '
	echo "[127.0.0.1]:$SSHD_PORT $(key "$SSHD_DIR/host_ecdsa.pub")" >kh-ec &&
	probe --known-hosts kh-ec >out &&
	jq -r "select(.Check == \"ssh\") | .HostKey" out >actual &&
	echo "$EC_FP" >expect &&
	test_cmp expect actual
'

test_expect_success 'hashed host names, as ssh-keygen -H writes them' '
	cp "$SSHD_KNOWN_HOSTS" kh-hashed &&
	ssh-keygen -H -f kh-hashed 2>/dev/null &&
	test_grep -v 127.0.0.1 kh-hashed &&
	probe --known-hosts kh-hashed >out &&
	jq -s -e "map(select(.Check == \"ssh\")) | length == 1 and all(.[]; .Passed)" out
'

test_expect_success 'keys for the same address on port 22 are not keys for another port' '
	sed "s/^\\[127.0.0.1\\]:$SSHD_PORT /127.0.0.1 /" "$SSHD_KNOWN_HOSTS" >kh-other &&
	test_grep "^127.0.0.1 ssh-ed25519" kh-other &&
	test_expect_code 1 probe --known-hosts kh-other >out 2>err &&
	test_grep "^ssh-probe: i-0a1b2c3d: no host key for 127.0.0.1:$SSHD_PORT in kh-other (it presented ECDSA $EC_FP)" err &&
	jq -r ".Reason" out >actual &&
	printf "%s\n" "no host key for 127.0.0.1:$SSHD_PORT in kh-other (it presented ECDSA $EC_FP)" \
		"not run: ssh failed" >expect &&
	test_cmp expect actual
'

test_expect_success 'a different key on file: refused, both fingerprints shown, nothing run' '
	echo "[127.0.0.1]:$SSHD_PORT $(key impostor.pub)" >kh-wrong &&
	test_expect_code 1 probe --known-hosts kh-wrong >out 2>err &&
	msg="host key mismatch: 127.0.0.1:$SSHD_PORT presented ED25519 $ED_FP; kh-wrong has ED25519 $IMPOSTOR_FP" &&
	test_grep "^ssh-probe: i-0a1b2c3d: $msg\$" err &&
	jq -c "[.Check, .Passed, .Reason, .ExitStatus]" out >actual &&
	cat >expect <<-EOF &&
	["ssh",false,"$msg",null]
	["echo in",false,"not run: ssh failed",null]
	EOF
	test_cmp expect actual
'

test_expect_success 'a key of a type the server lacks: refused with the key it does have' '
	ssh-keygen -q -t ecdsa -b 384 -N "" -f impostor384 &&
	echo "[127.0.0.1]:$SSHD_PORT $(key impostor384.pub)" >kh-type &&
	test_expect_code 1 probe --known-hosts kh-type >out 2>err &&
	test_grep "host key mismatch: 127.0.0.1:$SSHD_PORT presented .* SHA256:.*; kh-type has ECDSA $(fp impostor384.pub)" err
'

test_expect_success 'a revoked key is refused even where the host lists it' '
	echo "[127.0.0.1]:$SSHD_PORT $(key "$SSHD_HOSTKEY_PUB")" >kh-revoked-ed &&
	echo "@revoked * $(key "$SSHD_HOSTKEY_PUB")" >>kh-revoked-ed &&
	test_expect_code 1 probe --known-hosts kh-revoked-ed >out 2>err &&
	test_grep "host key revoked: 127.0.0.1:$SSHD_PORT presented ED25519 $ED_FP, revoked in kh-revoked-ed" err
'

test_expect_success '--accept-new alone: accepted, and said on stderr with the fingerprint' '
	probe --accept-new >out 2>err &&
	jq -s -e "map(select(.Check == \"ssh\")) | length == 1 and all(.[]; .Passed)" out &&
	test_grep "^ssh-probe: i-0a1b2c3d: 127.0.0.1:$SSHD_PORT: accepted .* key SHA256:.* on first use (--accept-new)" err
'

test_expect_success '--accept-new with a known_hosts file that does not exist yet: made, then used' '
	probe --known-hosts kh-new --accept-new >out 2>err &&
	test_grep "accepted .* on first use, added to kh-new" err &&
	test_line_count = 1 kh-new &&
	test_grep "^\\[127.0.0.1\\]:$SSHD_PORT " kh-new &&
	probe --known-hosts kh-new >out 2>err &&
	test_line_count = 0 err &&
	jq -s -e "map(select(.Check == \"ssh\")) | length == 1 and all(.[]; .Passed)" out
'

test_expect_success '--accept-new adds unknown hosts to a file, after its last line' '
	printf "somewhere.example %s" "$(key impostor.pub)" >kh-grow &&
	probe --known-hosts kh-grow --accept-new >out 2>err &&
	test_line_count = 2 kh-grow &&
	test_grep "^somewhere.example ssh-ed25519 " kh-grow &&
	test_grep "^\\[127.0.0.1\\]:$SSHD_PORT " kh-grow
'

test_expect_success '--accept-new never accepts a key that differs from the file'\''s' '
	cp kh-wrong kh-wrong-copy &&
	test_expect_code 1 probe --known-hosts kh-wrong --accept-new >out 2>err &&
	test_grep "host key mismatch: .*; kh-wrong has ED25519 $IMPOSTOR_FP" err &&
	test_cmp kh-wrong-copy kh-wrong
'

test_done
