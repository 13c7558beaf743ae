"""Starts a real `osprey serve` on a free loopback port for end-to-end tests.

Used by the integration tests, which drive it with the Debian AWS CLI (/usr/bin/aws) and boto3
(/usr/bin/python3). Standard library only, so any test can import it.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

AWS_CLI = "/usr/bin/aws"
ACCESS_KEY = "osprey-test"
SECRET_KEY = "osprey-test-secret"
REGION = "us-east-1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OspreyServer:
    """One server process with its own data directory; restartable on the same directory."""

    def __init__(self, binary, data_dir=None, access_key=ACCESS_KEY, secret_key=SECRET_KEY,
                 extra_args=()):
        self.binary = binary
        self.owns_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="osprey-it-")
        self.access_key = access_key
        self.secret_key = secret_key
        self.extra_args = list(extra_args)
        self.proc = None
        self.port = None
        self.log_path = os.path.join(self.data_dir, "server.log")

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.port = free_port()
        env = dict(os.environ, OSPREY_ACCESS_KEY_ID=self.access_key,
                   OSPREY_SECRET_ACCESS_KEY=self.secret_key)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [self.binary, "serve", "--port", str(self.port), "--data-dir",
                 os.path.join(self.data_dir, "data"), *self.extra_args],
                stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"osprey exited early: {self.log()}")
            try:
                with urllib.request.urlopen(self.endpoint + "/health", timeout=1) as r:
                    if json.load(r).get("status") == "ok":
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("osprey did not become healthy: " + self.log())

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Stops the server; returns its exit code."""
        if self.proc is None:
            return None
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        self.proc = None
        return code

    def log(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def cleanup(self):
        if self.proc is not None:
            self.stop(signal.SIGKILL)
        if self.owns_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def cli_env(self, access_key=None, secret_key=None):
        env = dict(os.environ)
        for k in list(env):
            if k.startswith("AWS_"):
                del env[k]
        env.update(AWS_ACCESS_KEY_ID=access_key or self.access_key,
                   AWS_SECRET_ACCESS_KEY=secret_key or self.secret_key,
                   AWS_DEFAULT_REGION=REGION, AWS_EC2_METADATA_DISABLED="true",
                   AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null",
                   AWS_PAGER="")
        return env

    def aws(self, *args, access_key=None, secret_key=None, check=True):
        """Runs /usr/bin/aws against this server; returns (rc, parsed JSON or text, stderr)."""
        cmd = [AWS_CLI, "--endpoint-url", self.endpoint, "--output", "json", *args]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                           env=self.cli_env(access_key, secret_key))
        if check and p.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed rc={p.returncode}: {p.stderr}")
        out = p.stdout
        try:
            out = json.loads(out) if out.strip() else {}
        except ValueError:
            pass
        return p.returncode, out, p.stderr

    def boto3_client(self, service="rekognition", access_key=None, secret_key=None, **config):
        import boto3  # the Debian python3-boto3
        from botocore.config import Config
        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION,
                            aws_access_key_id=access_key or self.access_key,
                            aws_secret_access_key=secret_key or self.secret_key,
                            config=Config(retries={"max_attempts": 1}, **config))
