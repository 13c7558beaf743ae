"""End to end: the dataset API through the real Debian AWS CLI (and boto3 for paging).

create -> describe -> list entries/labels -> update -> distribute, on datagen's smoke sets;
bad lines flagged and counted; the 20 % rule; AWS error codes; an import killed with SIGKILL
ends CREATE_FAILED with a message after a restart.

Usage: /usr/bin/python3 datasets_test.py --osprey build/osprey
"""
import argparse
import base64
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
DATA = None  # datagen smoke sets, generated once per run
IMAGES = "ds-images"
MANIFESTS = "ds-manifests"


def generate_data():
    shared = os.environ.get("OSPREY_SHARED_DIR") or os.path.join(
        os.path.dirname(__file__), "..", "..", "..", "shared")
    out = os.path.join(tempfile.gettempdir(), "osprey-it-datagen-smoke-datasets")
    if not os.path.exists(os.path.join(out, "scenes", "train-multilabel.manifest")):
        subprocess.run(["bash", os.path.join(shared, "datagen", "make_sets.sh"), out, "smoke",
                        f"s3://{IMAGES}/"], check=True, stdout=subprocess.DEVNULL)
    return out


class Store:
    """Puts objects through the S3 endpoint when the server has one, else straight into the
    LocalObjectStore layout (storage/local_object_store.h: <bucket>/.osprey.bucket and
    <key>/.osprey.obj; the meta file is rebuilt from the data when missing)."""

    def __init__(self, server):
        self.server = server
        self.root = os.path.join(server.data_dir, "data", "buckets")
        rc, _, _ = server.aws("s3api", "list-buckets", check=False)
        self.s3 = rc == 0

    def bucket(self, name):
        if self.s3:
            self.server.aws("s3", "mb", f"s3://{name}")
            return
        os.makedirs(os.path.join(self.root, name), exist_ok=True)
        with open(os.path.join(self.root, name, ".osprey.bucket"), "w") as f:
            f.write(f"{int(time.time() * 1000)}\n")

    def put(self, bucket, key, data):
        if self.s3:
            with tempfile.NamedTemporaryFile() as tmp:
                tmp.write(data)
                tmp.flush()
                self.server.aws("s3", "cp", tmp.name, f"s3://{bucket}/{key}", "--only-show-errors")
            return
        self.put_direct(bucket, key, data)

    def put_direct(self, bucket, key, data):
        folder = os.path.join(self.root, bucket, *key.split("/"))
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, ".osprey.obj"), "wb") as f:
            f.write(data)

    def put_tree(self, bucket, local_dir, prefix):
        if self.s3:
            self.server.aws("s3", "sync", local_dir, f"s3://{bucket}/{prefix}", "--only-show-errors")
            return
        for dirpath, _, files in os.walk(local_dir):
            for name in files:
                path = os.path.join(dirpath, name)
                key = prefix + os.path.relpath(path, local_dir).replace(os.sep, "/")
                with open(path, "rb") as f:
                    self.put_direct(bucket, key, f.read())


def read_lines(path):
    with open(path) as f:
        return [line for line in f.read().splitlines() if line]


