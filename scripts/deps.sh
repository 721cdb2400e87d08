#!/usr/bin/env bash
# Install the Debian packages needed to build, test and document libbtsp, if any is missing.
#   as root:      runs `apt-get update` once, then `apt-get install -y <missing packages>`
#   as non-root:  prints the command to run and exits 1
# Exit 0 when everything is present (nothing is run then).
set -euo pipefail

packages=(
  cmake make gcc g++ clang pkg-config   # toolchain (the project enables C and C++)
  libcmocka-dev                         # unit tests
  libyaml-dev zlib1g-dev                # libbtsp_io and the btsp program
  libpng-dev                            # PNG figures of btsp analyze / compare (optional at build time)
  doxygen                               # the docs target
  python3-numpy                         # tests of the Python binding (python/btsp.py)
  dataset-fashion-mnist                 # golden-trajectory test and benchmarks (Fashion-MNIST IDX files)
)

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "deps.sh: not a Debian-based system; please install the equivalents of: ${packages[*]}" >&2
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "deps.sh: all build and test dependencies are installed"
  exit 0
fi

echo "deps.sh: missing packages: ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  echo "deps.sh: run as root (or with sudo):" >&2
  echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y "${missing[@]}"
echo "deps.sh: installed ${missing[*]}"
