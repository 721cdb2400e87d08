#!/usr/bin/env bash
# End-to-end test of checkpoints and --resume on the embedded demo network (no data set needed):
# a run resumed from the state image another run wrote ends with the same bits as a run that
# never stopped, its histories line up with the samples they belong to, and every misuse is
# refused with a message before anything is trained or written.
#   tests/cli/test_cli_resume.sh path/to/btsp
set -euo pipefail
btsp=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/btsp_resume_XXXXXX")
pid=
trap '[[ -n $pid ]] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$tmp"

# 1. 600 samples at once (A) against 300 (B) continued to 600 (C).
a=$("$btsp" demo --samples 600 --out A --history-interval 200 --quiet | tail -n 1)
"$btsp" demo --samples 300 --out B --history-interval 200 --quiet >/dev/null
[[ -s B/state.btsp && -s B/state.btsp.json ]] || fail "no state written by --out"
[[ ! -e B/state.btsp.tmp && ! -e B/state.btsp.json.tmp ]] || fail "temporary state files left"
grep -q '"samples": 300' B/state.btsp.json || fail "state.btsp.json: $(cat B/state.btsp.json)"
c=$("$btsp" demo --samples 600 --resume B/state.btsp --out C --history-interval 200 --quiet | tail -n 1)
for f in A/*.npy; do
  b=$(basename "$f")
  [[ $b == loss_history.npy || $b == train_output.npy || $b == plateaus_* ]] && continue
  cmp -s "$f" "C/$b" || fail "resumed run: $b differs from the uninterrupted run"
done
cmp -s A/state.btsp C/state.btsp || fail "resumed run: final state image differs"
[[ $(json test_accuracy "$c") == "$(json test_accuracy "$a")" ]] || fail "test accuracy: $c vs $a"
[[ $(json final_loss "$c") == "$(json final_loss "$a")" ]] || fail "final loss: $c vs $a"
[[ $(json first_sample "$c") == 300 ]] || fail "JSON first_sample: $c"
grep -q '"first_sample": 300' C/run.json || fail "run.json first_sample"
grep -q '"resumed_from": ".*/B/state.btsp"' C/run.json || fail "run.json resumed_from"
grep -q '"snapshots": \[300, 400, 600\]' C/run.json || fail "resumed snapshots: $(grep snapshots C/run.json)"
# the resumed part's per-sample histories are the tail of the uninterrupted run's (300 floats)
cmp -s <(tail -c 1200 A/loss_history.npy) <(tail -c 1200 C/loss_history.npy) || fail "loss history tail"
[[ $(sed -n 2p C/dend_history.csv | cut -d, -f1) == 301 ]] || fail "dend_history.csv starts at sample 301"
diff <(tail -n 300 A/dend_history.csv) <(tail -n 300 C/dend_history.csv) >/dev/null || fail "dendritic history tail"
# without a run directory, and from a state without its .json (the data options then unchecked)
d=$("$btsp" demo --samples 600 --resume B/state.btsp --quiet | tail -n 1)
[[ $(json test_accuracy "$d") == "$(json test_accuracy "$a")" ]] || fail "resume without --out: $d"
mkdir lone && cp B/state.btsp lone/
"$btsp" demo --samples 600 --resume lone/state.btsp --out L 2>lone.log >/dev/null || fail "resume without .json"
grep -q "not checked" lone.log || fail "no note about the missing .json"
cmp -s A/H1E_InputE.npy L/H1E_InputE.npy || fail "resume without .json: weights differ"
# the run directory names its state file (with or without a trailing slash)
for arg in B B/; do
  rm -rf RD
  r=$("$btsp" demo --samples 600 --resume "$arg" --out RD --history-interval 0 --quiet | tail -n 1)
  cmp -s A/H1E_InputE.npy RD/H1E_InputE.npy && cmp -s A/state.btsp RD/state.btsp || fail "--resume $arg: weights"
  grep -q "\"resumed_from\": \".*/B/state.btsp\"" <<<"$r" || fail "--resume $arg: JSON resumed_from: $r"
done
mkdir -p emptydir
# train @demo reads the same state
t=$("$btsp" train @demo --data demo --seed 1 --data-seed 2 --samples 600 --resume B/state.btsp --quiet | tail -n 1)
[[ $(json test_accuracy "$t") == "$(json test_accuracy "$a")" ]] || fail "train --resume: $t"
# resuming at the last sample trains nothing and keeps the weights
e=$("$btsp" demo --samples 300 --resume B/state.btsp --out E --quiet | tail -n 1)
cmp -s B/H1E_InputE.npy E/H1E_InputE.npy || fail "resume at the end changed the weights"
# nor the state image (the test-set accuracy it reports first must not leave its activities in it)
cmp -s B/state.btsp E/state.btsp || fail "resume at the end changed the state image"

