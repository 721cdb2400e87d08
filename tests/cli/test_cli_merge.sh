#!/usr/bin/env bash
# End-to-end test of `btsp merge` on the embedded demo network (no data set needed): a run and
# its --resume continuation merge into the directory an uninterrupted run writes (every file
# but run.json byte for byte, and `btsp analyze` gives the same analysis), also when the two
# parts recorded their plateau rasters with different strides and when the first part was
# killed; every misuse is refused with a message, leaving the inputs and no output behind.
#   tests/cli/test_cli_merge.sh path/to/btsp
set -euo pipefail
btsp=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/btsp_merge_XXXXXX")
pid=
trap '[[ -n $pid ]] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$tmp"
an_opts=(--angle-samples 20 --rsm-patterns 50 --landscape-points 3 --landscape-rows 50 --rf-images 20 --max-test 200)

# 1. 600 samples at once (FULL) against 300 (A) continued to 600 (B), merged (M).
"$btsp" demo --samples 600 --out FULL --history-interval 100 --quiet >/dev/null
"$btsp" demo --samples 300 --out A --history-interval 100 --quiet >/dev/null
"$btsp" demo --samples 600 --resume A --out B --history-interval 100 --quiet >/dev/null
(cd A && find . -type f -exec md5sum {} + | sort) >a.sums
m=$("$btsp" merge A B --out M | tail -n 1)
grep -q '"command": "merge"' <<<"$m" && grep -q '"first_sample": 0, "samples_done": 600, "complete": true' <<<"$m" ||
  fail "merge JSON line: $m"
diff <(cd A && find . -type f -exec md5sum {} + | sort) a.sums >/dev/null || fail "merge changed its input A"
diff -r -x run.json -x analysis FULL M >/dev/null || fail "merged directory differs from the uninterrupted run: $(diff -rq -x analysis FULL M)"
grep -q '"first_sample": 0, ' M/run.json && grep -q '"resumed_from": null' M/run.json || fail "merged run.json"
grep -q '"snapshots": \[0, 100, 200, 300, 400, 500, 600\]' M/run.json || fail "merged snapshots"
grep -q '"merged_from": \[".*/A", ".*/B"\]' M/run.json || fail "merged_from"
# every other key of the uninterrupted run's run.json, in its place and with its value, but the times
rj() { sed -e '/"merged_from": /d' -e 's/"train_seconds": [^,]*, "samples_per_second": [^,}]*/TIMES/' "$1"; }
diff <(rj FULL/run.json) <(rj M/run.json) >/dev/null ||
  fail "merged run.json differs from the uninterrupted run's: $(diff <(rj FULL/run.json) <(rj M/run.json))"
ls -d M.merge-* 2>/dev/null && fail "temporary directory left"
"$btsp" analyze FULL --data demo "${an_opts[@]}" >/dev/null 2>&1 || fail "analyze FULL"
"$btsp" analyze M --data demo "${an_opts[@]}" >/dev/null 2>&1 || fail "analyze M"
diff -r FULL/analysis M/analysis >/dev/null || fail "analysis of the merged run differs: $(diff -rq FULL/analysis M/analysis)"

# a merged run merges again: M (0..600) with its continuation to 900
"$btsp" demo --samples 900 --out FULL9 --history-interval 100 --quiet >/dev/null
"$btsp" demo --samples 900 --resume M --out C --history-interval 100 --quiet >/dev/null
"$btsp" merge M C --out M9 >/dev/null
diff -r -x run.json -x analysis FULL9 M9 >/dev/null || fail "second merge differs: $(diff -rq -x analysis FULL9 M9)"
diff <(rj FULL9/run.json) <(rj M9/run.json) >/dev/null || fail "second merge's run.json: $(diff <(rj FULL9/run.json) <(rj M9/run.json))"
[[ $(grep -c '"merged_from"' M9/run.json) -eq 1 ]] && grep -q '"merged_from": \[".*/M", ".*/C"\]' M9/run.json ||
  fail "M9 merged_from: $(grep merged_from M9/run.json)"
