"""End to end: model versions beyond the tutorial, against a real Osprey through /usr/bin/aws.

- every DetectCustomLabels image error (ImageTooLarge, InvalidImageFormat, InvalidS3Object,
  InvalidParameter, ResourceNotFound) on a running classifier;
- a RUNNING model is RUNNING again after kill -9 and a restart, and answers;
- CopyProjectVersion into another project, then the copy starts and answers;
- object detection: a Ground Truth bounding-box manifest trains a detector (AutoCreate split),
  the evaluation summary carries AveragePrecision, and detect-custom-labels returns boxes that
  sit on the held-out objects.
The images come from ../shared/datagen (smoke size), generated at test time.

Usage: /usr/bin/python3 models_test.py --osprey build/osprey
"""
import argparse
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import zlib

from osprey_harness import OspreyServer

BINARY = None
DATA = None  # the smoke sets, generated once per run


def generate_data():
    shared = os.environ.get("OSPREY_SHARED_DIR") or os.path.join(
        os.path.dirname(__file__), "..", "..", "..", "shared")
    out = os.path.join(tempfile.gettempdir(), "osprey-it-datagen-smoke")
    if not (os.path.exists(os.path.join(out, "objects8", "train.manifest")) and
            os.path.exists(os.path.join(out, "scenes", "train.manifest"))):
        subprocess.run(["bash", os.path.join(shared, "datagen", "make_sets.sh"), out, "smoke",
                        "s3://train-bucket/"], check=True, stdout=subprocess.DEVNULL)
    return out


def png(width, height):
    """A valid grey PNG of the given size (rows of zeros compress to almost nothing)."""
    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body +
                struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def describe(server, project_arn, version):
    _, out, _ = server.aws("rekognition", "describe-project-versions", "--project-arn",
                           project_arn, "--version-names", version)
    return out["ProjectVersionDescriptions"][0]


def wait_for(server, project_arn, version, statuses, timeout=900):
    deadline = time.time() + timeout
    while time.time() < deadline:
        d = describe(server, project_arn, version)
        if d["Status"] in statuses:
            return d
        time.sleep(1)
    raise AssertionError(f"{version} never reached {statuses}")


def train(server, project_arn, version, manifest):
    _, out, _ = server.aws(
        "rekognition", "create-project-version", "--project-arn", project_arn,
        "--version-name", version,
        "--output-config", '{"S3Bucket":"out-bucket", "S3KeyPrefix":"results"}',
        "--training-data", json.dumps({"Assets": [{"GroundTruthManifest": {"S3Object": {
            "Bucket": "train-bucket", "Name": manifest}}}]}),
        "--testing-data", '{"AutoCreate":true}')
    d = wait_for(server, project_arn, version, {"TRAINING_COMPLETED", "TRAINING_FAILED"})
    if d["Status"] != "TRAINING_COMPLETED":
        raise AssertionError(f"training {version} failed: {d.get('StatusMessage')}")
    return out["ProjectVersionArn"], d


def start(server, project_arn, version, version_arn):
    server.aws("rekognition", "start-project-version", "--project-version-arn", version_arn,
               "--min-inference-units", "1")
    server.aws("rekognition", "wait", "project-version-running", "--project-arn", project_arn,
               "--version-names", version)


