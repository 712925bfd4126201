#!/bin/bash
# The build: lib/ is in layers (core, json, aws, ec2, ssh) and an include that points up the stack
# fails to compile; make CFLAGS=... keeps the language, the warnings and the sanitizers.

. "$(dirname "$0")"/test-lib.sh

# A copy of what builds lib/, so that a planted include changes nothing in the tree under test.
test_expect_success 'a copy of lib/ and the Makefile builds an object of each layer' '
	mkdir src &&
	mkdir -p src/t/fuzz && cp "$SRC_DIR/t/fuzz/fuzz.mk" src/t/fuzz/ &&
	cp -R "$SRC_DIR/lib" "$SRC_DIR/Makefile" src/ &&
	for o in core/util json/jsonl aws/http ec2/ec2 ssh/ssh; do
		make -s -C src B=b CFLAGS=-O0 b/lib/$o.o >out 2>err || { cat err; return 1; }
	done
'

# plant LAYER/FILE HEADER: adds #include "HEADER" to lib/LAYER/FILE.c of the copy and builds it.
plant() {
	rm -rf bad && cp -R src bad && rm -rf bad/b &&
	sed -i "1a #include \"$2\"" "bad/lib/$1.c" &&
	test_expect_code 2 make -s -C bad B=b CFLAGS=-O0 "b/lib/$1.o" >out 2>err &&
	test_grep "$2: No such file" err
}

test_expect_success 'core includes nothing above it' '
	plant core/util jsonl.h && plant core/out http.h && plant core/timefmt ec2.h &&
	plant core/clock ssh.h
'

test_expect_success 'json includes neither aws nor ec2 nor ssh' '
	plant json/jsonl http.h && plant json/reckey ec2.h && plant json/dated hostkey.h
'

test_expect_success 'aws includes neither json nor ec2 nor ssh' '
	plant aws/creds jsonl.h && plant aws/http ec2.h && plant aws/audit ssh.h
'

test_expect_success 'ssh includes neither the AWS nor the EC2 layer' '
	plant ssh/ssh http.h && plant ssh/hostkey ec2.h
'

test_expect_success 'the headers an object was built from are its dependencies (-MMD -MP)' '
	test_grep "lib/core/util.h" src/b/lib/core/util.d &&
	touch src/lib/core/util.h &&
	make -s -C src B=b CFLAGS=-O0 -n b/lib/core/util.o >out &&
	test_grep "lib/core/util.c" out
'

test_expect_success 'make CFLAGS=... keeps -std=c11, the warnings and -Werror' '
	make -s -C "$SRC_DIR" -n -B B="$TRASH/b" CFLAGS=-O0 "$TRASH/b/lib/core/util.o" >out &&
	test_grep " -O0" out && test_grep " -std=c11" out && test_grep " -Wall" out &&
	test_grep " -Werror" out && test_grep " -Wmissing-prototypes" out
'

test_expect_success 'make SANITIZE=1 CFLAGS=... LDFLAGS=... keeps the sanitizers' '
	make -s -C "$SRC_DIR" -n -B B="$TRASH/b" SANITIZE=1 CFLAGS=-O0 LDFLAGS=-L/nonexistent \
		"$TRASH/b/bin/sort-by-date" >out &&
	test_grep " -fsanitize=address,undefined.*-c -o $TRASH/b/lib/core/util.o" out &&
	grep -e "-o $TRASH/b/bin/sort-by-date " out >link &&
	test_grep " -fsanitize=address,undefined" link && test_grep " -L/nonexistent" link
'

test_expect_success 'the layers are linked highest first' '
	grep -e "-o $TRASH/b/bin/sort-by-date " out >link &&
	sed "s/.*sort-by-date\.o //; s/ -ljq.*//" link >order &&
	echo "$TRASH/b/lib/libssh.a $TRASH/b/lib/libec2.a $TRASH/b/lib/libaws.a $TRASH/b/lib/libjson.a $TRASH/b/lib/libcore.a" >expect &&
	test_cmp expect order
'

test_done
