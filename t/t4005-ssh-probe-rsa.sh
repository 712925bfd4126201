#!/bin/bash
# ssh-probe: RSA host keys (only the algorithms libssh2 has are offered) and RSA user keys (refused
# before any connection where libssh2 can sign them with SHA-1 only).
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-sshd.sh

test_have_prereq SSHD || test_skip_all 'no /usr/sbin/sshd'

# libssh2 before 1.11 has neither rsa-sha2-256 nor rsa-sha2-512, for host keys or user keys.
case "$(pkg-config --modversion libssh2 2>/dev/null)" in
1.[0-9].*|1.10.*) test_set_prereq SHA1_RSA_ONLY ;;
esac

probe () {
	ssh-probe -u "$SSHD_USER" --port "$SSHD_PORT" --timeout 10s -c "echo in" "$@" inst.jsonl
}

fp () {
	ssh-keygen -l -f "$1" | cut -d" " -f2
}

# rsa_only_sshd [CONFIG-LINE]: restarts sshd with the RSA host key alone.
rsa_only_sshd () {
	sshd_stop &&
	sed "/^HostKey .*host_ed25519\$/d; /^HostKey .*host_ecdsa\$/d; /^HostKeyAlgorithms/d" \
		"$SSHD_DIR/sshd_config" >"$SSHD_DIR/sshd_config.new" &&
	if [ -n "$1" ]; then echo "$1" >>"$SSHD_DIR/sshd_config.new"; fi &&
	mv "$SSHD_DIR/sshd_config.new" "$SSHD_DIR/sshd_config" &&
	sshd_start
}

test_expect_success 'setup' '
	sshd_setup &&
	sshd_start &&
	echo "{\"InstanceId\":\"i-0a1b2c3d\",\"PublicIpAddress\":\"127.0.0.1\"}" >inst.jsonl &&
	echo "[127.0.0.1]:$SSHD_PORT $(cut -d" " -f1,2 "$SSHD_HOSTKEY_RSA_PUB")" >kh-rsa &&
	RSA_FP=$(fp "$SSHD_HOSTKEY_RSA_PUB")
'

test_expect_success 'known_hosts lists the RSA key first: the other keys still pass' '
	cat kh-rsa "$SSHD_KNOWN_HOSTS" >kh-all &&
	probe -i "$SSHD_USER_KEY" --known-hosts kh-all >out 2>err &&
	jq -s -e "map(select(.Check == \"ssh\")) | length == 1 and all(.[]; .Passed)" out &&
	test_line_count = 0 err
'

test_expect_success 'a server whose only host key is RSA, offered as ssh-rsa too: verified and passed' '
	rsa_only_sshd "HostKeyAlgorithms +ssh-rsa" &&
	probe -i "$SSHD_USER_KEY" --known-hosts kh-rsa >out 2>err &&
	jq -r "select(.Check == \"ssh\") | .HostKey" out >actual &&
	echo "$RSA_FP" >expect &&
	test_cmp expect actual &&
	jq -s -e "length == 2 and all(.[]; .Passed)" out &&
	test_line_count = 0 err
'

test_expect_success SHA1_RSA_ONLY 'an RSA-only server that refuses ssh-rsa: no algorithm in common, exit 1, no crash' '
	rsa_only_sshd &&
	test_expect_code 1 probe -i "$SSHD_USER_KEY" --known-hosts kh-rsa >out 2>err &&
	jq -s -e "map(select(.Check == \"ssh\")) | length == 1 and (.[0].Passed | not)" out &&
	test_grep "^ssh-probe: i-0a1b2c3d: .*SSH handshake" err
'

test_expect_success SHA1_RSA_ONLY 'an RSA user key: exit 1 before any connection, naming the fix' '
	ssh-keygen -q -t rsa -b 2048 -N "" -f user_rsa &&
	ssh-keygen -q -t rsa -b 2048 -m PEM -N "" -f user_rsa_pem &&
	head -1 user_rsa_pem | test_grep "BEGIN RSA PRIVATE KEY" - &&
	n=$(grep -c "Connection from" "$SSHD_DIR/sshd.log") &&
	for k in user_rsa user_rsa_pem; do
		test_expect_code 1 probe -i $k --known-hosts kh-rsa >out 2>err &&
		test_line_count = 0 out &&
		test_line_count = 1 err &&
		test_grep "^ssh-probe: $k: an RSA key, .*: use an ED25519 key pair (EC2 supports them) or libssh2 1.11 or later\$" err ||
		return 1
	done &&
	test "$(grep -c "Connection from" "$SSHD_DIR/sshd.log")" = "$n"
'

test_done
