#!/usr/bin/python3
"""creds-stub.py: a stand-in for STS, IMDSv2 and the container credentials endpoint (t21xx tests).

usage: creds-stub.py CONFIG.json PORTFILE LOGFILE [ADDRESS [PORT]]

Listens on ADDRESS (127.0.0.1) and PORT (0: a free one, written to PORTFILE once listening) and
appends one line per request to LOGFILE, saying what it checked, never a secret.

  POST /                 STS: AssumeRole (the SigV4 signature is verified with botocore's signer
                         against "keys") and AssumeRoleWithWebIdentity (must be unsigned; the
                         token must equal "web_identity_token", or the file "rotate_token_file"
                         held when the stub started and is rewritten after each call)
  PUT  /latest/api/token and GET /latest/meta-data/iam/security-credentials/[ROLE]: IMDSv2
  GET  /container/...    container credentials; Authorization must equal "container_token"

CONFIG is read again for every request; rewriting it (even with the same text) starts the counts
afresh, so that each test sees the same access key ids. Its keys: keys {AKID: SECRET}, region (the signing region STS expects), expiration (RFC 3339;
default an hour from now), web_identity_token, rotate_token_file, sts_error {code, message},
sts_http [STATUS, BODY] (an answer that is not STS's),
imds_role (null: no instance profile), imds_token_status, imds_reject_tokens, imds_code,
container_token, container_status. Issued credentials are PREFIX + a 4-digit count, with secrets
"Sekrit-..." and tokens "Tokn-..." so that tests can grep for leaks.
"""
import datetime
import json
import os
import re
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

CONFIGFILE, PORTFILE, LOGFILE = sys.argv[1], sys.argv[2], sys.argv[3]
ADDRESS = sys.argv[4] if len(sys.argv) > 4 else "127.0.0.1"
PORT = int(sys.argv[5]) if len(sys.argv) > 5 else 0
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
AUTH_RE = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
                     r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$")
CONFIG = {}
state = {"stamp": None}


def load_config():
    """Reads CONFIG; a rewritten file starts the counts and tokens afresh."""
    st = os.stat(CONFIGFILE)
    stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
    CONFIG.clear()
    CONFIG.update(json.load(open(CONFIGFILE)))
    if stamp != state["stamp"]:
        state.update(stamp=stamp, counts={}, requests=0, imds_tokens=set(), web_token=None)
        if CONFIG.get("rotate_token_file"):
            state["web_token"] = open(CONFIG["rotate_token_file"]).read().strip()


def log(line):
    with open(LOGFILE, "a") as f:
        f.write(line + "\n")


