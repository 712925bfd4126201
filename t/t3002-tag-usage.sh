#!/bin/bash
# tag's options: what EC2 would refuse (reserved keys, lengths, too many tags) and what makes no
# sense (nothing to do, a key both set and deleted) is a usage error before any input or call.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh
. "$TEST_DIR"/lib-mutate.sh

echo '{"ImageId":"ami-0a000000000000001","Region":"us-east-1"}' >in.jsonl

k128=$(printf 'k%.0s' $(seq 128))
v256=$(printf 'v%.0s' $(seq 256))
e128=$(printf '\303\251%.0s' $(seq 128))	# 128 characters, 256 bytes
many50=$(for i in $(seq 50); do printf -- '-t k%d=v ' "$i"; done)

# usage_error PATTERN ARGS...: tag ARGS in.jsonl is a usage error (exit 2, PATTERN), and calls nothing.
usage_error () {
	expect_usage_error "$1" tag "${@:2}" in.jsonl
}

test_expect_success 'start the local EC2 endpoint' '
	ec2_start
'

test_expect_success 'neither -t nor --delete: nothing to do, and how to get help' '
	usage_error "^tag: nothing to do: give -t KEY=VALUE or --delete KEY$" --snapshots &&
	test_grep "^Try '\''tag --help'\''$" err
'

test_expect_success '-t without "=" or with an empty key' '
	usage_error "^tag: -t '\''Stage'\'': expected KEY=VALUE$" -t Stage &&
	usage_error "^tag: -t '\''=x'\'': empty key$" -t =x &&
	usage_error "^tag: --delete '\''=x'\'': empty key$" --delete =x
'

test_expect_success 'keys starting aws: are reserved, in any case' '
	usage_error "^tag: -t '\''aws:x'\'': keys starting aws: are reserved$" -t aws:x=1 &&
	usage_error "^tag: -t '\''AWS:x'\'': keys starting aws: are reserved$" -t AWS:x=1 &&
	usage_error "^tag: --delete '\''aws:cloudformation:stack-name'\'': keys starting aws: are reserved$" \
		--delete aws:cloudformation:stack-name
'

test_expect_success 'keys up to 128 characters, values up to 256, counted in characters' '
	tag --dry-run -t "$k128=$v256" -t "$e128=$e128" </dev/null >out &&
	test_line_count = 0 out &&
	usage_error "^tag: -t: key longer than 128 characters$" -t "${k128}x=1" &&
	usage_error "^tag: -t '\''k'\'': value longer than 256 characters$" -t "k=${v256}x" &&
	usage_error "^tag: --delete: key longer than 128 characters$" --delete "${e128}x"
'

test_expect_success 'at most 50 tags set at once' '
	tag --dry-run $many50 </dev/null >out &&
	usage_error "^tag: -t: 51 tags; EC2 allows 50 on a resource$" $many50 -t k51=v
'

test_expect_success 'a key given twice, or both set and deleted' '
	usage_error "^tag: -t: key '\''Stage'\'' given twice$" -t Stage=a -t Stage=b &&
	usage_error "^tag: key '\''Stage'\'' both set (-t) and deleted (--delete)$" -t Stage=a --delete Stage &&
	usage_error "^tag: key '\''Stage'\'' both set (-t) and deleted (--delete)$" --delete Stage=a -t Stage=a
'

test_expect_success 'an argument that is not UTF-8' '
	usage_error "^tag: -t: not valid UTF-8$" -t "$(printf "k=\377")"
'

test_expect_success 'bad -P and --endpoint-url' '
	usage_error "^tag: -P: bad value '\''0'\''" -P 0 -t a=1 &&
	usage_error "^tag: -P: bad value '\''x'\''" -P x -t a=1 &&
	usage_error "^tag: endpoint URL '\''ftp://x'\'': not http:// or https://$" --endpoint-url ftp://x -t a=1
'

test_expect_success 'an input file that cannot be read: exit 1, no call' '
	ec2_reset_counts &&
	test_expect_code 1 tag -t a=1 no-such-file >out 2>err &&
	test_line_count = 0 out &&
	test_grep "^tag: no-such-file" err &&
	test "$(ec2_total)" = 0
'

test_done
