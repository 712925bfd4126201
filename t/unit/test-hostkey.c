/* Unit tests for lib/ssh/hostkey.c: fingerprints, cloud-init's console blocks, known_hosts files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostkey.h"
#include "tap.h"

/* Keys made with ssh-keygen; the fingerprints are what ssh-keygen -l prints for them. */
#define ED	"AAAAC3NzaC1lZDI1NTE5AAAAILuNmG2oAi+SBDZy4S0nYS21t01BB0lm2JffV6KRyNMT"
#define ED_FP	"SHA256:FYR0f8D0iocZMqIomnu3+KrioOz/fALJ+QvIt0zdgLs"
#define EC	"AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBN8BDsNyONX5C6xRVkbTz5z6Gr00akOXtH5E" \
		"tDlp1JK+FRr1Nq7wf8cEOKXq4foav1amFrK65VwRVG5zNS4Ygq8="
#define EC_FP	"SHA256:kOdlact6iIBQsqdewBPkNFqE0qTzQDmIvvI6jcWlbss"
#define OTHER	"AAAAC3NzaC1lZDI1NTE5AAAAIHEqU8AyB/uTGharD/wmhlGcdi/TE/+x+n7Wf3kztkQh"
#define OTHER_FP "SHA256:mr9u7+eT3lZPNfy4Zr5fxcO8iL6YmaitXd4yBZH2PF0"
#define EC384_FP "SHA256:9PLUOE7yq+8vTjPu0JcEEllF4THMS3mgDh5ShEkm0eE"
#define RSA	"AAAAB3NzaC1yc2EAAAADAQABAAAAgQDXd3b3BtT6+1ay1mYnVmP1vLELRrIEEsQA0sfu3NcOc0U+cxbqepaUjfTZdSCl" \
		"smueUCX1nevlfcK8sD7udCD1hQlpIMap5PMLTmZm/bjP/m5GYo4moo7xHgJiy5PHpQnSYz+Xww5bF5/vyxcyLw3s1R8D" \
		"6wiNzz/LzfD69Gmxpw=="
#define DSA	"AAAAB3NzaC1kc3MAAACBAKfK7WTaURXYGO8rVw1mbcOGe7zyb4Uq5TUBhba2IEBgU7yCnMjywq4XWBWtgJsVebIlnIGb" \
		"kdHIC+p5wBlZbtDUdedSkmtl934lUUvkHTBhqTYAK+QMHiz/gVVo2nrEkZ1rMt+FMD1o7bXkZeEggonIchN5zTkH7q0p" \
		"7ftPxVsdAAAAFQDgmq7k9zpVgjOcfPO3s9/aMCFcPQAAAIEAjUjqfIPLLw/MjISeHAiDRlyn2+SIY7vBpmvOjAdcn91R" \
		"9PRILr5IFMnVoCwmNxDNd0zVyBJGRCZ6NqZKi7EPRQgaHbrag0Wp1eme5TWeEbNAqKLOR3Qbq8QiB2OnzBvO+tKH7vEW" \
		"xXQyZgqqxGsrFZUz5w+gs37mM8u+PlfOfssAAACBAJ5LZ8Vb+g2cIIq5STzQQX7diuWScAgBc4zSlUj3oPs6W66+06ue" \
		"hs5MNgIj7J7g4C+U8eFgOHGeQV6bGX+SZh7FMgXV2N3Pv03bbp6m3ZlSDU/aHa7DWBAmTey5ALOZdKWgxKBrfweJmo1V" \
		"DpYvg9kxe4RTMamg+TMsW4q9c3Pf"
#define EC521	"AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAATwLmIYah6JoHsIBCMxfpqtoX9O6dmqWcUhDnt" \
		"0AcjqfVShwbx1Fc9U9s0BQ5xSLX7FaUaa/cYiYditGiX5rP8wgGSf4Y7CrL6AIDoFTbsZNwPu05F5IlcG8Fzd/DOUDip" \
		"0xUnVWi4lckoW47GTzAzeJNuqlVI7Ha1Bnj3V2UaVU4dXQ=="

