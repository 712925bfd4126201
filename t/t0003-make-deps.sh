#!/bin/bash
# make deps on a real machine: apt-get waits for the dpkg lock rather than failing at once, the
# package names hold on each supported release, and a test tool the archive lacks (awscli on
# Ubuntu, packer where it is gone) is named and skipped, never an install that fails whole.
# apt-get, apt-cache, dpkg-query and id are stand-ins here: nothing is installed.

. "$(dirname "$0")"/test-lib.sh

deps () {
	PATH=$TRASH/bin:$PATH make --no-print-directory -C "$SRC_DIR" "$@"
}

test_expect_success 'make -n deps: update and install wait up to 10 minutes for the dpkg lock' '
	make --no-print-directory -C "$SRC_DIR" -n deps >out &&
	test_grep "apt-get -o DPkg::Lock::Timeout=600 update" out &&
	test_grep "apt-get -o DPkg::Lock::Timeout=600 install -y" out
'

# MISSING: the packages dpkg does not have; NOT_IN_ARCHIVE: those apt-cache cannot show; FAKE_UID.
test_expect_success 'stand-ins for apt-get, apt-cache, dpkg-query and id' '
	mkdir bin &&
	cat >bin/dpkg-query <<-\EOF &&
	#!/bin/sh
	for p; do :; done
	case " $MISSING " in *" $p "*) exit 1 ;; esac
	echo "install ok installed"
	EOF
	cat >bin/apt-cache <<-\EOF &&
	#!/bin/sh
	for p; do :; done
	case " $NOT_IN_ARCHIVE " in *" $p "*) exit 100 ;; esac
	echo "Package: $p"
	EOF
	cat >bin/apt-get <<-EOF &&
	#!/bin/sh
	echo "\$DEBIAN_FRONTEND apt-get \$*" >>"$TRASH/apt.log"
	EOF
	printf "#!/bin/sh\necho \${FAKE_UID:-0}\n" >bin/id &&
	chmod +x bin/*
'

test_expect_success 'nothing missing: no apt-get at all' '
	MISSING= deps deps >out 2>err &&
	! test -e apt.log &&
	test_line_count = 0 err
'

test_expect_success 'as root on Debian: one update, then one install of what is missing, awscli included' '
	MISSING="libinih-dev valgrind awscli" deps deps OS_ID=debian >out 2>err &&
	cat >expect <<-\EOF &&
	noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq
	noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends libinih-dev valgrind awscli
	EOF
	test_cmp expect apt.log &&
	test_grep "deps: installing libinih-dev valgrind awscli" out
'

test_expect_success 'as root on Ubuntu: no awscli asked for; packer, absent from the archive, is named and skipped' '
	rm -f apt.log &&
	MISSING="jq packer awscli" NOT_IN_ARCHIVE=packer deps deps OS_ID=ubuntu >out 2>err &&
	cat >expect <<-\EOF &&
	noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq
	noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends jq
	EOF
	test_cmp expect apt.log &&
	echo "deps: packer is not in this release'"'"'s archive; the tests that need it skip" >expect &&
	test_cmp expect err
'

test_expect_success 'not root: the command to run, and a failure; optional tools alone are only named' '
	rm -f apt.log &&
	FAKE_UID=1000 MISSING="gcc packer" test_expect_code 2 deps deps OS_ID=debian >out 2>err &&
	test_grep "^deps: missing packages; run: sudo apt-get install gcc $" err &&
	FAKE_UID=1000 MISSING="packer awscli" deps deps OS_ID=debian >out 2>err &&
	test_grep "^deps: optional test tools not installed: packer awscli (the tests that need them skip)" err &&
	! test -e apt.log
'

test_expect_success 'deps-build, deps-demo and deps-bench ask only for their own packages' '
	MISSING="gcc valgrind packer openssh-server" deps deps-build >out 2>err &&
	test_grep "install -y -qq --no-install-recommends gcc$" apt.log &&
	rm -f apt.log &&
	MISSING="gcc valgrind packer openssh-server" deps deps-demo >out 2>err &&
	test_grep "install -y -qq --no-install-recommends gcc openssh-server$" apt.log &&
	rm -f apt.log &&
	MISSING="gcc valgrind hyperfine awscli" deps deps-bench OS_ID=debian >out 2>err &&
	test_grep "install -y -qq --no-install-recommends gcc hyperfine awscli$" apt.log
'

test_done