# a merged directory as the continuation: B merged with C, then A with that; one merged_from
"$btsp" merge B C --out BC >/dev/null
"$btsp" merge A BC --out M9b >/dev/null
diff -r -x run.json -x analysis FULL9 M9b >/dev/null || fail "A + (B + C) differs: $(diff -rq -x analysis FULL9 M9b)"
diff <(rj FULL9/run.json) <(rj M9b/run.json) >/dev/null || fail "A + (B + C) run.json: $(diff <(rj FULL9/run.json) <(rj M9b/run.json))"
[[ $(grep -c '"merged_from"' M9b/run.json) -eq 1 ]] && grep -q '"merged_from": \[".*/A", ".*/BC"\]' M9b/run.json ||
  fail "A + (B + C) merged_from: $(grep merged_from M9b/run.json)"
# from an earlier checkpoint than A's end: A2 (0..600) continued from A's snapshot at 300
"$btsp" demo --samples 600 --out A6 --history-interval 100 --quiet >/dev/null
"$btsp" merge A6 B --out M6 >/dev/null
diff -r -x run.json -x analysis FULL M6 >/dev/null || fail "merge at an inner snapshot: $(diff -rq -x analysis FULL M6)"
grep -q '"samples_done": 600' M6/run.json || fail "merge at an inner snapshot: samples_done"

# A first part that stopped between snapshots (250 with snapshots every 100): the uninterrupted
# run has no snapshot or validation row at 250, so neither has the merge.
"$btsp" demo --samples 250 --out A250 --history-interval 100 --quiet >/dev/null
"$btsp" demo --samples 600 --resume A250 --out B250 --history-interval 100 --quiet >/dev/null
"$btsp" merge A250 B250 --out M250 >/dev/null
diff -r -x run.json -x analysis FULL M250 >/dev/null || fail "off-grid seam: $(diff -rq -x analysis FULL M250)"
# resumed at its very end (nothing trained): the merge is A250 itself
"$btsp" demo --samples 250 --resume A250 --out B250e --history-interval 100 --quiet >/dev/null
"$btsp" merge A250 B250e --out M250e >/dev/null
diff -r -x run.json -x analysis A250 M250e >/dev/null || fail "resumed at the end: $(diff -rq -x analysis A250 M250e)"
# the training time: A's (prorated to the samples kept) plus B's
tsec() { sed -n 's/.*"train_seconds": \([0-9.e+-]*\).*/\1/p' "$1/run.json"; }
awk -v a="$(tsec A)" -v b="$(tsec B)" -v m="$(tsec M)" 'BEGIN { exit !(m > 0 && (m - a - b)^2 <= (1e-5 * m)^2) }' ||
  fail "train_seconds of M: $(tsec M) vs $(tsec A) + $(tsec B)"
awk -v a="$(tsec A6)" -v b="$(tsec B)" -v m="$(tsec M6)" 'BEGIN { exit !(m > 0 && (m - a / 2 - b)^2 <= (1e-5 * m)^2) }' ||
  fail "train_seconds of M6: $(tsec M6) vs $(tsec A6) / 2 + $(tsec B)"
# the start of the whole run is A's: its --init-weights
"$btsp" demo --samples 300 --init-weights FULL/snapshots/100 --out AI --history-interval 100 --quiet >/dev/null
"$btsp" demo --samples 600 --resume AI --out BI --history-interval 100 --quiet >/dev/null
"$btsp" merge AI BI --out MI >/dev/null
grep -q '"init_weights": ".*FULL/snapshots/100"' MI/run.json || fail "merged init_weights: $(grep -o '"init_weights": [^,]*' MI/run.json)"
# snapshot directories left in B's --out by an earlier run there are not this run's
"$btsp" demo --samples 600 --resume A --out BR --history-interval 50 --quiet >/dev/null
# (a directory that holds files is refused, and left as it was, unless --overwrite)
(find BR -type f -exec md5sum {} + | sort) >br.sums
refuse 1 "already holds files.*--overwrite" demo --samples 600 --resume A --out BR --history-interval 100 --quiet
diff <(find BR -type f -exec md5sum {} + | sort) br.sums >/dev/null || fail "a refused --out was changed"
"$btsp" demo --samples 600 --resume A --out BR --history-interval 100 --quiet --overwrite >/dev/null
[[ -d BR/snapshots/350 ]] || fail "the stale snapshot this test needs is not there"
"$btsp" merge A BR --out MR >/dev/null
diff -r -x run.json -x analysis FULL MR >/dev/null || fail "stale snapshots merged: $(diff -rq -x analysis FULL MR)"
# and analyze of BR itself leaves them out too (the same listing)
"$btsp" analyze BR --data demo --angle-samples 0 --rsm-patterns 0 --landscape-points 0 --rf-images 0 >/dev/null 2>&1 ||
  fail "analyze BR"