/* An Ubuntu instance's console: syslog-prefixed fingerprints, then the bare keys block. */
static const char ubuntu[] =
	"[   12.345678] cloud-init[1020]: Cloud-init v. 23.1.2 running 'modules:final'\n"
	"<14>Jun  1 10:00:00 cloud-init: #####################################################\n"
	"<14>Jun  1 10:00:00 cloud-init: -----BEGIN SSH HOST KEY FINGERPRINTS-----\n"
	"<14>Jun  1 10:00:00 cloud-init: 256 " EC_FP " root@ip-10-0-0-5 (ECDSA)\n"
	"<14>Jun  1 10:00:00 cloud-init: 256 " ED_FP " root@ip-10-0-0-5 (ED25519)\n"
	"<14>Jun  1 10:00:00 cloud-init: -----END SSH HOST KEY FINGERPRINTS-----\n"
	"<14>Jun  1 10:00:00 cloud-init: #####################################################\n"
	"-----BEGIN SSH HOST KEY KEYS-----\n"
	"ecdsa-sha2-nistp256 " EC " root@ip-10-0-0-5\n"
	"ssh-ed25519 " ED " root@ip-10-0-0-5\n"
	"-----END SSH HOST KEY KEYS-----\n"
	"[   13.000000] cloud-init[1020]: Cloud-init v. 23.1.2 finished\n";

/* Amazon Linux 2 prefixes "ec2: " and the serial console ends lines with CR LF. */
static const char amzn[] =
	"ec2: \r\n"
	"ec2: #############################################################\r\n"
	"ec2: -----BEGIN SSH HOST KEY FINGERPRINTS-----\r\n"
	"ec2: 256 " ED_FP " no comment (ED25519)\r\n"
	"ec2: 384 " EC384_FP " root@x (ECDSA)\r\n"
	"ec2: 2048 SHA256:cut-short (RSA)\r\n"
	"ec2: 1024 MD5:11:22:33 (DSA)\r\n"
	"ec2: -----END SSH HOST KEY FINGERPRINTS-----\r\n";

static int
key(struct hostkey *k, const char *b64)
{
	return hostkey_from_base64(k, b64, strlen(b64));
}

/* The key b64 with byte at changed to c is refused by hostkey_from_blob. */
static void
blob_edit(const char *b64, size_t at, unsigned char c, const char *what)
{
	struct hostkey k;
	unsigned char *blob;
	size_t n;
	int rc;

	blob = (unsigned char *)base64_decode(b64, strlen(b64), &n);
	rc = hostkey_from_blob(&k, blob, n);
	hostkey_free(&k);
	blob[at] = c;
	ok(rc == 0 && hostkey_from_blob(&k, blob, n) == -1, "%s", what);
	free(blob);
}

static void
test_fingerprints(void)
{
	struct hostkey k;
	char *s;
	size_t n;

	ok(key(&k, ED) == 0, "an ED25519 key from base64");
	is_str(k.type, "ssh-ed25519", "its type comes from the blob");
	is_str(k.fp, ED_FP, "its fingerprint is ssh-keygen's");
	is_str(hostkey_label(&k), "ED25519", "labelled as ssh-keygen does");
	hostkey_free(&k);
	ok(key(&k, EC) == 0, "an ECDSA key");
	is_str(k.fp, EC_FP, "its fingerprint");
	is_str(hostkey_label(&k), "ECDSA", "its label");
	hostkey_free(&k);
	ok(key(&k, "AAAA") == -1, "a blob too short for a type is refused");
	ok(key(&k, "AAAAC3NzaC1lZDI1") == -1, "a type longer than the blob is refused");
	ok(key(&k, "not base64!") == -1, "text that is not base64 is refused");

	/* A whole key of each type; cut short anywhere, or with a byte more, it is none. */
	{
		static const char *const keys[] = { ED, EC, RSA, DSA, EC521 };
		unsigned char *blob, *more;
		size_t i, cut;
		int whole = 0, bad = 0;

		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			blob = (unsigned char *)base64_decode(keys[i], strlen(keys[i]), &n);
			whole += hostkey_from_blob(&k, blob, n) == 0;
			hostkey_free(&k);
			for (cut = 0; cut < n; cut++)
				if (hostkey_from_blob(&k, blob, cut) == 0) {
					if (bad++ == 0)
						printf("# taken: %zu of the %zu bytes of %s\n", cut, n, k.type);
					hostkey_free(&k);
				}
			if ((more = malloc(n + 1)) == NULL)
				return;
			memcpy(more, blob, n);
			more[n] = 0;
			bad += hostkey_from_blob(&k, more, n + 1) == 0;
			hostkey_free(&k);
			free(more);
			free(blob);
		}
		ok(whole == 5, "ED25519, ECDSA P-256, RSA, DSA and ECDSA P-521 keys are whole keys");
		ok(bad == 0, "not one of them cut short, or with a byte after it (%d taken)", bad);
	}
	/* "ecdsa-sha2-nistp256" naming another curve ("nistpa56"), or a point that is not uncompressed. */
	blob_edit(EC, 32, 'a', "an ECDSA key whose curve is not its type's is refused");
	blob_edit(EC, 39, 0x02, "so is one whose point is not uncompressed");
	ok(key(&k, "AAAAC3NzaC1lZDI1NTE5AAAAILuNmG2oAi+SBDZy4S0nYS21t01BB0lm2JffV6KR") == -1,
	    "an ED25519 key cut at a base64 quantum (48 of 51 bytes) is refused");

	s = base64_decode("aGVsbG8=", 8, &n);
	ok(s != NULL && n == 5 && strcmp(s, "hello") == 0, "base64 with padding");
	free(s);
	s = base64_decode("aGVs\nbG8", 8, &n);
	ok(s != NULL && n == 5 && strcmp(s, "hello") == 0, "without padding, across lines");
	free(s);
	s = base64_decode("", 0, &n);
	ok(s != NULL && n == 0 && *s == '\0', "empty");
	free(s);
	ok(base64_decode("aGVsb", 5, &n) == NULL, "a lone sixth character is an error");
	ok(base64_decode("aG=Vs", 5, &n) == NULL, "data after padding is an error");
	ok(base64_decode("aGV-", 4, &n) == NULL, "URL-safe base64 is not EC2's");
}

