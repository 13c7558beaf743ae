#!/bin/bash
# Configures and builds Osprey into build/ (binary: build/osprey). Extra args go to the build.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset default >/dev/null
cmake --build --preset default -j "${OSPREY_BUILD_JOBS:-$(nproc)}" "$@"