! grep -q '^350,' BR/analysis/accuracy_history.csv || fail "analyze took the stale snapshot 350"
grep -q '^400,' BR/analysis/accuracy_history.csv || fail "analyze of BR: no snapshot 400"
# a copy of the --order file at another path is the same order (its contents are hashed)
npy_f32 o1.npy 5 3 1 4 2 0 7 9 8 6
cp o1.npy o1copy.npy
"$btsp" demo --samples 60 --order o1.npy --out OF --history-interval 10 --quiet >/dev/null
"$btsp" demo --samples 30 --order o1.npy --out OA --history-interval 10 --quiet >/dev/null
"$btsp" demo --samples 60 --order o1copy.npy --resume OA --out OB --history-interval 10 --quiet >/dev/null
"$btsp" merge OA OB --out OM >/dev/null || fail "merge with a copied --order file"
# (state.btsp.json names the file B read)
diff -r -x run.json -x analysis -x state.btsp.json OF OM >/dev/null || fail "merge with --order: $(diff -rq -x analysis OF OM)"
# the merged directory is as readable as a run directory; --out may end in a slash and its
# parents are created
[[ $(stat -c %a M) == $(stat -c %a FULL) ]] || fail "merged directory mode $(stat -c %a M) vs $(stat -c %a FULL)"
"$btsp" merge A B --out new/parents/MS/ >/dev/null || fail "--out with a trailing slash and new parents"
diff -r -x run.json -x analysis FULL new/parents/MS >/dev/null || fail "--out new/parents/MS/"

# run directories written before run.json named its plateau raster are merged the same
cp -r A A_o && cp -r B B_o && sed -i 's/"plateau_file": "[^"]*", //' A_o/run.json B_o/run.json
! grep -q plateau_file B_o/run.json || fail "the test could not remove plateau_file"
"$btsp" merge A_o B_o --out M_o >/dev/null
cmp -s FULL/plateaus_H1E.npy M_o/plateaus_H1E.npy || fail "merge without plateau_file: raster"
# ... and those written before run.json listed its snapshots: the merged run.json gains the list
cp -r A A_n && cp -r B B_n && sed -i 's/"snapshots": \[[0-9, ]*\],//' B_n/run.json
! grep -q '"snapshots"' B_n/run.json || fail "the test could not remove snapshots"
"$btsp" merge A_n B_n --out M_n >/dev/null
diff -r -x run.json -x analysis FULL M_n >/dev/null || fail "merge without a snapshot list: $(diff -rq -x analysis FULL M_n)"
grep -q '"samples_per_second": [0-9.e+-]*,$' M_n/run.json && tail -n 2 M_n/run.json | head -n 1 |
  grep -q '^  "snapshots": \[0, 100, 200, 300, 400, 500, 600\]$' || fail "merged run.json without a list: $(cat M_n/run.json)"

# 2. Plateau rasters of different strides (the stride grows with --samples; a budget of 30,000
# values for H1.E's 100 units allows 300 records): 600 samples record every second sample,
# 1,000 every fourth; the merge keeps every fourth, like FULL5.
export BTSP_PLATEAU_BUDGET=30000
"$btsp" demo --samples 1000 --out FULL5 --history-interval 100 --quiet >/dev/null
"$btsp" demo --samples 600 --out A5 --history-interval 100 --quiet >/dev/null
"$btsp" demo --samples 1000 --resume A5 --out B5 --history-interval 100 --quiet >/dev/null
unset BTSP_PLATEAU_BUDGET
grep -q '"plateau_stride": 2' A5/run.json && grep -q '"plateau_stride": 4' B5/run.json ||
  fail "the strides are not 2 and 4: the test no longer covers differing strides"
"$btsp" merge A5 B5 --out M5 >/dev/null 2>m5.log || { cat m5.log >&2; fail "merge of different strides"; }
grep -q "keeps every 4" m5.log || fail "no note on the plateau strides: $(cat m5.log)"
diff -r -x run.json -x analysis FULL5 M5 >/dev/null || fail "different strides: $(diff -rq -x analysis FULL5 M5)"
grep -q '"plateau_stride": 4' M5/run.json || fail "merged plateau_stride"
[[ $(stat -c %s FULL5/plateaus_H1E.npy) -lt $(stat -c %s FULL/plateaus_H1E.npy) ]] ||
  fail "BTSP_PLATEAU_BUDGET did not shrink the raster"