static void
test_console(void)
{
	struct hostkeys set;
	struct hostkey server, other;
	char *s;
	const char *text;

	key(&server, ED);
	key(&other, OTHER);

	ok(console_hostkeys(ubuntu, strlen(ubuntu), &set) == CONSOLE_KEYS,
	    "Ubuntu's console: the keys block is preferred");
	ok(set.n == 2, "two keys");
	is_str(set.v[0].type, "ecdsa-sha2-nistp256", "the first key's type");
	is_str(set.v[1].fp, ED_FP, "the second key's fingerprint");
	ok(set.v[1].blob != NULL, "keys come with their blobs");
	ok(hostkeys_match(&set, &server), "the server's ED25519 key matches");
	ok(!hostkeys_match(&set, &other), "another ED25519 key does not");
	s = hostkeys_methods(&set);
	is_str(s, "ssh-ed25519,ecdsa-sha2-nistp256", "the algorithms to offer");
	free(s);
	s = hostkeys_describe(&set);
	is_str(s, "ECDSA " EC_FP ", ED25519 " ED_FP, "described for a message");
	free(s);
	hostkeys_free(&set);

	ok(console_hostkeys(amzn, strlen(amzn), &set) == CONSOLE_FINGERPRINTS,
	    "Amazon Linux's console: fingerprints only");
	ok(set.n == 2, "two usable fingerprints (a malformed one and an MD5 one skipped)");
	is_str(set.v[0].type, "ssh-ed25519", "(ED25519) names the type");
	is_str(set.v[1].type, "ecdsa-sha2-nistp384", "(ECDSA) with 384 bits is the P-384 curve");
	ok(set.v[0].blob == NULL, "no blobs");
	ok(hostkeys_match(&set, &server), "the server's key matches by fingerprint");
	ok(!hostkeys_match(&set, &other), "another key does not");
	s = hostkeys_methods(&set);
	is_str(s, "ssh-ed25519,ecdsa-sha2-nistp384", "the algorithms to offer");
	free(s);
	hostkeys_free(&set);

	text = "-----BEGIN SSH HOST KEY FINGERPRINTS-----\n"
	    "256 " OTHER_FP " (SOMETHING)\n"
	    "-----END SSH HOST KEY FINGERPRINTS-----\n";
	ok(console_hostkeys(text, strlen(text), &set) == CONSOLE_FINGERPRINTS, "an unknown label");
	ok(set.n == 1 && set.v[0].type[0] == '\0', "leaves the type unknown");
	ok(hostkeys_methods(&set) == NULL, "so every algorithm stays on offer");
	ok(hostkeys_match(&set, &other), "and the fingerprint still decides");
	s = hostkeys_describe(&set);
	is_str(s, OTHER_FP, "described by its fingerprint alone");
	free(s);
	hostkeys_free(&set);

	text = "booting\n[    0.000000] Linux version 6.1\nlogin: ";
	ok(console_hostkeys(text, strlen(text), &set) == CONSOLE_NONE && set.n == 0,
	    "no block yet");
	text = "-----BEGIN SSH HOST KEY KEYS-----\nssh-ed25519 " ED " root@h\n";
	ok(console_hostkeys(text, strlen(text), &set) == CONSOLE_NONE && set.n == 0,
	    "a block still being written does not count");
	text = "-----BEGIN SSH HOST KEY KEYS-----\ngarbage\n-----END SSH HOST KEY KEYS-----\n";
	ok(console_hostkeys(text, strlen(text), &set) == CONSOLE_NONE && set.n == 0,
	    "a block without a usable line does not count");
	text = "-----BEGIN SSH HOST KEY KEYS-----\necdsa-sha2-nistp256 " ED " root@h\n"
	    "-----END SSH HOST KEY KEYS-----\n";
	ok(console_hostkeys(text, strlen(text), &set) == CONSOLE_NONE,
	    "a key whose blob is of another type than its line says is skipped");
	text = "-----BEGIN SSH HOST KEY FINGERPRINTS-----\n256 " ED_FP " root@h (ED25519)\n"
	    "-----END SSH HOST KEY FINGERPRINTS-----\n"
	    "-----BEGIN SSH HOST KEY KEYS-----\n"
	    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILuNmG2oAi+SBDZy4S0nYS21t01BB0lm2JffV6KR root@h\n"
	    "-----END SSH HOST KEY KEYS-----\n";
	ok(console_hostkeys(text, strlen(text), &set) == CONSOLE_FINGERPRINTS && set.n == 1 &&
	    hostkeys_match(&set, &server),
	    "a key cut short in the KEYS block does not override the FINGERPRINTS block");
	hostkeys_free(&set);
	text = "-----BEGIN SSH HOST KEY KEYS-----\nssh-ed25519 " OTHER " first boot\n"
	    "-----END SSH HOST KEY KEYS-----\n"
	    "-----BEGIN SSH HOST KEY KEYS-----\nssh-ed25519 " ED " second boot\n"
	    "-----END SSH HOST KEY KEYS-----\n";
	ok(console_hostkeys(text, strlen(text), &set) == CONSOLE_KEYS && set.n == 1 &&
	    hostkeys_match(&set, &server), "the last block wins");
	hostkeys_free(&set);
	text = "-----BEGIN SSH HOST KEY KEYS-----\n"
	    "<14>Jun  1 10:00:00 ci-info: ssh-ed25519 " ED " root@h\n"
	    "-----END SSH HOST KEY KEYS-----";
	ok(console_hostkeys(text, strlen(text), &set) == CONSOLE_KEYS && set.n == 1,
	    "a prefixed key line, and a last line without a newline");
	hostkeys_free(&set);

	hostkey_free(&server);
	hostkey_free(&other);
}

