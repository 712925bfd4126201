#!/usr/bin/python3
"""gen-model.py: writes the C table of API shapes (lib/ec2/ec2model.h) from botocore service models.

    /usr/bin/python3 tools/gen-model.py [--models DIR] > lib/ec2/ec2model.c
    /usr/bin/python3 tools/gen-model.py --protocol-tests INPUT.json... OUTPUT.json... \
        > t/unit/protocol-model.inc

The first form reads the EC2, STS, Auto Scaling and SSM models in DIR (default: t/data/aws/models,
the trimmed copies tools/trim-models.py writes; the full models give the same output) and keeps the
shapes reachable from OPERATIONS below, the only hand-written list. The second reads the SDKs'
protocol test suites, each of which defines its own shapes and operations, and writes a static table
for t/unit/test-protocol.c (operations are keyed by "FILE/N", FILE the file's name without .json,
"input-ec2", N the suite's index in it). Standard library only, so any python3 will do.

The names follow botocore: a member's JSON name is its model name; its element name in responses is
its locationName, else its name; its key in requests is, for the ec2 protocol, the queryName, else
the locationName capitalised, else the name capitalised (botocore leaves the name as it is, but
every member name in the EC2 model already starts with a capital, and the protocol tests expect the
capital), and for the query protocol (STS) the locationName, else the name. The items of a flattened
list repeat under the member's element name (botocore would look for the list member's locationName
first; the protocol tests say otherwise, and no model here has flattened lists); in Query requests
they repeat under the member's own locationName, else the list member's, else the member's name, as
the protocol tests want. A Query output without a resultWrapper is wrapped in OPERATIONResult (the
protocol tests leave it implied). For the JSON protocol (SSM) a member's key, in requests and
responses, is its locationName, else its name; its operation's X-Amz-Target is the service's
targetPrefix, ".", the operation's name, and its Content-Type application/x-amz-json-JSONVERSION.
Timestamps travel as ISO 8601 by default in the Query protocols, as epoch seconds in the JSON
protocol. Scalars of one type share one shape, named after the type; a document (any JSON) is a type
of its own; a union is a structure (one member set).
"""

import argparse
import json
import os
import sys

OPERATIONS = {
    'ec2-2016-11-15': [
        'DescribeImages', 'DescribeInstances', 'DescribeSnapshots', 'CreateTags', 'DeleteTags',
        'DeregisterImage', 'DeleteSnapshot', 'CopyImage', 'EnableImageDeprecation',
        'DisableImageDeprecation', 'RunInstances', 'TerminateInstances', 'GetConsoleOutput',
        'DescribeLaunchTemplates', 'DescribeLaunchTemplateVersions', 'DescribeImageAttribute',
        'DescribeImageReferences', 'DescribeSnapshotAttribute',
        # Sharing across accounts (share, copy-image from another account).
        'ModifyImageAttribute', 'ModifySnapshotAttribute',
        # Channels and revocation (publish, disable, protect).
        'CreateLaunchTemplateVersion', 'ModifyLaunchTemplate', 'DisableImage', 'EnableImage',
        'EnableImageDeregistrationProtection', 'DisableImageDeregistrationProtection',
    ],
    'sts-2011-06-15': ['AssumeRole', 'AssumeRoleWithWebIdentity', 'GetCallerIdentity'],
    'autoscaling-2011-01-01': ['DescribeAutoScalingGroups', 'DescribeLaunchConfigurations'],
    'ssm-2014-11-06': ['DescribeParameters', 'GetParameters', 'GetParameterHistory', 'PutParameter',
                       'LabelParameterVersion'],
}

TYPES = {
    'structure': 'EC2_STRUCTURE', 'list': 'EC2_LIST', 'map': 'EC2_MAP', 'string': 'EC2_STRING',
    'boolean': 'EC2_BOOLEAN', 'integer': 'EC2_INTEGER', 'long': 'EC2_LONG', 'float': 'EC2_FLOAT',
    'double': 'EC2_DOUBLE', 'timestamp': 'EC2_TIMESTAMP', 'blob': 'EC2_BLOB',
    'document': 'EC2_DOCUMENT',
}
TSFORMATS = {'iso8601': 'EC2_TS_ISO8601', 'unixtimestamp': 'EC2_TS_UNIX', 'rfc822': 'EC2_TS_RFC822'}
PROTOCOLS = {'ec2': 'EC2_PROTO_EC2', 'query': 'EC2_PROTO_QUERY', 'json': 'EC2_PROTO_JSON'}
# Traits that change nothing on the wire of these protocols.
IGNORED = {'shape', 'documentation', 'deprecated', 'deprecatedMessage', 'deprecatedSince', 'box',
           'xmlNamespace', 'locationName', 'queryName', 'flattened', 'idempotencyToken',
           'timestampFormat', 'jsonvalue', 'hostLabel'}