# strides 2 and 3 (600 and 900 samples): their least common multiple 6 is coarser than either;
# the raster keeps samples 6, 12, ..., 900: 150 rows of 100 units (128-byte header, float32)
BTSP_PLATEAU_BUDGET=30000 "$btsp" demo --samples 900 --resume A5 --out B9 --history-interval 100 --quiet >/dev/null
grep -q '"plateau_stride": 3' B9/run.json || fail "the stride of 900 samples is not 3 any more"
"$btsp" merge A5 B9 --out M9s >/dev/null 2>m9.log
grep -q "keeps every 6" m9.log && grep -q '"plateau_stride": 6' M9s/run.json || fail "strides 2 and 3: $(cat m9.log)"
[[ $(stat -c %s M9s/plateaus_H1E.npy) -eq $((128 + 150 * 100 * 4)) ]] ||
  fail "strides 2 and 3: raster of $(stat -c %s M9s/plateaus_H1E.npy) bytes"

# 3. The first part killed after a checkpoint, continued from it: the merge completes it.
BTSP_CHECKPOINT_SECONDS=0 "$btsp" demo --samples 2000000 --out K --history-interval 2000 --quiet >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  [[ -s K/run.json ]] && grep -q '"samples_done": [1-9]' K/run.json && break
  sleep 0.1
done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
pid=
grep -q '"complete": false' K/run.json || fail "killed run not marked incomplete"
total=$(( $(sed -n 's/.*"samples_done": \([0-9]*\).*/\1/p' K/run.json) + 4000 ))
"$btsp" demo --samples $total --resume K --out KC --history-interval 2000 --quiet >/dev/null
"$btsp" merge K KC --out KM >/dev/null 2>km.log
"$btsp" demo --samples $total --out KF --history-interval 2000 --quiet >/dev/null
# the killed run's --samples (2,000,000) chose a coarser raster stride than the shorter run,
# and a run that long records no per-sample outputs: the merge says it leaves them out
grep -q "train_output.npy is in only one of the runs" km.log || fail "no note on train_output.npy: $(cat km.log)"
diff -r -x run.json -x analysis -x 'plateaus_*' -x train_output.npy KF KM >/dev/null ||
  fail "killed + continued: $(diff -rq -x analysis KF KM)"
grep -q '"complete": true' KM/run.json || fail "killed + continued: not complete"
# a checkpoint records the training time so far, so the merge can add both parts' times
grep -q '"train_seconds": [0-9]' K/run.json || fail "killed run: no training time at its checkpoint"
grep -q '"train_seconds": [0-9]' KM/run.json || fail "killed + continued: no training time"