static void
writefile(const char *path, const char *text)
{
	FILE *fp;

	if ((fp = fopen(path, "w")) == NULL || fputs(text, fp) == EOF || fclose(fp) == EOF) {
		perror(path);
		exit(1);
	}
}

static char *
readfile(const char *path)
{
	static char buf[4096];
	FILE *fp;
	size_t n;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void
test_knownhosts(void)
{
	struct knownhosts *kh;
	struct hostkeys set = { 0 };
	struct hostkey ed, ec, other;
	char path[] = "/tmp/test-hostkey.XXXXXX";
	char err[256], *s;
	int fd;

	key(&ed, ED);
	key(&ec, EC);
	key(&other, OTHER);
	if ((fd = mkstemp(path)) == -1) {
		perror("mkstemp");
		exit(1);
	}
	close(fd);
	/* 10.0.0.5 (ED) and [10.0.0.6]:2222 (EC), hashed by ssh-keygen -H. */
	writefile(path,
	    "# a comment, a blank line, markers and a key type libssh2 does not know\n"
	    "\n"
	    "|1|l4kI4qdskR2jcviijlGBW6hFmzQ=|FZtmhdvAnwpX+OdwWcnTWSLrfSk= ssh-ed25519 " ED "\n"
	    "|1|2hk/UJlz1FVrJ3hJhmL7UyoOOaQ=|cNNggrf81mbaO73LmPJ04aZOHnw= ecdsa-sha2-nistp256 " EC "\n"
	    "@cert-authority *.example.com ssh-ed25519 " OTHER "\n"
	    "host.example sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t\n"
	    "10.0.0.7,plain.example ssh-ed25519 " ED "\n"
	    "[10.0.0.8]:2222 ecdsa-sha2-nistp256 " EC "\n"
	    "@revoked * ssh-ed25519 " OTHER "\n"
	    "10.0.0.9 ssh-ed25519 " OTHER);
	kh = knownhosts_open(path, 0, err, sizeof(err));
	ok(kh != NULL, "a known_hosts file with comments, markers and unknown types is read");
	if (kh == NULL) {
		printf("# %s\n", err);
		return;
	}
	ok(knownhosts_check(kh, "10.0.0.5", 22, &ed) == KNOWNHOSTS_MATCH, "a hashed name, port 22");
	ok(knownhosts_check(kh, "10.0.0.6", 2222, &ec) == KNOWNHOSTS_MATCH,
	    "a hashed [host]:port name");
	ok(knownhosts_check(kh, "10.0.0.7", 22, &ed) == KNOWNHOSTS_MATCH, "a plain name in a list");
	ok(knownhosts_check(kh, "plain.example", 22, &ed) == KNOWNHOSTS_MATCH,
	    "the list's second name");
	ok(knownhosts_check(kh, "10.0.0.8", 2222, &ec) == KNOWNHOSTS_MATCH, "a plain [host]:port");
	ok(knownhosts_check(kh, "10.0.0.5", 22, &ec) == KNOWNHOSTS_MISMATCH,
	    "a key of another type than the file's is a mismatch");
	ok(knownhosts_check(kh, "10.0.0.7", 22, &other) == KNOWNHOSTS_REVOKED,
	    "a revoked key is refused");
	ok(knownhosts_check(kh, "10.0.0.9", 22, &other) == KNOWNHOSTS_REVOKED,
	    "even where the file lists it for the host");
	ok(knownhosts_check(kh, "10.0.0.99", 22, &ed) == KNOWNHOSTS_NONE, "an unknown host");
	ok(knownhosts_check(kh, "10.0.0.7", 2222, &ed) == KNOWNHOSTS_NONE,
	    "a host known on port 22 is not known on another port");
	ok(knownhosts_check(kh, "10.0.0.8", 22, &ec) == KNOWNHOSTS_NONE,
	    "nor one known on another port on port 22");
	ok(knownhosts_check(kh, "host.example", 22, &ed) == KNOWNHOSTS_NONE,
	    "a host known only by a key type libssh2 cannot read");

	knownhosts_lookup(kh, "10.0.0.6", 2222, &set);
	ok(set.n == 1 && strcmp(set.v[0].fp, EC_FP) == 0, "look-up of a hashed [host]:port");
	s = hostkeys_methods(&set);
	is_str(s, "ecdsa-sha2-nistp256", "the algorithm to offer it");
	free(s);
	hostkeys_free(&set);
	knownhosts_lookup(kh, "10.0.0.99", 22, &set);
	ok(set.n == 0, "look-up of an unknown host finds nothing");

	ok(knownhosts_add(kh, "10.0.0.10", 2200, &ed, err, sizeof(err)) == 0, "a key is added");
	ok(knownhosts_check(kh, "10.0.0.10", 2200, &ed) == KNOWNHOSTS_MATCH, "and known at once");
	s = readfile(path);
	ok(s != NULL && strstr(s, OTHER "\n[10.0.0.10]:2200 ssh-ed25519 " ED "\n") != NULL,
	    "appended on a line of its own to the file");
	knownhosts_free(kh);
	kh = knownhosts_open(path, 0, err, sizeof(err));
	ok(kh != NULL && knownhosts_check(kh, "10.0.0.10", 2200, &ed) == KNOWNHOSTS_MATCH,
	    "and read back");
	knownhosts_free(kh);
	unlink(path);

	ok(knownhosts_open(path, 0, err, sizeof(err)) == NULL && strstr(err, path) != NULL,
	    "a missing file is an error naming it");
	kh = knownhosts_open(path, 1, err, sizeof(err));
	ok(kh != NULL && knownhosts_check(kh, "10.0.0.5", 22, &ed) == KNOWNHOSTS_NONE,
	    "unless a missing file is allowed: then it is empty");
	ok(knownhosts_add(kh, "10.0.0.5", 22, &ed, err, sizeof(err)) == 0, "and created by an add");
	s = readfile(path);
	is_str(s, "10.0.0.5 ssh-ed25519 " ED "\n", "port 22 with the plain name");
	knownhosts_free(kh);
	unlink(path);

	hostkey_free(&ed);
	hostkey_free(&ec);
	hostkey_free(&other);
}

int
main(void)
{
	test_fingerprints();
	test_console();
	test_knownhosts();
	return done_testing();
}