def type_of(shape):
    """The shape's type; a document (a structure marked document: any JSON) is a type of its own."""
    return 'document' if shape.get('document') else shape['type']


def fail(msg):
    sys.exit('gen-model.py: ' + msg)


def cap(s):
    return s[:1].upper() + s[1:]


def cstr(s):
    if s is None:
        return 'NULL'
    for c in s:
        if c in '"\\' or not ' ' <= c <= '~':
            fail('unexpected character in name %r' % s)
    return '"%s"' % s


class Table:
    """Shapes from any number of namespaces (a service, or one protocol test suite)."""

    def __init__(self, strict):
        self.strict = strict    # a service model: refuse what botocore and the tests disagree on
        self.shapes = {}        # (ns, name) -> index
        self.order = []         # [(ns, name, shape dict, protocol)]
        self.ops = []           # [(service, name, version, protocol, input, output, wrapper)]

    def add(self, ns, shapes, name, protocol):
        """Adds shape name of namespace ns and everything it reaches; returns its index."""
        if name not in shapes:
            fail('%s: no shape %s' % (ns, name))
        shape = shapes[name]
        if type_of(shape) not in TYPES:
            fail('%s: shape %s: unsupported type %s' % (ns, name, shape['type']))
        key = self.key(ns, name, shape)
        if key in self.shapes:
            return self.shapes[key]
        self.shapes[key] = len(self.order)
        self.order.append((ns, key[1], shape, protocol))
        for ref in self.refs(shape):
            for trait in ref:
                if trait not in IGNORED:
                    fail('%s: shape %s: unsupported trait %s' % (ns, name, trait))
            self.add(ns, shapes, ref['shape'], protocol)
        return self.shapes[key]

    @staticmethod
    def key(ns, name, shape):
        # Scalars of one type behave alike (a timestamp's format is kept with each member), so
        # the table has one shape per scalar type, named after it.
        if type_of(shape) in ('structure', 'list', 'map'):
            return (ns, name)
        return (ns, type_of(shape))

    @staticmethod
    def refs(shape):
        t = type_of(shape)
        if t == 'structure':
            # A union is a structure of which one member is set: the wire does not tell them apart.
            return list(shape.get('members', {}).values())
        if t == 'list':
            return [shape['member']]
        if t == 'map':
            return [shape['key'], shape['value']]
        return []

    def add_op(self, service, ns, shapes, op, md, protocol):
        inp = op.get('input')
        out = op.get('output')
        version = md['apiVersion']
        if protocol == 'json':
            target = '%s.%s' % (md['targetPrefix'], op['name'])
            content = 'application/x-amz-json-%s' % md.get('jsonVersion', '1.0')
        else:
            target = content = None
        wrapper = out.get('resultWrapper') if out else None
        if protocol == 'query' and out and not wrapper:
            # The Query protocol wraps an output in OPERATIONResult; botocore's models say so,
            # the protocol tests (from Smithy) leave it implied.
            wrapper = op['name'] + 'Result'
        self.ops.append((service, op['name'], version, protocol, target, content,
                         md.get('signingName') or md.get('endpointPrefix'), md.get('serviceId'),
                         self.add(ns, shapes, inp['shape'], protocol) if inp else None,
                         self.add(ns, shapes, out['shape'], protocol) if out else None,
                         wrapper))

    def member(self, ns, shapes, protocol, name, ref, kind):
        """One struct ec2_member initialiser. kind: 'member', 'element', 'key' or 'value'."""
        target = shapes[ref['shape']]
        loc = ref.get('locationName')
        flags = []
        if ref.get('flattened') or target.get('flattened'):
            flags.append('EC2_M_FLATTENED')
        if ref.get('idempotencyToken'):
            flags.append('EC2_M_IDEMPOTENT')
        if kind == 'member':
            xml = loc or name
            if (self.strict and 'EC2_M_FLATTENED' in flags and target['type'] == 'list' and
                    target['member'].get('locationName')):
                fail('%s: member %s: botocore reads this flattened list under %s' % (
                    ns, name, target['member']['locationName']))
            if protocol == 'ec2':
                query = ref.get('queryName') or cap(loc or name)
                if self.strict and not ref.get('queryName') and not loc and query != name:
                    fail('%s: member %s: botocore would send it as it is, the protocol tests '
                         'capitalised' % (ns, name))
            elif 'EC2_M_FLATTENED' in flags and target['type'] == 'list':
                # The items of a flattened list repeat under the member's own name, else under
                # the list's element name, else under the member's name.
                query = loc or target['member'].get('locationName') or name
            else:
                query = loc or name
        elif kind == 'element':
            # Responses: every child of a list's element is an item, whatever its name.
            # Requests: the query protocol's "member" segment, unless renamed.
            # EC2 ignores it (Name.N).
            xml = loc
            query = loc if protocol == 'query' else None
        else:
            xml = loc or kind
            if protocol == 'ec2':
                query = ref.get('queryName') or (cap(loc) if loc else kind)
            else:
                query = loc or kind
        if protocol == 'json':
            # The JSON protocol has no element or key names of its own: the member's name (or
            # locationName, as botocore reads it) is the key, in requests and responses.
            xml = query = (loc or name) if kind == 'member' else None
        tsformat = (ref.get('timestampFormat') or target.get('timestampFormat') or
                    ('unixtimestamp' if protocol == 'json' else 'iso8601'))
        if tsformat.lower() not in TSFORMATS:
            fail('unsupported timestampFormat %s' % tsformat)
        target = self.shapes[self.key(ns, ref['shape'], target)]
        return name, xml, query, target, flags, TSFORMATS[tsformat.lower()]

    def emit(self, out, prefix, storage, lookup, header):
        members = []        # initialiser strings
        byxml = []
        rows = []
        for ns, name, shape, protocol in self.order:
            shapes = self.models[ns]
            t = type_of(shape)
            first = len(members)
            ms = []
            if t == 'structure':
                required = set(shape.get('required', []))
                for mname, ref in shape.get('members', {}).items():
                    m = self.member(ns, shapes, protocol, mname, ref, 'member')
                    if mname in required:
                        m[4].append('EC2_M_REQUIRED')
                    ms.append(m)
            elif t == 'list':
                ms.append(self.member(ns, shapes, protocol, None, shape['member'], 'element'))
            elif t == 'map':
                ms.append(self.member(ns, shapes, protocol, None, shape['key'], 'key'))
                ms.append(self.member(ns, shapes, protocol, None, shape['value'], 'value'))
            for m in ms:
                mname, xml, query, target, flags, tsformat = m
                members.append('\t{ %s, %s, %s, &%s_shapes[%d], %s, %s },' % (
                    cstr(mname), cstr(xml), cstr(query), prefix, target,
                    ' | '.join(flags) or '0', tsformat))
            idx = 'NULL'
            if t == 'structure' and ms:
                idx = '&%s_byxml[%d]' % (prefix, len(byxml))
                byxml.extend(sorted(range(len(ms)), key=lambda i: ms[i][1].encode()))
            rows.append('\t{ %s, %s, %d, %s, %s },' % (
                cstr(name), TYPES[t], len(ms),
                '&%s_members[%d]' % (prefix, first) if ms else 'NULL', idx))

        w = out.write
        w(header)
        w('static const struct ec2_shape %s_shapes[%d];\n\n' % (prefix, len(rows)))
        w('static const struct ec2_member %s_members[] = {\n' % prefix)
        w('\n'.join(members) + '\n};\n\n')
        w('static const unsigned short %s_byxml[] = {\n' % prefix)
        for i in range(0, len(byxml), 16):
            w('\t' + ', '.join(str(x) for x in byxml[i:i + 16]) + ',\n')
        w('};\n\n')
        w('static const struct ec2_shape %s_shapes[%d] = {\n' % (prefix, len(rows)))
        w('\n'.join(rows) + '\n};\n\n')
        w('static const struct ec2_operation %s_operations[] = {\n' % prefix)
        for (service, name, version, protocol, target, content, signing, sid, inp, outp,
             wrapper) in self.ops:
            w('\t{ %s, %s, %s, %s,\n\t    %s, %s, %s, %s,\n\t    %s, %s, %s },\n' % (
                cstr(service), cstr(name), cstr(version), PROTOCOLS[protocol], cstr(target),
                cstr(content), cstr(signing), cstr(sid),
                '&%s_shapes[%d]' % (prefix, inp) if inp is not None else 'NULL',
                '&%s_shapes[%d]' % (prefix, outp) if outp is not None else 'NULL',
                cstr(wrapper)))
        w('};\n\n')
        w('%sconst struct ec2_operation *\n%s(const char *service, const char *name)\n{\n' % (
            storage, lookup))
        w('\tsize_t i;\n\n')
        w('\tfor (i = 0; i < sizeof(%s_operations) / sizeof(%s_operations[0]); i++)\n' % (
            prefix, prefix))
        w('\t\tif (strcmp(%s_operations[i].service, service) == 0 &&\n' % prefix)
        w('\t\t    strcmp(%s_operations[i].name, name) == 0)\n' % prefix)
        w('\t\t\treturn &%s_operations[i];\n' % prefix)
        w('\treturn NULL;\n}\n')


