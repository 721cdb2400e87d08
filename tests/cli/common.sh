# Helpers shared by the CLI tests (sourced; the caller sets $btsp, the program under test, and
# $tmp, its scratch directory).
fail() { echo "FAIL: $*" >&2; exit 1; }
# The value of "key" in a one-line JSON object: json KEY TEXT
json() { sed -n "s/.*\"$1\": \([^,}]*\).*/\1/p" <<<"$2" | head -n 1; }
# refuse EXPECTED_STATUS PATTERN ARGS...: btsp ARGS exits with EXPECTED_STATUS and says PATTERN on
# stderr; then the caller's `refuse_hook` (if defined) checks that nothing was left behind.
refuse() {
  local want=$1 pat=$2
  shift 2
  set +e
  "$btsp" "$@" >"$tmp/out.txt" 2>"$tmp/err.txt"
  local got=$?
  set -e
  [[ $got -eq $want ]] || fail "btsp $*: exit $got, expected $want ($(cat "$tmp/err.txt"))"
  grep -q -- "$pat" "$tmp/err.txt" || fail "btsp $*: message '$(cat "$tmp/err.txt")' lacks '$pat'"
  if declare -F refuse_hook >/dev/null; then refuse_hook "$@"; fi
  return 0
}
# npy_f32 FILE V...: a 1-D float32 .npy of the integers V (0-9), the form --order reads
npy_f32() {
  local f=$1 bits=(00000000 0000803f 00000040 00004040 00008040 0000a040 0000c040 0000e040 00000041 00001041)
  shift
  local dict="{'descr': '<f4', 'fortran_order': False, 'shape': ($#,), }" data="" v
  for v in "$@"; do data+="\\x${bits[v]:0:2}\\x${bits[v]:2:2}\\x${bits[v]:4:2}\\x${bits[v]:6:2}"; done
  { printf '\x93NUMPY\x01\x00\x76\x00'; printf '%-117s\n' "$dict"; printf '%b' "$data"; } >"$f"  # 128-byte header
}
