#!/bin/sh
# SPDX-License-Identifier: MIT
# Interposed g_object_ref/unref (DESIGN.md, "Refcounts", source 3): the
# report says which reference of a leaked GObject was never released.
# gobject_refs: a leaked registry holds a MyDoc whose only unreleased
# reference is keep_forever's (the REF-LEAK line), lent three times to
# borrow() (balanced: never listed), and a floating MyItem whose floating
# reference adopt() took over (REF-SINK); a third object is freed, with no
# history left; an earlier MyDoc that GLib freed unseen leaves calls that
# must not be shown for the object that gets its address. gobject_cycle:
# each member's unreleased reference is the g_object_ref in make_cycle
# whose result the other member's data holds. The JSON report must also
# validate against doc/report-schema.json when python3-jsonschema is there.
[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/integration/lib.sh"

hc_require_env
hc_require_programs gobject_refs gobject_cycle
src=$HC_SRCDIR/tests/programs/gobject_refs.c
leak_line=$(grep -n '/\* REF-LEAK \*/' "$src" | head -n 1 | cut -d: -f1)
sink_line=$(grep -n '/\* REF-SINK \*/' "$src" | head -n 1 | cut -d: -f1)
[ -n "$leak_line" ] && [ -n "$sink_line" ] || hc_bail "no REF-LEAK/REF-SINK line in $src"

# What the checks share: the marker lines, and where a stack was made.
prelude="
LEAK = $leak_line
SINK = $sink_line
def top(stack):
    # The frame the program wrote: the innermost with a source file.
    for fr in stack:
        if fr.get('file'):
            return fr
    return stack[0] if stack else {}
def where(stack):
    fr = top(stack)
    return '%s %s:%s' % (fr.get('function'), fr.get('file'), fr.get('line'))
"

# check_json DESCRIPTION CODE: hc_check_json on the last report.
check_json()
{
	hc_check_json "$HC_TMP/report.json" "$1" "$2" "$prelude"
}

hc_run_json gobject_refs
check_json "gobject_refs: one MyDoc and one MyItem have reference histories (the freed one none)" '
types = sorted(r["type"] or "?" for r in p["references"])
if types != ["MyDoc", "MyItem"]:
    print("objects with histories: %r, want [MyDoc, MyItem]" % (types,))
'
check_json "gobject_refs: the MyDoc is an indirect leak with count 1, its unreleased reference at keep_forever (REF-LEAK line)" '
docs = [r for r in p["references"] if r["type"] == "MyDoc"]
if len(docs) != 1:
    print("%d MyDoc histories, want 1" % len(docs))
for r in docs:
    if r["class"] != "indirect" or r["count"] != 1:
        print("MyDoc: class %s, count %r" % (r["class"], r["count"]))
    un = r["unreleased"]
    if len(un) != 1 or un[0]["origin"] != "call" or un[0]["references"] != 1:
        print("MyDoc unreleased: %r" % ([(u["origin"], u["references"], where(u["stack"])) for u in un],))
        continue
    fr = top(un[0]["stack"])
    if fr.get("function") != "keep_forever" or not (fr.get("file") or "").endswith("gobject_refs.c") \
       or fr.get("line") != LEAK:
        print("MyDoc unreleased reference at %s, want keep_forever gobject_refs.c:%d" % (where(un[0]["stack"]), LEAK))
    call = r["calls"][un[0]["call"]]
    if call["call"] != "g_object_ref" or call["fate"] != "held":
        print("MyDoc: the unreleased call is %s, fate %s" % (call["call"], call["fate"]))
    if r["initial"] != "released":
        print("MyDoc: the initial reference is %r, want released (by make_leak)" % (r["initial"],))
    if r["unseen_refs"] or r["unseen_unrefs"] or r["dropped"]:
        print("MyDoc: unseen %d/%d, dropped %d" % (r["unseen_refs"], r["unseen_unrefs"], r["dropped"]))
'
check_json "gobject_refs: the balanced borrow() pairs are released by their own unrefs and never listed" '
for r in p["references"]:
    for u in r["unreleased"]:
        if any(fr.get("function") == "borrow" for fr in u["stack"]):
            print("%s: borrow() listed as unreleased: %s" % (r["type"], where(u["stack"])))
    calls = r["calls"]
    for i, c in enumerate(calls):
        if top(c["stack"]).get("function") != "borrow":
            continue
        if c["call"] == "g_object_ref":
            by = c["released_by"]
            if c["fate"] != "released" or by is None or top(calls[by]["stack"]).get("function") != "borrow":
                print("%s: borrow ref [%d] fate %s, released by %r" % (r["type"], i, c["fate"], by))
        elif c["call"] == "g_object_unref" and (c["releases"] or {}).get("call") is None:
            print("%s: borrow unref [%d] releases %r" % (r["type"], i, c["releases"]))
docs = [r for r in p["references"] if r["type"] == "MyDoc"]
n = sum(1 for r in docs for c in r["calls"] if top(c["stack"]).get("function") == "borrow")
if n != 6:
    print("%d borrow() calls recorded on the MyDoc, want 6" % n)
'
check_json "gobject_refs: the MyItem's floating reference, taken over by adopt() (REF-SINK line), is unreleased" '
items = [r for r in p["references"] if r["type"] == "MyItem"]
if len(items) != 1:
    print("%d MyItem histories, want 1" % len(items))
for r in items:
    if r["class"] != "indirect" or r["count"] != 1:
        print("MyItem: class %s, count %r" % (r["class"], r["count"]))
    un = r["unreleased"]
    if len(un) != 1 or un[0]["origin"] != "initial" or un[0]["call"] is None:
        print("MyItem unreleased: %r" % ([(u["origin"], u["call"]) for u in un],))
        continue
    call = r["calls"][un[0]["call"]]
    fr = top(un[0]["stack"])
    if call["call"] != "g_object_ref_sink" or not call["floating"] or fr.get("function") != "adopt" \
       or fr.get("line") != SINK:
        print("MyItem: %s floating=%s at %s, want a floating g_object_ref_sink at adopt gobject_refs.c:%d"
              % (call["call"], call["floating"], where(un[0]["stack"]), SINK))
    if r["initial"] != "taken_over":
        print("MyItem: initial %r, want taken_over" % (r["initial"],))
'
set -- $(sed -n 's/^recycled \(0x[0-9a-f]*\) doc \(0x[0-9a-f]*\)$/\1 \2/p' "$HC_TMP/run.out")
if [ $# -ne 2 ]; then
	hc_ok 1 "gobject_refs: the program prints the recycled address" "$(head -n 5 "$HC_TMP/run.out")"
elif [ "$1" != "$2" ]; then
	hc_skip "gobject_refs: calls of an earlier object at a recycled address are left out" \
		"the allocator did not reuse $1"
else
	check_json "gobject_refs: calls of an earlier object at a recycled address are left out" '
docs = [r for r in p["references"] if r["type"] == "MyDoc"]
for r in docs:
    if len(r["calls"]) != 8 or r["dropped"]:
        print("MyDoc at %s: %d calls (%d dropped), want the 8 of its own" % (r["address"], len(r["calls"]), r["dropped"]))
'
fi
grep -q "References never released (1):" "$HC_TMP/run.err" &&
	grep -q "g_object_ref in keep_forever at gobject_refs.c:$leak_line" "$HC_TMP/run.err"
hc_ok $? "gobject_refs: the text report lists keep_forever's reference as never released" \
	"$(grep -A12 'References of' "$HC_TMP/run.err" | head -n 40)"
grep -q "g_object_ref_sink in adopt at gobject_refs.c:$sink_line" "$HC_TMP/run.err"
hc_ok $? "gobject_refs: the text report lists the floating reference adopt() took over" \
	"$(grep -B2 -A8 'adopt' "$HC_TMP/run.err" | head -n 30)"
if python3 -c 'import jsonschema' 2>/dev/null; then
	python3 - "$HC_TMP/report.json" "$HC_SRCDIR/doc/report-schema.json" >"$HC_TMP/schema.err" 2>&1 <<'PY'
import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))
PY
	hc_ok $? "gobject_refs: the JSON report validates against doc/report-schema.json" \
		"$(tail -n 5 "$HC_TMP/schema.err")"
else
	hc_skip "gobject_refs: the JSON report validates against doc/report-schema.json" \
		"python3-jsonschema is not installed"
fi

hc_run_json gobject_cycle
check_json "gobject_cycle: each member's unreleased reference is the g_object_ref in make_cycle the other holds" '
refs = p["references"]
types = sorted(r["type"] or "?" for r in refs)
if types != ["MyModel", "MyView"]:
    print("objects with histories: %r, want [MyModel, MyView]" % (types,))
for r in refs:
    if r["class"] != "cycle" or r["cycle"] is None:
        print("%s: class %s, cycle %r" % (r["type"], r["class"], r["cycle"]))
    un = r["unreleased"]
    if len(un) != 1 or un[0]["origin"] != "call":
        print("%s unreleased: %r" % (r["type"], [(u["origin"], where(u["stack"])) for u in un]))
        continue
    fr = top(un[0]["stack"])
    if fr.get("function") != "make_cycle" or r["calls"][un[0]["call"]]["call"] != "g_object_ref":
        print("%s: unreleased reference at %s" % (r["type"], where(un[0]["stack"])))
    if r["initial"] != "released":
        print("%s: initial %r, want released by make_cycle" % (r["type"], r["initial"]))
'
hc_finish
