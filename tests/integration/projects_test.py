"""End to end: the Projects and tagging API through the real AWS CLI and boto3.

Usage: /usr/bin/python3 projects_test.py --osprey build/osprey
"""
import argparse
import datetime
import sys
import unittest
from unittest import mock

import botocore.auth
from botocore.exceptions import ClientError

from osprey_harness import OspreyServer

BINARY = None


class ProjectsTest(unittest.TestCase):
    def setUp(self):
        self.server = OspreyServer(BINARY).start()

    def tearDown(self):
        self.server.cleanup()

    def create(self, name):
        _, out, _ = self.server.aws("rekognition", "create-project", "--project-name", name)
        return out["ProjectArn"]

    def test_cli_create_describe_tag_delete(self):
        arn = self.create("birds")
        self.assertRegex(arn, r"^arn:aws:rekognition:us-east-1:\d{12}:project/birds/\d{13}$")
        _, out, _ = self.server.aws("rekognition", "describe-projects")
        self.assertEqual([p["ProjectArn"] for p in out["ProjectDescriptions"]], [arn])
        self.assertEqual(out["ProjectDescriptions"][0]["Status"], "CREATED")
        self.server.aws("rekognition", "tag-resource", "--resource-arn", arn, "--tags",
                        "team=vision,stage=dev")
        _, tags, _ = self.server.aws("rekognition", "list-tags-for-resource", "--resource-arn", arn)
        self.assertEqual(tags["Tags"], {"team": "vision", "stage": "dev"})
        self.server.aws("rekognition", "untag-resource", "--resource-arn", arn, "--tag-keys", "team")
        _, tags, _ = self.server.aws("rekognition", "list-tags-for-resource", "--resource-arn", arn)
        self.assertEqual(tags["Tags"], {"stage": "dev"})
        _, out, _ = self.server.aws("rekognition", "delete-project", "--project-arn", arn)
        self.assertEqual(out["Status"], "DELETING")
        _, out, _ = self.server.aws("rekognition", "describe-projects")
        self.assertEqual(out["ProjectDescriptions"], [])
        rc, _, err = self.server.aws("rekognition", "delete-project", "--project-arn", arn,
                                     check=False)
        self.assertEqual(rc, 254)
        self.assertIn("ResourceNotFoundException", err)

    def test_cli_errors(self):
        self.create("dup")
        rc, _, err = self.server.aws("rekognition", "create-project", "--project-name", "dup",
                                     check=False)
        self.assertEqual(rc, 254)
        self.assertIn("(ResourceInUseException)", err)
        rc, _, err = self.server.aws("rekognition", "create-project", "--project-name",
                                     "bad name!", check=False)
        self.assertEqual(rc, 254)
        self.assertIn("(InvalidParameterException)", err)
        rc, _, err = self.server.aws("rekognition", "describe-projects", "--max-results", "500",
                                     check=False)
        self.assertIn("(InvalidParameterException)", err)

    def test_cli_wrong_secret_and_unknown_key(self):
        rc, _, err = self.server.aws("rekognition", "describe-projects", secret_key="nope",
                                     check=False)
        self.assertEqual(rc, 254)
        self.assertIn("(InvalidSignatureException)", err)
        rc, _, err = self.server.aws("rekognition", "describe-projects", access_key="nobody",
                                     check=False)
        self.assertEqual(rc, 254)
        self.assertIn("(UnrecognizedClientException)", err)

    def test_cli_and_boto3_paginate(self):
        arns = [self.create(f"p{i:02d}") for i in range(7)]
        _, out, _ = self.server.aws("rekognition", "describe-projects", "--page-size", "2")
        self.assertEqual([p["ProjectArn"] for p in out["ProjectDescriptions"]], arns)
        client = self.server.boto3_client()
        pages = list(client.get_paginator("describe_projects").paginate(
            PaginationConfig={"PageSize": 3}))
        self.assertEqual(len(pages), 3)
        seen = [p["ProjectArn"] for page in pages for p in page["ProjectDescriptions"]]
        self.assertEqual(seen, arns)
        out = client.describe_projects(ProjectNames=["p03", "p05", "zz"])
        self.assertEqual([p["ProjectArn"] for p in out["ProjectDescriptions"]],
                         [arns[3], arns[5]])
        with self.assertRaises(client.exceptions.InvalidPaginationTokenException):
            client.describe_projects(NextToken="not-a-token")

    def test_boto3_skewed_clock_is_rejected(self):
        client = self.server.boto3_client()
        real = datetime.datetime

        class Skewed(real):
            @classmethod
            def utcnow(cls):
                return real.utcnow() - datetime.timedelta(minutes=6)

        with mock.patch.object(botocore.auth.datetime, "datetime", Skewed):
            with self.assertRaises(ClientError) as ctx:
                client.describe_projects()
        self.assertEqual(ctx.exception.response["Error"]["Code"], "InvalidSignatureException")
        self.assertIn("Signature expired", ctx.exception.response["Error"]["Message"])
        client.describe_projects()  # the real clock still works

    def test_boto3_typed_exceptions_and_request_id(self):
        client = self.server.boto3_client()
        arn = client.create_project(ProjectName="typed")["ProjectArn"]
        with self.assertRaises(client.exceptions.ResourceInUseException):
            client.create_project(ProjectName="typed")
        with self.assertRaises(client.exceptions.InvalidParameterException):
            client.create_project(ProjectName="x" * 256)
        with self.assertRaises(client.exceptions.ResourceNotFoundException):
            client.delete_project(ProjectArn=arn[:-1] + ("1" if arn[-1] != "1" else "2"))
        with self.assertRaises(client.exceptions.ResourceNotFoundException):
            client.tag_resource(ResourceArn=arn + "0", Tags={"a": "b"})
        too_many = {f"k{i}": "v" for i in range(201)}
        with self.assertRaises(client.exceptions.InvalidParameterException):
            client.tag_resource(ResourceArn=arn, Tags=too_many)
        out = client.describe_projects()
        self.assertEqual(len(out["ResponseMetadata"]["RequestId"]), 36)
        self.assertIsInstance(out["ProjectDescriptions"][0]["CreationTimestamp"], datetime.datetime)

    def test_restart_keeps_data_and_sigterm_is_clean(self):
        arn = self.create("durable")
        self.server.aws("rekognition", "tag-resource", "--resource-arn", arn, "--tags", "k=v")
        self.assertEqual(self.server.stop(), 0)
        self.assertIn("stopped cleanly", self.server.log())
        self.server.start()
        _, out, _ = self.server.aws("rekognition", "describe-projects")
        self.assertEqual([p["ProjectArn"] for p in out["ProjectDescriptions"]], [arn])
        _, tags, _ = self.server.aws("rekognition", "list-tags-for-resource", "--resource-arn", arn)
        self.assertEqual(tags["Tags"], {"k": "v"})

    def test_kill_9_loses_no_acknowledged_project(self):
        import signal
        arns = [self.create(f"k{i}") for i in range(5)]
        self.server.stop(signal.SIGKILL)
        self.server.start()
        _, out, _ = self.server.aws("rekognition", "describe-projects")
        self.assertEqual([p["ProjectArn"] for p in out["ProjectDescriptions"]], arns)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--osprey", required=True)
    args, rest = parser.parse_known_args()
    BINARY = args.osprey
    unittest.main(argv=[sys.argv[0], "-v", *rest])