# 2. analyze lines the resumed histories up with their samples (the training accuracy needs the
#    labels of samples 101.., not 1..).
"$btsp" demo --samples 300 --out S --history-interval 100 --quiet >/dev/null
"$btsp" demo --samples 100 --out T --history-interval 100 --quiet >/dev/null
"$btsp" demo --samples 300 --resume T/state.btsp --out U --history-interval 100 --quiet >/dev/null
for r in S U; do
  "$btsp" analyze "$r" --angle-samples 0 --rsm-patterns 50 --landscape-points 0 --rf-images 0 --max-test 100 \
    >/dev/null 2>"$r.log" || { cat "$r.log" >&2; fail "analyze $r"; }
done
[[ $(sed -n 2p U/analysis/train_accuracy_binned.csv) == 200,* ]] || fail "resumed bins start at 200"
diff <(tail -n 2 S/analysis/train_accuracy_binned.csv) <(tail -n 2 U/analysis/train_accuracy_binned.csv) >/dev/null ||
  fail "training accuracy of the resumed run: $(cat U/analysis/train_accuracy_binned.csv)"
[[ $(tail -n 1 S/analysis/loss_binned.csv) == "$(tail -n 1 U/analysis/loss_binned.csv)" ]] || fail "loss bins"
# resumed at 370 (not a multiple of the bin of 100): a partial first bin, then the same bins
"$btsp" demo --samples 370 --out V --history-interval 0 --quiet >/dev/null
"$btsp" demo --samples 1000 --resume V/state.btsp --out W --history-interval 500 --quiet >/dev/null
"$btsp" analyze W --angle-samples 0 --rsm-patterns 50 --landscape-points 0 --rf-images 0 --max-test 100 \
  >/dev/null 2>W.log || { cat W.log >&2; fail "analyze W"; }
[[ $(sed -n 2p W/analysis/loss_binned.csv | cut -d, -f1) == 400 ]] || fail "partial first bin should end at 400"
"$btsp" demo --samples 1000 --out X --history-interval 500 --quiet >/dev/null
"$btsp" analyze X --angle-samples 0 --rsm-patterns 50 --landscape-points 0 --rf-images 0 --max-test 100 \
  >/dev/null 2>X.log || { cat X.log >&2; fail "analyze X"; }
for f in loss_binned.csv dend_history_binned.csv train_accuracy_binned.csv; do
  diff <(tail -n 6 X/analysis/$f) <(tail -n 6 W/analysis/$f) >/dev/null || fail "$f: bins after 400 differ"
done

# 3. Misuse: refused with a message naming the problem, nothing written.
refuse 2 "both set the weights" demo --samples 600 --resume B/state.btsp --init-weights A
refuse 2 "not an option of 'btsp compare'" compare --data demo --resume B/state.btsp @demo
refuse 2 "not an option of 'btsp analyze'" analyze A --resume B/state.btsp
refuse 1 "more than --samples 200" demo --samples 200 --resume B/state.btsp
refuse 1 "give --seed 1" demo --samples 600 --seed 5 --resume B/state.btsp
refuse 1 "trained with --data-seed 2" demo --samples 600 --data-seed 3 --resume B/state.btsp
refuse 1 "trained with --rng counter" demo --samples 600 --rng torch --resume B/state.btsp
refuse 1 "holds the run that --resume continues" demo --samples 600 --resume B/state.btsp --out B
refuse 1 "at most --val-window 300" demo --samples 600 --val-window 400 --resume B/state.btsp
refuse 1 "cannot open" demo --samples 600 --resume nothing/state.btsp
refuse 1 "a directory, but no state.btsp in it" demo --samples 600 --resume emptydir/
cp B/state.btsp bad.btsp
printf '\x01' | dd of=bad.btsp bs=1 seek=200 conv=notrunc status=none
refuse 1 "checksum" demo --samples 600 --resume bad.btsp
refuse 1 "not a libbtsp state image" demo --samples 600 --resume A/H1E_InputE.npy
[[ ! -e F ]] || fail "a refused run wrote something"
refuse 1 "checksum" demo --samples 600 --resume bad.btsp --out F
[[ ! -e F/H1E_InputE.npy ]] || fail "a refused run wrote weights"
# the config is checked by content: the run's own copy is accepted, an edited copy refused
t=$("$btsp" train B/config.yaml --data demo --seed 1 --data-seed 2 --samples 600 --resume B/state.btsp --quiet | tail -n 1)
[[ $(json test_accuracy "$t") == "$(json test_accuracy "$a")" ]] || fail "resume with the config copy: $t"
sed -e '0,/learning_rate: [0-9.e-]*/s//learning_rate: 0.5/' B/config.yaml >edited.yaml
cmp -s B/config.yaml edited.yaml && fail "could not edit the config copy"
refuse 1 "a config whose text differs" train edited.yaml --data demo --seed 1 --data-seed 2 --samples 600 \
  --resume B/state.btsp