def issue(kind):
    counts = state["counts"]
    counts[kind] = counts.get(kind, 0) + 1
    n = counts[kind]
    exp = CONFIG.get("expiration")
    if exp is None:
        t = datetime.datetime.utcnow().replace(microsecond=0) + datetime.timedelta(hours=1)
        exp = t.isoformat() + "Z"
    return {"AccessKeyId": "ASIA%s%04d" % (kind.upper(), n),
            "SecretAccessKey": "Sekrit-%s-%d" % (kind, n),
            "Token": "Tokn-%s-%d" % (kind, n), "Expiration": exp}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass

    def reply(self, status, body, ctype="text/plain"):
        data = body.encode() if isinstance(body, str) else body
        state["requests"] += 1
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", "req-%04d" % state["requests"])
        self.end_headers()
        self.wfile.write(data)

    def parse_request(self):
        ok = super().parse_request()
        if ok:
            load_config()
        return ok

    def path_only(self):
        # A request through a proxy carries the whole URL.
        return urllib.parse.urlsplit(self.path).path

    def sts_error(self, status, code, message):
        self.reply(status, '<ErrorResponse xmlns="%s"><Error><Type>Sender</Type><Code>%s</Code>'
                   '<Message>%s</Message></Error><RequestId>sts-%s</RequestId></ErrorResponse>'
                   % (STS_NS, code, message, code.lower()), "text/xml")

    def verify_signature(self, body):
        """Returns (akid, region, why-not) after checking the request's SigV4 signature."""
        m = AUTH_RE.match(self.headers.get("Authorization", ""))
        if not m:
            return None, None, "no SigV4 Authorization"
        akid, date, region, service, signed, signature = m.groups()
        secret = CONFIG.get("keys", {}).get(akid)
        if secret is None:
            return akid, region, "unknown access key"
        if service != "sts":
            return akid, region, "service %s" % service
        amzdate = self.headers.get("X-Amz-Date", "")
        if amzdate[:8] != date:
            return akid, region, "X-Amz-Date does not match the scope"
        headers = {}
        for name in signed.split(";"):
            if self.headers.get(name) is None:
                return akid, region, "signed header %s missing" % name
            headers[name] = self.headers.get(name)
        req = AWSRequest(method="POST", url="http://%s%s" % (self.headers["Host"], self.path),
                         data=body, headers=headers)
        req.context["timestamp"] = amzdate
        signer = SigV4Auth(Credentials(akid, secret, self.headers.get("X-Amz-Security-Token")),
                           service, region)
        creq = signer.canonical_request(req)
        expected = signer.signature(signer.string_to_sign(req, creq), req)
        if expected != signature:
            return akid, region, "signature mismatch"
        return akid, region, None

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        form = dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
        action = form.get("Action", "")
        if self.path_only() != "/" or form.get("Version") != "2011-06-15":
            log("POST %s %s bad-request" % (self.path, action))
            return self.sts_error(400, "InvalidAction", "not an STS request")
        facts = "role=%s session=%s" % (form.get("RoleArn"), form.get("RoleSessionName"))
        for k in ("DurationSeconds", "ExternalId"):
            if k in form:
                facts += " %s=%s" % (k, form[k])
        if action == "AssumeRole":
            akid, region, why = self.verify_signature(body)
            log("POST / AssumeRole signature=%s akid=%s region=%s security-token=%s %s"
                % (why or "ok", akid, region,
                   "signed" if "x-amz-security-token" in self.headers.get("Authorization", "")
                   else "none", facts))
            if why is not None:
                return self.sts_error(403, "SignatureDoesNotMatch", "The request signature we "
                                      "calculated does not match the signature you provided.")
            if CONFIG.get("region") and region != CONFIG["region"]:
                return self.sts_error(403, "SignatureDoesNotMatch", "Credential should be "
                                      "scoped to a valid region.")
            kind = "role"
        elif action == "AssumeRoleWithWebIdentity":
            token = form.get("WebIdentityToken")
            want = state["web_token"] or CONFIG.get("web_identity_token")
            log("POST / AssumeRoleWithWebIdentity auth=%s token=%s %s"
                % ("none" if "Authorization" not in self.headers else "present",
                   "ok" if token == want else "wrong", facts))
            if "Authorization" in self.headers:
                return self.sts_error(400, "InvalidRequest", "must not be signed")
            if token != want:
                return self.sts_error(400, "InvalidIdentityToken", "Token is not valid")
            if CONFIG.get("rotate_token_file"):
                state["web_token"] = "rotated-%d" % (state["counts"].get("webid", 0) + 1)
                with open(CONFIG["rotate_token_file"], "w") as f:
                    f.write(state["web_token"] + "\n")
            kind = "webid"
        else:
            log("POST / %s unknown" % action)
            return self.sts_error(400, "InvalidAction", "unknown action")
        if CONFIG.get("sts_http"):
            return self.reply(CONFIG["sts_http"][0], CONFIG["sts_http"][1], "text/html")
        if CONFIG.get("sts_error"):
            e = CONFIG["sts_error"]
            return self.sts_error(400, e["code"], e["message"])
        c = issue(kind)
        result = action + "Result"
        self.reply(200, '<%sResponse xmlns="%s"><%s><Credentials><AccessKeyId>%s</AccessKeyId>'
                   '<SecretAccessKey>%s</SecretAccessKey><SessionToken>%s</SessionToken>'
                   '<Expiration>%s</Expiration></Credentials></%s><ResponseMetadata>'
                   '<RequestId>sts-ok</RequestId></ResponseMetadata></%sResponse>'
                   % (action, STS_NS, result, c["AccessKeyId"], c["SecretAccessKey"], c["Token"],
                      c["Expiration"], result, action), "text/xml")

    def do_PUT(self):
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        log("PUT %s ttl=%s" % (self.path_only(), ttl))
        if self.path_only() != "/latest/api/token" or ttl is None:
            return self.reply(400, "")
        status = CONFIG.get("imds_token_status", 200)
        if status != 200:
            return self.reply(status, "")
        token = "imds-Tokn-%d" % (len(state["imds_tokens"]) + 1)
        state["imds_tokens"].add(token)
        self.reply(200, token)

    def do_GET(self):
        path = self.path_only()
        if path.startswith("/container/"):
            auth = self.headers.get("Authorization")
            want = CONFIG.get("container_token")
            ok = want is None or auth == want
            log("GET container auth=%s" % ("ok" if ok else "missing" if auth is None else "wrong"))
            if not ok:
                return self.reply(403, '{"code":"AccessDenied","message":"bad token"}')
            status = CONFIG.get("container_status", 200)
            if status != 200:
                return self.reply(status, '{"code":"Broken","message":"container says no"}')
            c = issue("cont")
            c["RoleArn"] = "arn:aws:iam::123456789012:role/task"
            return self.reply(200, json.dumps(c), "application/json")
        prefix = "/latest/meta-data/iam/security-credentials/"
        if path.startswith(prefix):
            token = self.headers.get("X-aws-ec2-metadata-token")
            good = token in state["imds_tokens"] and not CONFIG.get("imds_reject_tokens")
            log("GET %s token=%s" % (path, "ok" if good else "missing" if token is None
                                      else "refused"))
            if not good:
                return self.reply(401, "")
            role = CONFIG.get("imds_role", "amicycle-role")
            if role is None:
                return self.reply(404, "")
            if path == prefix:
                return self.reply(200, role)
            if path != prefix + role:
                return self.reply(404, "")
            c = issue("imds")
            doc = {"Code": CONFIG.get("imds_code", "Success"), "LastUpdated": c["Expiration"],
                   "Type": "AWS-HMAC", "AccessKeyId": c["AccessKeyId"],
                   "SecretAccessKey": c["SecretAccessKey"], "Token": c["Token"],
                   "Expiration": c["Expiration"]}
            return self.reply(200, json.dumps(doc), "text/plain")
        log("GET %s unknown" % path)
        self.reply(404, "")


ThreadingHTTPServer.daemon_threads = True
server = ThreadingHTTPServer((ADDRESS, PORT), Handler)
with open(PORTFILE + ".tmp", "w") as f:
    f.write("%d\n" % server.server_address[1])
os.rename(PORTFILE + ".tmp", PORTFILE)
server.serve_forever()
