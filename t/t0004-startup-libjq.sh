#!/bin/bash
# Start-up (issue 14): the offline filters set up libjq's interpreter (jq_init, jq_compile) only
# for a key that needs it, never for a path key, --help, --version or a usage error; and the AWS
# filters do not read the AWS config files for --help, --version or a usage error. The calls are
# seen through t/preload/jq-calls.c, an LD_PRELOAD shim that logs them; no timing.
. "$(dirname "$0")"/test-lib.sh

shim=$AMICYCLE_BUILD/t/jq-calls.so
[ -f "$shim" ] || test_skip_all "no $shim: run make"

# A sanitized filter refuses to start with a library loaded ahead of the ASan runtime; the shim
# touches no memory the sanitizers track, so it is told to accept it.
if [ -n "$LSAN_OPTIONS" ]; then
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
	export ASAN_OPTIONS
fi

# jqcalls CMD...: runs CMD with the shim, stdout to out and stderr to err; the calls it made to
# jq_init and jq_compile, a line each, are in calls (empty: none).
jqcalls () {
	rm -f calls && : >calls &&
	LD_PRELOAD=$shim AMICYCLE_JQ_CALLS=$PWD/calls "$@" >out 2>err
}

# no_jq: CMD made no call to libjq's interpreter.
no_jq () {
	test_line_count = 0 calls
}

test_expect_success 'setup: one image record, and a manifest' '
	cat >one <<-\EOF &&
	{"ImageId":"ami-0123456789abcdef0","Region":"us-east-1","CreationDate":"2024-05-01T12:00:00.000Z","Name":"web-1","Tags":[{"Key":"Role","Value":"web"},{"Key":"Built","Value":"2024-05-02T00:00:00Z"}],"Packer":{"BuildTime":"2024-05-01T11:00:00Z"}}
	EOF
	cp "$SHARED/samples/packer/legacy-json-template.json" manifest.json
'

test_expect_success 'the shim sees an expression key set libjq up (sort-by-date -k)' '
	jqcalls sort-by-date -k ".Tags | from_entries | .Built" one &&
	test_cmp one out &&
	test_grep "^jq_init$" calls &&
	test_grep "^jq_compile$" calls
'

test_expect_success 'the shim sees an expression group set libjq up (keep-last -g)' '
	jqcalls keep-last -n 1 -g "[.Tags[] | .Value] | first" one &&
	test_line_count = 0 out &&
	test_grep "^jq_init$" calls &&
	test_grep "^jq_compile$" calls
'

test_expect_success 'and a bad expression is still a usage error from jq' '
	jqcalls test_expect_code 2 sort-by-date -k ".Tags | from_entries |" one &&
	test_grep "^sort-by-date: -k: .Tags | from_entries |: " err &&
	test_grep "^jq_compile$" calls
'

test_expect_success 'a one-record sort-by-date (default key) does not set libjq up' '
	jqcalls sort-by-date one &&
	test_cmp one out &&
	no_jq
'

test_expect_success 'nor does a one-record keep-last (default key)' '
	jqcalls keep-last -n 1 --kept one &&
	test_cmp one out &&
	no_jq
'

test_expect_success 'nor paths as keys and groups, nested ones and missing ones' '
	jqcalls sort-by-date -r -k .Packer.BuildTime one &&
	test_cmp one out &&
	no_jq &&
	jqcalls keep-last -n 1 -k .Packer.BuildTime -g .Name --kept one &&
	test_cmp one out &&
	no_jq &&
	jqcalls keep-last -n 1 -g .Packer.Missing.Deeper --explain one &&
	test_grep "\"Reason\":\"newest 1 in group null\"" out &&
	no_jq
'

test_expect_success 'nor a path the scanner cannot read from the bytes (the record is parsed)' '
	printf "{\"Creation\\\\u0044ate\":\"2024-05-01T00:00:00Z\",\"CreationDate\":\"2024-05-03T00:00:00Z\"}\n" >escaped &&
	jqcalls sort-by-date escaped &&
	test_cmp escaped out &&
	no_jq
'

test_expect_success 'nor a path that fails on a record (the message is jq'\''s)' '
	jqcalls test_expect_code 3 sort-by-date -k .Name.First one &&
	echo "sort-by-date: one:1: -k .Name.First: Cannot index string with string \"First\"" >expect &&
	test_cmp expect err &&
	no_jq
'

test_expect_success 'ami-from-manifest | sort-by-date | keep-last: none of the three sets libjq up' '
	jqcalls ami-from-manifest manifest.json &&
	test_line_count = 1 out &&
	no_jq &&
	mv out images &&
	jqcalls sort-by-date -k .Packer.BuildTime images &&
	test_cmp images out &&
	no_jq &&
	jqcalls keep-last -n 0 --allow-zero -k .Packer.BuildTime -g .Packer.BuildName images &&
	test_cmp images out &&
	no_jq
'

for p in sort-by-date keep-last ami-from-manifest; do
	test_expect_success "$p --help, --version and a usage error do not set libjq up" '
		jqcalls "$p" --help &&
		test_grep "^usage: $p" out &&
		jqcalls "$p" --version &&
		test_grep "^$p (amicycle)" out &&
		jqcalls test_expect_code 2 "$p" --no-such-option &&
		no_jq
	'
done

test_expect_success 'nor usage errors found after the options' '
	jqcalls test_expect_code 2 sort-by-date -k ".Tags | from_entries" --undated=never one &&
	no_jq &&
	jqcalls test_expect_code 2 keep-last -n 0 -g ".Tags | from_entries" one &&
	no_jq &&
	jqcalls test_expect_code 2 keep-last --kept --explain -g ".Tags | from_entries" one &&
	no_jq &&
	jqcalls test_expect_code 2 ami-from-manifest manifest.json manifest.json &&
	no_jq
'

# AWS filters: a config file that cannot be parsed makes any filter that reads it exit 1.
printf '[default\nregion = us-east-1\n' >"$AWS_CONFIG_FILE"
awsprogs=$(cd "$SRC_DIR/bin" && for f in *.c; do
	grep -q AWSOPT_HELP "$f" && echo "${f%.c}"; done)

test_expect_success 'the AWS filters fail on the broken config when they read it' '
	test -n "$awsprogs" &&
	test_expect_code 1 ec2-describe images >out 2>err &&
	test_grep "^ec2-describe: .*\.aws-config:1: " err &&
	test_expect_code 1 deregister </dev/null >out 2>err &&
	test_grep "^deregister: .*\.aws-config:1: " err
'

for p in $awsprogs; do
	test_expect_success "$p: --help, --version and usage errors read no AWS config, set no libjq up" '
		jqcalls "$p" --help &&
		test_grep "^usage: $p" out &&
		jqcalls "$p" --version &&
		test_line_count = 0 err &&
		jqcalls test_expect_code 2 "$p" --no-such-option &&
		test_grep -v "aws-config" err &&
		jqcalls test_expect_code 2 "$p" -P 0 &&
		test_grep "^$p: -P: bad value" err &&
		no_jq
	'
done

test_done
