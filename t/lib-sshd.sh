# lib-sshd.sh: a real OpenSSH server for the tests, on a free loopback port, keys made per run.
#
#   . "$TEST_DIR"/lib-sshd.sh     (after test-lib.sh; tests that use it need the SSHD prerequisite)
#   sshd_setup                    keys, sshd_config and a console output in $TRASH/sshd; sets
#       SSHD_PORT                 the port it will listen on, at 127.0.0.1
#       SSHD_USER                 the account to log in as: the current user (sshd runs as them)
#       SSHD_USER_KEY             a private key the server accepts ($SSHD_USER_KEY.pub beside it)
#       SSHD_HOSTKEY_PUB          the server's ED25519 host key, a .pub file
#       SSHD_HOSTKEY_RSA_PUB      its RSA host key (OpenSSH 8.8+ offers it as rsa-sha2-* only)
#       SSHD_HOSTKEYS             all its host keys (ED25519, ECDSA, RSA) as .pub lines, in one file
#       SSHD_KNOWN_HOSTS          a known_hosts file naming [127.0.0.1]:$SSHD_PORT with those keys
#       SSHD_CONSOLE              a console output with cloud-init's blocks for those keys
#   sshd_start                    starts it, returns once it listens; it is stopped at exit
#   sshd_start_later SECONDS      starts it that much later, in the background; returns at once
#   sshd_stop                     stops it
#   sshd_console PUBFILE...       prints a console output listing those host keys as cloud-init does
#
# As root, sshd needs its privilege separation directory /run/sshd, which is made if missing.
# Outside the tests (make demo, no $TRASH), set SSHD_DIR first; test_atexit is used when it is defined.
# To play a freshly launched instance for ssh-probe --console, serve the console text from the
# local EC2 endpoint (its instances' address is 127.0.0.1 by default; pass --port $SSHD_PORT):
#   ec2_console default "$(cat "$SSHD_CONSOLE")"

SSHD=/usr/sbin/sshd
if [ -n "$TRASH" ]; then
	SSHD_DIR=$TRASH/sshd
fi
SSHD_PID=

