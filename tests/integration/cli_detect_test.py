"""End to end: `osprey train / evaluate / detect` on an object-detection manifest.

Trains a detector for ~15 seconds on datagen's smoke `scenes` set (60 + 15 scenes at
320x240), then checks evaluate --json (the EvaluationResultSummary with mAP@0.5 and F1),
s3:// source-refs read from --data-dir, detect's box lines, --min-confidence, --max-results and
--draw (one image: a PNG file; several: a folder). Needs the pretrained backbone
(scripts/fetch_backbone.sh), like the engine's slow tests.

Usage: /usr/bin/python3 cli_detect_test.py --osprey build/osprey
"""
import argparse
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

BINARY = None
SCENES = None  # datagen smoke scenes with local source-refs, generated once per machine
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
OBJECT_LINE = re.compile(r"^  (\S+) +(\d+\.\d\d)  Left ([\d.]+) Top ([\d.]+) Width ([\d.]+) Height ([\d.]+)$")


def generate_data():
    shared = os.environ.get("OSPREY_SHARED_DIR") or os.path.join(
        os.path.dirname(__file__), "..", "..", "..", "shared")
    out = os.path.join(tempfile.gettempdir(), "osprey-it-datagen-smoke-local")
    if not os.path.exists(os.path.join(out, "scenes", "test.manifest")):
        subprocess.run(["bash", os.path.join(shared, "datagen", "make_sets.sh"), out, "smoke"],
                       check=True, stdout=subprocess.DEVNULL)
    return os.path.join(out, "scenes")


def osprey(*args, check=True):
    proc = subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"osprey {' '.join(args)} exited {proc.returncode}:\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])  # IHDR width, height


def object_lines(stdout):
    return [OBJECT_LINE.match(line) for line in stdout.splitlines() if OBJECT_LINE.match(line)]


class DetectionCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="osprey-cli-detect-")
        cls.model = os.path.join(cls.work, "model")
        # A short run: at 224 px the cost model turns 14 s into 6 epochs (~15 s on a busy
        # 2-core machine), enough for some boxes to land on objects (test mAP@0.5 0.078 when
        # written; at 320 px and 10 s, 3 epochs gave 0.004), not for good accuracy.
        cls.train = osprey("train", "--manifest", os.path.join(SCENES, "train.manifest"),
                           "--validation-manifest", os.path.join(SCENES, "val.manifest"),
                           "--out", cls.model, "--time-budget", "14", "--input-size", "224",
                           "--seed", "1")
        sys.stderr.write(cls.train.stdout)
        with open(os.path.join(SCENES, "test.manifest")) as f:
            first = json.loads(f.readline())
        cls.image = os.path.join(SCENES, first["source-ref"])
        cls.image_size = (first["bounding-box"]["image_size"][0]["width"],
                          first["bounding-box"]["image_size"][0]["height"])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def test_train_chooses_detection_and_prints_a_summary(self):
        out = self.train.stdout
        self.assertIn("object detector (input 224 px", out)
        self.assertRegex(out, r"images: +60 training, 15 validation, 0 skipped")
        self.assertRegex(out, r"mAP@0\.5 \d\.\d{3}")
        self.assertRegex(out, r"F1 \d\.\d{3}")
        self.assertRegex(out, r"time: +\d+\.\d s total")
        # The saved model is trained again on the training and validation images together.
        self.assertRegex(out, r"final fit: +the saved model trained again on all 75 images")
        with open(os.path.join(self.model, "model.json")) as f:
            model = json.load(f)
        self.assertEqual(model["format"], "osprey-object-detector")
        self.assertEqual(model["training"]["final_fit_images"], 75)

    def check_summary(self, stdout):
        summary = json.loads(stdout)
        aggregated = summary["AggregatedEvaluationResults"]
        for field in ("F1Score", "Precision", "Recall", "AveragePrecision", "AverageRecall"):
            self.assertIn(field, aggregated)
        self.assertGreater(aggregated["AveragePrecision"], 0, "mAP@0.5")
        self.assertEqual(summary["EvaluationDetails"]["NumberOfTestingImages"], 30)
        self.assertEqual(summary["EvaluationDetails"]["NumberOfTrainingImages"], 60)
        return summary

    def test_evaluate_json(self):
        proc = osprey("evaluate", "--model", self.model, "--manifest",
                      os.path.join(SCENES, "test.manifest"), "--json")
        summary = self.check_summary(proc.stdout)
        sys.stderr.write("test mAP@0.5 %.3f, F1 %.3f\n" % (
            summary["AggregatedEvaluationResults"]["AveragePrecision"],
            summary["AggregatedEvaluationResults"]["F1Score"]))

    def test_evaluate_table(self):
        proc = osprey("evaluate", "--model", self.model, "--manifest", os.path.join(SCENES, "test.manifest"))
        self.assertRegex(proc.stdout, r"mAP@0\.5 \d\.\d{4}")
        self.assertRegex(proc.stdout, r"on 30 images, 0 skipped")

    def test_evaluate_reads_s3_source_refs_from_the_data_dir(self):
        # The local object store's layout: <data-dir>/buckets/<bucket>/<key>/.osprey.obj.
        data_dir = os.path.join(self.work, "data")
        manifest = os.path.join(self.work, "s3-test.manifest")
        with open(os.path.join(SCENES, "test.manifest")) as src, open(manifest, "w") as dst:
            for line in src:
                entry = json.loads(line)
                key = "scenes/" + entry["source-ref"]
                obj = os.path.join(data_dir, "buckets", "pictures", key)
                os.makedirs(obj, exist_ok=True)
                shutil.copyfile(os.path.join(SCENES, entry["source-ref"]), os.path.join(obj, ".osprey.obj"))
                entry["source-ref"] = "s3://pictures/" + key
                dst.write(json.dumps(entry) + "\n")
        proc = osprey("evaluate", "--model", self.model, "--manifest", manifest, "--json",
                      "--data-dir", data_dir)
        self.check_summary(proc.stdout)
        self.assertNotIn("skipped", proc.stderr)

    def test_evaluate_refuses_a_classification_manifest(self):
        proc = osprey("evaluate", "--model", self.model, "--manifest",
                      os.path.join(SCENES, "test-multilabel.manifest"), check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("is an object detector, but", proc.stderr)

    def test_detect_prints_boxes_and_honours_limits(self):
        proc = osprey("detect", "--model", self.model, "--min-confidence", "0", self.image)
        objects = object_lines(proc.stdout)
        self.assertGreater(len(objects), 2, proc.stdout)
        confidences = [float(m.group(2)) for m in objects]
        self.assertEqual(confidences, sorted(confidences, reverse=True))
        for m in objects:
            left, top, width, height = (float(m.group(i)) for i in range(3, 7))
            self.assertTrue(0 <= left <= 1 and 0 <= top <= 1, m.group(0))
            self.assertLessEqual(left + width, 1.0001)
            self.assertLessEqual(top + height, 1.0001)
        limited = object_lines(osprey("detect", "--model", self.model, "--min-confidence", "0",
                                      "--max-results", "2", self.image).stdout)
        self.assertEqual([m.group(0) for m in limited], [m.group(0) for m in objects[:2]])
        threshold = confidences[1]
        above = object_lines(osprey("detect", "--model", self.model, "--min-confidence",
                                    "%.2f" % threshold, self.image).stdout)
        self.assertTrue(all(float(m.group(2)) >= threshold for m in above))
        self.assertGreaterEqual(len(above), 1)

    def test_detect_draws_one_image_to_a_file(self):
        out = os.path.join(self.work, "drawn.png")
        proc = osprey("detect", "--model", self.model, "--min-confidence", "0", "--max-results", "3",
                      "--draw", out, self.image)
        self.assertIn("drawn to " + out, proc.stdout)
        self.assertEqual(png_size(out), self.image_size)

    def test_detect_draws_several_images_into_a_folder(self):
        folder = os.path.join(self.work, "drawn")
        second = os.path.join(SCENES, "images", "test", "test-00001.jpg")
        osprey("detect", "--model", self.model, "--draw", folder, self.image, second)
        for image in (self.image, second):
            name = os.path.splitext(os.path.basename(image))[0] + ".png"
            self.assertEqual(png_size(os.path.join(folder, name)), self.image_size)

    def test_detect_refuses_draw_outputs_that_collide(self):
        proc = osprey("detect", "--model", self.model, "--draw", os.path.join(self.work, "twice"),
                      self.image, self.image, check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("both be drawn to", proc.stderr)

    def test_detect_reports_unreadable_images(self):
        proc = osprey("detect", "--model", self.model, os.path.join(self.work, "missing.jpg"), check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("cannot read the file", proc.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--osprey", required=True)
    args, rest = parser.parse_known_args()
    BINARY = os.path.abspath(args.osprey)
    SCENES = generate_data()
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
