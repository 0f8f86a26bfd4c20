#!/bin/sh
# SPDX-License-Identifier: MIT
# The GObject adapter (DESIGN.md, "Refcounts"): GObject instances are
# recognised in the heap without annotation. gobject_cycle: a MyModel and
# a MyView owning each other through g_object_set_data_full form one leaked
# cycle that names both types (its GData members have no type, so the
# EXPECT type= syntax of expect.py cannot say it). gobject_parent: a parent
# held by a global, a child with a non-owning back pointer: nothing of the
# program's leaks. GLib's own type tables (classes, signals, type nodes)
# are "possible" leaks, GTypes being interior pointers to GLib's type
# nodes: heapcycle's built-in suppressions take them, and no other group
# may appear.
[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/integration/lib.sh"

hc_require_env

# GLib's type system, allocated on the program's first g_object_new:
# reached only through GTypes, interior pointers to its type nodes.
prelude='TYPE_SYSTEM = {"g_type_class_ref", "g_type_register_static", "g_type_register_static_simple"}'

# check_json FILE DESCRIPTION CODE: hc_check_json with TYPE_SYSTEM defined.
check_json()
{
	hc_check_json "$1" "$2" "$3" "$prelude"
}

hc_run_json gobject_cycle
check_json "$HC_TMP/report.json" "gobject_cycle: one leaked cycle with a MyModel and a MyView" '
cycles = p["cycles"]
if len(cycles) != 1:
    print("%d cycles, expected 1" % len(cycles))
else:
    types = [m.get("type") for m in cycles[0]["members"]]
    for t in ("MyModel", "MyView"):
        if t not in types:
            print("no %s among the member types %r" % (t, types))
    if types.count("MyModel") != 1 or types.count("MyView") != 1:
        print("member types %r: one MyModel and one MyView expected" % (types,))
'
check_json "$HC_TMP/report.json" "gobject_cycle: nothing leaks outside the cycle but GLib type data, suppressed by default" '
for l in p["leaks"]:
    fns = [f.get("function") for f in l.get("stack", [])]
    if l["class"] == "cycle":
        continue
    if l["class"] != "possible" or ("make_cycle" in fns and not TYPE_SYSTEM & set(fns)):
        print("leak group %s of %d block(s) from %r" % (l["class"], l["blocks"], fns[:8]))
    elif not str(l.get("suppressed_by", "")).startswith(("glib-", "gobject-")):
        print("GLib type data not suppressed by default: %d block(s) from %r" % (l["blocks"], fns[:8]))
'
grep -E -- '-->' "$HC_TMP/run.err" | grep 'MyModel' | grep -q 'MyView'
hc_ok $? "gobject_cycle: the text report names MyModel and MyView on the cycle line" \
	"$(grep -E -A3 'Leaked cycle' "$HC_TMP/run.err")"

# Without the built-in suppressions, GLib type data is listed again (as
# Valgrind lists it without glib.supp).
"$HEAPCYCLE" report --no-default-suppressions --format json "$HC_TMP/snap" >"$HC_TMP/nodef.json" \
	2>"$HC_TMP/nodef.err"
check_json "$HC_TMP/nodef.json" "gobject_cycle: --no-default-suppressions shows GLib type data" '
shown = [l for l in p["leaks"] if l["class"] == "possible" and not l.get("suppressed_by")]
if not shown:
    print("no unsuppressed possible leak")
'

hc_run_json gobject_parent
check_json "$HC_TMP/report.json" "gobject_parent: no cycle" '
if p["cycles"]:
    print("%d cycle(s), expected none" % len(p["cycles"]))
s = p["summary"]
if s["cycles"] or s["cycle"]["blocks"]:
    print("summary counts cycles: %r" % (s,))
'
check_json "$HC_TMP/report.json" "gobject_parent: no leak group of the program (parent, child, their data)" '
for l in p["leaks"]:
    fns = [f.get("function") for f in l.get("stack", [])]
    if l["class"] != "possible" or ("make_family" in fns and not TYPE_SYSTEM & set(fns)):
        print("leak group %s of %d block(s) from %r" % (l["class"], l["blocks"], fns[:8]))
    elif not l.get("suppressed_by"):
        print("GLib type data not suppressed by default: %d block(s) from %r" % (l["blocks"], fns[:8]))
s = p["summary"]
for k in ("direct", "indirect", "cycle"):
    if s[k]["blocks"]:
        print("summary: %d %s block(s)" % (s[k]["blocks"], k))
'
hc_finish
