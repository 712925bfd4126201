#!/usr/bin/python3
"""seed.py [SHARED]: writes the seed inputs of t/fuzz/corpus/NAME/ (named by their SHA-1, as
libFuzzer names what it adds) from the tests' data (SHARED is t/data: Packer manifests, the
SigV4 suite), the findings of the hardening issue, and a generator of tricky JSON lines. Run it
again after changing it; make fuzz adds the inputs that raise coverage beside these."""
import glob
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(TOP, 't', 'data')


def put(name, data):
    if isinstance(data, str):
        data = data.encode('utf-8', 'surrogatepass')
    d = os.path.join(HERE, 'corpus', name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), 'wb') as f:
        f.write(data)


# jsonscan: tricky one-line objects, each also inside a record as a member the keys read.
TRICKY_VALUES = [
    '"plain"', '""', '"a\\"b"', '"\\\\"', '"\\/"', '"\\b\\f\\n\\r\\t"', '"\\u0041"', '"\\u00e9"',
    '"\\u20ac"', '"\\ud83d\\ude00"', '"\\ud800"', '"\\uDBFF\\uDFFF"', '"\\udc00"', '"\\ud800x"',
    '"\\ud800\\u0041"', '"\\u0000"', '"\x7f"', '"é"', '"€"', '"😀"', '"\\x41"', '"\\u12"',
    '"\\U0041"', '"a\tb"', '"\x01"', '"unterminated',
    '0', '-0', '-0.0', '1', '-1', '1.5', '1e999', '-1e999', '1e-999', '1E+2', '0.1e1',
    '123456789012345678901234567890', '01', '1.', '.5', '+1', '-', '1e', '0x10', 'NaN',
    'nan', 'Infinity', 'true', 'false', 'null', 'tru', 'nul', 'True',
    '[]', '{}', '[1,2]', '[1,]', '[,1]', '{"x":1}', '{"x":1,}', '{"x"}', '{"x":}',
    '[' * 63 + ']' * 63, '[' * 64 + ']' * 64, '[' * 65 + ']' * 65, '[' * 300 + ']' * 300,
    '{"b":' * 70 + '1' + '}' * 70,
]
RECORDS = [
    '{}', '{"Name":"web-1","CreationDate":"2024-05-01T12:34:56.000Z"}',
    '{"Name":"a","Name":"b"}', '{"Name":"a","Name":1}', '{"Name":1,"Name":"a"}',
    '  {"Name":"x"}  ', '\t{"Name":"x"}\r', '{"Name":"x"} {"Name":"y"}', '{"Name":"x"},',
    '["Name"]', '"Name"', '', ' ', '{"Name" : "x" , "a" : { "b" : [ 1 , 2 ] } }',
    '\ufeff{"Name":"bom"}', '{"N\\u0061me":"escaped name"}', '{"Na\\"me":"x"}',
    '{"Name":"x"\x00}', '{"Name":"\x00"}', '{"Name":"\xc0\xaf"}',
    '{"Tags":[{"Key":"Role","Value":"web"}],"a":{"b":"c"}}', '{"a":{"b":null}}',
    '{"a":"b" "c"}', '{"a":[1] [2]}', '{,}', '{"a":1,,"b":2}', '{"a"::1}', '{a:1}',
    "{'a':1}", '{"a":1}}', '{{}}', '/**/{}', '{"a":1}//',
]


def json_lines():
    for r in RECORDS:
        yield r
    for v in TRICKY_VALUES:
        for k in ('Name', 'CreationDate', 'Tags', 'a'):
            yield '{"%s":%s}' % (k, v)
        yield '{"Name":"n","a":%s,"CreationDate":"2024-01-01T00:00:00Z"}' % v
    # Overlong and invalid UTF-8, surrogates encoded directly, bytes past U+10FFFF.
    for raw in (b'\xc0\x80', b'\xe0\x80\x80', b'\xed\xa0\x80', b'\xf4\x90\x80\x80',
                b'\xff', b'\xc3', b'\xe2\x82'):
        yield b'{"Name":"' + raw + b'"}'


for line in json_lines():
    data = line if isinstance(line, bytes) else line.encode('utf-8', 'surrogatepass')
    put('jsonscan', data)
with open(os.path.join(TOP, 't', 't0104', 'ec2-DescribeImages.json')) as f:
    for img in json.load(f)['Images']:
        put('jsonscan', json.dumps(img, separators=(',', ':')))
with open(os.path.join(TOP, 'share', 'examples', 'checks.jsonl')) as f:
    for line in f:
        put('jsonscan', line.rstrip('\n'))

