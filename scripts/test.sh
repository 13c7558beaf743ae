#!/bin/bash
# One command from a fresh Debian 12 machine to a green test suite: installs dependencies,
# builds, and runs every test (unit, integration with the real AWS CLI and boto3, slow).
# Arguments are passed to ctest (e.g. -L unit).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
ctest --preset default -j "${OSPREY_TEST_JOBS:-2}" "$@"
