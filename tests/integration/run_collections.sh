#!/bin/sh
# SPDX-License-Identifier: MIT
# Garbage found while the program ran (issue 3): tests/programs/api_person
# drops a cycle of two Persons and a generation-2 collection finds it. The
# exit report must say so, with the members' types and allocation stacks,
# in JSON ("collections") and in text ("Garbage found while the program
# ran"); a program that tracks nothing gets an empty list and no section.
[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/integration/lib.sh"
hc_require_env

# run_report PROG DIR: runs PROG under the shim (snapshots in DIR/snap),
# then writes DIR/report.json and DIR/report.txt. Prints a TAP line for
# each step that failed; returns non-zero when the reports are missing.
run_report()
{
	[ -x "$HC_PROGRAMS/$1" ] || hc_bail "test program $HC_PROGRAMS/$1 is missing"
	mkdir "$2/snap" || hc_bail "mkdir failed"
	timeout "$HC_TIMEOUT" "$HEAPCYCLE" run -o "$2/snap/s.%p.hcs" -- "$HC_PROGRAMS/$1" \
		>"$2/run.out" 2>"$2/run.err" </dev/null
	_rc=$?
	# leak_list leaks on purpose and api_person keeps its cycle: both exit
	# 0 natively and heapcycle run passes the status through.
	hc_ok "$_rc" "$1: heapcycle run exits 0" "exit status $_rc" "$(tail -n 5 "$2/run.err")"
	"$HEAPCYCLE" report --format json "$2/snap" >"$2/report.json" 2>"$2/report.err" &&
		"$HEAPCYCLE" report --format text "$2/snap" >"$2/report.txt" 2>>"$2/report.err"
	_rc=$?
	hc_ok "$_rc" "$1: heapcycle report writes JSON and text" "exit status $_rc" \
		"$(tail -n 5 "$2/report.err")"
	return "$_rc"
}

hc_tmpdir
dir=$HC_TMP
if run_report api_person "$dir"; then
	out=$(python3 - "$dir/report.json" <<'EOF' 2>&1
import json, sys

d = json.load(open(sys.argv[1], encoding="utf-8"))
assert len(d["processes"]) == 1, "%d processes" % len(d["processes"])
cols = d["processes"][0]["collections"]
assert len(cols) == 1, "expected one collection, got %r" % cols
c = cols[0]
assert c["generation"] == 2, c["generation"]
assert c["unreachable"] == 2, c["unreachable"]
assert c["cycles"] == 1, c["cycles"]
assert isinstance(c["time"], int) and c["time"] > 0, c["time"]
# The collection ran before the exit snapshot was taken.
assert c["time"] <= d["processes"][0]["time"], (c["time"], d["processes"][0]["time"])
ms = c["members"]
assert len(ms) == 2, ms
for m in ms:
    assert m["type"] == "Person", m["type"]
    assert m["in_cycle"] is True, m
    assert m["size"] == 48, m["size"]
    fns = [f["function"] for f in m["stack"]]
    assert "person_new" in fns, fns
assert ms[0]["cycle"] == ms[1]["cycle"], ms
assert ms[0]["address"] != ms[1]["address"], ms
EOF
)
	hc_ok $? "api_person: one generation-2 collection of 2 Persons in one cycle, stacks through person_new" \
		"$out"
	grep -q '^Garbage found while the program ran:$' "$dir/report.txt" &&
		grep -q '^collection of generation 2 at [0-9-]* [0-9:.]* UTC found 2 unreachable object(s) in 1 cycle:$' \
			"$dir/report.txt" &&
		grep -q -- '--> #1 0x[0-9a-f]* Person (48 bytes) --> #0$' "$dir/report.txt"
	hc_ok $? "api_person: the text report has the garbage section with the Person cycle" \
		"$(sed -n '/Garbage found/,/^$/p' "$dir/report.txt" | head -n 20)"
	# The section lies between the leaked cycles and the summary, and
	# shows each member's stack.
	awk '/^Garbage found while the program ran:$/ { g = 1 }
	     g && /in person_new / { n++ }
	     /^SUMMARY:/ { ok = g && n == 2; exit }
	     END { exit !ok }' "$dir/report.txt"
	hc_ok $? "api_person: both members' stacks (person_new) in the section, before the SUMMARY" \
		"$(tail -n 40 "$dir/report.txt")"
fi

hc_tmpdir
dir=$HC_TMP
if run_report leak_list "$dir"; then
	out=$(python3 - "$dir/report.json" <<'EOF' 2>&1
import json, sys

d = json.load(open(sys.argv[1], encoding="utf-8"))
assert d["processes"], "no process"
for p in d["processes"]:
    assert p["collections"] == [], p["collections"]
EOF
)
	hc_ok $? "leak_list: \"collections\" is an empty list" "$out"
	! grep -q 'Garbage found while the program ran' "$dir/report.txt"
	hc_ok $? "leak_list: no garbage section in the text report"
fi
hc_finish
