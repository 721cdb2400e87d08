#!/usr/bin/env bash
# End-to-end test of run directories, `btsp analyze` and `btsp compare` on the embedded demo
# network and its synthetic task (no data set needed; a few seconds).
#   tests/cli/test_cli_analysis.sh path/to/btsp
set -euo pipefail
btsp=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/btsp_cli_XXXXXX")
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need() { for f in "$@"; do [[ -s $f ]] || fail "missing or empty: $f"; done; }
lines() { wc -l <"$1" | tr -d ' '; }

# 1. A run directory with history.
out=$("$btsp" demo --samples 1000 --out "$tmp/run" --history-interval 250 --quiet | tail -n 1)
acc=$(json test_accuracy "$out")
[[ -n $acc && $acc != null ]] || fail "demo JSON: $out"
r=$tmp/run
need "$r/run.json" "$r/config.yaml" "$r/loss_history.npy" "$r/val_history.csv" "$r/dend_history.csv" \
  "$r/plateaus_H1E.npy" "$r/H1E_InputE.npy" "$r/OutputE_H1E.npy"
for s in 0 250 500 750 1000; do need "$r/snapshots/$s/H1E_InputE.npy" "$r/snapshots/$s/OutputE_H1E.npy"; done
[[ $(ls "$r/snapshots" | wc -l) -eq 5 ]] || fail "expected 5 snapshots"
[[ $(lines "$r/val_history.csv") -eq 6 ]] || fail "val_history.csv: header + 5 rows expected"
[[ $(lines "$r/dend_history.csv") -eq 1001 ]] || fail "dend_history.csv: header + 1000 rows expected"
head -n 1 "$r/dend_history.csv" | grep -qx 'samples,H1.E,all' || fail "dend_history.csv header"
grep -q '"snapshots": \[0, 250, 500, 750, 1000\]' "$r/run.json" || fail "run.json snapshots"
grep -q '"plateau_population": "H1.E"' "$r/run.json" || fail "run.json plateau population"
# loss_history.npy: 1000 float32 values after a 128-byte header
[[ $(stat -c %s "$r/loss_history.npy") -eq $((128 + 4000)) ]] || fail "loss_history.npy size"

