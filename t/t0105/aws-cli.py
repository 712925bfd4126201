#!/usr/bin/python3
"""aws-cli.py: what the AWS CLI v2 sends and prints, for checking lib/ec2/ec2query.c and lib/ec2/ec2xml.c.

    /usr/bin/python3 aws-cli.py parse MODELS SERVICE-ACTION.xml...   one JSON line per response
    /usr/bin/python3 aws-cli.py body MODELS < CASES.jsonl            one request body per case

MODELS is t/data/aws/models. Each call goes through a real botocore client, the one the CLI
vendors (Debian's awscli), with the CLI's timestamp and blob output settings, over the service
models in MODELS rather than the CLI's bundled copies (so fields newer than the installed CLI are
known): parameter validation, the event handlers (RunInstances' UserData is base64-encoded,
GetConsoleOutput's Output decoded), serialisation, the parser and the CLI's JSON encoder. Nothing
leaves the machine: a before-send hook keeps the request body and answers with the response file.
Output is compact JSON without ResponseMetadata, the members in the order the CLI prints them.
CASES.jsonl holds {"service":..., "action":..., "params":{...}} objects, one a line.
"""
import json
import os
import sys
import tempfile

import awscli.clidriver  # noqa: F401  (puts the CLI's vendored botocore first on the path)
import botocore.session
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from awscli.customizations.binaryformat import register_identity_blob_parser
from awscli.customizations.timestampformat import add_timestamp_parser
from awscli.utils import json_encoder

UIDS = {'ec2': 'ec2-2016-11-15', 'sts': 'sts-2011-06-15'}


class Raw:
    def __init__(self, body):
        self.body = body

    def stream(self, **kwargs):
        yield self.body


def session_over(models):
    """A botocore session set up as the CLI's, loading the models in MODELS first."""
    tmp = tempfile.mkdtemp()
    for service, uid in UIDS.items():
        version = uid[len(service) + 1:]
        os.makedirs(os.path.join(tmp, service, version))
        os.symlink(os.path.abspath(os.path.join(models, uid, 'service-2.json')),
                   os.path.join(tmp, service, version, 'service-2.json'))
    for v in list(os.environ):
        if v.startswith('AWS_'):
            del os.environ[v]
    os.environ.update(AWS_ACCESS_KEY_ID='AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY='not-a-secret',
                      AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
                      AWS_EC2_METADATA_DISABLED='true')
    session = botocore.session.get_session()
    session.get_component('data_loader').search_paths.insert(0, tmp)
    add_timestamp_parser(session)
    register_identity_blob_parser(session)
    return session


def call(session, service, action, params, answer, validate=True):
    """Makes the call; returns the request body and the output as the CLI prints it."""
    client = session.create_client(service, region_name='us-east-1',
                                   endpoint_url='https://%s.invalid' % service,
                                   config=Config(parameter_validation=validate))
    sent = []

    def before_send(request, **kwargs):
        sent.append(request.body)
        return AWSResponse(request.url, 200, {}, Raw(answer))

    client.meta.events.register('before-send', before_send)
    out = getattr(client, botocore.xform_name(action))(**params)
    out.pop('ResponseMetadata', None)
    body = sent[0]
    if isinstance(body, bytes):
        body = body.decode('utf-8')
    return body, json.dumps(out, default=json_encoder, ensure_ascii=False,
                            separators=(',', ':'))


def main():
    mode, models = sys.argv[1:3]
    session = session_over(models)
    if mode == 'parse':
        for path in sys.argv[3:]:
            service, action = os.path.basename(path)[:-len('.xml')].split('-', 1)
            with open(path, 'rb') as f:
                answer = f.read()
            print(call(session, service, action, {}, answer, validate=False)[1])
    elif mode == 'body':
        for line in sys.stdin:
            case = json.loads(line)
            empty = b'<%sResponse/>' % case['action'].encode()
            if case['service'] == 'sts':
                empty = b'<%sResponse><%sResult/></%sResponse>' % ((case['action'].encode(),) * 3)
            print(call(session, case['service'], case['action'], case['params'], empty)[0])
    else:
        sys.exit('usage: aws-cli.py parse|body MODELS ...')


if __name__ == '__main__':
    main()
