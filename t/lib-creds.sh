# lib-creds.sh: helpers for the t21xx credential tests, sourced after test-lib.sh.
#
#   start_creds_stub CONFIG    start t/creds-stub.py (STS, IMDSv2, container credentials) on a free
#                              loopback port, stopped when the script ends; sets STUB (its URL)
#   probe ARGS...              build/t/creds-probe ARGS, stdout to out, stderr to err
#   test_no_secrets            no secret or token in any *.out or *.err file of the scratch dir
#
# For the tests that run against the local EC2 endpoint (lib-ec2.sh) instead of the stub:
#   ec2_creds_seed             writes seed.json (one image, one web identity token) and expect.ids,
#                              and the token file token
#   images ARGS...             ec2-describe images --owner self ARGS: stdout in out, the ids in ids,
#                              stderr in err
#   webid CMD...               CMD with web identity from the environment (token, a role), no keys
#
# Every secret and token the tests use contains "Sekrit" or "Tokn", the stub's included.
# CREDS_PROBE=PATH runs PATH instead of the probe: a script that execs valgrind on it, say.

PROBE=${CREDS_PROBE:-$AMICYCLE_BUILD/t/creds-probe}

start_creds_stub () {
	rm -f stub.port
	: >stub.log
	"$PYTHON" "$SRC_DIR/t/creds-stub.py" "$1" stub.port stub.log 2>stub.stderr &
	stub_pid=$!
	test_atexit "kill $stub_pid"
	n_=0
	while [ ! -s stub.port ]; do
		if ! kill -0 $stub_pid 2>/dev/null || [ $n_ -ge 200 ]; then
			echo "creds-stub.py did not start:" >&2
			cat stub.stderr >&2
			return 1
		fi
		n_=$((n_ + 1))
		sleep 0.05
	done
	STUB=http://127.0.0.1:$(cat stub.port)
}

# probe NAME ARGS...: runs creds-probe with ARGS; its output in NAME.out and NAME.err.
probe () {
	name_=$1
	shift
	"$PROBE" "$@" >"$name_.out" 2>"$name_.err"
}

test_no_secrets () {
	if grep -l -e Sekrit -e Tokn ./*.out ./*.err >leaks 2>/dev/null; then
		echo "secrets or tokens in:" >&2
		cat leaks >&2
		return 1
	fi
	ls ./*.out ./*.err >/dev/null
}

ec2_creds_seed () {
	jq -n '{WebIdentityTokens: ["amicycle-secret-oidc-token-1"],
		Regions: {"us-east-1": {Images: [{ImageId: "ami-00000000000000001", Name: "one",
			CreationDate: "2024-01-01T00:00:00.000Z"}]}}}' >seed.json &&
	echo ami-00000000000000001 >expect.ids &&
	printf %s amicycle-secret-oidc-token-1 >token
}

images () {
	ec2-describe images --owner self "$@" >out 2>err &&
	jq -r .ImageId out >ids
}

webid () {
	(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY &&
	 AWS_WEB_IDENTITY_TOKEN_FILE=$TRASH/token AWS_ROLE_ARN=arn:aws:iam::123456789012:role/ci \
	 AWS_ROLE_SESSION_NAME=ci-run "$@")
}
