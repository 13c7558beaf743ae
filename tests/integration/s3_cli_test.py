"""The S3 half of the Custom Labels tutorial through the unchanged Debian AWS CLI (2.9.19):
mb, cp (small, and > 8 MB so the CLI switches to multipart), sync, ls, presign, rm, rb, with
byte-identical round trips. Run: /usr/bin/python3 s3_cli_test.py --osprey build/osprey
"""
import argparse
import filecmp
import os
import shutil
import sys
import tempfile
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from osprey_harness import OspreyServer  # noqa: E402

OSPREY = None
server = None
work = None


def setUpModule():
    global server, work
    server = OspreyServer(OSPREY).start()
    work = tempfile.mkdtemp(prefix="osprey-s3cli-")


def tearDownModule():
    server.cleanup()
    shutil.rmtree(work, ignore_errors=True)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


class S3CliTest(unittest.TestCase):
    def test_tutorial_flow(self):
        server.aws("s3", "mb", "s3://my-bucket")
        rc, out, err = server.aws("s3", "mb", "s3://my-bucket", check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("BucketAlreadyOwnedByYou", err)
        _, out, _ = server.aws("s3", "ls")
        self.assertIn("my-bucket", out)

        # Small file, then > 8 MB (multipart) with random bytes, both byte-identical back.
        small = os.path.join(work, "small.txt")
        write(small, b"hello osprey\n")
        server.aws("s3", "cp", small, "s3://my-bucket/docs/small.txt")
        big = os.path.join(work, "big.bin")
        write(big, os.urandom(21 * 1024 * 1024 + 123))
        server.aws("s3", "cp", big, "s3://my-bucket/data/big.bin")
        _, head, _ = server.aws("s3api", "head-object", "--bucket", "my-bucket", "--key",
                                "data/big.bin")
        self.assertEqual(head["ContentLength"], 21 * 1024 * 1024 + 123)
        self.assertTrue(head["ETag"].endswith('-3"'), head["ETag"])  # 8 MB parts: MD5-of-MD5s-3
        for key, local in (("docs/small.txt", small), ("data/big.bin", big)):
            back = os.path.join(work, "back-" + os.path.basename(local))
            server.aws("s3", "cp", f"s3://my-bucket/{key}", back)
            self.assertTrue(filecmp.cmp(local, back, shallow=False), key)

        # sync a small image tree, twice (the second run uploads nothing), then ls.
        images = os.path.join(work, "images")
        for idx in range(12):
            label = "cat" if idx % 2 else "dog"
            write(os.path.join(images, label, f"img {idx:02d}+x.jpg"), os.urandom(3000 + idx))
        server.aws("s3", "sync", images, "s3://my-bucket/images")
        _, out, _ = server.aws("s3", "sync", images, "s3://my-bucket/images")
        self.assertNotIn("upload:", out)
        _, out, _ = server.aws("s3", "ls", "s3://my-bucket/")
        self.assertIn("PRE images/", out)
        self.assertIn("PRE docs/", out)
        _, out, _ = server.aws("s3", "ls", "--recursive", "s3://my-bucket/images/")
        self.assertEqual(len([l for l in out.splitlines() if l.strip()]), 12)
        self.assertIn("images/cat/img 01+x.jpg", out)
        down = os.path.join(work, "images-back")
        server.aws("s3", "sync", "s3://my-bucket/images", down)
        self.assertFalse(filecmp.dircmp(images, down).diff_files)
        for label in ("cat", "dog"):
            cmp = filecmp.dircmp(os.path.join(images, label), os.path.join(down, label))
            self.assertEqual(cmp.left_only + cmp.right_only + cmp.diff_files, [])

        # presign: a plain HTTP GET with no credentials.
        _, url, _ = server.aws("s3", "presign", "s3://my-bucket/docs/small.txt",
                               "--expires-in", "300")
        with urllib.request.urlopen(url.strip(), timeout=10) as r:
            self.assertEqual(r.read(), b"hello osprey\n")

        # rm, recursive rm, rb.
        server.aws("s3", "rm", "s3://my-bucket/docs/small.txt")
        rc, _, err = server.aws("s3", "cp", "s3://my-bucket/docs/small.txt", "-", check=False)
        self.assertNotEqual(rc, 0)
        rc, _, err = server.aws("s3", "rb", "s3://my-bucket", check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("BucketNotEmpty", err)
        server.aws("s3", "rm", "--recursive", "s3://my-bucket/")
        _, out, _ = server.aws("s3", "ls", "--recursive", "s3://my-bucket/")
        self.assertEqual(out, {})
        server.aws("s3", "rb", "s3://my-bucket")
        _, out, _ = server.aws("s3", "ls")
        self.assertNotIn("my-bucket", str(out))

    def test_wrong_secret_is_refused(self):
        rc, _, err = server.aws("s3", "ls", secret_key="not-the-secret", check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("SignatureDoesNotMatch", err)
        rc, _, err = server.aws("s3", "ls", access_key="nobody", check=False)
        self.assertIn("InvalidAccessKeyId", err)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--osprey", required=True)
    args, rest = parser.parse_known_args()
    OSPREY = os.path.abspath(args.osprey)
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
