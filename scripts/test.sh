#!/usr/bin/env bash
# The full libbtsp check; what CI runs (.ci/run) and what a contributor runs before sending work:
#   1. dependencies (scripts/deps.sh)
#   2. Release build with warnings as errors in build/test; every ctest test (all labels)
#   3. ASan + UBSan build in build/asan; ctest without the install, slow and bench labels
#   4. Clang build in build/clang (when clang is installed; BTSP_TEST_CLANG=0 skips it), without
#      the AVX kernels (-DBTSP_AVX=OFF) so that the SSE2 path is tested on AVX machines too
#   5. Cross-build determinism: the demo trained by each build gives bitwise the same weights
#   6. Doxygen documentation (fails on any warning, e.g. an undocumented public symbol)
# Works from any directory. Exits non-zero on the first failure.
# Environment: JOBS (default 2), BTSP_TEST_CLANG (default 1).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

jobs=${JOBS:-2}
start=$SECONDS
section() {
  printf '\n==================================================================\n'
  printf '== %s  (%ds elapsed)\n' "$*" "$((SECONDS - start))"
  printf '==================================================================\n'
}
trap 'status=$?; if [[ $status -ne 0 ]]; then printf "\n*** scripts/test.sh FAILED (exit %d) in: %s\n" "$status" "${current:-setup}" >&2; fi' EXIT

current="dependencies"
section "Dependencies"
bash scripts/deps.sh

current="release build"
section "Release build (-DBTSP_WERROR=ON) in build/test"
cmake -S . -B build/test -DCMAKE_BUILD_TYPE=Release -DBTSP_WERROR=ON -DBTSP_SANITIZE=OFF \
  -DBTSP_BUILD_TESTS=ON -DBTSP_BUILD_EXAMPLES=ON
cmake --build build/test -j "$jobs"

current="release tests"
section "Tests: build/test (all labels)"
ctest --test-dir build/test --output-on-failure -j "$jobs" --no-tests=error

current="sanitizer build"
section "AddressSanitizer + UndefinedBehaviorSanitizer build in build/asan"
cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DBTSP_SANITIZE=ON -DBTSP_WERROR=ON \
  -DBTSP_BUILD_TESTS=ON -DBTSP_BUILD_EXAMPLES=ON
cmake --build build/asan -j "$jobs"

current="sanitizer tests"
section "Tests: build/asan (excluding labels install, slow, bench)"
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
  ctest --test-dir build/asan --output-on-failure -j "$jobs" --no-tests=error -LE 'install|slow|bench'

if [[ ${BTSP_TEST_CLANG:-1} != 0 ]] && command -v clang >/dev/null 2>&1 && command -v clang++ >/dev/null 2>&1; then
  current="clang build"
  section "Clang build (-DBTSP_WERROR=ON -DBTSP_AVX=OFF) in build/clang"
  cmake -S . -B build/clang -DCMAKE_BUILD_TYPE=Release -DBTSP_WERROR=ON -DBTSP_SANITIZE=OFF \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DBTSP_BUILD_TESTS=ON -DBTSP_BUILD_EXAMPLES=ON \
    -DBTSP_AVX=OFF
  cmake --build build/clang -j "$jobs"
  current="clang tests"
  section "Tests: build/clang (excluding labels install, slow, bench)"
  ctest --test-dir build/clang --output-on-failure -j "$jobs" --no-tests=error -LE 'install|slow|bench'
else
  section "Clang build skipped (clang not installed or BTSP_TEST_CLANG=0)"
fi

# Results depend only on the seed, never on compiler, optimisation level or CPU path (btsp.h):
# the demo trained by every build made above (gcc -O3 with AVX, gcc Debug with sanitizers,
# clang without AVX) must end with bitwise the same weights, loss history and JSON figures.
current="cross-build determinism"
section "Same bits from every build (btsp demo, 600 samples)"
det=$(mktemp -d "${TMPDIR:-/tmp}/btsp_det_XXXXXX")
builds=(test asan)
[[ -x build/clang/src/btsp ]] && builds+=(clang)
for b in "${builds[@]}"; do
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} build/$b/src/btsp demo --samples 600 --out "$det/$b" \
    --history-interval 200 --quiet | tail -n 1 | sed 's/, "train_seconds".*//; s/"out": "[^"]*"//' >"$det/$b.json"
done
for b in "${builds[@]:1}"; do
  cmp "$det/test.json" "$det/$b.json" || { echo "build/$b: different figures" >&2; exit 1; }
  for f in "$det/test"/*.npy "$det/test"/snapshots/*/*.npy; do
    cmp -s "$f" "$det/$b/${f#"$det/test/"}" || { echo "build/$b: ${f#"$det/test/"} differs from build/test" >&2; exit 1; }
  done
  echo "build/$b: same bits as build/test ($(ls "$det/test"/*.npy "$det/test"/snapshots/*/*.npy | wc -l) files)"
done
rm -rf "$det"

current="documentation"
section "Documentation (Doxygen, warnings are errors)"
cmake --build build/test --target docs

current=""
section "scripts/test.sh: all checks passed"
