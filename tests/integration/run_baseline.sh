#!/bin/sh
# SPDX-License-Identifier: MIT
# Baselines on real programs under the real shim: the JSON report of run 1
# makes run 2 pass --check (other addresses: ASLR); with pcs, offsets, files
# and lines rewritten it still does; with one group (or the cycle) taken
# out of it, run 2 fails and the text report says which leak is new; a
# truncated or hostile baseline is an error (exit 2), never a crash.
[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/integration/lib.sh"

hc_require_env
hc_tmpdir
d=$HC_TMP
P=$HC_PROGRAMS
hc_require_programs leak_depths leak_list leak_person_cycle


# edit IN OUT PYTHON-STATEMENTS: rewrites a JSON report (r is the object).
edit()
{
	python3 - "$1" "$2" "$3" <<'PY' || hc_bail "cannot edit $1"
import json, sys
r = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(r, open(sys.argv[2], "w"))
PY
}

for p in leak_depths leak_list leak_person_cycle; do
	mkdir -p "$d/$p"
	hc_run base-$p -o "$d/$p/run1.%p.hcs" -- "$P/$p"
	s=$(ls "$d/$p"/run1.*.hcs 2>/dev/null | head -n 1)
	[ -n "$s" ] || hc_bail "$p wrote no snapshot"
	timeout "$HC_TIMEOUT" "$HEAPCYCLE" report --format json "$s" >"$d/$p.json" 2>"$d/$p.rerr" ||
		hc_bail "report --format json failed: $(cat "$d/$p.rerr")"
	hc_run again-$p --check --baseline="$d/$p.json" -- "$P/$p"
	hc_ok $([ "$rc" -eq 0 ] && ! grep -q 'new since baseline' "$d/again-$p.err" &&
		grep -q '(in baseline)' "$d/again-$p.err"; echo $?) \
		"$p: the baseline of run 1 makes run 2 pass --check" "$(cat "$d/again-$p.err")"
done

# Addresses and lines move with every rebuild: only function names count.
edit "$d/leak_depths.json" "$d/moved.json" '
for p in r["processes"]:
    for l in p["leaks"]:
        for f in l["stack"]:
            f["pc"] = "0x1234"; f["offset"] = "0x99"; f["file"] = "elsewhere.c"
            f["line"] = (f["line"] or 0) + 17
'
hc_run moved --check --baseline="$d/moved.json" -- "$P/leak_depths"
hc_ok $([ "$rc" -eq 0 ]; echo $?) "pcs, offsets, files and lines changed: still in the baseline" \
	"$(cat "$d/moved.err")"

# One group taken out: exactly that one is new, and --check fails.
edit "$d/leak_depths.json" "$d/minus40.json" '
for p in r["processes"]:
    p["leaks"] = [l for l in p["leaks"] if l["bytes"] != 40]
'
hc_run minus40 --check --baseline="$d/minus40.json" -- "$P/leak_depths"
hc_ok $([ "$rc" -eq 23 ] && [ "$(grep -c 'new since baseline' "$d/minus40.err")" -eq 1 ] &&
	grep -q 'Direct leak of 40 byte(s) in 1 object(s) (new since baseline)' "$d/minus40.err"; echo $?) \
	"a group missing from the baseline fails --check and is marked new" "$(cat "$d/minus40.err")"
# ... unless it is within the budget or not of a fail_on class.
hc_run budget --check --max-leaked-bytes=40 --baseline="$d/minus40.json" -- "$P/leak_depths"
hc_ok $([ "$rc" -eq 0 ]; echo $?) "the new group's 40 bytes fit max_leaked_bytes=40" "$(tail -n 3 "$d/budget.err")"
hc_run failon --check --fail-on=indirect,cycle --baseline="$d/minus40.json" -- "$P/leak_depths"
hc_ok $([ "$rc" -eq 0 ]; echo $?) "the new group is direct, fail_on=indirect,cycle passes" "$(tail -n 3 "$d/failon.err")"
# The class is part of the key.
edit "$d/leak_list.json" "$d/reclass.json" '
for p in r["processes"]:
    for l in p["leaks"]:
        if l["class"] == "indirect": l["class"] = "possible"
'
hc_run reclass --check --baseline="$d/reclass.json" -- "$P/leak_list"
hc_ok $([ "$rc" -eq 23 ] && grep -q 'Indirect leak of 360 byte(s) in 9 object(s) (new since baseline)' "$d/reclass.err"; echo $?) \
	"same stack, other class: new" "$(cat "$d/reclass.err")"
# Another program's baseline: everything is new.
hc_run other --check --baseline="$d/leak_list.json" -- "$P/leak_depths"
hc_ok $([ "$rc" -eq 23 ] && [ "$(grep -c 'new since baseline' "$d/other.err")" -eq 3 ]; echo $?) \
	"another program's baseline: all three groups new" "$(cat "$d/other.err")"

# Cycles: the cycle taken out of the baseline (its members' groups kept)
# is new and fails; the JSON report says so too.
edit "$d/leak_person_cycle.json" "$d/nocycle.json" '
for p in r["processes"]:
    p["cycles"] = []
'
hc_run nocycle --check --baseline="$d/nocycle.json" -- "$P/leak_person_cycle"
hc_ok $([ "$rc" -eq 23 ] && grep -q '^Leaked cycle of 96 byte(s).*(new since baseline)' "$d/nocycle.err"; echo $?) \
	"a cycle missing from the baseline fails --check" "$(cat "$d/nocycle.err")"
hc_run nocyclej --check --format=json --baseline="$d/nocycle.json" -- "$P/leak_person_cycle"
python3 - "$d/nocyclej.err" >"$d/nocyclej.py" 2>&1 <<'PY'
import json, sys
t = open(sys.argv[1]).read()
r = json.loads(t[t.index("{"):])
p = r["processes"][0]
assert [c["baseline"] for c in p["cycles"]] == ["new"], p["cycles"]
assert all(l["baseline"] == "known" for l in p["leaks"]), p["leaks"]
PY
py=$?
hc_ok $([ "$rc" -eq 23 ] && [ "$py" -eq 0 ]; echo $?) "JSON: the cycle is \"new\", its groups \"known\"" \
	"$(cat "$d/nocyclej.py")"

# Broken baselines: one line, exit 2, nothing run.
head -c 200 "$d/leak_depths.json" >"$d/trunc.json"
printf '{"version": 1, "processes": [{"leaks": [{"class": "direct", "stack": [' >"$d/open.json"
python3 -c 'print("[" * 100000)' >"$d/deep.json"
printf '{"version": 99, "processes": []}' >"$d/v99.json"
printf '\377\376garbage' >"$d/bin.json"
for b in trunc open deep v99 bin missing; do
	hc_run bad-$b --check --baseline="$d/$b.json" -- "$P/leak_depths"
	hc_ok $([ "$rc" -eq 2 ] && [ "$(wc -l <"$d/bad-$b.err")" -eq 1 ] &&
		grep -q "$b.json" "$d/bad-$b.err" && ! grep -q SUMMARY "$d/bad-$b.err"; echo $?) \
		"bad baseline $b.json: exit 2 with one line" "$(cat "$d/bad-$b.err")"
done
timeout "$HC_TIMEOUT" "$HEAPCYCLE" report --baseline="$d/trunc.json" "$s" >"$d/rep.out" 2>"$d/rep.err"
rc=$?
hc_ok $([ "$rc" -eq 2 ] && grep -q 'truncated' "$d/rep.err"; echo $?) \
	"report --baseline with a truncated file: exit 2, says truncated" "$(cat "$d/rep.err")"

hc_finish