class ClassifierLifecycleTest(unittest.TestCase):
    """One trained, running classifier shared by the tests (training is the slow part)."""

    @classmethod
    def setUpClass(cls):
        cls.server = OspreyServer(BINARY, extra_args=["--training-budget", "10"]).start()
        s = cls.server
        s.aws("s3", "mb", "s3://train-bucket")
        s.aws("s3", "mb", "s3://out-bucket")
        objects8 = os.path.join(DATA, "objects8")
        s.aws("s3", "sync", os.path.join(objects8, "images"), "s3://train-bucket/objects8/images",
              "--only-show-errors")
        s.aws("s3", "cp", os.path.join(objects8, "train.manifest"),
              "s3://train-bucket/train.manifest")
        _, out, _ = s.aws("rekognition", "create-project", "--project-name", "lifecycle")
        cls.project_arn = out["ProjectArn"]
        cls.version_arn, _ = train(s, cls.project_arn, "v1", "train.manifest")
        start(s, cls.project_arn, "v1", cls.version_arn)
        cls.image = os.path.join(objects8, "images", "test", "bird",
                                 sorted(os.listdir(os.path.join(objects8, "images", "test", "bird")))[0])

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def detect(self, *args, version_arn=None, check=True):
        return self.server.aws("rekognition", "detect-custom-labels", "--project-version-arn",
                               version_arn or self.version_arn, *args, check=check)

    def expect_error(self, error, *args, version_arn=None):
        rc, _, err = self.detect(*args, version_arn=version_arn, check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn(f"({error})", err)

    def test_image_errors(self):
        with tempfile.TemporaryDirectory() as tmp:
            def file(name, data):
                path = os.path.join(tmp, name)
                with open(path, "wb") as f:
                    f.write(data)
                return "fileb://" + path
            # Over 4 MB of bytes: refused before anything is decoded.
            big = file("big.jpg", b"\xff\xd8\xff\xe0" + os.urandom(4 * 1024 * 1024 + 100))
            self.expect_error("ImageTooLargeException", "--image-bytes", big)
            # A valid PNG wider than 4096 pixels.
            self.expect_error("ImageTooLargeException", "--image-bytes",
                              file("wide.png", png(5000, 80)))
            self.expect_error("InvalidImageFormatException", "--image-bytes",
                              file("text.jpg", b"this is not an image\n" * 20))
            # Smaller than 64 pixels on a side.
            self.expect_error("InvalidParameterException", "--image-bytes",
                              file("tiny.png", png(32, 32)))
            ok = "fileb://" + self.image
            self.expect_error("InvalidParameterException", "--image-bytes", ok,
                              "--min-confidence", "101")
            self.expect_error("InvalidS3ObjectException", "--image",
                              '{"S3Object":{"Bucket":"train-bucket","Name":"no/such.jpg"}}')
            self.expect_error("InvalidS3ObjectException", "--image",
                              '{"S3Object":{"Bucket":"no-such-bucket","Name":"a.jpg"}}')
            self.expect_error("ResourceNotFoundException", "--image-bytes", ok,
                              version_arn=self.version_arn[:-1] + ("1" if self.version_arn[-1] != "1" else "2"))
            # The model still answers after all that.
            _, out, _ = self.detect("--image-bytes", ok, "--min-confidence", "0")
            self.assertEqual(len(out["CustomLabels"]), 8)

    def test_running_model_is_reloaded_after_kill_and_restart(self):
        s = self.server
        _, before, _ = self.detect("--image-bytes", "fileb://" + self.image, "--min-confidence", "0")
        s.stop(signal.SIGKILL)
        s.start()
        d = wait_for(s, self.project_arn, "v1", {"RUNNING", "FAILED", "STOPPED"}, timeout=60)
        self.assertEqual(d["Status"], "RUNNING", d.get("StatusMessage"))
        _, after, _ = self.detect("--image-bytes", "fileb://" + self.image, "--min-confidence", "0")
        self.assertEqual([l["Name"] for l in after["CustomLabels"]],
                         [l["Name"] for l in before["CustomLabels"]])
        for a, b in zip(after["CustomLabels"], before["CustomLabels"]):
            self.assertAlmostEqual(a["Confidence"], b["Confidence"], places=3)

    def test_copy_project_version_then_start_the_copy(self):
        s = self.server
        _, out, _ = s.aws("rekognition", "create-project", "--project-name", "copy-target")
        target = out["ProjectArn"]
        _, out, _ = s.aws("rekognition", "copy-project-version",
                          "--source-project-arn", self.project_arn,
                          "--source-project-version-arn", self.version_arn,
                          "--destination-project-arn", target, "--version-name", "copied",
                          "--output-config", '{"S3Bucket":"out-bucket","S3KeyPrefix":"copies"}')
        copy_arn = out["ProjectVersionArn"]
        self.assertRegex(copy_arn, r":project/copy-target/version/copied/\d{13}$")
        d = wait_for(s, target, "copied", {"COPYING_COMPLETED", "COPYING_FAILED"}, timeout=120)
        self.assertEqual(d["Status"], "COPYING_COMPLETED", d.get("StatusMessage"))
        self.assertEqual(d["EvaluationResult"]["F1Score"],
                         describe(s, self.project_arn, "v1")["EvaluationResult"]["F1Score"])
        rc, _, err = s.aws("rekognition", "copy-project-version",
                           "--source-project-arn", self.project_arn,
                           "--source-project-version-arn", self.version_arn,
                           "--destination-project-arn", target, "--version-name", "copied",
                           "--output-config", '{"S3Bucket":"out-bucket"}', check=False)
        self.assertIn("(ResourceInUseException)", err)
        start(s, target, "copied", copy_arn)
        _, original, _ = self.detect("--image-bytes", "fileb://" + self.image, "--min-confidence", "0")
        _, copied, _ = self.detect("--image-bytes", "fileb://" + self.image, "--min-confidence", "0",
                                   version_arn=copy_arn)
        self.assertEqual([l["Name"] for l in copied["CustomLabels"]],
                         [l["Name"] for l in original["CustomLabels"]])
        s.aws("rekognition", "stop-project-version", "--project-version-arn", copy_arn)
        wait_for(s, target, "copied", {"STOPPED"}, timeout=60)


def iou(a, b):
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


class DetectionTest(unittest.TestCase):
    def setUp(self):
        self.server = OspreyServer(BINARY, extra_args=["--training-budget", "30"]).start()

    def tearDown(self):
        self.server.cleanup()

    def test_detector_trains_evaluates_and_returns_boxes_on_the_objects(self):
        s = self.server
        scenes = os.path.join(DATA, "scenes")
        s.aws("s3", "mb", "s3://train-bucket")
        s.aws("s3", "mb", "s3://out-bucket")
        s.aws("s3", "sync", os.path.join(scenes, "images"), "s3://train-bucket/scenes/images",
              "--only-show-errors")
        s.aws("s3", "cp", os.path.join(scenes, "train.manifest"), "s3://train-bucket/scenes.manifest")
        _, out, _ = s.aws("rekognition", "create-project", "--project-name", "scenes")
        project = out["ProjectArn"]
        version_arn, d = train(s, project, "d1", "scenes.manifest")
        with tempfile.TemporaryDirectory() as tmp:
            local = os.path.join(tmp, "summary.json")
            s.aws("s3", "cp", "s3://out-bucket/" + d["EvaluationResult"]["Summary"]["S3Object"]["Name"],
                  local)
            with open(local) as f:
                summary = json.load(f)
            aggregated = summary["AggregatedEvaluationResults"]
            self.assertIn("AveragePrecision", aggregated)
            self.assertIn("AverageRecall", aggregated)
            self.assertNotIn("ConfusionMatrix", aggregated)
            self.assertAlmostEqual(aggregated["F1Score"], d["EvaluationResult"]["F1Score"], places=4)
            local = os.path.join(tmp, "truth.json")
            s.aws("s3", "cp", "s3://out-bucket/" +
                  d["TrainingDataResult"]["Output"]["Assets"][0]["GroundTruthManifest"]["S3Object"]["Name"],
                  local)
            with open(local) as f:
                first = json.loads(f.readline())
            self.assertEqual(first["rekognition-custom-labels-training-0-metadata"]["type"],
                             "groundtruth/object-detection")

        start(s, project, "d1", version_arn)
        # Held-out scenes (the test split the generator made, never uploaded for training).
        hits = total = 0
        with open(os.path.join(scenes, "test.manifest")) as f:
            lines = [json.loads(l) for l in f if l.strip()][:12]
        for line in lines:
            attribute = next(k for k in line if k.endswith("-metadata") is False and k != "source-ref")
            meta = line[attribute + "-metadata"]
            size = line[attribute]["image_size"][0]
            truth = [(meta["class-map"][str(a["class_id"])],
                      (a["left"] / size["width"], a["top"] / size["height"],
                       a["width"] / size["width"], a["height"] / size["height"]))
                     for a in line[attribute]["annotations"]]
            path = os.path.join(scenes, line["source-ref"].split("scenes/", 1)[1])
            _, out, _ = s.aws("rekognition", "detect-custom-labels", "--project-version-arn",
                              version_arn, "--image-bytes", "fileb://" + path,
                              "--min-confidence", "10", "--max-results", "10")
            labels = out["CustomLabels"]
            self.assertLessEqual(len(labels), 10)
            confidences = [l["Confidence"] for l in labels]
            self.assertEqual(confidences, sorted(confidences, reverse=True))
            for label in labels:
                self.assertGreaterEqual(label["Confidence"], 10)
                box = label["Geometry"]["BoundingBox"]
                for key in ("Left", "Top", "Width", "Height"):
                    self.assertGreaterEqual(box[key], -0.01)
                    self.assertLessEqual(box[key], 1.01)
            # Each ground-truth object: found by a box of its label with IoU >= 0.5?
            for name, want in truth:
                total += 1
                hits += any(l["Name"] == name and iou(want, (
                    l["Geometry"]["BoundingBox"]["Left"], l["Geometry"]["BoundingBox"]["Top"],
                    l["Geometry"]["BoundingBox"]["Width"], l["Geometry"]["BoundingBox"]["Height"]))
                    >= 0.5 for l in labels)
        print(f"detection e2e: {hits}/{total} held-out objects found at IoU >= 0.5", file=sys.stderr)
        # A box of the right label at IoU >= 0.5 by chance is rare (about 0 of 33); a smoke-size
        # detector (48 training scenes, 30 s) finds 6 of them at confidence >= 20.
        self.assertGreater(hits / total, 0.1, "boxes should sit on the held-out objects")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--osprey", required=True)
    args, rest = parser.parse_known_args()
    BINARY = args.osprey
    DATA = generate_data()
    unittest.main(argv=[sys.argv[0], "-v", *rest])
