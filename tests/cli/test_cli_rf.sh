#!/usr/bin/env bash
# Receptive fields (EIANN's receptive_field_mask) through the btsp program, on the demo data
# (8 x 8 inputs): a config with the constraint trains; its weights load back with
# --init-weights when the network draws the same fields, and are refused, with nothing written,
# when it draws others (another seed); a run resumed from its state image ends with the bits of
# the uninterrupted run (the image carries the fields).
#   tests/cli/test_cli_rf.sh path/to/btsp
set -euo pipefail
btsp=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/btsp_rf_XXXXXX")
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$tmp"
cat >rf.yaml <<'YAML'
layer_config:
  Input:
    E:
      size: 64
  H1:
    E:
      size: 20
      activation: relu
  Output:
    E:
      size: 10
      activation: relu
projection_config:
  H1:
    E:
      Input:
        E:
          weight_init: half_kaiming
          weight_bounds: [0, null]
          weight_constraint: receptive_field_mask
          weight_constraint_kwargs: {receptive_field_size: 4, image_dims: [8, 8], apply_weight_norm: true, scale: 2.0}
          learning_rule: Backprop
          learning_rule_kwargs: {learning_rate: 0.1}
  Output:
    E:
      H1:
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
a=$("$btsp" train rf.yaml --data demo --samples 300 --seed 5 --out A --quiet | tail -n 1)
acc=$(json test_accuracy "$a")
awk -v a="$acc" 'BEGIN { exit !(a > 30) }' || fail "receptive-field network learnt nothing: $a"
# every H1 unit keeps exactly a 4 x 4 patch (16 non-zero weights at most; row L1 norm 2)
rows_in_fields() { # count non-zero float32 values per row of a 20 x 64 .npy (128-byte header)
  od -A n -t f4 -v -j 128 "$1" | tr -s ' ' '\n' | sed '/^$/d' |
    awk '{ r = int((NR - 1) / 64); if ($1 != 0) nz[r]++; s[r] += ($1 < 0 ? -$1 : $1) }
         END { for (r = 0; r < 20; r++) if (nz[r] > 16 || s[r] < 1.999 || s[r] > 2.001) { print r; exit 1 } }'
}
rows_in_fields A/H1E_InputE.npy || fail "A/H1E_InputE.npy: a unit outside its 4 x 4 field or off norm 2"
# the same seed draws the same fields: A's weights load
"$btsp" train rf.yaml --data demo --samples 10 --seed 5 --init-weights A --out B --quiet >/dev/null ||
  fail "--init-weights with the same fields refused"
# another seed draws other fields: refused before anything is written
refuse_hook() { [[ ! -e C ]] || fail "btsp $*: left C behind"; }
refuse 1 "outside the 4 x 4 receptive field this network drew" \
  train rf.yaml --data demo --samples 10 --seed 6 --init-weights A --out C
refuse 1 "made with another seed, or by EIANN without --rng torch" \
  train rf.yaml --data demo --samples 10 --seed 5 --rng torch --init-weights A --out C
# resumed from A's state image up to 600 = 600 at once
"$btsp" train rf.yaml --data demo --samples 600 --seed 5 --out D --quiet >/dev/null
"$btsp" train rf.yaml --data demo --samples 600 --seed 5 --resume A --out E --quiet >/dev/null
for f in H1E_InputE OutputE_H1E; do
  cmp -s "D/$f.npy" "E/$f.npy" || fail "resumed run: $f.npy differs from the uninterrupted run"
done
cmp -s D/state.btsp E/state.btsp || fail "resumed run: state image differs"
# btsp analyze rebuilds the run's network with the run's draws (here EIANN's, --rng torch), so
# its fields are the run's: the update angles' training steps mask with them
"$btsp" train rf.yaml --data demo --samples 300 --seed 5 --rng torch --out T --history-interval 100 --quiet >/dev/null
"$btsp" analyze T --max-test 200 --rf-images 5 --angle-samples 3 --landscape-points 0 >/dev/null 2>an.log ||
  fail "analyze of a --rng torch run: $(cat an.log)"
[[ -s T/analysis/update_angles.csv ]] || fail "analyze: no update angles"
# final weights that do not fit the fields (another seed's) are refused with the reason
cp -r T T6 && cp A/H1E_InputE.npy T6/H1E_InputE.npy
if "$btsp" analyze T6 --max-test 200 --rf-images 5 --angle-samples 3 --landscape-points 0 >/dev/null 2>an6.log; then
  fail "analyze took weights outside the run's receptive fields"
fi
grep -q "outside the 4 x 4 receptive field" an6.log || fail "analyze: $(cat an6.log)"
echo "receptive fields: trained to $acc %, --init-weights checked, resume bitwise, analyze with the run's fields"
