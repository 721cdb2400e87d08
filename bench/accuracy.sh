#!/usr/bin/env bash
# Accuracy benchmark: train EIANN configs with the `btsp` program over several seed pairs and
# print per-run and mean +- SEM test accuracy (SEM = population std / sqrt(n), as EIANN's
# summary tables), validation accuracy and training speed, with an optional target check.
#
#   bench/accuracy.sh [--data fashion-mnist|mnist|DIR] [--samples N] [--seeds K]
#                     [--rng counter|torch] [--val-window W [--val-step K]] [--target PERCENT]
#                     [--first I] [--jobs J] [--target-window PERCENT [--tolerance T]] CONFIG...
#
# Seed pair i (0-based) is network seed 66049+i with data seed 257+i, the pairing EIANN's
# optimisation used; with --rng torch every run starts from EIANN's initial weights and trains in
# EIANN's sample order for that pair (btsp train --rng torch). --first I starts at pair I.
# --jobs J runs J seed pairs at once (default 1; the runs are independent and single-threaded, so
# J = number of cores divides the wall time, but each run's samples/s then includes contention).
# --val-window W (btsp train --val-window) adds the mean validation accuracy at the last W / K
# points, K = --val-step (default 100) samples apart: with W = 1000 the figure EIANN's
# optimisation recorded in its configs (mean over its five pairs 0-4). Builds build/release if needed.
# --target-window R (with --val-window) checks that the mean windowed validation accuracy is
# within --tolerance T (default 0.3) points of R, e.g. the figure EIANN's authors recorded.
# Exit status 1 if a --target is given and the mean test accuracy is below it, or a
# --target-window is given and missed. Results of each
# run are appended to bench/results/*.jsonl (not tracked) for later inspection.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data=fashion-mnist samples=20000 seeds=3 target="" rng=counter first=0 window=() jobs=1 target_window="" tolerance=0.3
configs=()
usage_error() { echo "bench/accuracy.sh: $*" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --data|--samples|--seeds|--target|--rng|--first|--jobs|--target-window|--tolerance|--val-window|--val-step)
      [[ $# -ge 2 ]] || usage_error "$1 needs a value" ;;&
    --data) data=$2; shift 2 ;;
    --samples) samples=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --target) target=$2; shift 2 ;;
    --rng) rng=$2; shift 2 ;;
    --first) first=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --target-window) target_window=$2; shift 2 ;;
    --tolerance) tolerance=$2; shift 2 ;;
    --val-window|--val-step) window+=("$1" "$2"); shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    -*) usage_error "unknown option '$1' (see --help)" ;;
    *) configs+=("$1"); shift ;;
  esac
done
# numbers checked before anything runs (bash arithmetic would take 'abc' as a variable name)
[[ $samples =~ ^[1-9][0-9]*$ ]] || usage_error "--samples needs a positive integer, got '$samples'"
[[ $seeds =~ ^[1-9][0-9]*$ ]] || usage_error "--seeds needs a positive integer, got '$seeds'"
[[ $first =~ ^(0|[1-9][0-9]*)$ ]] || usage_error "--first needs a non-negative integer, got '$first'" # 08: octal to bash
[[ $jobs =~ ^[1-9][0-9]*$ ]] || usage_error "--jobs needs a positive integer, got '$jobs'"
[[ $rng == counter || $rng == torch ]] || usage_error "--rng is counter or torch, got '$rng'"
number='^([0-9]+([.][0-9]*)?|[.][0-9]+)$'
[[ -z $target || $target =~ $number ]] || usage_error "--target needs a percentage, got '$target'"
[[ -z $target_window || $target_window =~ $number ]] ||
  usage_error "--target-window needs a percentage, got '$target_window'"
