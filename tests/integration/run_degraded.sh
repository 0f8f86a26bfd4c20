#!/bin/sh
# SPDX-License-Identifier: MIT
# Out of memory inside the shim's own bookkeeping (forced with the
# metadata_limit_kb option): the program runs on with its own output and
# exit status, frees of the blocks the shim could not record still work,
# and the snapshot says it is incomplete.
[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/integration/lib.sh"
hc_require_env
hc_tmpdir
# perl allocates every scalar and hash entry with malloc (python's small
# objects come from its own mmap arenas and would not fill the table).
prog=/usr/bin/perl
[ -x "$prog" ] || hc_bail "$prog is required"
script='my %h; for my $i (1..200000) { $h{$i} = "v" x ($i % 40); delete $h{$i / 2} if $i % 3 == 0 } print scalar(keys %h), "\n"; exit 5'

"$prog" -e "$script" >"$HC_TMP/native.out" 2>&1
native=$?
timeout "$HC_TIMEOUT" "$HEAPCYCLE" run --metadata-limit-kb=256 -o "$HC_TMP/d.%p.hcs" -- \
	"$prog" -e "$script" >"$HC_TMP/run.out" 2>"$HC_TMP/run.err"
status=$?
hc_ok $((status != native)) "exit status under a starved shim is the program's own ($native)" \
	"got $status" "$(tail -n 5 "$HC_TMP/run.err")"
cmp -s "$HC_TMP/native.out" "$HC_TMP/run.out"
hc_ok $? "standard output is unchanged" "$(head -c 300 "$HC_TMP/run.out")"
grep -q "ran out of memory" "$HC_TMP/run.err"
hc_ok $? "the report warns that blocks were not recorded" "$(tail -n 5 "$HC_TMP/run.err")"
"$HEAPCYCLE" report --format json "$HC_TMP" >"$HC_TMP/r.json" 2>"$HC_TMP/r.err"
python3 - "$HC_TMP/r.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
procs = r["processes"]
assert procs, "no process in the report"
assert all("degraded" in p["flags"] for p in procs), [p["flags"] for p in procs]
PY
hc_ok $? "every snapshot of the run is flagged degraded" "$(cat "$HC_TMP/r.err")"

# Without the limit the same run is complete.
timeout "$HC_TIMEOUT" "$HEAPCYCLE" run -o "$HC_TMP/full.%p.hcs" --format=json -- \
	"$prog" -e "$script" >/dev/null 2>"$HC_TMP/full.json"
python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert all("degraded" not in p["flags"] for p in r["processes"])
' "$HC_TMP/full.json"
hc_ok $? "with no limit the snapshot is complete" "$(head -c 300 "$HC_TMP/full.json")"
hc_finish
