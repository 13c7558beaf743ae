#!/bin/bash
# Fuzzes the manifest line parser with libFuzzer + ASan/UBSan for N seconds (default 60):
#   scripts/fuzz.sh [seconds [libFuzzer flags...]]   e.g. scripts/fuzz.sh 300 -use_value_profile=1
# Configures build-fuzz/ with clang (OSPREY_FUZZ=ON builds only fuzz/), builds the fuzzer and
# runs it over build-fuzz/corpus, which starts as a copy of src/dataset/testdata/fuzz_corpus and
# keeps what earlier runs found. Exits non-zero on any crash, leak, sanitizer report, timeout
# or broken property; the input is saved as build-fuzz/artifacts/crash-* (or leak-*, timeout-*).
# Replay one with: build-fuzz/manifest_line_fuzzer build-fuzz/artifacts/crash-...
set -euo pipefail
seconds="${1:-60}"
shift $(( $# > 0 ? 1 : 0 ))
cd "$(dirname "$0")/.."

CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DOSPREY_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j "${OSPREY_BUILD_JOBS:-2}" --target manifest_line_fuzzer

mkdir -p build-fuzz/corpus build-fuzz/artifacts
cp -n src/dataset/testdata/fuzz_corpus/* build-fuzz/corpus/
# -max_len: lines far past a few KiB only add JSON the parser has already seen; the 100,000-byte
# limit is covered by manifest_line_test. -timeout: one line must parse well under a second.
exec build-fuzz/manifest_line_fuzzer -max_total_time="$seconds" -max_len=8192 -timeout=10 \
  -rss_limit_mb=2048 -dict=fuzz/manifest_line.dict -print_final_stats=1 \
  -artifact_prefix=build-fuzz/artifacts/ "$@" build-fuzz/corpus
