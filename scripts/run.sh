#!/bin/bash
# One command from a fresh Debian 12 machine to a running Osprey with embedded defaults:
# installs dependencies, builds, and serves on http://127.0.0.1:8085 with SQLite metadata and a
# local bucket folder under ./osprey-data. Arguments are passed to `osprey serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec build/osprey serve "$@"
