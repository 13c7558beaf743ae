"""S3 operations through boto3 (Debian python3-boto3 1.26) plus hand-made requests for the
bad-input cases of shared/docs/SECURITY-AND-RELIABILITY.md section 6, items 1-4 and 9.
Run: /usr/bin/python3 s3_api_test.py --osprey build/osprey
"""
import argparse
import concurrent.futures
import datetime
import hashlib
import os
import socket
import sys
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from osprey_harness import OspreyServer  # noqa: E402
import s3_testlib as lib  # noqa: E402

OSPREY = None
server = None
s3 = None


def setUpModule():
    global server, s3
    server = OspreyServer(OSPREY).start()
    s3 = server.boto3_client("s3", signature_version="s3v4")  # boto3 1.26 presigns SigV2 otherwise
    s3.create_bucket(Bucket="api-bucket")


def tearDownModule():
    server.cleanup()


def code_of(exc):
    return exc.response["Error"]["Code"]


class BucketTest(unittest.TestCase):
    def test_bucket_lifecycle_and_errors(self):
        from botocore.exceptions import ClientError
        s3.create_bucket(Bucket="life-cycle")
        self.assertIn("life-cycle", [b["Name"] for b in s3.list_buckets()["Buckets"]])
        s3.head_bucket(Bucket="life-cycle")
        with self.assertRaises(ClientError) as e:
            s3.create_bucket(Bucket="life-cycle")
        self.assertEqual(code_of(e.exception), "BucketAlreadyOwnedByYou")
        s3.put_object(Bucket="life-cycle", Key="k", Body=b"v")
        with self.assertRaises(ClientError) as e:
            s3.delete_bucket(Bucket="life-cycle")
        self.assertEqual(code_of(e.exception), "BucketNotEmpty")
        s3.delete_object(Bucket="life-cycle", Key="k")
        s3.delete_bucket(Bucket="life-cycle")
        with self.assertRaises(ClientError) as e:
            s3.head_bucket(Bucket="life-cycle")
        self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)
        with self.assertRaises(ClientError) as e:
            s3.delete_bucket(Bucket="life-cycle")
        self.assertEqual(code_of(e.exception), "NoSuchBucket")
        with self.assertRaises(ClientError) as e:
            s3.list_objects_v2(Bucket="no-such-bucket")
        self.assertEqual(code_of(e.exception), "NoSuchBucket")
        for bad in ("ab", "Upper-Case", "a..b", "192.168.1.1", "bad_underscore", "-dash"):
            status, _, body = lib.signed(server, "PUT", "/" + bad)
            self.assertEqual(lib.error_code(body), "InvalidBucketName", bad)
        # A region other than us-east-1 sends a CreateBucketConfiguration body.
        eu = server.boto3_client("s3")
        eu.create_bucket(Bucket="eu-bucket",
                         CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        eu.delete_bucket(Bucket="eu-bucket")


class ObjectTest(unittest.TestCase):
    def test_put_get_head_range_metadata(self):
        from botocore.exceptions import ClientError
        body = bytes(range(256)) * 40
        put = s3.put_object(Bucket="api-bucket", Key="obj/a b+c%.bin", Body=body,
                            ContentType="application/x-test", Metadata={"Label": "cat"})
        self.assertEqual(put["ETag"], '"%s"' % hashlib.md5(body).hexdigest())
        got = s3.get_object(Bucket="api-bucket", Key="obj/a b+c%.bin")
        self.assertEqual(got["Body"].read(), body)
        self.assertEqual(got["ContentType"], "application/x-test")
        self.assertEqual(got["Metadata"], {"label": "cat"})
        head = s3.head_object(Bucket="api-bucket", Key="obj/a b+c%.bin")
        self.assertEqual(head["ContentLength"], len(body))
        for spec, want in (("bytes=0-9", body[0:10]), ("bytes=100-", body[100:]),
                           ("bytes=-7", body[-7:]), ("bytes=10239-10239", body[-1:])):
            r = s3.get_object(Bucket="api-bucket", Key="obj/a b+c%.bin", Range=spec)
            self.assertEqual(r["Body"].read(), want, spec)
            self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 206, spec)
            self.assertTrue(r["ContentRange"].endswith("/%d" % len(body)), r["ContentRange"])
        with self.assertRaises(ClientError) as e:
            s3.get_object(Bucket="api-bucket", Key="obj/a b+c%.bin", Range="bytes=20000-20001")
        self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 416)
        with self.assertRaises(ClientError) as e:
            s3.get_object(Bucket="api-bucket", Key="obj/missing")
        self.assertEqual(code_of(e.exception), "NoSuchKey")
        # Zero-byte object.
        s3.put_object(Bucket="api-bucket", Key="obj/empty", Body=b"")
        self.assertEqual(s3.get_object(Bucket="api-bucket", Key="obj/empty")["Body"].read(), b"")

    def test_copy_and_delete_objects(self):
        s3.put_object(Bucket="api-bucket", Key="copy/src", Body=b"copy me", Metadata={"a": "1"})
        r = s3.copy_object(Bucket="api-bucket", Key="copy/dst",
                           CopySource={"Bucket": "api-bucket", "Key": "copy/src"})
        self.assertEqual(r["CopyObjectResult"]["ETag"], '"%s"' % hashlib.md5(b"copy me").hexdigest())
        got = s3.get_object(Bucket="api-bucket", Key="copy/dst")
        self.assertEqual((got["Body"].read(), got["Metadata"]), (b"copy me", {"a": "1"}))
        keys = [{"Key": "copy/src"}, {"Key": "copy/dst"}, {"Key": "copy/never-existed"}]
        r = s3.delete_objects(Bucket="api-bucket", Delete={"Objects": keys})
        self.assertEqual(sorted(d["Key"] for d in r["Deleted"]),
                         ["copy/dst", "copy/never-existed", "copy/src"])
        self.assertEqual(s3.list_objects_v2(Bucket="api-bucket", Prefix="copy/")["KeyCount"], 0)

    def test_listing_v2_and_v1(self):
        keys = [f"list/{d}/{i:02d}.jpg" for d in ("a", "b", "c") for i in range(5)] + ["list/top"]
        for key in keys:
            s3.put_object(Bucket="api-bucket", Key=key, Body=b"x")
        r = s3.list_objects_v2(Bucket="api-bucket", Prefix="list/", Delimiter="/")
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["list/a/", "list/b/", "list/c/"])
        self.assertEqual([c["Key"] for c in r["Contents"]], ["list/top"])
        seen, token, pages = [], None, 0
        while True:
            kw = {"ContinuationToken": token} if token else {}
            r = s3.list_objects_v2(Bucket="api-bucket", Prefix="list/", MaxKeys=4, **kw)
            seen += [c["Key"] for c in r.get("Contents", [])]
            pages += 1
            if not r["IsTruncated"]:
                break
            token = r["NextContinuationToken"]
        self.assertEqual(seen, sorted(keys))
        self.assertEqual(pages, 4)
        r = s3.list_objects_v2(Bucket="api-bucket", Prefix="list/", StartAfter="list/b/04.jpg")
        self.assertEqual(r["Contents"][0]["Key"], "list/c/00.jpg")
        paginator = s3.get_paginator("list_objects")
        v1 = [c["Key"] for page in paginator.paginate(Bucket="api-bucket", Prefix="list/",
                                                       PaginationConfig={"PageSize": 3})
              for c in page["Contents"]]
        self.assertEqual(v1, sorted(keys))
        r = s3.list_objects(Bucket="api-bucket", Prefix="list/", Delimiter="/", MaxKeys=2)
        self.assertTrue(r["IsTruncated"])
        r2 = s3.list_objects(Bucket="api-bucket", Prefix="list/", Delimiter="/", Marker=r["NextMarker"])
        self.assertEqual([p["Prefix"] for p in r2["CommonPrefixes"]], ["list/c/"])

    def test_concurrent_puts_leave_one_complete_winner(self):
        bodies = [bytes([65 + i]) * (512 * 1024) for i in range(8)]
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda b: server.boto3_client("s3").put_object(
                Bucket="api-bucket", Key="race/one", Body=b), bodies))
        got = s3.get_object(Bucket="api-bucket", Key="race/one")
        data = got["Body"].read()
        self.assertIn(data, bodies)
        self.assertEqual(got["ETag"], '"%s"' % hashlib.md5(data).hexdigest())