# data set names are not paths: a directory named like one in the working directory is ignored
mkdir -p demo && "$btsp" demo --samples 600 --resume B/state.btsp --quiet >/dev/null || fail "./demo broke --resume"
rmdir demo
# seeds are compared exactly (these two differ only below double precision)
"$btsp" demo --samples 100 --data-seed 1152921504606846976 --out DS --history-interval 0 --quiet >/dev/null
refuse 1 "trained with --data-seed 1152921504606846976" demo --samples 300 --data-seed 1152921504606846977 \
  --resume DS/state.btsp
# --order is checked by content: the same file (even rewritten) passes, another one or none is refused.
npy_f32 o1.npy 5 3 1 4 2 0 7 9 8 6
npy_f32 o2.npy 6 8 9 7 0 2 4 1 3 5
"$btsp" demo --samples 25 --order o1.npy --out O --history-interval 0 --quiet >/dev/null || fail "--order run"
o=$("$btsp" demo --samples 40 --order o1.npy --resume O/state.btsp --quiet | tail -n 1)
[[ $(json first_sample "$o") == 25 ]] || fail "resume with the same --order: $o"
refuse 1 "trained with --order .*o1.npy" demo --samples 40 --order o2.npy --resume O/state.btsp
refuse 1 "trained with --order .*o1.npy" demo --samples 40 --resume O/state.btsp
refuse 1 "trained with no --order" demo --samples 600 --order o1.npy --resume B/state.btsp
# analyze rebuilds the order of a data seed above 2^53 exactly (the run learns: last bin near 100 %)
"$btsp" demo --samples 600 --data-seed 1152921504606846977 --out BIG --history-interval 300 --quiet >/dev/null
"$btsp" analyze BIG --angle-samples 0 --rsm-patterns 50 --landscape-points 0 --rf-images 0 --max-test 100 \
  >/dev/null 2>BIG.log || { cat BIG.log >&2; fail "analyze BIG"; }
last=$(tail -n 1 BIG/analysis/train_accuracy_binned.csv | cut -d, -f2)
awk -v a="$last" 'BEGIN { exit !(a >= 90) }' || fail "training accuracy with a big data seed: $last (order rebuilt wrongly?)"
cmp -s A/state.btsp C/state.btsp || fail "state changed by refusals"
# 4. A run killed mid-way (SIGKILL after its first checkpoint past 0; BTSP_CHECKPOINT_SECONDS=0
#    makes every snapshot one): the directory is consistent up to its last checkpoint (run.json
#    "complete": false), analyze reads it up to there, and --resume DIR continues from exactly
#    there (the state is written after run.json).
BTSP_CHECKPOINT_SECONDS=0 "$btsp" demo --samples 2000000 --out KILLED --history-interval 2000 --quiet \
  >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 900); do # up to 90 s
  grep -qs '"samples_done": [1-9]' KILLED/run.json && break
  sleep 0.1
done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
pid=
grep -q '"complete": false' KILLED/run.json || fail "killed run: run.json not marked incomplete (or the run finished)"
done_k=$(sed -n 's/.*"samples_done": \([0-9]*\).*/\1/p' KILLED/run.json)
[[ $done_k -ge 2000 ]] || fail "killed run: samples_done $done_k"
[[ ! -e KILLED/H1E_InputE.npy ]] || fail "killed run: top-level weights written before the end"
[[ -d KILLED/snapshots/$done_k ]] || fail "killed run: no snapshot $done_k"
"$btsp" analyze KILLED --angle-samples 0 --rsm-patterns 50 --landscape-points 0 --rf-images 0 --max-test 100 \
  >/dev/null 2>KILLED.log || { cat KILLED.log >&2; fail "analyze of the killed run"; }
grep -q "interrupted run" KILLED.log || fail "analyze did not say the run was interrupted"
[[ $(tail -n 1 KILLED/analysis/loss_binned.csv | cut -d, -f1) == "$done_k" ]] || fail "killed run: loss bins"
[[ $(tail -n 1 KILLED/analysis/accuracy_history.csv | cut -d, -f1) == "$done_k" ]] || fail "killed run: snapshots"
r=$("$btsp" demo --samples $((done_k + 4500)) --resume KILLED --quiet | tail -n 1)
first_k=$(json first_sample "$r")
# the state is the checkpoint run.json describes, or the one before if the kill fell between
# run.json and state.btsp: the two directories may overlap, never leave a gap
[[ $first_k == "$done_k" || $first_k == $((done_k - 2000)) ]] || fail "resume of the killed run ($done_k): $r"
echo "cli resume: all checks passed"
