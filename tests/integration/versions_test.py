"""End to end: the Custom Labels tutorial, typed as written, against a real Osprey.

S3 upload with `aws s3`, CreateProjectVersion with AutoCreate, DescribeProjectVersions until
TRAINING_COMPLETED, evaluation files downloaded from the output bucket, Start, DetectCustomLabels
on held-out images, Stop, Delete, the errors of each step, and kill -9 during training.
The images come from ../shared/datagen (objects8, smoke size), generated at test time.

Usage: /usr/bin/python3 versions_test.py --osprey build/osprey
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from osprey_harness import OspreyServer

BINARY = None
DATA = None  # generated once per run


def generate_data():
    shared = os.environ.get("OSPREY_SHARED_DIR") or os.path.join(
        os.path.dirname(__file__), "..", "..", "..", "shared")
    out = os.path.join(tempfile.gettempdir(), "osprey-it-datagen-smoke")
    marker = os.path.join(out, "objects8", "train.manifest")
    if not os.path.exists(marker):
        subprocess.run(["bash", os.path.join(shared, "datagen", "make_sets.sh"), out, "smoke",
                        "s3://train-bucket/"], check=True, stdout=subprocess.DEVNULL)
    return os.path.join(out, "objects8")


def wait_for(server, arn, version, statuses, timeout=600):
    deadline = time.time() + timeout
    while time.time() < deadline:
        _, out, _ = server.aws("rekognition", "describe-project-versions", "--project-arn", arn,
                               "--version-names", version)
        status = out["ProjectVersionDescriptions"][0]["Status"]
        if status in statuses:
            return out["ProjectVersionDescriptions"][0]
        time.sleep(1)
    raise AssertionError(f"{version} never reached {statuses}")


class VersionsTest(unittest.TestCase):
    def setUp(self):
        self.server = OspreyServer(BINARY, extra_args=["--training-budget", "15"]).start()
        s = self.server
        s.aws("s3", "mb", "s3://train-bucket")
        s.aws("s3", "mb", "s3://out-bucket")
        s.aws("s3", "sync", os.path.join(DATA, "images"), "s3://train-bucket/objects8/images",
              "--only-show-errors")
        s.aws("s3", "cp", os.path.join(DATA, "train.manifest"), "s3://train-bucket/train.manifest")
        _, out, _ = s.aws("rekognition", "create-project", "--project-name", "tutorial")
        self.arn = out["ProjectArn"]

    def tearDown(self):
        self.server.cleanup()

    def create_version(self, name, check=True):
        return self.server.aws(
            "rekognition", "create-project-version", "--project-arn", self.arn,
            "--version-name", name,
            "--output-config", '{"S3Bucket":"out-bucket", "S3KeyPrefix":"results"}',
            "--training-data", '{"Assets": [{ "GroundTruthManifest": { "S3Object": { '
            '"Bucket": "train-bucket", "Name": "train.manifest" } } } ] }',
            "--testing-data", '{"AutoCreate":true }', check=check)

    def test_tutorial_train_evaluate_start_detect_stop(self):
        s = self.server
        _, out, _ = self.create_version("v1")
        version_arn = out["ProjectVersionArn"]
        self.assertRegex(version_arn, r":project/tutorial/version/v1/\d{13}$")
        rc, _, err = self.create_version("v1", check=False)
        self.assertIn("(ResourceInUseException)", err)

        d = wait_for(s, self.arn, "v1", {"TRAINING_COMPLETED", "TRAINING_FAILED"})
        self.assertEqual(d["Status"], "TRAINING_COMPLETED", d.get("StatusMessage"))
        self.assertEqual(d["StatusMessage"], "The model is ready to run.")
        # The waiter succeeds at once on a completed model.
        s.aws("rekognition", "wait", "project-version-training-completed", "--project-arn",
              self.arn, "--version-names", "v1")
        f1 = d["EvaluationResult"]["F1Score"]
        self.assertGreater(f1, 0.3)  # 8 classes: chance is 0.125
        self.assertIn("TrainingEndTimestamp", d)
        self.assertGreaterEqual(d["BillableTrainingTimeInSeconds"], 0)
        self.assertEqual(d["OutputConfig"], {"S3Bucket": "out-bucket", "S3KeyPrefix": "results"})
        self.assertEqual(d["TestingDataResult"]["Input"]["AutoCreate"], True)
        summary_key = d["EvaluationResult"]["Summary"]["S3Object"]["Name"]
        self.assertEqual(summary_key, "results/EvaluationResultSummary-tutorial-v1.json")
        with tempfile.TemporaryDirectory() as tmp:
            local = os.path.join(tmp, "summary.json")
            s.aws("s3", "cp", "s3://out-bucket/" + summary_key, local)
            with open(local) as f:
                summary = json.load(f)
            self.assertAlmostEqual(summary["AggregatedEvaluationResults"]["F1Score"], f1, places=4)
            self.assertEqual(len(summary["LabelEvaluationResults"]), 8)
            _, listing, _ = s.aws("s3api", "list-objects-v2", "--bucket", "out-bucket",
                                  "--prefix", "results/")
            names = sorted(o["Key"] for o in listing["Contents"])
            for kind in ["EvaluationResultSummary", "ManifestSummary", "TrainingGroundTruth",
                         "TestingGroundTruth", "TrainingManifestWithValidation",
                         "TestingManifestWithValidation"]:
                self.assertIn(f"results/{kind}-tutorial-v1.json", names)

        image = self.held_out_images()[0][0]
        rc, _, err = s.aws("rekognition", "detect-custom-labels", "--project-version-arn",
                           version_arn, "--image-bytes", "fileb://" + image, check=False)
        self.assertIn("(ResourceNotReadyException)", err)

        _, out, _ = s.aws("rekognition", "start-project-version", "--project-version-arn",
                          version_arn, "--min-inference-units", "1")
        self.assertEqual(out["Status"], "STARTING")
        wait_for(s, self.arn, "v1", {"RUNNING", "FAILED"})
        s.aws("rekognition", "wait", "project-version-running", "--project-arn", self.arn,
              "--version-names", "v1")
        rc, _, err = s.aws("rekognition", "delete-project-version", "--project-version-arn",
                           version_arn, check=False)
        self.assertIn("(ResourceInUseException)", err)

        correct = 0
        held_out = self.held_out_images()
        for path, label in held_out:
            _, out, _ = s.aws("rekognition", "detect-custom-labels", "--project-version-arn",
                              version_arn, "--image-bytes", "fileb://" + path,
                              "--min-confidence", "0")
            labels = out["CustomLabels"]
            self.assertEqual(len(labels), 8)
            confidences = [l["Confidence"] for l in labels]
            self.assertEqual(confidences, sorted(confidences, reverse=True))
            correct += labels[0]["Name"] == label
        # Smoke-size model (20 images a label, 15 s): about 0.34 top-1 on its test split; chance
        # is 0.125. 40 images keep the estimate's noise well inside that gap.
        self.assertGreater(correct / len(held_out), 0.2, "top-1 on held-out images")
        _, out, _ = s.aws("rekognition", "detect-custom-labels", "--project-version-arn",
                          version_arn, "--image", '{"S3Object":{"Bucket":"train-bucket",'
                          '"Name":"objects8/images/test/bird/test-bird-00000.jpg"}}',
                          "--max-results", "2", "--min-confidence", "0")
        self.assertEqual(len(out["CustomLabels"]), 2)

        _, out, _ = s.aws("rekognition", "stop-project-version", "--project-version-arn",
                          version_arn)
        self.assertEqual(out["Status"], "STOPPING")
        wait_for(s, self.arn, "v1", {"STOPPED"})
        _, out, _ = s.aws("rekognition", "delete-project-version", "--project-version-arn",
                          version_arn)
        self.assertEqual(out["Status"], "DELETING")
        rc, _, err = s.aws("rekognition", "delete-project", "--project-arn", self.arn)

    def held_out_images(self):
        out = []
        test_dir = os.path.join(DATA, "images", "test")
        for label in sorted(os.listdir(test_dir)):
            for name in sorted(os.listdir(os.path.join(test_dir, label)))[:5]:
                out.append((os.path.join(test_dir, label, name), label))
        return out

    def test_bad_requests_get_aws_errors(self):
        s = self.server
        rc, _, err = s.aws("rekognition", "create-project-version", "--project-arn", self.arn,
                           "--version-name", "v1", "--output-config",
                           '{"S3Bucket":"no-such-bucket"}', "--training-data",
                           '{"Assets":[{"GroundTruthManifest":{"S3Object":{"Bucket":"train-bucket","Name":"train.manifest"}}}]}',
                           "--testing-data", '{"AutoCreate":true}', check=False)
        self.assertIn("(InvalidParameterException)", err)
        rc, _, err = s.aws("rekognition", "create-project-version", "--project-arn", self.arn,
                           "--version-name", "bad name", "--output-config",
                           '{"S3Bucket":"out-bucket"}', check=False)
        self.assertIn("(InvalidParameterException)", err)
        rc, _, err = s.aws("rekognition", "create-project-version", "--project-arn",
                           # A project ARN that differs from ours in its last digit.
                           self.arn[:-1] + ("1" if self.arn[-1] != "1" else "2"), "--version-name", "v1", "--output-config",
                           '{"S3Bucket":"out-bucket"}', check=False)
        self.assertIn("(ResourceNotFoundException)", err)
        client = s.boto3_client()
        with self.assertRaises(client.exceptions.InvalidParameterException):
            client.start_project_version(ProjectVersionArn=self.arn.replace(
                "/tutorial/", "/tutorial/version/v9/"), MinInferenceUnits=2, MaxInferenceUnits=1)

    def test_missing_manifest_fails_with_a_message_and_kill_during_training(self):
        s = self.server
        rc, out, _ = s.aws("rekognition", "create-project-version", "--project-arn", self.arn,
                           "--version-name", "nomanifest", "--output-config",
                           '{"S3Bucket":"out-bucket"}', "--training-data",
                           '{"Assets":[{"GroundTruthManifest":{"S3Object":{"Bucket":"train-bucket","Name":"missing.manifest"}}}]}',
                           "--testing-data", '{"AutoCreate":true}')
        d = wait_for(s, self.arn, "nomanifest", {"TRAINING_FAILED", "TRAINING_COMPLETED"})
        self.assertEqual(d["Status"], "TRAINING_FAILED")
        self.assertIn("missing.manifest", d["StatusMessage"])
        # The boto3 waiter stops at once on a failed training.
        client = s.boto3_client()
        from botocore.exceptions import WaiterError
        with self.assertRaises(WaiterError):
            client.get_waiter("project_version_training_completed").wait(
                ProjectArn=self.arn, VersionNames=["nomanifest"], WaiterConfig={"Delay": 1})

        self.create_version("killed")
        wait_for(s, self.arn, "killed", {"TRAINING_IN_PROGRESS"})
        time.sleep(2)
        s.stop(signal.SIGKILL)
        s.start()
        d = wait_for(s, self.arn, "killed", {"TRAINING_FAILED"}, timeout=10)
        self.assertIn("interrupted", d["StatusMessage"])

    def test_sigterm_stops_a_running_training_at_once_and_fails_the_version(self):
        s = self.server
        s.stop()
        # With this budget the training would run for minutes (the smoke set gets the maximum
        # epochs); the stop below must not wait for it.
        s.extra_args = ["--training-budget", "600"]
        s.start()
        self.create_version("stopped")
        deadline = time.time() + 120
        while time.time() < deadline:  # past decoding and feature extraction: in an epoch loop
            _, out, _ = s.aws("rekognition", "describe-project-versions", "--project-arn",
                              self.arn, "--version-names", "stopped")
            d = out["ProjectVersionDescriptions"][0]
            if d["Status"] != "TRAINING_IN_PROGRESS" or "head" in d.get("StatusMessage", ""):
                break
            time.sleep(0.5)
        self.assertEqual(d["Status"], "TRAINING_IN_PROGRESS", d)
        self.assertEqual(s.stop(signal.SIGTERM, timeout=60), 0, s.log()[-2000:])
        log = s.log()
        self.assertTrue("status=TRAINING_FAILED" in log, log[-1500:])  # set while stopping
        s.start()
        d = wait_for(s, self.arn, "stopped", {"TRAINING_FAILED", "TRAINING_COMPLETED"}, timeout=10)
        self.assertEqual(d["Status"], "TRAINING_FAILED")
        self.assertIn("interrupted because the server stopped", d["StatusMessage"])
        rc, _, err = s.aws("s3", "ls", "s3://out-bucket/results/EvaluationResultSummary",
                           check=False)
        self.assertNotEqual(rc, 0, "a stopped training wrote no evaluation")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--osprey", required=True)
    args, rest = parser.parse_known_args()
    BINARY = args.osprey
    DATA = generate_data()
    unittest.main(argv=[sys.argv[0], "-v", *rest])