class MultipartTest(unittest.TestCase):
    def test_multipart_lifecycle(self):
        from botocore.exceptions import ClientError
        part = 5 * 1024 * 1024
        data = os.urandom(2 * part + 1000)
        up = s3.create_multipart_upload(Bucket="api-bucket", Key="mp/obj", ContentType="x/y")
        uid = up["UploadId"]
        self.assertIn(uid, [u["UploadId"] for u in
                            s3.list_multipart_uploads(Bucket="api-bucket").get("Uploads", [])])
        etags = []
        for number, start in enumerate(range(0, len(data), part), start=1):
            r = s3.upload_part(Bucket="api-bucket", Key="mp/obj", UploadId=uid,
                               PartNumber=number, Body=data[start:start + part])
            etags.append(r["ETag"])
        parts = s3.list_parts(Bucket="api-bucket", Key="mp/obj", UploadId=uid)["Parts"]
        self.assertEqual([p["Size"] for p in parts], [part, part, 1000])
        with self.assertRaises(ClientError) as e:
            s3.head_object(Bucket="api-bucket", Key="mp/obj")  # nothing visible yet
        with self.assertRaises(ClientError) as e:
            s3.complete_multipart_upload(
                Bucket="api-bucket", Key="mp/obj", UploadId=uid,
                MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etags[1]}]})
        self.assertEqual(code_of(e.exception), "InvalidPart")
        done = s3.complete_multipart_upload(
            Bucket="api-bucket", Key="mp/obj", UploadId=uid,
            MultipartUpload={"Parts": [{"PartNumber": n + 1, "ETag": t} for n, t in enumerate(etags)]})
        digest = hashlib.md5(b"".join(bytes.fromhex(t.strip('"')) for t in etags)).hexdigest()
        self.assertEqual(done["ETag"], '"%s-3"' % digest)
        got = s3.get_object(Bucket="api-bucket", Key="mp/obj")
        self.assertEqual((got["Body"].read(), got["ContentType"]), (data, "x/y"))
        with self.assertRaises(ClientError) as e:
            s3.list_parts(Bucket="api-bucket", Key="mp/obj", UploadId=uid)
        self.assertEqual(code_of(e.exception), "NoSuchUpload")
        # Too-small middle part, then abort.
        uid = s3.create_multipart_upload(Bucket="api-bucket", Key="mp/small")["UploadId"]
        e1 = s3.upload_part(Bucket="api-bucket", Key="mp/small", UploadId=uid, PartNumber=1, Body=b"a")["ETag"]
        e2 = s3.upload_part(Bucket="api-bucket", Key="mp/small", UploadId=uid, PartNumber=2, Body=b"b")["ETag"]
        with self.assertRaises(ClientError) as e:
            s3.complete_multipart_upload(Bucket="api-bucket", Key="mp/small", UploadId=uid,
                                         MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1},
                                                                    {"PartNumber": 2, "ETag": e2}]})
        self.assertEqual(code_of(e.exception), "EntityTooSmall")
        s3.abort_multipart_upload(Bucket="api-bucket", Key="mp/small", UploadId=uid)
        with self.assertRaises(ClientError) as e:
            s3.upload_part(Bucket="api-bucket", Key="mp/small", UploadId=uid, PartNumber=3, Body=b"c")
        self.assertEqual(code_of(e.exception), "NoSuchUpload")


