"""Durability of the S3 surface: kill -9 in the middle of large uploads (single PUT and CLI
multipart), restart on the same data folder, and check that no partial object is visible and no
temp file is left; then a disk-full stand-in (RLIMIT_FSIZE) refuses a PUT cleanly.
Run: /usr/bin/python3 s3_crash_test.py --osprey build/osprey
"""
import argparse
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from osprey_harness import AWS_CLI, OspreyServer  # noqa: E402
import s3_testlib as lib  # noqa: E402

OSPREY = None


def tmp_files(server):
    tmp = os.path.join(server.data_dir, "data", "buckets", ".tmp")
    return os.listdir(tmp) if os.path.isdir(tmp) else []


class CrashTest(unittest.TestCase):
    def setUp(self):
        self.server = OspreyServer(OSPREY).start()
        self.s3 = self.server.boto3_client("s3")
        self.s3.create_bucket(Bucket="crash")
        self.s3.put_object(Bucket="crash", Key="big.bin", Body=b"old complete version")

    def tearDown(self):
        self.server.cleanup()

    def restart(self):
        self.server.start()
        self.s3 = self.server.boto3_client("s3")

    def test_kill_during_single_put(self):
        size = 64 * 1024 * 1024
        headers, *_ = lib.sign(self.server, "PUT", "/crash/big.bin", payload_hash="UNSIGNED-PAYLOAD")
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=30)
        sock.sendall(("PUT /crash/big.bin HTTP/1.1\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()) + f"Content-Length: {size}\r\n\r\n").encode())
        chunk = os.urandom(1024 * 1024)
        for _ in range(24):  # 24 of 64 MB, then the server dies mid-body
            sock.sendall(chunk)
        self.assertTrue(lib.wait_until(lambda: any(
            os.path.getsize(os.path.join(self.server.data_dir, "data", "buckets", ".tmp", f)) > 0
            for f in tmp_files(self.server))), "the upload never reached a temp file")
        self.server.stop(signal.SIGKILL)
        sock.close()
        self.restart()
        got = self.s3.get_object(Bucket="crash", Key="big.bin")["Body"].read()
        self.assertEqual(got, b"old complete version")
        self.assertEqual(tmp_files(self.server), [])
        keys = [c["Key"] for c in self.s3.list_objects_v2(Bucket="crash").get("Contents", [])]
        self.assertEqual(keys, ["big.bin"])

    def test_kill_during_cli_multipart_upload(self):
        work = tempfile.mkdtemp(prefix="osprey-crash-")
        try:
            path = os.path.join(work, "big.bin")
            with open(path, "wb") as f:
                f.write(os.urandom(48 * 1024 * 1024))
            # One part at a time at 4 MB/s: the six 8 MB parts take about 12 s, so the kill below
            # lands mid-upload. Unthrottled, a quiet machine finished the whole upload (and its
            # CompleteMultipartUpload) before the first poll saw a part.
            config = os.path.join(work, "config")
            with open(config, "w") as f:
                f.write("[default]\ns3 =\n  max_concurrent_requests = 1\n  max_bandwidth = 4MB/s\n"
                        "  multipart_chunksize = 8MB\n")
            env = dict(self.server.cli_env(), AWS_CONFIG_FILE=config)
            cmd = [AWS_CLI, "--endpoint-url", self.server.endpoint, "s3", "cp", path, "s3://crash/new.bin"]
            cli = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            uploads_dir = os.path.join(self.server.data_dir, "data", "buckets", ".uploads")
            self.assertTrue(lib.wait_until(lambda: any(
                len(os.listdir(os.path.join(uploads_dir, u))) > 2 for u in os.listdir(uploads_dir)),
                timeout=60), "no part arrived")
            self.server.stop(signal.SIGKILL)
            cli.kill()
            cli.wait()
            self.restart()
            from botocore.exceptions import ClientError
            with self.assertRaises(ClientError):
                self.s3.head_object(Bucket="crash", Key="new.bin")
            # The unfinished upload is listed and can be aborted, as in S3.
            uploads = self.s3.list_multipart_uploads(Bucket="crash").get("Uploads", [])
            self.assertEqual([u["Key"] for u in uploads], ["new.bin"])
            self.s3.abort_multipart_upload(Bucket="crash", Key="new.bin", UploadId=uploads[0]["UploadId"])
            self.assertEqual(tmp_files(self.server), [])
        finally:
            shutil.rmtree(work, ignore_errors=True)


class DiskFullTest(unittest.TestCase):
    def test_put_beyond_the_file_size_limit_fails_cleanly(self):
        server = lib.LimitedServer(OSPREY, max_file_bytes=8 * 1024 * 1024).start()
        try:
            s3 = server.boto3_client("s3")
            s3.create_bucket(Bucket="full")
            from botocore.exceptions import ClientError
            with self.assertRaises(ClientError) as e:
                s3.put_object(Bucket="full", Key="too-big", Body=os.urandom(12 * 1024 * 1024))
            self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 500)
            with self.assertRaises(ClientError):
                s3.head_object(Bucket="full", Key="too-big")
            self.assertEqual(tmp_files(server), [])
            s3.put_object(Bucket="full", Key="small", Body=b"still works")  # server is healthy
            self.assertEqual(s3.get_object(Bucket="full", Key="small")["Body"].read(), b"still works")
        finally:
            server.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--osprey", required=True)
    args, rest = parser.parse_known_args()
    OSPREY = os.path.abspath(args.osprey)
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
