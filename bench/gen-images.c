/*
 * gen-images: print N EC2-image-shaped JSON lines (about 1.1 KB each, as `aws ec2 describe-images`
 * returns them plus Region) with creation dates in random order, for bench/offline.sh and the
 * endpoint seeds of bench/lib-bench.sh.
 * usage: gen-images N [SEED]. Deterministic for a seed; built by make bench, not installed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t state;

/* xorshift64*: fast, and the same sequence on every machine. */
static uint64_t
rnd(void)
{
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return state * 2685821657736338717ULL;
}

static void
hexid(char *buf, int n)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t r = 0;
	int i;

	for (i = 0; i < n; i++) {
		if (i % 16 == 0)
			r = rnd();
		buf[i] = hex[r & 15];
		r >>= 4;
	}
	buf[n] = '\0';
}

int
main(int argc, char *argv[])
{
	static const char *roles[] = { "web", "api", "worker", "bastion", "db", "cache", "batch", "edge" };
	static const char *regions[] = { "us-east-1", "us-west-2", "eu-west-1", "eu-central-1",
	    "ap-southeast-2", "ap-northeast-1" };
	static const char *envs[] = { "dev", "staging", "production" };
	char ami[18], snap1[18], sha[41], date[32], dep[32];
	long n, i;
	time_t t;
	struct tm tm;
	const char *role, *region;

	if (argc < 2 || (n = strtol(argv[1], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: gen-images N [SEED]\n");
		return 2;
	}
	state = argc > 2 ? strtoull(argv[2], NULL, 10) | 1 : 88172645463325252ULL;
	for (i = 0; i < n; i++) {
		/* Three years of builds from 2022 on, to the second. */
		t = 1640995200 + (time_t)(rnd() % (3 * 365 * 86400ULL));
		gmtime_r(&t, &tm);
		strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
		t += 2 * 365 * 86400;
		gmtime_r(&t, &tm);
		strftime(dep, sizeof(dep), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
		hexid(ami, 17);
		hexid(snap1, 17);
		hexid(sha, 40);
		role = roles[rnd() % 8];
		region = regions[rnd() % 6];
		printf("{\"Architecture\":\"x86_64\",\"CreationDate\":\"%s\",\"ImageId\":\"ami-%s\","
		    "\"ImageLocation\":\"123456789012/acme-%s-%ld\",\"ImageType\":\"machine\",\"Public\":false,"
		    "\"OwnerId\":\"123456789012\",\"PlatformDetails\":\"Linux/UNIX\",\"UsageOperation\":\"RunInstances\","
		    "\"State\":\"available\",\"BlockDeviceMappings\":[{\"DeviceName\":\"/dev/xvda\",\"Ebs\":"
		    "{\"DeleteOnTermination\":true,\"SnapshotId\":\"snap-%s\",\"VolumeSize\":%d,\"VolumeType\":\"gp3\","
		    "\"Encrypted\":true}},{\"DeviceName\":\"/dev/sdb\",\"VirtualName\":\"ephemeral0\"}],"
		    "\"Description\":\"acme %s image built from %.12s by CI pipeline run %ld\",\"EnaSupport\":true,"
		    "\"Hypervisor\":\"xen\",\"Name\":\"acme-%s-%ld\",\"RootDeviceName\":\"/dev/xvda\","
		    "\"RootDeviceType\":\"ebs\",\"SriovNetSupport\":\"simple\",\"Tags\":["
		    "{\"Key\":\"Project\",\"Value\":\"acme\"},{\"Key\":\"Role\",\"Value\":\"%s\"},"
		    "{\"Key\":\"Environment\",\"Value\":\"%s\"},{\"Key\":\"GitSha\",\"Value\":\"%s\"},"
		    "{\"Key\":\"BuildUrl\",\"Value\":\"https://ci.example.com/acme/images/-/pipelines/%ld\"},"
		    "{\"Key\":\"Promoted\",\"Value\":\"%s\"}],"
		    "\"VirtualizationType\":\"hvm\",\"BootMode\":\"uefi-preferred\",\"ImdsSupport\":\"v2.0\","
		    "\"DeprecationTime\":\"%s\",\"Region\":\"%s\"}\n",
		    date, ami, role, i, snap1, 8 + (int)(rnd() % 4) * 8, role, sha, 100000 + i,
		    role, i, role, envs[rnd() % 3], sha, 100000 + i, rnd() % 2 ? "true" : "false", dep, region);
	}
	return ferror(stdout) || fclose(stdout) == EOF;
}