[[ $tolerance =~ $number ]] || usage_error "--tolerance needs a number of points, got '$tolerance'"
for ((k = 0; k < ${#window[@]}; k += 2)); do
  [[ ${window[k + 1]} =~ ^[1-9][0-9]*$ ]] || usage_error "${window[k]} needs a positive integer, got '${window[k + 1]}'"
done
[[ -z $target_window || " ${window[*]-} " == *" --val-window "* ]] ||
  usage_error "--target-window checks the windowed validation accuracy: give --val-window too"
if [[ ${#configs[@]} -eq 0 ]]; then
  echo "bench/accuracy.sh: name at least one config (e.g. configs/eiann/fmnist/*BTSP_config_5L_zero_bias*)" >&2
  exit 2
fi
btsp=$root/build/release/src/btsp
if [[ ! -x $btsp ]]; then
  bash "$root/scripts/deps.sh" >&2
  cmake -S "$root" -B "$root/build/release" -DCMAKE_BUILD_TYPE=Release -DBTSP_BUILD_TESTS=OFF >/dev/null
fi
# always: a binary left from older sources would measure the old code (a no-op when current)
cmake --build "$root/build/release" -j "${JOBS:-2}" --target btsp_cli >/dev/null
mkdir -p "$root/bench/results"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/btsp_accuracy_XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# run_pair CONFIG I: one training run; its last stdout line (JSON) goes to $tmp/I.json.
run_pair() {
  "$btsp" train "$1" --data "$data" --samples "$samples" --seed $((66049 + $2)) --data-seed $((257 + $2)) \
    --rng "$rng" ${window[@]+"${window[@]}"} --quiet | tail -n 1 >"$tmp/$2.json"
}
# failed NAME PID...: a run failed; stop the others still running (the EXIT trap removes $tmp).
failed() {
  echo "bench/accuracy.sh: a run of $1 failed" >&2
  shift
  (($# == 0)) || kill "$@" 2>/dev/null || true
  exit 1
}
status=0
for cfg in "${configs[@]}"; do
  name=$(basename "$cfg" .yaml)
  log=$root/bench/results/$name.$data.$samples.$rng.jsonl
  printf '\n%s\n  data %s, %s samples, %s seed pairs from pair %s, rng %s\n' "$name" "$data" "$samples" "$seeds" \
    "$first" "$rng"
  printf '  %-12s %-9s %-9s %-9s %-9s %-10s\n' seed data_seed test_acc val_acc val_win samples/s
  accs=() vals=() wins=() speeds=()
  rm -f "$tmp"/*.json
  pids=()
  for ((i = first; i < first + seeds; i++)); do
    if ((${#pids[@]} >= jobs)); then
      wait "${pids[0]}" || failed "$name" "${pids[@]:1}"
      pids=("${pids[@]:1}")
    fi
    run_pair "$cfg" "$i" &
    pids+=($!)
  done
  for ((k = 0; k < ${#pids[@]}; k++)); do
    wait "${pids[k]}" || failed "$name" "${pids[@]:k+1}"
  done
  for ((i = first; i < first + seeds; i++)); do
    line=$(cat "$tmp/$i.json")
    echo "$line" >> "$log"
    get() { sed -n "s/.*\"$1\": \([^,}]*\).*/\1/p" <<<"$line"; }
    acc=$(get test_accuracy) val=$(get val_accuracy) win=$(get val_window_accuracy) sps=$(get samples_per_second)
    [[ -n $win ]] || win=null
    printf '  %-12s %-9s %-9s %-9s %-9s %-10s\n' $((66049 + i)) $((257 + i)) "$acc" "$val" "$win" "$sps"
    accs+=("$acc") vals+=("$val") wins+=("$win") speeds+=("$sps")
  done
  summary=$(printf '%s\n' "${accs[@]}" | awk '{s+=$1; q+=$1*$1; n++} END {m=s/n; v=q/n-m*m; if (v<0) v=0; printf "%.2f %.2f", m, sqrt(v)/sqrt(n)}')
  avg() { printf '%s\n' "$@" | awk '$1!="null"{s+=$1; n++} END {if (n) printf "%.2f", s/n; else printf "n/a"}'; }
  vmean=$(avg "${vals[@]}") wmean=$(avg "${wins[@]}")
  smean=$(printf '%s\n' "${speeds[@]}" | awk '{s+=$1; n++} END {printf "%.0f", s/n}')
  read -r mean sem <<<"$summary"
  wtext=""
  [[ $wmean == n/a ]] || wtext=", mean windowed validation $wmean%"
  printf '  mean test accuracy %s%% +- %s (SEM), mean validation %s%%%s, %s samples/s\n' \
    "$mean" "$sem" "$vmean" "$wtext" "$smean"
  if [[ -n $target_window ]]; then
    if [[ $wmean != n/a ]] && awk -v m="$wmean" -v t="$target_window" -v d="$tolerance" \
      'BEGIN {exit !(m - t <= d && t - m <= d)}'; then
      printf '  windowed validation target %s%% +- %s: met\n' "$target_window" "$tolerance"
    else
      printf '  windowed validation target %s%% +- %s: NOT met (%s)\n' "$target_window" "$tolerance" "$wmean"
      status=1
    fi
  fi
  if [[ -n $target ]]; then
    if awk -v m="$mean" -v t="$target" 'BEGIN {exit !(m >= t)}'; then
      printf '  target %s%%: met\n' "$target"
    else
      printf '  target %s%%: NOT met\n' "$target"
      status=1
    fi
  fi
done
exit $status