class PresignTest(unittest.TestCase):
    def test_presigned_put_get_and_expiry(self):
        put_url = s3.generate_presigned_url("put_object", Params={"Bucket": "api-bucket",
                                                                  "Key": "pre/put.txt"}, ExpiresIn=60)
        req = urllib.request.Request(put_url, data=b"presigned body", method="PUT")
        with urllib.request.urlopen(req, timeout=10) as r:
            self.assertEqual(r.status, 200)
        get_url = s3.generate_presigned_url("get_object", Params={"Bucket": "api-bucket",
                                                                  "Key": "pre/put.txt"}, ExpiresIn=60)
        with urllib.request.urlopen(get_url, timeout=10) as r:
            self.assertEqual(r.read(), b"presigned body")
        for tamper in (lambda u: u.replace("pre/put.txt", "pre/other.txt"),
                       lambda u: u.replace("X-Amz-Expires=60", "X-Amz-Expires=61"),
                       lambda u: u.replace("X-Amz-Expires=60", "X-Amz-Expires=604801"),
                       lambda u: u.replace("X-Amz-Expires=60", "X-Amz-Expires=0")):
            with self.assertRaises(urllib.error.HTTPError) as e:
                urllib.request.urlopen(tamper(get_url), timeout=10)
            self.assertEqual(e.exception.code, 403)
        # Expired: a URL signed 2 hours ago for 1 hour.
        past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=2)
        import botocore.auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        signer = botocore.auth.S3SigV4QueryAuth(Credentials(server.access_key, server.secret_key),
                                                "s3", "us-east-1", expires=3600)
        request = AWSRequest(method="GET", url=server.endpoint + "/api-bucket/pre/put.txt")
        real = botocore.auth.datetime.datetime

        class Past(real):
            @classmethod
            def utcnow(cls):
                return past.replace(tzinfo=None)
        botocore.auth.datetime.datetime = Past
        try:
            signer.add_auth(request)
        finally:
            botocore.auth.datetime.datetime = real
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(request.url, timeout=10)
        self.assertEqual(e.exception.code, 403)
        self.assertIn(b"expired", e.exception.read())


