#!/usr/bin/env bash
# The btsp program against inputs a user gets wrong: IDX data whose labels or image size do not
# fit the network, an --out that holds an earlier run, --init-weights with only some files,
# numbers with leading blanks, a stdout that cannot be written, paths with control characters,
# --help after a command, --order files of any length, and run directories whose records are
# damaged (analyze). Each is refused with a message and loses nothing, or (for a
# partial --init-weights) said on stderr. No data set needed: the test writes tiny IDX files.
#   tests/cli/test_cli_inputs.sh path/to/btsp
set -euo pipefail
btsp=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/btsp_inputs_XXXXXX")
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$tmp"

# be32 N: N as four big-endian bytes (printf escapes)
be32() { printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)); }
# idx_part DIR PART SIDE LABEL...: DIR/PART-images-idx3-ubyte and -labels-idx1-ubyte, one
# SIDE x SIDE image per label (pixel values from the label and position)
idx_part() {
  local dir=$1 part=$2 side=$3
  shift 3
  local n=$# pix="" lab="" v i
  mkdir -p "$dir"
  for v in "$@"; do
    lab+=$(printf '\\x%02x' "$v")
    for ((i = 0; i < side * side; i++)); do pix+=$(printf '\\x%02x' $(((v * 37 + i * 11) & 255))); done
  done
  printf "\\x00\\x00\\x08\\x03$(be32 "$n")$(be32 "$side")$(be32 "$side")$pix" >"$dir/$part-images-idx3-ubyte"
  printf "\\x00\\x00\\x08\\x01$(be32 "$n")$lab" >"$dir/$part-labels-idx1-ubyte"
}
# idx_dir DIR SIDE LABEL...: a data set with these training labels and a test file of
# classes 0-9 twice
idx_dir() {
  idx_part "$1" train "${@:2}"
  idx_part "$1" t10k "$2" "${labels[@]}"
}
labels=(0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9)

# 1. data that fits the demo network (8 x 8 images, classes 0-9) trains
idx_dir D 8 "${labels[@]}"
out=$("$btsp" train @demo --data D --samples 40 --quiet | tail -n 1)
grep -q '"train_rows": 20, "val_rows": 0, "test_rows": 20' <<<"$out" || fail "tiny IDX set: $out"

# 2. a training label beyond the outputs: every one-hot target row would be misread
idx_dir D37 8 "${labels[@]:0:19}" 37
refuse 1 "10 output units, one per class; the training set has 38 classes" train @demo --data D37 --samples 10
# images of another size
idx_dir D9 9 "${labels[@]}"
refuse 1 "the network has 64 inputs; the training images have 81 values" train @demo --data D9 --samples 10
# a network with more outputs than the data has classes
cat >out12.yaml <<'YAML'
layer_config:
  Input:
    E:
      size: 64
  Output:
    E:
      size: 12
      activation: relu
projection_config:
  Output:
    E:
      Input:
        E:
          weight_init: half_kaiming
          weight_bounds: [0, null]
          learning_rule: Backprop
          learning_rule_kwargs: {learning_rate: 0.1}
training_kwargs:
  tau: 1
  forward_steps: 1
  backward_steps: 1
  learning_rate: 0.1
YAML
refuse 1 "12 output units, one per class; the training set has 10 classes" train out12.yaml --data D --samples 10
refuse 1 "12 output units" eval out12.yaml D --data D
# ... but a test file that lacks the top classes is fine: its rows are scored by label
idx_part D12 train 8 0 1 2 3 4 5 6 7 8 9 10 11 0 1 2 3 4 5 6 7
idx_part D12 t10k 8 0 1 2 3 4 5 6 7 8 9 10 0 1 2 3 4 5 6 7 8
"$btsp" train out12.yaml --data D12 --samples 20 --quiet >/dev/null 2>d12.err || fail "test labels 0-10, 12 outputs: $(cat d12.err)"
idx_part D12 t10k 8 0 1 2 3 4 5 6 7 8 9 12 0 1 2 3 4 5 6 7 8
refuse 1 "12 output units, one per class; the test set has 13 classes" train out12.yaml --data D12 --samples 20

