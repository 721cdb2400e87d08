#!/usr/bin/env bash
# Quick start, command 1: build libbtsp and run its demo.
#   scripts/demo.sh [btsp demo options, e.g. --samples 5000 --seed 3]
# Installs missing Debian build dependencies when run as root (scripts/deps.sh), builds the
# Release tree in build/release and runs `btsp demo`: a BTSP network with top-down gated
# dendritic plateaus, embedded in the program, learning a synthetic 10-class image task. It
# needs no download. The last stdout line is a JSON summary.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/deps.sh >&2
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DBTSP_BUILD_TESTS=OFF >/dev/null
cmake --build build/release -j "${JOBS:-2}" --target btsp_cli >/dev/null
exec build/release/src/btsp demo "$@"