class BadInputTest(unittest.TestCase):
    def assertCode(self, result, status, code):
        self.assertEqual((result[0], lib.error_code(result[2])), (status, code), result[2][:300])

    def test_signature_tampering(self):
        body = b"payload"
        headers, *_ = lib.sign(server, "PUT", "/api-bucket/t/x", payload_hash=hashlib.sha256(body).hexdigest())
        auth = headers["Authorization"]
        wrong = dict(headers, Authorization=auth[:-1] + ("0" if auth[-1] != "0" else "1"))
        self.assertCode(lib.request(server, "PUT", "/api-bucket/t/x", "", wrong, body), 403, "SignatureDoesNotMatch")
        unsigned_host = dict(headers, Authorization=auth.replace("SignedHeaders=host;", "SignedHeaders="))
        self.assertEqual(lib.request(server, "PUT", "/api-bucket/t/x", "", unsigned_host, body)[0], 400)
        no_auth = {k: v for k, v in headers.items() if k != "Authorization"}
        self.assertCode(lib.request(server, "PUT", "/api-bucket/t/x", "", no_auth, body), 403, "AccessDenied")
        self.assertCode(lib.request(server, "PUT", "/api-bucket/t/x", "", dict(headers, Authorization="AWS4-HMAC-SHA256 garbage"), body),
                        400, "AuthorizationHeaderMalformed")
        both = lib.request(server, "GET", "/api-bucket/t/x", "X-Amz-Signature=" + "0" * 64, headers)
        self.assertEqual(both[0], 400)
        self.assertCode(lib.signed(server, "GET", "/api-bucket", access_key="unknown"), 403, "InvalidAccessKeyId")
        self.assertCode(lib.signed(server, "GET", "/api-bucket", service="rekognition"), 400,
                        "AuthorizationHeaderMalformed")
        self.assertCode(lib.signed(server, "PUT", "/api-bucket/t/x", body=body,
                                   payload_hash=hashlib.sha256(b"other").hexdigest()),
                        400, "XAmzContentSHA256Mismatch")
        self.assertEqual(lib.signed(server, "HEAD", "/api-bucket/t/x")[0], 404)  # nothing stored

    def test_clock_skew_fifteen_minutes(self):
        now = datetime.datetime.now(datetime.timezone.utc)
        for minutes in (16, -16):
            result = lib.signed(server, "GET", "/api-bucket", when=now + datetime.timedelta(minutes=minutes))
            self.assertCode(result, 403, "RequestTimeTooSkewed")
        for minutes in (14, -14):
            self.assertEqual(lib.signed(server, "GET", "/api-bucket",
                                        when=now + datetime.timedelta(minutes=minutes))[0], 200)

    def test_names_that_try_to_leave_the_store(self):
        data_dir = os.path.join(server.data_dir, "data")
        before = set(os.listdir(data_dir))
        for target in ("/api-bucket/..%2F..%2Fescape", "/api-bucket/%2e%2e/%2e%2e/escape",
                       "/api-bucket/a/../../escape", "/api-bucket//escape", "/api-bucket/a%5C..%5Cescape",
                       "/api-bucket/a%00b", "/api-bucket/%C0%AE%C0%AE/escape", "/api-bucket/" + "k" * 1025,
                       "/..%2Fescape/k", "/%2e%2e/k", "/api-bucket/.osprey.obj", "/api-bucket/x/.osprey.meta"):
            status, _, body = lib.signed(server, "PUT", target, body=b"x")
            self.assertGreaterEqual(status, 400, target)
        self.assertEqual(set(os.listdir(data_dir)), before)
        for root, dirs, files in os.walk(os.path.dirname(data_dir)):
            self.assertNotIn("escape", files + dirs, root)

    def test_streaming_signed_payload(self):
        data = os.urandom(200 * 1024)
        path = "/api-bucket/stream/signed.bin"
        def put(corrupt=None, cut=0, decoded=len(data)):
            headers, seed, amz_date, scope, key = lib.sign(
                server, "PUT", path, headers={"Content-Encoding": "aws-chunked",
                                              "x-amz-decoded-content-length": str(decoded)},
                payload_hash="STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
            body = lib.aws_chunked(data, 64 * 1024, key, amz_date, scope, seed, corrupt)
            if cut:
                body = body[:-cut]
                return lib.request(server, "PUT", path, "", dict(headers, **{"Content-Length": str(len(body))}), body)
            return lib.request(server, "PUT", path, "", headers, body)
        self.assertCode(put(corrupt=1), 403, "SignatureDoesNotMatch")
        self.assertCode(put(corrupt=4), 403, "SignatureDoesNotMatch")  # the final empty chunk
        self.assertCode(put(cut=100), 400, "IncompleteBody")
        self.assertCode(put(decoded=len(data) + 1), 400, "IncompleteBody")
        self.assertEqual(lib.signed(server, "HEAD", path)[0], 404)
        status, headers, body = put()
        self.assertEqual(status, 200, body)
        self.assertEqual(s3.get_object(Bucket="api-bucket", Key="stream/signed.bin")["Body"].read(), data)

    def test_content_length_lies_and_slow_bodies(self):
        # Declares 1 MB, sends 10 bytes, then half-closes: the server sees EOF, stores nothing.
        headers, *_ = lib.sign(server, "PUT", "/api-bucket/lie/short", payload_hash="UNSIGNED-PAYLOAD")
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        head = "PUT /api-bucket/lie/short HTTP/1.1\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()) + "Content-Length: 1048576\r\n\r\n"
        sock.sendall(head.encode() + b"0123456789")
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(30)
        try:
            sock.recv(4096)
        except OSError:
            pass
        sock.close()
        self.assertEqual(lib.signed(server, "HEAD", "/api-bucket/lie/short")[0], 404)
        # Bad Content-MD5: syntactically invalid, then wrong.
        self.assertCode(lib.signed(server, "PUT", "/api-bucket/lie/md5", headers={"Content-MD5": "abc"}, body=b"x"),
                        400, "InvalidDigest")
        import base64
        wrong = base64.b64encode(hashlib.md5(b"y").digest()).decode()
        self.assertCode(lib.signed(server, "PUT", "/api-bucket/lie/md5", headers={"Content-MD5": wrong}, body=b"x"),
                        400, "BadDigest")
        # Over the single-PUT limit: refused before a byte is read.
        self.assertCode(lib.signed(server, "PUT", "/api-bucket/lie/huge", payload_hash="UNSIGNED-PAYLOAD",
                                   headers={"Content-Length": str(6 * 1024 ** 3)}),
                        400, "EntityTooLarge")
        self.assertEqual(lib.signed(server, "HEAD", "/api-bucket/lie/md5")[0], 404)

    def test_unsigned_payload_trailer(self):
        import zlib, base64
        data = b"hello trailer " * 1000
        crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
        def put(checksum):
            body = b"%x\r\n%s\r\n0\r\nx-amz-checksum-crc32:%s\r\n\r\n" % (len(data), data, checksum.encode())
            return lib.signed(server, "PUT", "/api-bucket/trailer/obj",
                              headers={"Content-Encoding": "aws-chunked", "x-amz-trailer": "x-amz-checksum-crc32",
                                       "x-amz-decoded-content-length": str(len(data))},
                              body=body, payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER")
        self.assertCode(put("AAAAAA=="), 400, "BadDigest")
        self.assertEqual(lib.signed(server, "HEAD", "/api-bucket/trailer/obj")[0], 404)
        self.assertEqual(put(crc)[0], 200)
        self.assertEqual(s3.get_object(Bucket="api-bucket", Key="trailer/obj")["Body"].read(), data)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--osprey", required=True)
    args, rest = parser.parse_known_args()
    OSPREY = os.path.abspath(args.osprey)
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