# 3. --out that holds files: refused and untouched; --overwrite writes into it; an empty one is fine
"$btsp" demo --samples 100 --out R --history-interval 50 --quiet >/dev/null
(find R -type f -exec md5sum {} + | sort) >r.sums
refuse 1 "already holds files.*--overwrite" demo --samples 200 --out R --quiet
refuse 1 "already holds files" train @demo --data D --samples 20 --out R --quiet
refuse 1 "already holds files" compare --data demo --samples 50 --seeds 1 --out R --quiet @demo
diff <(find R -type f -exec md5sum {} + | sort) r.sums >/dev/null || fail "a refused --out was changed"
"$btsp" demo --samples 200 --out R --history-interval 50 --quiet --overwrite >/dev/null
grep -q '"samples_done": 200' R/run.json || fail "--overwrite did not write the run"
mkdir E && "$btsp" demo --samples 50 --out E --quiet >/dev/null || fail "an empty --out was refused"
: >F && refuse 1 "exists and is not a directory" demo --samples 50 --out F --quiet

# 4. --init-weights with only some of the files: trained, and the missing ones named on stderr
mkdir part && cp R/H1E_InputE.npy part/
"$btsp" demo --samples 50 --init-weights part >/dev/null 2>part.err || fail "partial --init-weights refused"
grep -q "has no file for .* weight arrays .*OutputE_H1E.npy" part.err || fail "partial --init-weights: $(cat part.err)"
! grep -q "H1E_InputE.npy" part.err || fail "a file that was read is reported missing"
"$btsp" demo --samples 50 --init-weights R >/dev/null 2>full.err && ! grep -q "has no file" full.err ||
  fail "complete --init-weights reported: $(cat full.err)"

# 5. numbers: strtoull would read " -5" as 2^64 - 5
refuse 2 "needs a positive integer" demo --samples " -5"
refuse 2 "needs a non-negative integer" demo --seed " 1"
refuse 2 "needs a positive integer" demo --samples "+5"
refuse 2 "see btsp --help" demo --bogus

# 6. --help after a command prints the usage on stdout with status 0
for c in train demo compare analyze merge eval; do
  "$btsp" $c --help >help.txt 2>&1 || fail "btsp $c --help: exit status $?"
  grep -q "^usage:" help.txt || fail "btsp $c --help printed no usage"
done

# 7. results that cannot be written are a failure
if [[ -w /dev/full ]]; then
  set +e
  "$btsp" demo --samples 50 --quiet >/dev/full 2>full.log
  rc=$?
  set -e
  [[ $rc -eq 1 ]] && grep -q "cannot write the results to standard output" full.log ||
    fail "demo >/dev/full: exit $rc, $(cat full.log)"
fi

# 8. a tab in a path survives the JSON records: a run on data in such a directory resumes
tabdata=$'D\tX'
cp -r D "$tabdata"
out=$("$btsp" train @demo --data "$tabdata" --samples 40 --seed 1 --out "T$tabdata" --history-interval 20 --quiet |
  tail -n 1)
grep -q '"data": "D\\u0009X"' <<<"$out" || fail "a tab in --data is not escaped: $out"
"$btsp" train @demo --data "$tabdata" --samples 60 --seed 1 --resume "T$tabdata" --out T2 --history-interval 20 \
  --quiet >/dev/null 2>tab.err || fail "resume of a run whose data path has a tab: $(cat tab.err)"
# 9. --order of any length (another implementation's order of several epochs) is replayed as
# given; a 2-D array is refused
npy_f32 o30.npy 3 1 4 1 5 9 2 6 5 3 5 8 9 7 9 3 2 3 8 4 6 2 6 4 3 3 8 3 2 7
out=$("$btsp" train @demo --data D --samples 30 --order o30.npy --quiet | tail -n 1)
grep -q '"samples": 30, "train_rows": 20' <<<"$out" || fail "an order longer than the training set: $out"
# replayed as given: its first 20 entries alone give the same first 20 samples, then differ
npy_f32 o20.npy 3 1 4 1 5 9 2 6 5 3 5 8 9 7 9 3 2 3 8 4
for k in 20 30; do
  for o in o20 o30; do
    "$btsp" train @demo --data D --samples $k --order $o.npy --out "W$o-$k" --history-interval 0 --quiet >/dev/null
  done
