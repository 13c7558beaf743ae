"""Helpers for the S3 integration tests: a tiny SigV4 signer for hand-made (and deliberately
broken) requests, raw HTTP over a socket, and a server variant with resource limits.

Standard library only; builds on osprey_harness.OspreyServer.
"""
import datetime
import hashlib
import hmac
import http.client
import json
import os
import resource
import signal
import subprocess
import time
import urllib.parse
import urllib.request

from osprey_harness import OspreyServer, REGION

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signing_key(secret, date, region=REGION, service="s3"):
    k = _hmac(("AWS4" + secret).encode(), date)
    k = _hmac(k, region)
    k = _hmac(k, service)
    return _hmac(k, "aws4_request")


def quote(s, safe="-_.~"):
    return urllib.parse.quote(s, safe=safe)


def sign(server, method, path, query="", headers=None, payload_hash=EMPTY_SHA256,
         when=None, secret=None, access_key=None, service="s3"):
    """Returns (headers dict, seed signature, amz_date, scope, key) for a header-signed request.
    `path` and `query` are sent exactly as given (already encoded)."""
    when = when or datetime.datetime.now(datetime.timezone.utc)
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    headers = dict(headers or {})
    headers["host"] = f"127.0.0.1:{server.port}"
    headers["x-amz-date"] = amz_date
    headers["x-amz-content-sha256"] = payload_hash
    names = sorted(h.lower() for h in headers)
    lower = {k.lower(): str(v).strip() for k, v in headers.items()}
    pairs = []
    for part in filter(None, query.split("&")):
        name, _, value = part.partition("=")
        pairs.append((quote(urllib.parse.unquote(name)), quote(urllib.parse.unquote(value))))
    canonical_query = "&".join(f"{n}={v}" for n, v in sorted(pairs))
    canonical_path = "/".join(quote(urllib.parse.unquote(seg)) for seg in path.split("/"))
    canonical = "\n".join([method, canonical_path, canonical_query,
                           "".join(f"{n}:{lower[n]}\n" for n in names), ";".join(names),
                           payload_hash])
    scope = f"{date}/{REGION}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = signing_key(secret or server.secret_key, date, service=service)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={access_key or server.access_key}/"
                                f"{scope}, SignedHeaders={';'.join(names)}, Signature={signature}")
    return headers, signature, amz_date, scope, key


def chunk_signature(key, amz_date, scope, previous, data):
    to_sign = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, previous, EMPTY_SHA256,
                         hashlib.sha256(data).hexdigest()])
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def aws_chunked(data, chunk, key, amz_date, scope, seed, corrupt_chunk=None):
    """STREAMING-AWS4-HMAC-SHA256-PAYLOAD framing of `data`, signatures chained from `seed`."""
    out, previous, index, pos = [], seed, 0, 0
    while True:
        piece = data[pos:pos + chunk]
        sig = chunk_signature(key, amz_date, scope, previous, piece)
        previous = sig
        if index == corrupt_chunk:
            sig = ("0" if sig[0] != "0" else "1") + sig[1:]
        out.append(b"%x;chunk-signature=%s\r\n%s\r\n" % (len(piece), sig.encode(), piece))
        if not piece:
            return b"".join(out)
        pos += chunk
        index += 1


def request(server, method, path, query="", headers=None, body=b"", timeout=30):
    """Sends one raw request; returns (status, headers dict, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    target = path + ("?" + query if query else "")
    conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
    headers = dict(headers or {})
    if body and not any(k.lower() in ("content-length", "transfer-encoding") for k in headers):
        headers["Content-Length"] = str(len(body))
    for name, value in headers.items():
        conn.putheader(name, value)
    conn.endheaders()
    if body:
        conn.send(body)
    resp = conn.getresponse()
    data = resp.read()
    result = resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    conn.close()
    return result


def signed(server, method, path, query="", headers=None, body=b"", payload_hash=None, **kw):
    payload_hash = payload_hash or hashlib.sha256(body).hexdigest()
    h, *_ = sign(server, method, path, query, headers, payload_hash, **kw)
    return request(server, method, path, query, h, body)


def error_code(body):
    text = body.decode(errors="replace")
    if "<Code>" not in text:
        return None
    return text.split("<Code>", 1)[1].split("</Code>", 1)[0]


class LimitedServer(OspreyServer):
    """An OspreyServer whose files may not grow beyond `max_file_bytes` (RLIMIT_FSIZE, with
    SIGXFSZ ignored so writes fail with EFBIG): a disk-full stand-in that needs no root."""

    def __init__(self, binary, max_file_bytes, **kw):
        super().__init__(binary, **kw)
        self.max_file_bytes = max_file_bytes

    def start(self):
        real_popen = subprocess.Popen
        limit = self.max_file_bytes

        def limited():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        def popen(*args, **kwargs):
            return real_popen(*args, preexec_fn=limited, **kwargs)

        subprocess.Popen = popen
        try:
            return super().start()
        finally:
            subprocess.Popen = real_popen


def wait_until(predicate, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False