# manifest: Packer's manifests, and documents that are not one.
for path in sorted(glob.glob(os.path.join(SHARED, 'samples', 'packer', '*.json'))):
    with open(path, 'rb') as f:
        put('manifest', f.read())
for doc in ('', ' \n', '[]', '{}', '{"builds":[]}\n{"builds":[]}', '{\n"a":\n\x01}',
            '{"builds":[{"artifact_id":"us-east-1:ami-0123456789abcdef0"}],\n"last_run_uuid":"u"',
            b'{"a":"\xff"}', b'{\n\n"a":"b"\x00}', '{"a":"b" "c"}'):
    put('manifest', doc)

# ec2xml: the responses the unit tests read, the first byte naming the action (ec2xml.c's ops[]).
OPS = ['CopyImage', 'CreateTags', 'DeleteSnapshot', 'DeleteTags', 'DeregisterImage',
       'DescribeImages', 'DescribeInstances', 'DescribeLaunchTemplateVersions',
       'DescribeLaunchTemplates', 'DescribeSnapshots', 'DisableImageDeprecation',
       'EnableImageDeprecation', 'GetConsoleOutput', 'RunInstances', 'TerminateInstances',
       'AssumeRole', 'AssumeRoleWithWebIdentity']
for path in sorted(glob.glob(os.path.join(TOP, 't', 't0104', '*.xml'))):
    op = os.path.basename(path).split('-', 1)[1][:-4]
    if op in OPS:
        with open(path, 'rb') as f:
            body = f.read()
        put('ec2xml', bytes([OPS.index(op)]) + body)
        put('ec2xml', bytes([OPS.index(op)]) + body[:len(body) // 2])
NS = 'xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"'
put('ec2xml', bytes([OPS.index('DescribeSnapshots')]) + (
    '<DescribeSnapshotsResponse %s><requestId>r-1</requestId><snapshotSet><item>'
    '<snapshotId>snap-1</snapshotId><startTime>99999999999999</startTime></item></snapshotSet>'
    '</DescribeSnapshotsResponse>' % NS).encode())
put('ec2xml', bytes([OPS.index('DescribeImages')]) + (
    '<DescribeImagesResponse %s><imagesSet><item><creationDate>-99999999999999</creationDate>'
    '<deprecationTime>1e309</deprecationTime></item></imagesSet></DescribeImagesResponse>' % NS).encode())
put('ec2xml', bytes([OPS.index('CreateTags')]) + (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>InvalidParameterValue'
    '</Code><Message>line one&#10;line two&#13;&#0;</Message></Error></Errors>'
    '<RequestID>req-1</RequestID></Response>').encode())
put('ec2xml', bytes([OPS.index('AssumeRole')]) + (
    '<ErrorResponse><Error><Code>AccessDenied</Code><Message>a &amp; b &#10; c</Message></Error>'
    '<RequestId>req-2</RequestId></ErrorResponse>').encode())
put('ec2xml', bytes([OPS.index('GetConsoleOutput')]) + (
    '<GetConsoleOutputResponse %s><instanceId>i-1</instanceId><output>not base64!</output>'
    '</GetConsoleOutputResponse>' % NS).encode())

# hostkey: cloud-init's blocks (the keys of t/unit/test-hostkey.c), whole and cut short.
ED = 'AAAAC3NzaC1lZDI1NTE5AAAAILuNmG2oAi+SBDZy4S0nYS21t01BB0lm2JffV6KRyNMT'
EC = ('AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBN8BDsNyONX5C6xRVkbTz5z6Gr00akOXtH5E'
      'tDlp1JK+FRr1Nq7wf8cEOKXq4foav1amFrK65VwRVG5zNS4Ygq8=')
CONSOLE = (
    "[   12.345678] cloud-init[1020]: Cloud-init v. 23.1.2 running 'modules:final'\n"
    "<14>Jun  1 10:00:00 cloud-init: -----BEGIN SSH HOST KEY FINGERPRINTS-----\n"
    "<14>Jun  1 10:00:00 cloud-init: 256 SHA256:kOdlact6iIBQsqdewBPkNFqE0qTzQDmIvvI6jcWlbss root@ip (ECDSA)\n"
    "<14>Jun  1 10:00:00 cloud-init: 256 SHA256:FYR0f8D0iocZMqIomnu3+KrioOz/fALJ+QvIt0zdgLs root@ip (ED25519)\n"
    "<14>Jun  1 10:00:00 cloud-init: -----END SSH HOST KEY FINGERPRINTS-----\n"
    "-----BEGIN SSH HOST KEY KEYS-----\n"
    "ecdsa-sha2-nistp256 " + EC + " root@ip\n"
    "ssh-ed25519 " + ED + " root@ip\n"
    "-----END SSH HOST KEY KEYS-----\n")
put('hostkey', CONSOLE)
put('hostkey', CONSOLE.replace('\n', '\r\n').replace('<14>Jun  1 10:00:00 cloud-init: ', 'ec2: '))
put('hostkey', CONSOLE[:CONSOLE.index('-----END SSH HOST KEY KEYS')])
put('hostkey', CONSOLE[:CONSOLE.index(ED) + 20])
put('hostkey', "-----BEGIN SSH HOST KEY KEYS-----\nssh-rsa AAAA\nssh-ed25519 !!!!\n"
               "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5\n-----END SSH HOST KEY KEYS-----\n")
put('hostkey', "-----BEGIN SSH HOST KEY FINGERPRINTS-----\n2048 SHA256:cut-short (RSA)\n"
               "1024 MD5:11:22:33 (DSA)\n-----END SSH HOST KEY FINGERPRINTS-----\n")
import base64  # noqa: E402
put('hostkey', base64.b64encode(CONSOLE.encode()))

# timefmt: EC2's forms, the options' durations, and the edges.
for s in ('2024-05-01T12:34:56Z', '2024-05-01T12:34:56.000Z', '2024-05-01t12:34:56.123456789z',
          '2024-02-29T00:00:00+05:30', '2023-02-29T00:00:00Z', '2016-12-31T23:59:60Z',
          '0000-01-01T00:00:00+23:59', '9999-12-31T23:59:59-23:59', '2024-05-01T12:34:56',
          '2024-05-01T12:34:56.Z', '2024-05-01T12:34:56.1234567890123Z', '99999999999999',
          '2024-05-01 12:34:56Z', '7d', '12h30m', '0s', '1w2d3h4m5s', '9223372036854775807s',
          '153722867280912930m', '1', 's', '-1s', '1x', ''):
    put('timefmt', s)

# awsconfig: the unit test's files (config, NUL, credentials) and what configparser refuses.
CONFIG = ('[default]\nregion = eu-west-1\n[profile dev]\nRegion = us-west-2\n'
          'endpoint_url = http://127.0.0.1:4566\nservices = local\nca_bundle = /etc/dev-ca.pem\n'
          's3 =\n    max_concurrent_requests = 20\n    multipart_threshold = 64MB\n'
          '[services local]\nec2 =\n  endpoint_url = http://127.0.0.1:9000\n'
          '[profile "two words"]\nregion = ap-east-1\n[profile ignoring]\n'
          'ignore_configured_endpoint_urls = true\n[sso-session corp]\nregion = us-east-1\n')
CREDS = ('[dev]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = secret ; not a comment\n'
         '; a comment\n# another\nrole_arn = arn:aws:iam::123456789012:role/x\n')
put('awsconfig', CONFIG + '\0' + CREDS)
put('awsconfig', CONFIG)
for bad in ('region = x\n', '[default\nregion = x\n', '[default]\nno equals sign\n',
            '[default]\n  indented = first\n', '[default]\nregion\n', '[]\n=\n',
            '[default]\nregion = ' + 'x' * 5000 + '\n', '[default]\r\nregion = a\r\n',
            '[default]\nregion = a\x00[dev]\nbroken'):
    put('awsconfig', bad)

# sigv4: the SigV4 suite's requests, as METHOD, PATH, QUERY, headers, blank line, body.
for path in sorted(glob.glob(os.path.join(SHARED, 'aws', 'sigv4-testsuite', '**', '*.req'),
                             recursive=True)):
    with open(path, 'rb') as f:
        req = f.read()
    head, _, body = req.partition(b'\n\n')
    lines = head.split(b'\n')
    parts = lines[0].split(b' ')
    target = b' '.join(parts[1:-1])
    p, _, q = target.partition(b'?')
    put('sigv4', b'\n'.join([parts[0], p, q] + lines[1:]) + b'\n\n' + body)
for s in ('GET\n/a/./b/../c//d\n\nHost:h\n\n', 'POST\n/%7e%2F%zz\na=1&a=0&b&=c&%\nHost:h\n\nAction=x',
          'GET\n\n\n\n', 'get\n/\nx=%E2%82%AC&y=+&z=%2b\nX-Amz-Meta:  a   b  \nhost:H\n\n'):
    put('sigv4', s)