def protocol_of(metadata):
    p = metadata.get('protocol')
    if p not in PROTOCOLS:
        fail('unsupported protocol %s' % p)
    return p


def services(args):
    table = Table(strict=True)
    table.models = {}
    sources = []
    for uid, ops in OPERATIONS.items():
        path = os.path.join(args.models, uid, 'service-2.json')
        with open(path, encoding='utf-8') as f:
            model = json.load(f)
        md = model['metadata']
        ns = md['endpointPrefix']
        protocol = protocol_of(md)
        table.models[ns] = model['shapes']
        sources.append('%s/service-2.json (%s)' % (uid, ', '.join(ops)))
        for name in ops:
            if name not in model['operations']:
                fail('%s: no operation %s' % (uid, name))
            table.add_op(ns, ns, model['shapes'], model['operations'][name], md, protocol)
    header = ('/*\n * ec2model.c: the AWS shapes the toolkit uses (see ec2model.h). GENERATED, do not edit.\n'
              ' * Written by tools/gen-model.py from the botocore service models\n')
    for s in sources:
        line = ' *  '
        for word in s.split(' '):
            if len(line) + len(word) > 98:
                header += line + '\n'
                line = ' *     '
            line += ' ' + word
        header += line + '\n'
    header += (' * Regenerate (t/t0105-ec2model-generated.sh checks this file is current):\n'
               ' *   /usr/bin/python3 tools/gen-model.py > lib/ec2/ec2model.c\n */\n'
               '#include <stddef.h>\n#include <string.h>\n\n#include "ec2model.h"\n\n')
    table.emit(sys.stdout, 'ec2model', '', 'ec2model_operation', header)


