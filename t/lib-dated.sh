# lib-dated.sh: helpers for the sort-by-date and keep-last tests, sourced after test-lib.sh.

# test_ids FILE FIELD VALUE...: the records of FILE have these values of FIELD, in this order.
test_ids () {
	file_=$1 field_=$2
	shift 2
	jq -r ".$field_" "$file_" >"$file_.ids" &&
	printf '%s\n' "$@" >"$file_.want" &&
	test_cmp "$file_.want" "$file_.ids"
}

# dated_records N: N records {"i":I,"CreationDate":…}, one second apart, oldest first.
dated_records () {
	awk -v n="$1" 'BEGIN {
		for (i = 0; i < n; i++)
			printf "{\"i\":%d,\"CreationDate\":\"2024-05-01T%02d:%02d:%02dZ\"}\n",
			    i, int(i / 3600) % 24, int(i / 60) % 60, i % 60
	}'
}

# big_line HEAD TAIL: HEAD, ten million x, TAIL and a newline: a 10 MB line.
big_line () {
	printf '%s' "$1" &&
	head -c 10000000 /dev/zero | tr '\0' x &&
	printf '%s\n' "$2"
}
