#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/programs/bad_free.cpp: a double free, a free of a pointer malloc
# never returned, and new[] released with free(). Under heapcycle the
# program is not corrupted (it runs to its end) and the report names each
# bad call with its stack and the block's allocation stack.
[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/integration/lib.sh"
hc_require_env
hc_tmpdir
prog=$HC_PROGRAMS/bad_free
[ -x "$prog" ] || hc_bail "$prog is not built"

timeout "$HC_TIMEOUT" "$HEAPCYCLE" run -o "$HC_TMP/b.%p.hcs" -- "$prog" >"$HC_TMP/out" 2>"$HC_TMP/err"
status=$?
hc_ok "$([ "$status" -eq 0 ] && grep -qx "still running" "$HC_TMP/out"; echo $?)" \
	"the program runs to its end under heapcycle (status $status)" "$(tail -n 5 "$HC_TMP/err")"
hc_ok "$(grep -c '^heapcycle: \(double free\|invalid free\|mismatched deallocation\)' "$HC_TMP/err" |
	grep -qx 3; echo $?)" "each bad call is said at once on standard error" \
	"$(grep '^heapcycle:' "$HC_TMP/err")"
"$HEAPCYCLE" report --format json "$HC_TMP" >"$HC_TMP/r.json" 2>"$HC_TMP/r.err"
python3 - "$HC_TMP/r.json" >"$HC_TMP/check" 2>&1 <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
bad = r["processes"][0]["bad_frees"]
kinds = {b["kind"]: b for b in bad}
def fns(stack):
    return [f.get("function") or "" for f in stack]
def has(stack, name):
    return any(name in f for f in fns(stack))
problems = []
if sorted(kinds) != ["double", "invalid", "mismatched"]:
    problems.append("kinds %s" % sorted(kinds))
d = kinds.get("double")
if d and not (has(d["stack"], "release_twice") and has(d["allocation_stack"], "make_block")
              and d["size"] == 40 and d["call"] == "free()"):
    problems.append("double free: %s" % d)
i = kinds.get("invalid")
if i and not (has(i["stack"], "release_static") and i["allocation_stack"] == []
              and i["allocated_with"] is None):
    problems.append("invalid free: %s" % i)
m = kinds.get("mismatched")
if m and not (has(m["stack"], "release_array_with_free") and
              has(m["allocation_stack"], "release_array_with_free") and
              m["allocated_with"] == "operator new[]" and m["call"] == "free()"):
    problems.append("mismatch: %s" % m)
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY
hc_ok $? "the JSON report lists the three with their stacks" "$(cat "$HC_TMP/check" "$HC_TMP/r.err")"
"$HEAPCYCLE" report "$HC_TMP" >"$HC_TMP/r.txt" 2>&1
hc_ok "$(grep -q '^Double free: free() of a block of 40 byte(s) already freed' "$HC_TMP/r.txt" &&
	grep -q '^Invalid free: free() of 0x' "$HC_TMP/r.txt" &&
	grep -q '^Mismatched deallocation: a block from operator new\[\] released with free()' "$HC_TMP/r.txt" &&
	grep -q 'release_twice' "$HC_TMP/r.txt"; echo $?)" \
	"the text report explains each one" "$(head -n 30 "$HC_TMP/r.txt")"
hc_finish