# 4. Misuse: refused with a message, the output not created.
refuse_hook() { ! ls -d X X.merge-* 2>/dev/null || fail "btsp $*: output left behind"; }
refuse 1 "was not resumed" merge FULL A --out X
refuse 1 "exists" merge A B --out M
refuse 1 "no run.json" merge A nowhere --out X
refuse 1 "no run.json" merge . B --out X
"$btsp" demo --samples 300 --seed 3 --out S3 --history-interval 100 --quiet >/dev/null
"$btsp" demo --samples 600 --seed 3 --resume S3 --out S3B --history-interval 100 --quiet >/dev/null
refuse 1 '"seed" differs' merge A S3B --out X
"$btsp" demo --samples 600 --resume A6/snapshots/../ --out B6 --history-interval 100 --quiet >/dev/null
refuse 1 "starts at sample 600, outside" merge A B6 --out X
cp -r A A_t && printf 'x' >>A_t/snapshots/300/H1E_InputE.npy
refuse 1 "not the same weights" merge A_t B --out X
refuse 1 "the same directory" merge B B/ --out X
refuse 1 "inside the input" merge A B --out A/X
refuse 1 "inside the input" merge A B --out A/new/deeper/X
[[ ! -e A/new ]] || fail "a refused merge created directories inside its input"
cp -r B B_r && sed -i 's/"rng": "counter"/"rng": "torch"/' B_r/run.json
refuse 1 '"rng" differs' merge A B_r --out X
cp -r A A_c && head -n 100 A/dend_history.csv >A_c/dend_history.csv
refuse 1 "a record is cut short" merge A_c B --out X
cp -r B B_s && sed -i 's/"plateau_stride": 1/"plateau_stride": 1e30/' B_s/run.json
refuse 1 "bad plateau_stride" merge A B_s --out X
"$btsp" demo --samples 300 --out Z0 --history-interval 0 --quiet >/dev/null
"$btsp" demo --samples 600 --resume Z0 --out Z1 --history-interval 0 --quiet >/dev/null
refuse 1 "no weight snapshots" merge Z0 Z1 --out X
head -n 200 B/dend_history.csv >B_s/dend_history.csv && sed -i 's/"plateau_stride": 1e30/"plateau_stride": 1/' B_s/run.json
refuse 1 "a record is cut short" merge A B_s --out X
# interrupted (SIGTERM while it waits on a record that is a FIFO): the temporary directory is
# removed and the merge dies of the signal
cp -r B BF && rm BF/dend_history.csv && mkfifo BF/dend_history.csv
"$btsp" merge A BF --out X 2>sig.log &
pid=$!
for _ in $(seq 1 100); do compgen -G "X.merge-*" >/dev/null && break; sleep 0.05; done
compgen -G "X.merge-*" >/dev/null || fail "the merge did not start building"
kill -TERM "$pid"
# if the signal came before the merge blocked on the FIFO, let it read (end of file) and go on:
# it stops at its next step either way
timeout 2 sh -c ': >BF/dend_history.csv' 2>/dev/null || true
set +e
wait "$pid"
status=$?
set -e
pid=
[[ $status -eq 143 ]] || fail "interrupted merge: exit $status, expected 143 (SIGTERM)"
! compgen -G "X*" >/dev/null || fail "interrupted merge left $(ls -d X*)"
grep -q "interrupted by signal 15" sig.log || fail "interrupted merge: $(cat sig.log)"
# killed (SIGKILL, blocked on the FIFO): its X.merge-XXXXXX stays, naming its dead process. A
# merge to X while it still runs leaves it alone (its owner file is locked); after the kill the
# next merge to X removes it and says so, but leaves those of a live process (this shell), of
# another host, without an owner file, and a symbolic link named like one
"$btsp" merge A BF --out X 2>/dev/null &
pid=$!
for _ in $(seq 1 100); do compgen -G "X.merge-*/.merge-owner" >/dev/null && break; sleep 0.05; done
compgen -G "X.merge-*/.merge-owner" >/dev/null || fail "the merge did not start building"
building=$(compgen -G "X.merge-*")
"$btsp" merge A B --out X >/dev/null 2>live.log || fail "merge beside a running one: $(cat live.log)"
[[ -d $building ]] || fail "a merge removed the directory of one still running"
! grep -q removed live.log || fail "live: $(cat live.log)"
rm -rf X
kill -KILL "$pid"
set +e
{ wait "$pid"; } 2>/dev/null # (bash's "Killed" notice)
set -e
pid=
killed=$building
grep -q "^[0-9]* $(hostname)\$" "$killed/.merge-owner" || fail "owner file: $(cat "$killed/.merge-owner")"
mkdir X.merge-live01 X.merge-othr01 X.merge-noown1 elsewhere
echo "$$ $(hostname)" >X.merge-live01/.merge-owner
dead=$(awk '{ print $1 }' "$killed/.merge-owner")
echo "$dead another-host" >X.merge-othr01/.merge-owner
echo "$dead $(hostname)" >elsewhere/.merge-owner && ln -s elsewhere X.merge-link01
"$btsp" merge A B --out X >/dev/null 2>stale.log || fail "merge after a killed one: $(cat stale.log)"
[[ ! -e $killed ]] || fail "the killed merge's $killed was not removed"
grep -q "removed .*$killed, left by a merge (process [0-9]*) that was killed" stale.log || fail "stale: $(cat stale.log)"
[[ $(grep -c removed stale.log) -eq 1 ]] || fail "removed more than the killed merge's directory: $(cat stale.log)"
[[ -d X.merge-live01 && -d X.merge-othr01 && -d X.merge-noown1 && -L X.merge-link01 && -e elsewhere/.merge-owner ]] ||
  fail "removed a directory that was not stale"
[[ ! -e X/.merge-owner ]] || fail "the owner file stayed in the merged directory"
diff -r -x run.json -x analysis FULL X >/dev/null || fail "merge after a killed one: $(diff -rq -x analysis FULL X)"
rm -rf X X.merge-* elsewhere
refuse 2 "not an option of 'btsp merge'" merge A B --out X --samples 5
refuse 2 "usage" merge A
refuse 2 "are required" merge A B
echo "cli merge: all checks passed"