class DatasetsTest(unittest.TestCase):
    def setUp(self):
        self.server = OspreyServer(BINARY).start()
        self.store = Store(self.server)
        self.store.bucket(IMAGES)
        self.store.bucket(MANIFESTS)
        for name in ("objects8", "scenes"):
            self.store.put_tree(IMAGES, os.path.join(DATA, name, "images"), f"{name}/images/")

    def tearDown(self):
        self.server.cleanup()

    # --- helpers ---------------------------------------------------------------------------
    def aws(self, *args, **kw):
        return self.server.aws("rekognition", *args, **kw)

    def project(self, name):
        return self.aws("create-project", "--project-name", name)[1]["ProjectArn"]

    def create_from_lines(self, project, dataset_type, lines, name):
        self.store.put(MANIFESTS, name, ("\n".join(lines) + "\n").encode())
        source = {"GroundTruthManifest": {"S3Object": {"Bucket": MANIFESTS, "Name": name}}}
        _, out, _ = self.aws("create-dataset", "--project-arn", project, "--dataset-type",
                             dataset_type, "--dataset-source", json.dumps(source))
        return out["DatasetArn"]

    def wait(self, arn, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            d = self.aws("describe-dataset", "--dataset-arn", arn)[1]["DatasetDescription"]
            if not d["Status"].endswith("_IN_PROGRESS"):
                return d
            time.sleep(0.2)
        raise AssertionError(f"{arn} stayed in progress")

    def wait_deleted(self, arn, timeout=60):
        """DeleteDataset is asynchronous: DELETE_IN_PROGRESS, then ResourceNotFoundException."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            rc, out, err = self.aws("describe-dataset", "--dataset-arn", arn, check=False)
            if rc != 0:
                self.assertIn("ResourceNotFoundException", err)
                return
            self.assertEqual(out["DatasetDescription"]["Status"], "DELETE_IN_PROGRESS")
            time.sleep(0.2)
        raise AssertionError(f"{arn} was not deleted")

    def entries(self, arn, *filters):
        _, out, _ = self.aws("list-dataset-entries", "--dataset-arn", arn, *filters)
        return [json.loads(e) for e in out["DatasetEntries"]]

    def error_code(self, *args):
        rc, _, err = self.aws(*args, check=False)
        self.assertEqual(rc, 254, err)
        return err[err.index("(") + 1:err.index(")")]

    # --- tests -----------------------------------------------------------------------------
    def test_cli_create_describe_list_update_distribute(self):
        project = self.project("objects")
        train_lines = read_lines(os.path.join(DATA, "objects8", "train.manifest"))
        train = self.create_from_lines(project, "TRAIN", train_lines, "objects8/train.manifest")
        self.assertRegex(train, r"^arn:aws:rekognition:us-east-1:\d{12}:project/objects/dataset/"
                                r"train/\d{13}$")
        d = self.wait(train)
        self.assertEqual(d["Status"], "CREATE_COMPLETE", d)
        self.assertEqual(d["StatusMessageCode"], "SUCCESS")
        self.assertEqual(d["DatasetStats"], {"LabeledEntries": 160, "TotalEntries": 160,
                                             "TotalLabels": 8, "ErrorEntries": 0})
        datasets = self.aws("describe-projects")[1]["ProjectDescriptions"][0]["Datasets"]
        self.assertEqual([(x["DatasetType"], x["DatasetArn"], x["Status"]) for x in datasets],
                         [("TRAIN", train, "CREATE_COMPLETE")])

        everything = self.entries(train, "--page-size", "25")  # the CLI follows NextToken
        self.assertEqual(len(everything), 160)
        self.assertEqual(everything[0]["cl-metadata"], {"is_labeled": True})
        self.assertEqual(len(self.entries(train, "--contains-labels", "bird", "fruit")), 40)
        one = self.entries(train, "--source-ref-contains", "train-bird-00003")
        self.assertEqual(len(one), 1)
        self.assertEqual(self.entries(train, "--has-errors"), [])
        self.assertEqual(self.entries(train, "--no-labeled"), [])
        labels = self.aws("list-dataset-labels", "--dataset-arn", train)[1]
        self.assertEqual(sorted((x["LabelName"], x["LabelStats"]["EntryCount"])
                                for x in labels["DatasetLabelDescriptions"]),
                         sorted((c, 20) for c in ("bird", "sea_animal", "bug", "mammal", "fruit",
                                                  "vegetable", "vehicle", "flower")))

        # Update: relabel one entry (same source-ref) and add two from the val split.
        relabeled = dict(one[0])
        relabeled["objects8-metadata"]["class-name"] = "mammal"
        val_lines = read_lines(os.path.join(DATA, "objects8", "val.manifest"))[:2]
        blob = "\n".join([json.dumps(relabeled)] + val_lines).encode()
        self.aws("update-dataset-entries", "--dataset-arn", train, "--changes",
                 json.dumps({"GroundTruth": base64.b64encode(blob).decode()}))
        d = self.wait(train)
        self.assertEqual(d["Status"], "UPDATE_COMPLETE", d)
        self.assertEqual(d["DatasetStats"]["TotalEntries"], 162)
        val_birds = sum(json.loads(v)["objects8-metadata"]["class-name"] == "bird"
                        for v in val_lines)
        self.assertEqual(len(self.entries(train, "--contains-labels", "bird")), 19 + val_birds)

        # Distribute 20 % into an empty TEST dataset.
        test = self.aws("create-dataset", "--project-arn", project, "--dataset-type",
                        "TEST")[1]["DatasetArn"]
        self.assertEqual(self.wait(test)["Status"], "CREATE_COMPLETE")
        self.aws("distribute-dataset-entries", "--datasets",
                 json.dumps([{"Arn": train}, {"Arn": test}]))
        d_train, d_test = self.wait(train), self.wait(test)
        self.assertEqual(d_train["Status"], "UPDATE_COMPLETE", d_train)
        self.assertEqual(d_test["Status"], "UPDATE_COMPLETE", d_test)
        moved = d_test["DatasetStats"]["TotalEntries"]
        self.assertEqual(moved, round(162 * 0.2))
        self.assertEqual(d_train["DatasetStats"]["TotalEntries"] + moved, 162)
        self.assertEqual(d_test["DatasetStats"]["TotalLabels"], 8)
        self.assertEqual(self.error_code("delete-project", "--project-arn", project),
                         "ResourceInUseException")
        for arn in (train, test):
            self.aws("delete-dataset", "--dataset-arn", arn)
            self.wait_deleted(arn)
        self.aws("delete-project", "--project-arn", project)

    def test_bad_lines_are_flagged_and_counted_and_twenty_percent_rule(self):
        project = self.project("bad-lines")
        lines = read_lines(os.path.join(DATA, "objects8", "train.manifest"))
        good = json.loads(lines[0])
        missing = dict(good, **{"source-ref": f"s3://{IMAGES}/objects8/images/nope.jpg"})
        dotdot = dict(good, **{"source-ref": f"s3://{IMAGES}/../../etc/passwd"})
        http = dict(good, **{"source-ref": "http://example.com/a.jpg"})
        scene = json.loads(read_lines(os.path.join(DATA, "scenes", "train.manifest"))[0])
        scene["bounding-box"]["annotations"][0]["left"] = 100000  # off the image
        scene["bounding-box"]["annotations"] = scene["bounding-box"]["annotations"][:1]
        scene["bounding-box-metadata"]["objects"] = scene["bounding-box-metadata"]["objects"][:1]
        bad = ["{not json", json.dumps(missing), json.dumps(dotdot), json.dumps(http), lines[1],
               "", json.dumps(scene)]
        arn = self.create_from_lines(project, "TRAIN", lines + bad, "bad.manifest")
        d = self.wait(arn)
        self.assertEqual(d["Status"], "CREATE_COMPLETE", d)
        # 167 lines: 4 dropped (invalid JSON, "..", http://, blank) + 1 duplicate, 2 flagged.
        self.assertEqual(d["DatasetStats"]["TotalEntries"], 162)
        self.assertEqual(d["DatasetStats"]["ErrorEntries"], 2)
        flagged = self.entries(arn, "--has-errors")
        codes = sorted(json.dumps(e) for e in flagged)
        self.assertEqual(len(flagged), 2)
        self.assertIn("ERROR_INVALID_IMAGE", codes[0] + codes[1])
        self.assertIn("ERROR_INVALID_BOUNDING_BOX", codes[0] + codes[1])

        too_many = lines[:10] + ["garbage"] * 3
        other = self.project("too-many")
        arn = self.create_from_lines(other, "TRAIN", too_many, "too-many.manifest")
        d = self.wait(arn)
        self.assertEqual(d["Status"], "CREATE_FAILED")
        self.assertEqual(d["StatusMessageCode"], "CLIENT_ERROR")
        self.assertEqual(d["StatusMessage"], "The manifest file has too many terminal errors.")
        self.assertEqual(d["DatasetStats"]["TotalEntries"], 0)

    def test_detection_and_multilabel_manifests(self):
        project = self.project("scenes")
        lines = read_lines(os.path.join(DATA, "scenes", "train.manifest"))
        arn = self.create_from_lines(project, "TRAIN", lines, "scenes/train.manifest")
        d = self.wait(arn)
        self.assertEqual(d["Status"], "CREATE_COMPLETE", d)
        self.assertEqual(d["DatasetStats"]["TotalEntries"], len(lines))
        self.assertEqual(d["DatasetStats"]["ErrorEntries"], 0)
        labels = self.aws("list-dataset-labels", "--dataset-arn", arn)[1]
        for label in labels["DatasetLabelDescriptions"]:
            self.assertGreater(label["LabelStats"]["BoundingBoxCount"], 0)
        multi = read_lines(os.path.join(DATA, "scenes", "test-multilabel.manifest"))
        test = self.create_from_lines(project, "TEST", multi, "scenes/test-multilabel.manifest")
        d = self.wait(test)
        self.assertEqual(d["Status"], "CREATE_COMPLETE", d)
        self.assertEqual(d["DatasetStats"]["LabeledEntries"], len(multi))
        # Copy into another project through DatasetSource.DatasetArn.
        other = self.project("scenes-copy")
        _, out, _ = self.aws("create-dataset", "--project-arn", other, "--dataset-type", "TRAIN",
                             "--dataset-source", json.dumps({"DatasetArn": arn}))
        copy = self.wait(out["DatasetArn"])
        self.assertEqual(copy["Status"], "CREATE_COMPLETE")
        self.assertEqual(copy["DatasetStats"]["TotalEntries"], len(lines))

    def test_aws_error_codes(self):
        project = self.project("errors")
        ghost = project.rsplit("/", 1)[0][:-len("errors")] + "ghost/1"
        self.assertEqual(self.error_code("create-dataset", "--project-arn", ghost,
                                         "--dataset-type", "TRAIN"), "ResourceNotFoundException")
        train = self.aws("create-dataset", "--project-arn", project, "--dataset-type",
                         "TRAIN")[1]["DatasetArn"]
        self.assertEqual(self.error_code("create-dataset", "--project-arn", project,
                                         "--dataset-type", "TRAIN"),
                         "ResourceAlreadyExistsException")
        self.assertEqual(self.error_code("create-dataset", "--project-arn", project,
                                         "--dataset-type", "VALIDATION"),
                         "InvalidParameterException")
        both = {"DatasetArn": train,
                "GroundTruthManifest": {"S3Object": {"Bucket": MANIFESTS, "Name": "x"}}}
        self.assertEqual(self.error_code("create-dataset", "--project-arn", project,
                                         "--dataset-type", "TEST", "--dataset-source",
                                         json.dumps(both)), "InvalidParameterException")
        missing = {"GroundTruthManifest": {"S3Object": {"Bucket": MANIFESTS, "Name": "nope"}}}
        self.assertEqual(self.error_code("create-dataset", "--project-arn", project,
                                         "--dataset-type", "TEST", "--dataset-source",
                                         json.dumps(missing)), "InvalidS3ObjectException")
        self.assertEqual(self.error_code("describe-dataset", "--dataset-arn",
                                         train.replace("/train/", "/test/")),
                         "ResourceNotFoundException")
        self.assertEqual(self.error_code("describe-dataset", "--dataset-arn",
                                         "arn:aws:rekognition:us-east-1:1:project/x/9"),
                         "InvalidParameterException")
        self.assertEqual(self.error_code("list-dataset-entries", "--dataset-arn", train,
                                         "--max-results", "500"), "InvalidParameterException")
        self.assertEqual(self.error_code("distribute-dataset-entries", "--datasets",
                                         json.dumps([{"Arn": train}, {"Arn": train}])),
                         "InvalidParameterException")
        client = self.server.boto3_client()
        with self.assertRaises(client.exceptions.InvalidPaginationTokenException):
            client.list_dataset_entries(DatasetArn=train, NextToken="forged")
        pages = list(client.get_paginator("list_dataset_labels").paginate(DatasetArn=train))
        self.assertEqual(pages[0]["DatasetLabelDescriptions"], [])
        # Changes.GroundTruth: 5,242,880 decoded bytes pass the wire (the job then fails on the
        # content), one more byte is InvalidParameterException (GroundTruthBlob max).
        line = json.dumps({"source-ref": f"s3://{IMAGES}/nope.jpg"}) + "\n"
        blob = (line * (5242880 // len(line) + 1))[:5242880]
        client.update_dataset_entries(DatasetArn=train, Changes={"GroundTruth": blob.encode()})
        d = self.wait(train)
        self.assertEqual(d["Status"], "UPDATE_FAILED")
        self.assertEqual(d["StatusMessageCode"], "CLIENT_ERROR")
        with self.assertRaises(client.exceptions.InvalidParameterException):
            client.update_dataset_entries(DatasetArn=train,
                                          Changes={"GroundTruth": (blob + "x").encode()})

    def test_import_killed_mid_way_fails_after_restart(self):
        project = self.project("crash")
        # 200,000 distinct missing images: slow enough to kill while it runs.
        lines = read_lines(os.path.join(DATA, "objects8", "train.manifest"))
        template = json.loads(lines[0])
        body = "\n".join(json.dumps(dict(template, **{
            "source-ref": f"s3://{IMAGES}/missing/{i}.jpg"})) for i in range(200000))
        self.store.put_direct(MANIFESTS, "big.manifest", body.encode())
        source = {"GroundTruthManifest": {"S3Object": {"Bucket": MANIFESTS,
                                                         "Name": "big.manifest"}}}
        _, out, _ = self.aws("create-dataset", "--project-arn", project, "--dataset-type",
                             "TRAIN", "--dataset-source", json.dumps(source))
        arn = out["DatasetArn"]
        d = self.aws("describe-dataset", "--dataset-arn", arn)[1]["DatasetDescription"]
        self.assertEqual(d["Status"], "CREATE_IN_PROGRESS")
        self.server.stop(signal.SIGKILL)
        self.server.start()
        d = self.wait(arn)
        self.assertEqual(d["Status"], "CREATE_FAILED")
        self.assertEqual(d["StatusMessageCode"], "SERVICE_ERROR")
        self.assertIn("interrupted", d["StatusMessage"])
        self.assertEqual(d["DatasetStats"]["TotalEntries"], 0)
        self.aws("delete-dataset", "--dataset-arn", arn)


def main():
    global BINARY, DATA
    parser = argparse.ArgumentParser()
    parser.add_argument("--osprey", required=True)
    args, rest = parser.parse_known_args()
    BINARY = os.path.abspath(args.osprey)
    DATA = generate_data()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