done
cmp -s Wo20-20/H1E_InputE.npy Wo30-20/H1E_InputE.npy || fail "the first 20 samples of the long order differ"
! cmp -s Wo20-30/H1E_InputE.npy Wo30-30/H1E_InputE.npy || fail "samples 21-30 did not follow the long order"
# a run whose --order file has moved since: analyze skips only the update angles, which need it
"$btsp" train @demo --data D --samples 30 --order o30.npy --out RO --history-interval 10 --quiet >/dev/null
mv o30.npy o30moved.npy
"$btsp" analyze RO --angle-samples 3 --rsm-patterns 0 --landscape-points 0 --rf-images 0 >/dev/null 2>ro.err ||
  fail "analyze of a run whose --order moved: $(cat ro.err)"
grep -q "update angles skipped: they need the run's sample order" ro.err || fail "moved --order: $(cat ro.err)"
[[ -s RO/analysis/accuracy_history.csv ]] || fail "moved --order: no accuracy history"
{ printf '\x93NUMPY\x01\x00\x76\x00'; printf '%-117s\n' "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1), }"
  printf '\x00\x00\x00\x00\x00\x00\x80\x3f'; } >o2d.npy
refuse 1 "need a 1-D array of training-row indices, found a 2 x 1 array" train @demo --data D --samples 5 --order o2d.npy
# 10. analyze names the records it cannot use: a cut-short loss history, one of another shape,
# and a snapshot run.json lists but that is gone (R: 200 samples, snapshots every 50)
fast=(--angle-samples 0 --rsm-patterns 0 --landscape-points 0 --rf-images 0 --max-test 100)
cp -r R Rt && npy_f32 Rt/loss_history.npy 1 2 3 && rm -r Rt/snapshots/100
"$btsp" analyze Rt "${fast[@]}" >/dev/null 2>rt.err || fail "analyze of a damaged run: $(cat rt.err)"
grep -q "loss_history.npy holds 3 records, the run trained 200 samples" rt.err || fail "cut-short loss: $(cat rt.err)"
grep -q "1 of the snapshots .* lists are missing (the first: 100)" rt.err || fail "missing snapshot: $(cat rt.err)"
[[ ! -e Rt/analysis/loss_binned.csv ]] || fail "a loss history from a cut-short file"
cp o2d.npy Rt/loss_history.npy
"$btsp" analyze Rt "${fast[@]}" >/dev/null 2>rt.err || fail "analyze of a damaged run: $(cat rt.err)"
grep -q "loss_history.npy is a 2 x 1 array, expected one value per training sample" rt.err ||
  fail "2-D loss history: $(cat rt.err)"
"$btsp" analyze R "${fast[@]}" >/dev/null 2>r.err && [[ -s R/analysis/loss_binned.csv ]] && ! grep -q "skipped\|missing" r.err ||
  fail "analyze of an intact run: $(cat r.err)"
# 11. bench/accuracy.sh checks its options before it builds or runs anything
acc=$root/bench/accuracy.sh
for bad in "--seeds abc" "--samples -5" "--first x" "--first 08" "--jobs 0" "--rng foo" "--target 7x" "--bogus" \
  "--seeds" "--val-window abc" "--val-window 1000 --val-step 0" "--target-window 77.8"; do
  set +e
  # shellcheck disable=SC2086 # split the option from its value on purpose
  bash "$acc" $bad @demo >/dev/null 2>acc.err
  rc=$?
  set -e
  [[ $rc -eq 2 ]] && grep -q "^bench/accuracy.sh: " acc.err || fail "accuracy.sh $bad: exit $rc, $(cat acc.err)"
done
echo "test_cli_inputs: all checks passed"
