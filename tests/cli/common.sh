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