# A port free on 127.0.0.1 now (the kernel's choice; nothing else should take it in between).
sshd_free_port () {
	"${PYTHON:-/usr/bin/python3}" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# sshd_console PUBFILE...: cloud-init's cc_keys_to_console output: syslog-prefixed fingerprints,
# then the keys themselves, amid boot messages.
sshd_console () {
	echo "[    0.000000] Linux version 6.1.0-18-cloud-amd64 (debian-kernel@lists.debian.org)"
	echo "[   11.204117] cloud-init[512]: Cloud-init v. 22.4.2 running 'modules:final'"
	echo "<14>Jun  1 10:00:00 cloud-init: #############################################################"
	echo "<14>Jun  1 10:00:00 cloud-init: -----BEGIN SSH HOST KEY FINGERPRINTS-----"
	for f in "$@"; do
		ssh-keygen -l -f "$f" | sed 's/^/<14>Jun  1 10:00:00 cloud-init: /' || return 1
	done
	echo "<14>Jun  1 10:00:00 cloud-init: -----END SSH HOST KEY FINGERPRINTS-----"
	echo "<14>Jun  1 10:00:00 cloud-init: #############################################################"
	echo "-----BEGIN SSH HOST KEY KEYS-----"
	cat "$@" || return 1
	echo "-----END SSH HOST KEY KEYS-----"
	echo "[   11.532870] cloud-init[512]: Cloud-init v. 22.4.2 finished. Datasource DataSourceEc2Local."
}

sshd_setup () {
	mkdir -p "$SSHD_DIR" &&
	SSHD_PORT=$(sshd_free_port) &&
	SSHD_USER=$(id -un) &&
	SSHD_USER_KEY=$SSHD_DIR/user_ed25519 &&
	SSHD_HOSTKEY_PUB=$SSHD_DIR/host_ed25519.pub &&
	SSHD_HOSTKEY_RSA_PUB=$SSHD_DIR/host_rsa.pub &&
	SSHD_HOSTKEYS=$SSHD_DIR/host_keys.pub &&
	SSHD_KNOWN_HOSTS=$SSHD_DIR/known_hosts &&
	SSHD_CONSOLE=$SSHD_DIR/console.txt &&
	ssh-keygen -q -t ed25519 -N '' -C "root@ip-10-0-0-5" -f "$SSHD_DIR/host_ed25519" &&
	ssh-keygen -q -t ecdsa -N '' -C "root@ip-10-0-0-5" -f "$SSHD_DIR/host_ecdsa" &&
	ssh-keygen -q -t rsa -b 2048 -N '' -C "root@ip-10-0-0-5" -f "$SSHD_DIR/host_rsa" &&
	ssh-keygen -q -t ed25519 -N '' -C "probe@test" -f "$SSHD_USER_KEY" &&
	cp "$SSHD_USER_KEY.pub" "$SSHD_DIR/authorized_keys" &&
	cat "$SSHD_DIR/host_ecdsa.pub" "$SSHD_DIR/host_ed25519.pub" "$SSHD_HOSTKEY_RSA_PUB" \
		>"$SSHD_HOSTKEYS" &&
	sed "s/^/[127.0.0.1]:$SSHD_PORT /; s/ [^ ]*\$//" "$SSHD_HOSTKEYS" >"$SSHD_KNOWN_HOSTS" &&
	sshd_console "$SSHD_DIR/host_ecdsa.pub" "$SSHD_DIR/host_ed25519.pub" "$SSHD_HOSTKEY_RSA_PUB" \
		>"$SSHD_CONSOLE" &&
	cat >"$SSHD_DIR/sshd_config" <<-EOF &&
	ListenAddress 127.0.0.1:$SSHD_PORT
	HostKey $SSHD_DIR/host_ed25519
	HostKey $SSHD_DIR/host_ecdsa
	HostKey $SSHD_DIR/host_rsa
	AuthorizedKeysFile $SSHD_DIR/authorized_keys
	StrictModes no
	UsePAM no
	PidFile $SSHD_DIR/sshd.pid
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	PermitRootLogin prohibit-password
	PrintMotd no
	LogLevel VERBOSE
	EOF
	if [ "$(id -u)" = 0 ] && [ ! -d /run/sshd ]; then
		mkdir -p -m 0755 /run/sshd
	fi
	export SSHD_PORT SSHD_USER SSHD_USER_KEY SSHD_HOSTKEY_PUB SSHD_HOSTKEY_RSA_PUB SSHD_HOSTKEYS \
		SSHD_KNOWN_HOSTS SSHD_CONSOLE
}

# Waits (up to 10 seconds) for the pid file sshd writes once it listens.
sshd_wait_ () {
	i=0
	while [ ! -s "$SSHD_DIR/sshd.pid" ]; do
		if ! kill -0 "$SSHD_PID" 2>/dev/null || [ $i -ge 100 ]; then
			echo "sshd did not start:" >&2
			cat "$SSHD_DIR/sshd.log" >&2
			return 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
}

sshd_atexit_ () {
	if command -v test_atexit >/dev/null 2>&1; then
		test_atexit sshd_stop
	fi
}

sshd_start () {
	rm -f "$SSHD_DIR/sshd.pid"
	"$SSHD" -D -e -f "$SSHD_DIR/sshd_config" 2>>"$SSHD_DIR/sshd.log" &
	SSHD_PID=$!
	sshd_atexit_
	sshd_wait_
}

sshd_start_later () {
	rm -f "$SSHD_DIR/sshd.pid"
	(sleep "$1" && exec "$SSHD" -D -e -f "$SSHD_DIR/sshd_config") 2>>"$SSHD_DIR/sshd.log" &
	SSHD_PID=$!
	sshd_atexit_
}

sshd_stop () {
	if [ -n "$SSHD_PID" ]; then
		kill "$SSHD_PID" 2>/dev/null
		wait "$SSHD_PID" 2>/dev/null
		SSHD_PID=
	fi
	rm -f "$SSHD_DIR/sshd.pid"
	return 0
}
