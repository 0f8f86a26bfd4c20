#!/bin/sh
# SPDX-License-Identifier: MIT
# Malformed snapshots (DESIGN.md: "a truncated or hostile file gets a clear
# error, never a crash"). For every tests/data/hostile/*.hcs,
# `heapcycle report FILE` must exit 2 and print exactly one line on standard
# error, naming the file (as given, or its base name); a crash (status 128
# or more, or a timeout) or any sanitizer message is a failure. Every
# tests/data/good/*.hcs must report with status 0, in text and as valid JSON,
# with nothing on standard error. An empty corpus is a failure, not a pass.
[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/integration/lib.sh"

[ -n "$HEAPCYCLE" ] || hc_bail "HEAPCYCLE is not set (run through make check)"
[ -x "$HEAPCYCLE" ] || hc_bail "the tool $HEAPCYCLE is missing or not executable"
command -v python3 >/dev/null 2>&1 || hc_bail "python3 is required"
hc_tmpdir
tmp=$HC_TMP
SAN_RE='AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:|ThreadSanitizer|MemorySanitizer'

nhostile=0
for f in "$HC_SRCDIR"/tests/data/hostile/*.hcs; do
	[ -f "$f" ] || continue
	nhostile=$((nhostile + 1))
	name=$(basename "$f")
	timeout 30 "$HEAPCYCLE" report "$f" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	nlines=$(wc -l <"$tmp/err")
	# A last line without a newline is a line too.
	[ -s "$tmp/err" ] && [ "$(tail -c 1 "$tmp/err" | od -An -c | tr -d ' ')" != '\n' ] &&
		nlines=$((nlines + 1))
	why=
	if [ "$rc" -eq 124 ]; then
		why="timed out after 30 s"
	elif [ "$rc" -ge 128 ]; then
		why="crashed: exit status $rc (signal $((rc - 128)))"
	elif grep -E -q "$SAN_RE" "$tmp/err"; then
		why="sanitizer report on stderr"
	elif [ "$rc" -ne 2 ]; then
		why="exit status $rc, want 2"
	elif [ "$nlines" -ne 1 ]; then
		why="$nlines lines on stderr, want exactly 1"
	elif ! grep -F -q -e "$f" -e "$name" "$tmp/err"; then
		why="the error line does not name the file"
	fi
	if [ -z "$why" ]; then
		hc_ok 0 "hostile/$name: rejected: $(head -n 1 "$tmp/err")"
	else
		hc_ok 1 "hostile/$name: $why" "stderr:" "$(head -n 20 "$tmp/err")" \
			"stdout (first 5 lines):" "$(head -n 5 "$tmp/out")"
	fi
done
[ "$nhostile" -gt 0 ] ||
	hc_ok 1 "tests/data/hostile holds at least one .hcs file" \
		"no $HC_SRCDIR/tests/data/hostile/*.hcs: the hostile corpus is missing"

ngood=0
for f in "$HC_SRCDIR"/tests/data/good/*.hcs; do
	[ -f "$f" ] || continue
	ngood=$((ngood + 1))
	name=$(basename "$f")
	timeout 30 "$HEAPCYCLE" report "$f" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	why=
	if [ "$rc" -ne 0 ]; then
		why="text report: exit status $rc, want 0"
	elif [ -s "$tmp/err" ]; then
		why="text report: output on stderr"
	elif [ ! -s "$tmp/out" ]; then
		why="text report: empty"
	else
		timeout 30 "$HEAPCYCLE" report --format json "$f" >"$tmp/json" 2>"$tmp/err" </dev/null
		rc=$?
		if [ "$rc" -ne 0 ]; then
			why="JSON report: exit status $rc, want 0"
		elif [ -s "$tmp/err" ]; then
			why="JSON report: output on stderr"
		elif ! python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r.get("version") == 1, "version %r" % r.get("version")
assert isinstance(r.get("processes"), list) and r["processes"], "no processes"
' "$tmp/json" 2>"$tmp/pyerr"; then
			why="JSON report is not a version 1 report: $(tail -n 1 "$tmp/pyerr")"
		fi
	fi
	if [ -z "$why" ]; then
		hc_ok 0 "good/$name: reports with status 0 (text and JSON)"
	else
		hc_ok 1 "good/$name: $why" "stderr:" "$(head -n 20 "$tmp/err")"
	fi
done
[ "$ngood" -gt 0 ] ||
	hc_ok 1 "tests/data/good holds at least one .hcs file" \
		"no $HC_SRCDIR/tests/data/good/*.hcs: the golden corpus is missing"

hc_finish
