#!/bin/sh
# SPDX-License-Identifier: MIT
# The report formats beyond text and JSON, each produced from real
# snapshots (leak_person_cycle, leak_list, leak_depths, leak_cycle_tree and
# the README's examples/person_cycle, run under the real shim) and checked
# by a parser of that format: SARIF against the SARIF 2.1.0 JSON schema
# (tests/data/schemas), JUnit and Valgrind XML with xmllint and python3's
# xml.etree field by field against the JSON report of the same snapshot,
# DOT with Graphviz, HTML in headless Chromium. Every tool is required
# (Debian: graphviz libxml2-utils chromium python3-jsonschema): a missing
# one is a failure, never a skip.
[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/integration/lib.sh"

hc_require_env
for tool in dot xmllint chromium; do
	command -v "$tool" >/dev/null 2>&1 ||
		hc_bail "$tool is required (Debian packages graphviz, libxml2-utils, chromium)"
done
python3 -c 'import jsonschema' 2>/dev/null ||
	hc_bail "python3 jsonschema is required (Debian package python3-jsonschema)"
SCHEMA=$HC_SRCDIR/tests/data/schemas/sarif-schema-2.1.0.json
[ -f "$SCHEMA" ] || hc_bail "missing $SCHEMA"

hc_tmpdir
WORK=$HC_TMP
CHECK=$WORK/check_formats.py

# The checker of every format, against the JSON report of the same
# snapshots: check_formats.py FORMAT REPORT.json FILE [SCHEMA].
cat >"$CHECK" <<'EOF'
import json, re, sys
import xml.etree.ElementTree as ET

fmt, jpath, path = sys.argv[1:4]
rep = json.load(open(jpath, encoding="utf-8"))
procs = rep["processes"]
leaks = [l for p in procs for l in p["leaks"] if l["class"] != "reachable"]
cycles = [c for p in procs for c in p["cycles"]]
assert leaks or fmt in ("dot", "html"), "the program leaked nothing: nothing to check"

def system(f):
    return f.startswith("/usr/") or f.startswith("../") or "/sysdeps/" in f

def alloc_frame(stack):
    for f in stack:
        if f["file"] and not system(f["file"]):
            return f
    for f in stack:
        if f["function"]:
            return f
    return stack[0] if stack else None

def fail(msg):
    print(msg)
    sys.exit(1)

if fmt == "sarif":
    import jsonschema
    doc = json.load(open(path, encoding="utf-8"))
    jsonschema.validate(doc, json.load(open(sys.argv[4], encoding="utf-8")))
    assert doc["version"] == "2.1.0" and len(doc["runs"]) == 1
    run = doc["runs"][0]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert run["tool"]["driver"]["name"] == "heapcycle"
    assert rules == ["direct", "indirect", "possible", "cycle"], rules
    res = run["results"]
    assert len(res) == len(leaks), "%d results for %d leak groups" % (len(res), len(leaks))
    fps = set()
    for r, l in zip(res, leaks):
        assert r["ruleId"] == l["class"], (r["ruleId"], l["class"])
        assert rules[r["ruleIndex"]] == r["ruleId"]
        assert r["level"] == ("error" if l["class"] in ("direct", "cycle") else "warning")
        assert r["properties"]["bytes"] == l["bytes"] and r["properties"]["blocks"] == l["blocks"]
        assert "%d byte(s) in %d object(s)" % (l["bytes"], l["blocks"]) in r["message"]["text"]
        af = alloc_frame(l["stack"])
        loc = r["locations"][0]
        assert loc["logicalLocations"][0]["fullyQualifiedName"] == af["function"]
        uri = loc["physicalLocation"]["artifactLocation"]["uri"]
        assert af["file"].endswith(uri.replace("file://", "")), (uri, af["file"])
        assert loc["physicalLocation"]["region"]["startLine"] == af["line"]
        frames = r["stacks"][0]["frames"]
        assert len(frames) == len(l["stack"])
        names = [f["location"].get("logicalLocations", [{}])[0].get("fullyQualifiedName")
                 for f in frames]
        assert names == [f["function"] for f in l["stack"]], names
        flow = r["codeFlows"][0]["threadFlows"][0]["locations"]
        assert len(flow) == len(l["stack"])
        fp = r["partialFingerprints"]["heapcycleStack/v1"]
        assert fp not in fps, "duplicate fingerprint " + fp
        fps.add(fp)
elif fmt == "junit":
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == len(procs)
    assert int(root.get("failures")) == len(leaks)
    for s, p in zip(suites, procs):
        pl = [l for l in p["leaks"] if l["class"] != "reachable"]
        cases = s.findall("testcase")
        assert int(s.get("tests")) == len(cases) == max(1, len(pl))
        assert int(s.get("failures")) == len(pl)
        assert ("pid %d" % p["pid"]) in s.get("name")
        names = [c.get("name") for c in cases]
        assert len(set(names)) == len(names), "test case names repeat: %r" % names
        for c, l in zip(cases, pl):
            fl = c.find("failure")
            assert fl is not None and fl.get("type") == l["class"]
            assert "%d byte(s) in %d object(s)" % (l["bytes"], l["blocks"]) in fl.get("message")
            af = alloc_frame(l["stack"])
            assert af["function"] in c.get("name"), c.get("name")
            assert c.get("file") == af["file"] and int(c.get("line")) == af["line"]
            for f in l["stack"]:
                if f["function"]:
                    assert f["function"] in fl.text, f["function"]
elif fmt == "valgrind-xml":
    kinds = {"direct": "Leak_DefinitelyLost", "cycle": "Leak_DefinitelyLost",
             "indirect": "Leak_IndirectlyLost", "possible": "Leak_PossiblyLost"}
    root = ET.parse(path).getroot()
    assert root.tag == "valgrindoutput"
    assert root.findtext("protocolversion") == "4"
    assert root.findtext("protocoltool") == "memcheck"
    assert int(root.findtext("pid")) == procs[0]["pid"]
    assert root.find("errorcounts") is not None
    errs = root.findall("error")
    assert len(errs) == len(leaks), "%d errors for %d groups" % (len(errs), len(leaks))
    assert len({e.findtext("unique") for e in errs}) == len(errs)
    for e, l in zip(errs, leaks):
        assert e.findtext("kind") == kinds[l["class"]], (e.findtext("kind"), l["class"])
        xw = e.find("xwhat")
        assert int(xw.findtext("leakedbytes")) == l["bytes"]
        assert int(xw.findtext("leakedblocks")) == l["blocks"]
        assert ("%d bytes in %d blocks" % (l["bytes"], l["blocks"])) in xw.findtext("text")
        assert (l["class"] == "cycle") == ("leaked cycle" in xw.findtext("text"))
        fr = e.find("stack").findall("frame")
        assert [f.findtext("fn") for f in fr] == [f["function"] for f in l["stack"]]
        for f, jf in zip(fr, l["stack"]):
            assert int(f.findtext("ip"), 16) == int(jf["pc"], 16)
            if jf["file"]:
                full = (f.findtext("dir") + "/" if f.find("dir") is not None else "") + f.findtext("file")
                assert full == jf["file"] and int(f.findtext("line")) == jf["line"]
elif fmt == "dot":
    svg = open(path, encoding="utf-8").read()
    ET.fromstring(svg)
    if not cycles:
        assert "no leaked cycles" in svg
    for c in cycles:
        assert ("retaining %d bytes in %d object(s)" % (c["retained_bytes"], c["retained_blocks"])) in svg
        for m in c["members"]:
            assert m["address"] in svg, m["address"]
            af = alloc_frame(m["stack"])
            assert af["function"] in svg
        for e in c["edges"]:
            assert (">+%d" % e["offset"]) in svg
    nodes = len(re.findall(r'<g id="node\d+" class="node">', svg))
    want = sum(len(c["members"]) for c in cycles)
    ret = sum(c["retained_blocks"] - len(c["members"]) for c in cycles)
    assert want <= nodes <= want + ret + (0 if cycles else 1), (nodes, want, ret)
elif fmt == "html":
    dom = open(path, encoding="utf-8").read()
    figs = re.findall(r'<figure class="cycle".*?</figure>', dom, re.S)
    assert len(figs) == len(cycles), "%d cycle figures for %d cycles" % (len(figs), len(cycles))
    for f, c in zip(figs, cycles):
        assert len(re.findall(r'<g class="node">', f)) == min(len(c["members"]), 24)
        for m in c["members"]:
            assert m["address"] in f, m["address"]
    rows = re.findall(r'<table class="groups">.*?</table>', dom, re.S)
    body = "".join(rows)
    assert body.count("<tr>") == len(leaks) + 1, "group rows"
    for l in leaks:
        assert alloc_frame(l["stack"])["function"] in body
    # The icicle was drawn by the script: one box per distinct path node.
    ic = re.findall(r'<div class="icicle"[^>]*>(.*?)</div>\s*</section>', dom, re.S)
    assert len(ic) == (1 if leaks else 0) * len([p for p in procs if any(l["class"] != "reachable" for l in p["leaks"])]), len(ic)
    for box in ic:
        assert box.count("<div") >= 2, "icicle not drawn"
        assert "all leaks: " in box
        for l in leaks:
            assert alloc_frame(l["stack"])["function"] in box
else:
    fail("unknown format " + fmt)
print("ok")
EOF

chromium_run()
{
	# No network and no first-run machinery: the page must need neither.
	_prof=$(mktemp -d "$WORK/chrome.XXXXXX")
	timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking --disable-component-update \
		--disable-sync --user-data-dir="$_prof" --enable-logging=stderr --v=0 "$@"
}

# check_program LABEL EXE: snapshot EXE, then check every format.
check_program()
{
	_label=$1
	_exe=$2
	_d=$WORK/$_label
	[ -x "$_exe" ] || hc_bail "test program $_exe is missing"
	mkdir -p "$_d/snap" || hc_bail "mkdir failed"
	timeout "$HC_TIMEOUT" "$HEAPCYCLE" run -o "$_d/snap/snap.%p.hcs" -- "$_exe" \
		>"$_d/run.out" 2>"$_d/run.err" </dev/null
	set -- "$_d"/snap/snap.*.hcs
	[ -f "$1" ] || { hc_ok 1 "$_label: snapshot written" "$(cat "$_d/run.err")"; return; }

	_ok=0
	for _fmt in json sarif junit valgrind-xml dot html; do
		if ! "$HEAPCYCLE" report --format "$_fmt" "$@" >"$_d/report.$_fmt" 2>"$_d/err.$_fmt"; then
			_ok=1
			hc_ok 1 "$_label: report --format $_fmt" "$(cat "$_d/err.$_fmt")"
		fi
	done
	[ "$_ok" -eq 0 ] || return

	python3 "$CHECK" sarif "$_d/report.json" \
		"$_d/report.sarif" "$SCHEMA" >"$_d/py.sarif" 2>&1
	hc_ok $? "$_label: SARIF validates against the 2.1.0 schema and matches the leaks" \
		"$(cat "$_d/py.sarif")"

	for _fmt in junit valgrind-xml; do
		xmllint --noout "$_d/report.$_fmt" >"$_d/xmllint.$_fmt" 2>&1
		hc_ok $? "$_label: $_fmt is well-formed XML (xmllint)" "$(cat "$_d/xmllint.$_fmt")"
		python3 "$CHECK" "$_fmt" "$_d/report.json" \
			"$_d/report.$_fmt" >"$_d/py.$_fmt" 2>&1
		hc_ok $? "$_label: $_fmt fields match the leaks" "$(cat "$_d/py.$_fmt")"
	done

	dot -Tsvg "$_d/report.dot" >"$_d/dot.svg" 2>"$_d/dot.err"
	_st=$?
	[ "$_st" -eq 0 ] && [ ! -s "$_d/dot.err" ]
	hc_ok $? "$_label: Graphviz renders the DOT report without a warning" \
		"dot exited $_st" "$(cat "$_d/dot.err")"
	python3 "$CHECK" dot "$_d/report.json" \
		"$_d/dot.svg" >"$_d/py.dot" 2>&1
	hc_ok $? "$_label: the rendered graph holds every cycle member" "$(cat "$_d/py.dot")"

	# The page must stand alone: no URL it could fetch (the CSP also
	# forbids any), no console error, and the script must have run.
	! grep -n -i -E '(https?|ftp)://|src=|@import|url\([^#]' "$_d/report.html" >"$_d/urls" 2>&1
	hc_ok $? "$_label: the HTML report references nothing outside itself" "$(cat "$_d/urls")"
	chromium_run --dump-dom "file://$_d/report.html" >"$_d/dom.html" 2>"$_d/chrome.err"
	_st=$?
	grep -i -E 'Uncaught|CONSOLE\(|Refused to|ERR_' "$_d/chrome.err" >"$_d/console" 2>&1
	[ "$_st" -eq 0 ] && [ ! -s "$_d/console" ] &&
		grep -q 'data-status="ok"' "$_d/dom.html"
	hc_ok $? "$_label: Chromium loads the HTML report, its script runs, no console error" \
		"chromium exited $_st" "$(cat "$_d/console")" \
		"$(grep -o 'id="hc-status"[^<]*' "$_d/dom.html")"
	python3 "$CHECK" html "$_d/report.json" \
		"$_d/dom.html" >"$_d/py.html" 2>&1
	hc_ok $? "$_label: the rendered page shows every cycle, its members and the leak groups" \
		"$(cat "$_d/py.html")"
	chromium_run --window-size=1200,1600 --screenshot="$_d/shot.png" \
		"file://$_d/report.html" >/dev/null 2>"$_d/shot.err"
	_st=$?
	[ "$_st" -eq 0 ] && [ -s "$_d/shot.png" ] &&
		[ "$(head -c 8 "$_d/shot.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
	hc_ok $? "$_label: Chromium takes a PNG screenshot of the HTML report" "chromium exited $_st"
	# HC_FORMATS_KEEP=DIR keeps the reports and screenshots to look at.
	if [ -n "${HC_FORMATS_KEEP-}" ]; then
		mkdir -p "$HC_FORMATS_KEEP" || hc_bail "mkdir $HC_FORMATS_KEEP failed"
		for _f in "$_d"/report.* "$_d/shot.png"; do
			cp "$_f" "$HC_FORMATS_KEEP/$_label.${_f##*/}"
		done
	fi
}

check_program leak_person_cycle "$HC_PROGRAMS/leak_person_cycle"
check_program examples_person_cycle "$HC_PROGRAMS/../../examples/person_cycle"
check_program leak_list "$HC_PROGRAMS/leak_list"
check_program leak_depths "$HC_PROGRAMS/leak_depths"
check_program leak_cycle_tree "$HC_PROGRAMS/leak_cycle_tree"
check_program leak_cycle3 "$HC_PROGRAMS/leak_cycle3"

# The bundled example's page names its cycle: person_new, both members.
python3 - "$WORK/examples_person_cycle/dom.html" >"$WORK/pc.check" 2>&1 <<'EOF'
import re, sys
dom = open(sys.argv[1], encoding="utf-8").read()
fig = re.search(r'<figure class="cycle".*?</figure>', dom, re.S)
assert fig, "no cycle figure in the page"
fig = fig.group(0)
assert "Leaked cycle 1" in fig and "96 bytes in 2 object(s)" in fig, "cycle caption"
assert fig.count("person_new") >= 4, "person_new in graph and table: %d" % fig.count("person_new")
assert "#0" in fig and "#1" in fig, "both members"
assert len(re.findall(r'<g class="node">', fig)) == 2, "two nodes in the SVG"
assert len(re.findall(r'<path class="edge"', fig)) == 2, "two edges in the SVG"
assert fig.count(">+32<") == 2, "edges labelled with offset +32"
EOF
hc_ok $? "examples/person_cycle: the HTML page draws the person_new cycle with both members" \
	"$(cat "$WORK/pc.check")"
hc_finish