def protocol_tests(args):
    table = Table(strict=False)
    table.models = {}
    for path in args.protocol_tests:
        kind = os.path.basename(path).rsplit('.', 1)[0]
        with open(path, encoding='utf-8') as f:
            suites = json.load(f)
        for n, suite in enumerate(suites):
            ns = '%s/%d' % (kind, n)
            protocol = protocol_of(suite['metadata'])
            table.models[ns] = suite['shapes']
            seen = set()
            for case in suite['cases']:
                op = case['given']
                if op['name'] in seen:
                    continue
                seen.add(op['name'])
                table.add_op(ns, ns, suite['shapes'], op, suite['metadata'], protocol)
    names = [os.path.basename(p) for p in args.protocol_tests]
    header = ('/*\n * protocol-model.inc: the shapes of the SDKs\' protocol tests, for test-protocol.c.\n'
              ' * GENERATED by tools/gen-model.py; do not edit. Regenerate (t/t0105 checks it):\n'
              ' *   cd t/data/aws/protocol-tests &&\n'
              ' *   /usr/bin/python3 ../../../../tools/gen-model.py --protocol-tests \\\n'
              + ''.join(' *     %s \\\n' % n for n in names) +
              ' *     > ../../../unit/protocol-model.inc\n */\n\n')
    table.emit(sys.stdout, 'pt', 'static ', 'pt_operation', header)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description='Write the C table of API shapes.')
    ap.add_argument('--models', default=os.path.join(here, '..', 't', 'data', 'aws', 'models'),
                    help='directory of botocore service models (default: t/data/aws/models)')
    ap.add_argument('--protocol-tests', nargs='+', metavar='FILE',
                    help='protocol test suites (input-ec2.json, output-json.json, ...) instead')
    args = ap.parse_args()
    if args.protocol_tests:
        protocol_tests(args)
    else:
        services(args)


if __name__ == '__main__':
    main()
