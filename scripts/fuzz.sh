#!/usr/bin/env bash
# Fuzz the readers of untrusted input and the core API with libFuzzer (clang), ASan and UBSan:
#   scripts/fuzz.sh [SECONDS] [TARGET...]      TARGET: config npy idx api state (default: all), 300 s each
# Builds build/fuzz (-DBTSP_FUZZ=ON), copies the committed corpus (tests/fuzz/corpus/<target>,
# plus configs/ for config) into a scratch corpus under build/fuzz/corpus, and runs each target.
# A failing input is written to build/fuzz/artifacts/; add it to tests/fuzz/corpus/<target>/
# with a descriptive name once fixed, so that ctest replays it forever (fuzz_replay_<target>).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
seconds=${1:-300}
shift || true
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(config npy idx api state)

command -v clang >/dev/null || { echo "fuzz.sh: clang is required (apt-get install clang)" >&2; exit 1; }
cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DBTSP_FUZZ=ON -DBTSP_BUILD_TESTS=ON -DBTSP_BUILD_EXAMPLES=OFF -DBTSP_BUILD_BENCH=OFF >/dev/null
cmake --build build/fuzz -j "${JOBS:-2}" --target $(printf 'fuzz_%s ' "${targets[@]}")

mkdir -p build/fuzz/artifacts
status=0
for t in "${targets[@]}"; do
  corpus=build/fuzz/corpus/$t
  mkdir -p "$corpus"
  cp -n tests/fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
  if [[ $t == config ]]; then
    find configs -name '*.yaml' -exec cp -n {} "$corpus"/ \;
  fi
  echo "== fuzz_$t for ${seconds}s (corpus $corpus)"
  # config inputs are whole YAML files; the readers' inputs are small binary headers.
  max_len=4096
  [[ $t == api ]] && max_len=600
  [[ $t == config ]] && max_len=20000
  if ! ASAN_OPTIONS=detect_leaks=1 build/fuzz/tests/fuzz/fuzz_"$t" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -max_len="$max_len" -print_final_stats=1 \
      -artifact_prefix=build/fuzz/artifacts/"$t"- "$corpus"; then
    echo "fuzz.sh: fuzz_$t found a failing input (build/fuzz/artifacts/)" >&2
    status=1
  fi
done
exit $status