# 2. Snapshots and validation do not change learning: same final weights without history, and
#    `train @demo --data demo` is the demo.
"$btsp" demo --samples 1000 --out "$tmp/run0" --history-interval 0 --quiet >/dev/null
[[ ! -e $tmp/run0/val_history.csv ]] || fail "history written with --history-interval 0"
for f in "$r"/*.npy; do
  b=$(basename "$f")
  [[ $b == plateaus_* || $b == loss_history.npy ]] && continue
  cmp -s "$f" "$tmp/run0/$b" || fail "final weights differ with history: $b"
done
cmp -s "$r/loss_history.npy" "$tmp/run0/loss_history.npy" || fail "loss history differs with history"
out2=$("$btsp" train @demo --data demo --seed 1 --data-seed 2 --samples 1000 --quiet | tail -n 1)
[[ $(json test_accuracy "$out2") == "$acc" ]] || fail "train @demo differs from demo: $out2"

# 3. analyze
an=$("$btsp" analyze "$r" --angle-samples 10 --rsm-patterns 100 --landscape-rows 1000 --landscape-points 3 \
  --rf-images 50 2>"$tmp/analyze.log" | tail -n 1) ||
  { cat "$tmp/analyze.log" >&2; fail "analyze failed"; }
[[ $(json test_accuracy "$an") == "$acc" ]] || fail "analyze test accuracy $(json test_accuracy "$an") != $acc"
a=$r/analysis
need "$a/accuracy_history.csv" "$a/weight_norms.csv" "$a/feedback_angles.csv" "$a/distinct_units.csv" "$a/update_angles.csv" \
  "$a/representation.csv" "$a/loss_binned.csv" "$a/dend_history_binned.csv" "$a/rsm_labels.npy"
for p in H1E H1SomaI H1DendI OutputE OutputSomaI; do
  need "$a/sparsity_$p.npy" "$a/selectivity_$p.npy" "$a/class_activity_$p.npy" "$a/rsm_class_$p.npy" "$a/rsm_$p.npy"
done
[[ $(lines "$a/accuracy_history.csv") -eq 6 ]] || fail "accuracy_history.csv rows"
[[ $(lines "$a/update_angles.csv") -eq 6 ]] || fail "update_angles.csv rows"
[[ $(lines "$a/representation.csv") -eq 6 ]] || fail "representation.csv rows"
[[ $(lines "$a/loss_binned.csv") -eq 11 ]] || fail "loss_binned.csv rows"
# the last snapshot is the final network: its test accuracy is the run's
last=$(tail -n 1 "$a/accuracy_history.csv")
awk -F, -v acc="$acc" '{ exit !($1 == 1000 && ($2 - acc) < 1e-3 && (acc - $2) < 1e-3) }' <<<"$last" ||
  fail "last accuracy_history row $last vs $acc"
# the demo's top-down weights are a transposed clone of the forward ones: angle 0
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "OutputE_H1E~H1E_OutputE") c = i; if (!c) exit 1; next }
         { if ($c > 0.01) exit 1 }' "$a/feedback_angles.csv" || fail "feedback angle of the cloned B is not 0"
# distinct units: one row per snapshot, every count between 1 and the projection's rows; the
# demo's DendI population (10 units) starts with distinct rows (it collapses to 1 by 200 samples)
[[ $(lines "$a/distinct_units.csv") -eq 6 ]] || fail "distinct_units.csv rows"
awk -F, 'NR == 1 { for (i = 2; i <= NF; i++) if ($i == "H1DendI_H1E") c = i; if (!c) exit 1; next }
         { for (i = 2; i <= NF; i++) if ($i < 1 || $i != int($i)) exit 1 }
         NR == 2 && $c < 2 { exit 1 }' "$a/distinct_units.csv" || fail "distinct_units.csv values"
# metrics are in range
awk -F, 'NR > 1 { for (i = 4; i <= 6; i++) if ($i < 0 || $i > 1.000001) exit 1 }' "$a/representation.csv" ||
  fail "sparsity/selectivity/discriminability out of [0, 1]"
# representation history: 5 snapshots x 5 populations; the last snapshot is the final network
need "$a/representation_history.csv" "$a/equilibration.csv"
[[ $(lines "$a/representation_history.csv") -eq 26 ]] || fail "representation_history.csv rows"
head -n 1 "$a/representation_history.csv" | grep -qx 'samples,population,sparsity,selectivity,discriminability' ||
  fail "representation_history.csv header"
h=$(grep '^1000,H1.E,' "$a/representation_history.csv" | cut -d, -f3-5)
f=$(grep '^H1.E,' "$a/representation.csv" | cut -d, -f4-6)
# Same activities, but the two files average them in different orders (per-unit metrics vs
# running means), so compare to 1e-6 relative rather than digit for digit.
[[ -n $h && -n $f ]] || fail "representation history at 1000 or final representation missing"
awk -v h="$h" -v f="$f" 'BEGIN { n = split(h, x, ","); split(f, y, ",");
    for (i = 1; i <= n; i++) { d = x[i] - y[i]; if (d < 0) d = -d; m = y[i] < 0 ? -y[i] : y[i];
      if (d > 1e-6 * (m > 1 ? m : 1)) exit 1 } }' ||
  fail "representation history at 1000 ($h) != final representation ($f)"
# equilibration: a row per population and the residual
[[ $(lines "$a/equilibration.csv") -eq 7 ]] || fail "equilibration.csv rows"
grep -q '^residual,,,' "$a/equilibration.csv" || fail "equilibration.csv residual row"
[[ -n $(json equilibration_residual "$an") ]] || fail "analyze JSON lacks equilibration_residual"
# receptive-field structure: the demo's 64 inputs are 8 x 8 images; 100 H1.E units and the mean
need "$a/rf_structure.csv"
[[ $(lines "$a/rf_structure.csv") -eq 102 ]] || fail "rf_structure.csv rows"
awk -F, 'NR > 1 && $1 != "mean" { if ($3 < 0 || $3 > 1.5) exit 1 }' "$a/rf_structure.csv" ||
  fail "rf_structure.csv |I| out of range"
[[ -n $(json rf_structure "$an") && $(json rf_structure "$an") != null ]] || fail "analyze JSON lacks rf_structure"
# class-sorted plateau raster: 1000 records (stride 1) x units, labels sorted
need "$a/plateaus_sorted_H1E.npy" "$a/plateaus_sorted_labels_H1E.npy" "$a/plateaus_sorted_units_H1E.npy"
[[ $(stat -c %s "$a/plateaus_sorted_labels_H1E.npy") -eq $((128 + 4000)) ]] || fail "plateaus_sorted_labels size"
[[ $(stat -c %s "$a/plateaus_sorted_H1E.npy") -eq $(stat -c %s "$r/plateaus_H1E.npy") ]] ||
  fail "plateaus_sorted size differs from the raster"
tail -c 4000 "$a/plateaus_sorted_labels_H1E.npy" | od -An -v -tf4 -w4 |
  awk 'NR > 1 && $1 < prev { exit 1 } { prev = $1 } END { exit !(NR == 1000 && prev == 9) }' ||
  fail "plateaus_sorted_labels not sorted"
# training accuracy in bins of 100 (1000 samples: 10 bins); the
# recorded outputs line up with the labels of the run's order: the demo learns its task, so the
# last bin is far above chance (a misaligned label would give about 10 %)
need "$r/train_output.npy" "$a/train_accuracy_binned.csv"
[[ $(stat -c %s "$r/train_output.npy") -eq $((128 + 1000 * 10 * 4)) ]] || fail "train_output.npy size"
[[ $(lines "$a/train_accuracy_binned.csv") -eq 11 ]] || fail "train_accuracy_binned.csv rows"
awk -F, 'NR == 11 { exit !($1 == 1000 && $2 >= 80) }' "$a/train_accuracy_binned.csv" ||
  fail "last training-accuracy bin: $(tail -n 1 "$a/train_accuracy_binned.csv")"
# updates of the cloned B are the transposed updates of W: angle 0, one row per later snapshot
need "$a/feedback_update_angles.csv"
[[ $(lines "$a/feedback_update_angles.csv") -eq 5 ]] || fail "feedback_update_angles.csv rows"
awk -F, 'NR > 1 { if ($2 > 0.01 || $2 != $2 + 0) exit 1 }' "$a/feedback_update_angles.csv" ||
  fail "update angle of the cloned B is not 0"
# loss landscape: 3 x 3 grid (11 x 11 by default; small here because sanitizer builds are
# slow); the trajectory's losses on all 1000 test rows (--landscape-rows 1000) are the test
# losses of accuracy_history.csv
need "$a/landscape_loss.npy" "$a/landscape_axes.csv" "$a/landscape_trajectory.csv"
[[ $(stat -c %s "$a/landscape_loss.npy") -eq $((128 + 9 * 4)) ]] || fail "landscape_loss.npy size"
[[ $(lines "$a/landscape_trajectory.csv") -eq 6 ]] || fail "landscape_trajectory.csv rows"
awk -F, 'NR > 1 { s += $2 } END { exit !(NR == 3 && s > 0.5 && s <= 1.000001) }' "$a/landscape_axes.csv" ||
  fail "landscape explained variance: $(cat "$a/landscape_axes.csv")"
paste -d, <(cut -d, -f1,4 "$a/landscape_trajectory.csv") <(cut -d, -f1,3 "$a/accuracy_history.csv") |
  awk -F, 'NR > 1 { d = $2 - $4; if (d < 0) d = -d; if ($1 != $3 || d > 1e-6 * (1 + $4)) exit 1 }' ||
  fail "landscape trajectory losses differ from accuracy_history.csv"
# receptive fields: maxact and activity-weighted for H1.E and Output.E (8 x 8 inputs), metrics
for p in H1E OutputE; do need "$a/maxact_rf_$p.npy" "$a/act_weighted_rf_$p.npy"; done
[[ $(stat -c %s "$a/maxact_rf_H1E.npy") -eq $((128 + 100 * 64 * 4)) ]] || fail "maxact_rf_H1E.npy size"
head -n 1 "$a/rf_metrics.csv" | grep -qx 'population,kind,units,structured_units,structure,peak_frequency' ||
  fail "rf_metrics.csv header"
for row in 'H1.E,weights,100,' 'H1.E,maxact,100,' 'Output.E,maxact,10,' 'H1.E,act_weighted,100,' \
  'Output.E,act_weighted,10,'; do
  grep -q "^$row" "$a/rf_metrics.csv" || fail "rf_metrics.csv lacks $row"
done
awk -F, 'NR > 1 { if ($6 < 1 || $6 > 4) exit 1 }' "$a/rf_metrics.csv" ||
  fail "rf_metrics.csv peak frequency outside 1..4 (8 x 8 images)"
grep -q '^H1.E,maxact,4,' "$a/rf_spectrum.csv" && grep -q '^H1.E,weights,4,' "$a/rf_spectrum.csv" ||
  fail "rf_spectrum.csv"
# the activation-maximisation fields are seeded: a second analyze gives the same file
cp "$a/maxact_rf_H1E.npy" "$tmp/maxact1.npy"
# total input: Dale's law holds for the means (E projections add, I projections subtract)
need "$a/total_input.csv" "$a/total_input_H1E.npy"
grep -q '^H1.E,H1E_InputE,' "$a/total_input.csv" || fail "total_input.csv lacks H1E_InputE"
awk -F, '$2 == "excitatory" && $3 < 0 { exit 1 } $2 == "inhibitory" && $3 > 0 { exit 1 }' "$a/total_input.csv" ||
  fail "total_input.csv signs"
# line plots also as SVG, with their text (built with or without libpng)
need "$a/accuracy_history.svg" "$a/weight_norms.svg" "$a/loss.svg" "$a/dend_history.svg" "$a/train_accuracy.svg"
grep -q '>validation</text>' "$a/accuracy_history.svg" || fail "accuracy_history.svg: no named legend"
grep -q '>H1E_InputE</text>' "$a/weight_norms.svg" || fail "weight_norms.svg: no projection names"
grep -q '>H1.E</text>' "$a/dend_history.svg" || fail "dend_history.svg: no population names"
grep -q '>training samples</text>' "$a/loss.svg" || fail "loss.svg: no axis label"
if [[ $(json png "$an") == true ]]; then
  need "$a/receptive_fields.png" "$a/accuracy_history.png" "$a/class_activity_H1E.png" "$a/plateaus_H1E.png" \
    "$a/plateaus_sorted_H1E.png"
  [[ $(head -c 4 "$a/receptive_fields.png" | od -An -tx1 | tr -d ' \n') == 89504e47 ]] || fail "not a PNG"
fi

"$btsp" analyze "$r" --angle-samples 0 --rsm-patterns 0 --landscape-points 0 --rf-images 50 >/dev/null 2>&1 ||
  fail "second analyze failed"
cmp -s "$tmp/maxact1.npy" "$a/maxact_rf_H1E.npy" || fail "maxact receptive fields differ between two analyze runs"

# analyze --jobs 3: evaluations split over threads, every output file the same as with one
for j in 1 3; do
  "$btsp" analyze "$r" --angle-samples 10 --rsm-patterns 100 --landscape-rows 1000 --landscape-points 3 \
    --rf-images 50 --jobs $j >/dev/null 2>"$tmp/analyze$j.log" || { cat "$tmp/analyze$j.log" >&2; fail "analyze --jobs $j"; }
  [[ $j == 3 ]] || { rm -rf "$tmp/analysis1"; cp -r "$a" "$tmp/analysis1"; }
done
for f in "$tmp/analysis1"/*; do
  cmp -s "$f" "$a/$(basename "$f")" || fail "analyze --jobs 3 changed $(basename "$f")"
done

# Update angles with stochastic plateaus: each snapshot restarts from a reset network with the
# run's seed, so the network copies of --jobs 3 draw the same plateaus as one network
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
sed 's/^\( *\)temporal_discount: 0.0005$/&\n\1max_pop_fraction: 0.3\n\1stochastic: true/' \
  "$src/configs/demo/tiny_btsp.yaml" >"$tmp/stoch.yaml"
[[ $(grep -c 'stochastic: true' "$tmp/stoch.yaml") -ge 1 ]] || fail "stochastic demo config not written"
"$btsp" train "$tmp/stoch.yaml" --data demo --samples 400 --out "$tmp/stoch" --history-interval 100 --quiet \
  >/dev/null || fail "stochastic run"
for j in 1 3; do
  "$btsp" analyze "$tmp/stoch" --angle-samples 20 --rsm-patterns 0 --landscape-points 0 --rf-images 0 --max-test 200 \
    --jobs $j >/dev/null 2>"$tmp/stoch$j.log" || { cat "$tmp/stoch$j.log" >&2; fail "stochastic analyze --jobs $j"; }
  cp "$tmp/stoch/analysis/update_angles.csv" "$tmp/stoch_angles$j.csv"
done
[[ $(lines "$tmp/stoch_angles1.csv") -eq 6 ]] || fail "stochastic update_angles.csv rows"
cmp -s "$tmp/stoch_angles1.csv" "$tmp/stoch_angles3.csv" || fail "stochastic update angles differ with --jobs 3"

# 4. compare, with a config this build cannot run
cat >"$tmp/unsup.yaml" <<'YAML'
layer_config:
    Input:
        E:
            size: 64
    Output:
        E:
            size: 10
            activation: gelu
projection_config:
    Output:
        E:
            Input:
                E:
                    learning_rule: null
YAML
# (exit status 1: a configuration failed; the table and the JSON still give the others)
set +e
cmpout=$("$btsp" compare --data demo --samples 300 --seeds 2 --quiet --history-interval 100 --out "$tmp/cmp" \
  @demo "$tmp/unsup.yaml" 2>"$tmp/cmp.err")
rc=$?
set -e
[[ $rc -eq 1 ]] && grep -q "not every configuration ran" "$tmp/cmp.err" || fail "compare with a failed config: exit $rc"
tail -n 1 <<<"$cmpout" | grep -q '"status": "unsupported"' || fail "compare: unsupported config not reported"
tail -n 1 <<<"$cmpout" | grep -q '"name": "demo", "config": "@demo", "rule": "BTSP_19", "status": "ok", "runs": 2' ||
  fail "compare: demo row: $(tail -n 1 <<<"$cmpout")"
grep -q '^unsup .*unsupported' <<<"$cmpout" || fail "compare table: $cmpout"
need "$tmp/cmp/summary.csv" "$tmp/cmp/val_history.csv" "$tmp/cmp/val_history_mean.csv" \
  "$tmp/cmp/demo/seed0/run.json" "$tmp/cmp/demo/seed1/run.json"
[[ $(lines "$tmp/cmp/val_history.csv") -eq 9 ]] || fail "compare val_history.csv: header + 2 x 4 rows"
head -n 1 "$tmp/cmp/val_history_mean.csv" | grep -qx 'samples,demo,unsup' || fail "val_history_mean.csv header"
grep -q '>demo</text>' "$tmp/cmp/val_history.svg" || fail "compare val_history.svg: no config names"
# --jobs 3: the same table and the same run directories as one job (threads share only the data)
cmpj=$("$btsp" compare --data demo --samples 300 --seeds 2 --quiet --history-interval 100 --out "$tmp/cmpj" --jobs 3 \
  @demo "$tmp/unsup.yaml" 2>/dev/null || true)
strip() { sed 's/"samples_per_second": [^,}]*//g; s/"out": "[^"]*"//; s/  *[0-9]*$//' <<<"$1"; }
diff <(strip "$cmpout") <(strip "$cmpj") >&2 || fail "compare --jobs 3 differs from one job"
for s in 0 1; do
  for f in "$tmp/cmp/demo/seed$s"/*.npy; do
    cmp -s "$f" "$tmp/cmpj/demo/seed$s/$(basename "$f")" || fail "compare --jobs 3: seed$s/$(basename "$f") differs"
  done
done
if "$btsp" compare --data demo --jobs 0 @demo 2>/dev/null; then fail "compare --jobs 0 accepted"; fi
# --analyze: btsp analyze on every run directory, the headline figures side by side
set +e
cmpa=$("$btsp" compare --data demo --samples 300 --seeds 2 --quiet --history-interval 100 --out "$tmp/cmpa" \
  --analyze --angle-samples 5 --rf-images 10 --landscape-points 0 --max-test 200 @demo "$tmp/unsup.yaml" \
  2>"$tmp/cmpa.log")
rc=$?
set -e
[[ $rc -eq 1 ]] || { cat "$tmp/cmpa.log" >&2; fail "compare --analyze (with one config that cannot run): exit $rc"; }
tail -n 1 <<<"$cmpa" | grep -q '^{"command": "compare"' || fail "compare --analyze: last line is not its JSON"
grep -q '^  demo .*representation .*H1.E .*sparsity ' <<<"$cmpa" || fail "compare --analyze table: $cmpa"
grep -q '^  demo .*update_angle .*OutputE_H1E ' <<<"$cmpa" || fail "compare --analyze: no update angle row"
need "$tmp/cmpa/analysis_summary.csv" "$tmp/cmpa/analysis_means.csv" "$tmp/cmpa/demo/seed0/analysis/summary.csv" \
  "$tmp/cmpa/demo/seed1/analysis/summary.csv"
head -n 1 "$tmp/cmpa/analysis_summary.csv" | grep -qx 'config,seed,kind,item,metric,value' || fail "analysis_summary header"
[[ $(grep -c '^demo,[01],representation,H1.E,sparsity,' "$tmp/cmpa/analysis_summary.csv") -eq 2 ]] ||
  fail "analysis_summary.csv: one H1.E sparsity row per seed"
! grep -q '^unsup,' "$tmp/cmpa/analysis_summary.csv" || fail "an unsupported config was analysed"
# the mean over seeds is the mean of the two runs' own summary rows
s0=$(grep '^test,all,accuracy,' "$tmp/cmpa/demo/seed0/analysis/summary.csv" | cut -d, -f4)
s1=$(grep '^test,all,accuracy,' "$tmp/cmpa/demo/seed1/analysis/summary.csv" | cut -d, -f4)
m=$(grep '^demo,test,all,accuracy,' "$tmp/cmpa/analysis_means.csv" | cut -d, -f5,7)
awk -v a="$s0" -v b="$s1" -v m="${m%,*}" -v n="${m#*,}" \
  'BEGIN { d = (a + b) / 2 - m; exit !(n == 2 && d < 1e-9 && d > -1e-9) }' ||
  fail "analysis_means.csv: test accuracy mean $m vs runs $s0, $s1"
tail -n 1 <<<"$cmpa" | grep -q '"name": "demo", .*"analyzed_runs": 2' || fail "compare --analyze: analyzed_runs"
# update angles over training side by side: per snapshot, mean over projections, then seeds
head -n 1 "$tmp/cmpa/update_angles_mean.csv" | grep -qx 'samples,demo,unsup' || fail "update_angles_mean.csv header"
want=$(for s in 0 1; do sed -n 2p "$tmp/cmpa/demo/seed$s/analysis/update_angles.csv"; done |
  awk -F, '{ t = 0; k = 0; for (i = 2; i <= NF; i += 2) if ($i != "") { t += $i; k++ } m += t / k } END { print m / NR }')
got=$(sed -n 2p "$tmp/cmpa/update_angles_mean.csv" | cut -d, -f2)
awk -v a="$want" -v b="$got" 'BEGIN { exit !(a - b < 1e-4 && b - a < 1e-4) }' ||
  fail "update_angles_mean.csv: $got, expected $want"
# a figure that is NaN in a run (discriminability over one test row) keeps its row, empty, n = 0
"$btsp" compare --data demo --samples 200 --seeds 1 --quiet --history-interval 100 --out "$tmp/cmpn" --analyze \
  --angle-samples 1 --rf-images 5 --landscape-points 0 --max-test 1 @demo >/dev/null 2>"$tmp/cmpn.log" ||
  { cat "$tmp/cmpn.log" >&2; fail "compare --analyze --max-test 1"; }
grep -q '^demo,0,representation,H1.E,discriminability,$' "$tmp/cmpn/analysis_summary.csv" ||
  fail "analysis_summary.csv lost a NaN row"
grep -q '^demo,representation,H1.E,discriminability,,,0$' "$tmp/cmpn/analysis_means.csv" ||
  fail "analysis_means.csv: NaN row $(grep discriminability "$tmp/cmpn/analysis_means.csv" | head -n 2)"
if "$btsp" compare --data demo --samples 100 --seeds 1 --analyze @demo >/dev/null 2>"$tmp/err.log"; then
  fail "compare --analyze without --out accepted"
fi
grep -q 'give --out DIR' "$tmp/err.log" || fail "compare --analyze without --out: $(cat "$tmp/err.log")"

# 5. errors are reported, not crashes
# an option the command would ignore is refused (exit 2), naming option and command
for args in "train @demo --data demo --samples 10 --max-test 5" "analyze $tmp/run --seeds 3" "eval @demo x --data demo --out y" \
  "demo --samples 10 --analyze" "info @demo --jobs 2"; do
  set +e
  # shellcheck disable=SC2086
  "$btsp" $args >/dev/null 2>"$tmp/err.log"
  st=$?
  set -e
  [[ $st -eq 2 ]] || fail "btsp $args: exit $st, expected 2"
  grep -q "is not an option of 'btsp ${args%% *}'" "$tmp/err.log" || fail "btsp $args: $(cat "$tmp/err.log")"
done
# options that only act with another one: snapshot options without --out, analyze options of
# compare without --analyze
for args in "train @demo --data demo --samples 10 --history-interval 5:give --out DIR too" \
  "demo --samples 10 --plateau-pop H1.E:give --out DIR too" \
  "compare --data demo --samples 10 --seeds 1 --max-test 3 @demo:takes it with --analyze"; do
  set +e
  # shellcheck disable=SC2086
  "$btsp" ${args%%:*} >/dev/null 2>"$tmp/err.log"
  st=$?
  set -e
  [[ $st -eq 2 ]] || fail "btsp ${args%%:*}: exit $st, expected 2"
  grep -q "${args#*:}" "$tmp/err.log" || fail "btsp ${args%%:*}: $(cat "$tmp/err.log")"
done
if "$btsp" analyze "$tmp/nonexistent" 2>"$tmp/err.log"; then fail "analyze of a missing directory succeeded"; fi
grep -q 'run.json' "$tmp/err.log" || fail "analyze error message"
# sizes that would overflow buffers or wrap a window are refused before anything runs
for opt in "--landscape-points 1001" "--bp-steps 4294967296"; do
  if "$btsp" analyze "$r" $opt 2>"$tmp/err.log"; then fail "analyze $opt accepted"; fi
  grep -q "is at most" "$tmp/err.log" || fail "analyze $opt: $(head -n 1 "$tmp/err.log")"
done
if "$btsp" train @demo --data demo --samples 10 --out "$tmp/x" --plateau-pop Nope.E 2>"$tmp/err.log"; then
  fail "bad --plateau-pop accepted"
fi
grep -q "Nope.E" "$tmp/err.log" || fail "--plateau-pop error message"

# 6. --order: an int64 .npy of training-row indices, as numpy writes it; the run follows it and
# analyze rebuilds it; an index outside the training rows is refused with the entry named.
npy_i8() { # file value...: a 1-D '<i8' .npy (format 1.0, header padded to 64 bytes)
  local f=$1; shift
  local dict="{'descr': '<i8', 'fortran_order': False, 'shape': ($#,), }"
  local pad=$(( 64 - (10 + ${#dict} + 1) % 64 ))
  { printf '\x93NUMPY\x01\x00'; printf "\\x$(printf %02x $(( (${#dict} + pad + 1) % 256 )))\\x$(printf %02x $(( (${#dict} + pad + 1) / 256 )))"
    printf '%s%*s\n' "$dict" "$pad" ''
    for v in "$@"; do printf "\\x$(printf %02x $(( v % 256 )))\\x$(printf %02x $(( v / 256 )))"; printf '\x00%.0s' 1 2 3 4 5 6; done
  } >"$f"
}
npy_i8 "$tmp/order.npy" 5 4 3 2 1 0 9 8 7 6
ord_run=$("$btsp" train @demo --data demo --samples 40 --order "$tmp/order.npy" --out "$tmp/ordrun" \
  --history-interval 20 --quiet | tail -n 1) || fail "train with --order"
[[ $(json samples "$ord_run") == 40 ]] || fail "--order run: $ord_run"
"$btsp" analyze "$tmp/ordrun" --angle-samples 5 --rsm-patterns 50 --rf-images 5 --landscape-points 0 \
  >/dev/null 2>"$tmp/err.log" ||
  fail "analyze of a --order run: $(tail -n 3 "$tmp/err.log")"
npy_i8 "$tmp/bad_order.npy" 1 2 60000
if "$btsp" train @demo --data demo --samples 10 --order "$tmp/bad_order.npy" 2>"$tmp/err.log"; then
  fail "--order with an index outside the training rows accepted"
fi
grep -q "entry 2 (60000) is not a training-row index" "$tmp/err.log" || fail "--order error: $(cat "$tmp/err.log")"
# 7. --rng torch: PyTorch's generator for the initial weights and the sample order (EIANN's
# draws; bit-exact checks in test_kernels and test_model_golden). Recorded in run.json, rebuilt
# by analyze, deterministic, and different from the default counter-based draws.
for run in trng trng2 crng; do
  rng=torch; [[ $run == crng ]] && rng=counter
  "$btsp" train @demo --data demo --samples 600 --rng $rng --out "$tmp/$run" --history-interval 200 --quiet \
    >/dev/null || fail "train --rng $rng"
done
grep -q '"rng": "torch"' "$tmp/trng/run.json" || fail "run.json lacks rng torch"
grep -q '"rng": "counter"' "$tmp/crng/run.json" || fail "run.json lacks rng counter"
for f in "$tmp/trng"/*.npy; do
  cmp -s "$f" "$tmp/trng2/$(basename "$f")" || fail "--rng torch is not deterministic: $(basename "$f")"
done
cmp -s "$tmp/trng/snapshots/0/H1E_InputE.npy" "$tmp/crng/snapshots/0/H1E_InputE.npy" &&
  fail "--rng torch and counter draw the same initial weights"
"$btsp" analyze "$tmp/trng" --angle-samples 5 --rsm-patterns 50 --rf-images 5 --landscape-points 0 \
  >/dev/null 2>"$tmp/err.log" ||
  fail "analyze of a --rng torch run: $(tail -n 3 "$tmp/err.log")"
# analyze rebuilt the torch order: the recorded outputs match their labels once learned (with
# the counter order's labels the last bin would be near chance)
awk -F, 'NR == 7 { exit !($1 == 600 && $2 >= 80) }' "$tmp/trng/analysis/train_accuracy_binned.csv" ||
  fail "training accuracy of the --rng torch run: $(tail -n 1 "$tmp/trng/analysis/train_accuracy_binned.csv")"
if "$btsp" train @demo --data demo --samples 10 --rng mersenne 2>"$tmp/err.log"; then fail "--rng mersenne accepted"; fi
grep -q "rng must be 'counter' or 'torch'" "$tmp/err.log" || fail "--rng error: $(cat "$tmp/err.log")"
# 8. --val-window: validation after the last W samples every K, reported as their mean (EIANN's
#    optimisation objective); the points agree with the snapshots' validation at the same sample
#    counts, learning is unchanged, and bad windows are refused before training.
out=$("$btsp" demo --samples 300 --val-window 100 --val-step 25 --out "$tmp/vw" --history-interval 50 --quiet |
  tail -n 1)
[[ $(json val_window_points "$out") == 4 ]] || fail "val window points: $out"
need "$tmp/vw/val_window.csv"
[[ $(lines "$tmp/vw/val_window.csv") -eq 5 ]] || fail "val_window.csv: header + 4 rows expected"
cut -d, -f1 "$tmp/vw/val_window.csv" | tr '\n' ' ' | grep -qx 'samples 225 250 275 300 ' ||
  fail "val_window.csv points: $(cut -d, -f1 "$tmp/vw/val_window.csv" | tr '\n' ' ')"
for s in 250 300; do
  [[ $(grep "^$s," "$tmp/vw/val_window.csv") == $(grep "^$s," "$tmp/vw/val_history.csv") ]] ||
    fail "window and snapshot validation differ at $s"
done
m=$(awk -F, 'NR > 1 { s += $2; n++ } END { printf "%.4f", s / n }' "$tmp/vw/val_window.csv")
awk -v a="$(json val_window_accuracy "$out")" -v m="$m" 'BEGIN { exit !((a - m) < 1e-3 && (m - a) < 1e-3) }' ||
  fail "val_window_accuracy $(json val_window_accuracy "$out") is not the mean $m of val_window.csv"
grep -q '"val_window_samples": \[225, 250, 275, 300\]' "$tmp/vw/run.json" || fail "run.json val window"
"$btsp" demo --samples 300 --out "$tmp/vw0" --history-interval 0 --quiet >/dev/null
for f in "$tmp/vw0"/*.npy; do
  cmp -s "$f" "$tmp/vw/$(basename "$f")" || fail "--val-window changed learning: $(basename "$f")"
done
[[ ! -e $tmp/vw0/val_window.csv ]] || fail "val_window.csv written without --val-window"
if "$btsp" demo --samples 300 --val-window 90 --val-step 25 2>"$tmp/err.log" >/dev/null; then
  fail "--val-window 90 --val-step 25 accepted"
fi
grep -q "not a multiple of --val-step 25" "$tmp/err.log" || fail "val window error: $(cat "$tmp/err.log")"
if "$btsp" demo --samples 300 --val-window 400 2>"$tmp/err.log" >/dev/null; then fail "--val-window > samples"; fi
grep -q "longer than the run" "$tmp/err.log" || fail "val window length error: $(cat "$tmp/err.log")"
if "$btsp" demo --samples 300 --val-window 100 --val-step 0 2>"$tmp/err.log" >/dev/null; then
  fail "--val-step 0 accepted"
fi
if "$btsp" demo --samples 2305843009213693952 --val-window 2305843009213693952 --val-step 1 2>"$tmp/err.log" \
  >/dev/null; then fail "a window of 2^61 validations accepted"; fi
grep -q "more than 1000000 validations" "$tmp/err.log" || fail "val window size error: $(cat "$tmp/err.log")"
# --jobs 3 on train: evaluation split over threads, every figure and file the same
out3=$("$btsp" demo --samples 300 --val-window 100 --val-step 25 --out "$tmp/vw3" --history-interval 50 --jobs 3 \
  --quiet | tail -n 1)
[[ $(json val_window_accuracy "$out3") == $(json val_window_accuracy "$out") ]] || fail "--jobs 3 window: $out3"
[[ $(json test_accuracy "$out3") == $(json test_accuracy "$out") ]] || fail "--jobs 3 test: $out3"
cmp -s "$tmp/vw/val_history.csv" "$tmp/vw3/val_history.csv" || fail "--jobs 3 changed val_history.csv"
cmp -s "$tmp/vw/val_window.csv" "$tmp/vw3/val_window.csv" || fail "--jobs 3 changed val_window.csv"
# a run that diverges (non-finite weights) reports the same with any --jobs (network copies
# refuse non-finite weights; the final figures then come from the network itself)
cat >"$tmp/div.yaml" <<'YAML'
layer_config:
    Input:
        E:
            size: 64
    Output:
        E:
            size: 10
projection_config:
    Output:
        E:
            Input:
                E:
                    weight_init: scaled_kaiming
                    weight_init_args: !!python/tuple
                    - 1000.0
                    learning_rule: Backprop
                    learning_rule_kwargs:
                        learning_rate: 1.0e+6
training_kwargs:
    tau: 1
    forward_steps: 1
    backward_steps: 1
YAML
d1=$("$btsp" train "$tmp/div.yaml" --data demo --samples 200 --quiet | tail -n 1) || fail "diverging run, one job"
d3=$("$btsp" train "$tmp/div.yaml" --data demo --samples 200 --jobs 3 --quiet | tail -n 1) || fail "diverging run, --jobs 3"
[[ $(json final_loss "$d1") == null ]] || fail "the diverging run did not diverge: $d1"
[[ $(json test_accuracy "$d1") == $(json test_accuracy "$d3") && $(json val_accuracy "$d1") == $(json val_accuracy "$d3") ]] ||
  fail "diverging run differs with --jobs 3: $d1 / $d3"
if "$btsp" demo --samples 300 --val-step 50 2>"$tmp/err.log" >/dev/null; then fail "--val-step alone accepted"; fi
grep -q "give --val-window too" "$tmp/err.log" || fail "--val-step alone: $(cat "$tmp/err.log")"
out=$("$btsp" compare --data demo --samples 300 --seeds 1 --val-window 100 --quiet @demo | tail -n 1)
[[ -n $(json val_window_accuracy_mean "$out") ]] || fail "compare lacks val_window_accuracy_mean: $out"
echo "test_cli_analysis: all checks passed"
