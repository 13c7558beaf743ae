"""bench/s3_throughput: PUT and GET throughput of Osprey's S3 endpoint through boto3, beside dd
writing and reading the same sizes on the same disk in the same run. Prints figures; not a test.

  /usr/bin/python3 bench/s3_throughput.py --osprey build/osprey [--dir /path/on/disk]

Workloads: 200 objects of 1 MB, and one 200 MB object (single PutObject, and the multipart
upload_file/download_file path the AWS CLI uses). dd writes with conv=fsync because Osprey fsyncs
every object before acknowledging it; reads come from the page cache on both sides (no cache
drop: the machine is shared).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
from osprey_harness import OspreyServer  # noqa: E402

MB = 1024 * 1024


def dd(args):
    subprocess.run(["dd", *args, "status=none"], check=True)


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--osprey", required=True)
    parser.add_argument("--dir", default=None, help="folder on the disk to measure (default: tmp)")
    parser.add_argument("--small-count", type=int, default=200)
    parser.add_argument("--large-mb", type=int, default=200)
    args = parser.parse_args()

    base = tempfile.mkdtemp(prefix="osprey-bench-", dir=args.dir)
    os.makedirs(os.path.join(base, "osprey"))
    server = OspreyServer(os.path.abspath(args.osprey), data_dir=os.path.join(base, "osprey")).start()
    try:
        import boto3.s3.transfer
        s3 = server.boto3_client("s3")
        s3.create_bucket(Bucket="bench")
        ddir = os.path.join(base, "dd")
        os.makedirs(ddir)
        small = os.urandom(MB)
        large_path = os.path.join(base, "large.bin")
        with open(large_path, "wb") as f:
            for _ in range(args.large_mb):
                f.write(os.urandom(MB))
        small_path = os.path.join(base, "small.bin")
        with open(small_path, "wb") as f:
            f.write(small)
        n, big = args.small_count, args.large_mb
        rows = []

        # 1 MB x N
        dd_w = timed(lambda: [dd([f"if={small_path}", f"of={ddir}/s{i}", "bs=1M", "conv=fsync"])
                              for i in range(n)])
        dd_r = timed(lambda: [dd([f"if={ddir}/s{i}", "of=/dev/null", "bs=1M"]) for i in range(n)])
        put = timed(lambda: [s3.put_object(Bucket="bench", Key=f"small/{i}", Body=small)
                             for i in range(n)])
        get = timed(lambda: [s3.get_object(Bucket="bench", Key=f"small/{i}")["Body"].read()
                             for i in range(n)])
        rows.append((f"{n} x 1 MB PutObject", n / put, n / dd_w, "dd conv=fsync, one per file"))
        rows.append((f"{n} x 1 MB GetObject", n / get, n / dd_r, "dd to /dev/null, one per file"))

        # 1 x 200 MB
        dd_w = timed(lambda: dd([f"if={large_path}", f"of={ddir}/large", "bs=1M", "conv=fsync"]))
        dd_r = timed(lambda: dd([f"if={ddir}/large", "of=/dev/null", "bs=1M"]))

        def put_single():
            with open(large_path, "rb") as f:
                s3.put_object(Bucket="bench", Key="large-single", Body=f)

        def get_single():
            body = s3.get_object(Bucket="bench", Key="large-single")["Body"]
            while body.read(8 * MB):
                pass
        config = boto3.s3.transfer.TransferConfig()  # the CLI's defaults: 8 MB parts, 10 threads
        put1 = timed(put_single)
        get1 = timed(get_single)
        putm = timed(lambda: s3.upload_file(large_path, "bench", "large-multipart", Config=config))
        getm = timed(lambda: s3.download_file("bench", "large-multipart",
                                              os.path.join(base, "large.back"), Config=config))
        rows.append((f"1 x {big} MB PutObject", big / put1, big / dd_w, "dd conv=fsync"))
        rows.append((f"1 x {big} MB GetObject", big / get1, big / dd_r, "dd to /dev/null"))
        rows.append((f"1 x {big} MB multipart upload", big / putm, big / dd_w, "dd conv=fsync"))
        rows.append((f"1 x {big} MB ranged download", big / getm, big / dd_r, "dd to /dev/null"))

        print(f"{'workload':34} {'osprey MB/s':>12} {'dd MB/s':>10} {'ratio':>7}  dd form")
        for name, osprey, ref, how in rows:
            print(f"{name:34} {osprey:12.1f} {ref:10.1f} {osprey / ref:7.2f}  {how}")
    finally:
        server.cleanup()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
