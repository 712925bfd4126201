# lib-mutate.sh: checks the tests of every mutating filter share. Source it after lib-ec2.sh:
#
#   ec2_total                         the number of requests the endpoint received since the last reset
#   expect_usage_error PATTERN CMD... CMD exits 2 with PATTERN on stderr and "Try 'NAME --help'"
#                                     last, prints nothing on stdout (left in out and err) and
#                                     sends no request at all
#   bad_line_at_50 GOOD LINE          writes in.jsonl: the first 100 records of GOOD with line 50
#                                     replaced by LINE
#   expect_bad_input FILE:LINE CMD... CMD exits 3 with the one line "NAME: FILE:LINE: ..." on
#                                     stderr, prints nothing on stdout, sends no request at all and
#                                     leaves the endpoint's state as it was

ec2_total () {
	ec2_admin GET /_admin/counts | jq .Total
}

expect_usage_error () {
	mutate_pattern_=$1
	shift
	ec2_reset_counts &&
	test_expect_code 2 "$@" >out 2>err &&
	test_line_count = 0 out &&
	test_grep "$mutate_pattern_" err &&
	tail -n 1 err >err.last &&
	test_grep "^Try '[a-z0-9-]* --help'\$" err.last &&
	test "$(ec2_total)" = 0
}

bad_line_at_50 () {
	head -n 49 "$1" >in.jsonl &&
	printf '%s\n' "$2" >>in.jsonl &&
	sed -n 51,100p "$1" >>in.jsonl &&
	test_line_count = 100 in.jsonl
}

expect_bad_input () {
	mutate_where_=$1
	shift
	ec2_state >state.before &&
	ec2_reset_counts &&
	test_expect_code 3 "$@" >out 2>err &&
	test_line_count = 0 out &&
	test_line_count = 1 err &&
	test_grep "^$1: $mutate_where_: " err &&
	test "$(ec2_total)" = 0 &&
	ec2_state >state.after &&
	test_cmp state.before state.after
}
