#!/bin/sh
# SPDX-License-Identifier: MIT
# The documentation says what the code does (TAP):
#  - heapcycle(1)'s option entries, between its GENERATED OPTIONS markers,
#    are exactly what man/options-table.sh makes of src/options.def, so a
#    new option without a man page update fails;
#  - groff -ww prints no warning for any of the four manual pages;
#  - `heapcycle --help` names every option of src/options.def.
# Needs HEAPCYCLE (the tool) and HC_SRCDIR (the source tree) only; groff is
# required (Debian: groff-base), not optional.

. "${HC_SRCDIR:?HC_SRCDIR is not set (run through make check)}/tests/integration/lib.sh"

[ -n "$HEAPCYCLE" ] || hc_bail "HEAPCYCLE is not set (run through make check)"
[ -x "$HEAPCYCLE" ] || hc_bail "the tool $HEAPCYCLE is missing or not executable"
command -v groff >/dev/null 2>&1 || hc_bail "groff is required by the documentation test"
def=$HC_SRCDIR/src/options.def
page=$HC_SRCDIR/man/heapcycle.1
[ -f "$def" ] || hc_bail "$def is missing"
[ -f "$page" ] || hc_bail "$page is missing"

hc_tmpdir
t=$HC_TMP

# 1. The generated block is up to date.
if AWK=${AWK:-awk} sh "$HC_SRCDIR/man/options-table.sh" "$def" >"$t/want" 2>"$t/err"; then
	awk '/^\.\\" END GENERATED OPTIONS$/ { on = 0 }
	     on { print }
	     /^\.\\" BEGIN GENERATED OPTIONS$/ { on = 1; seen++ }
	     END { if (seen != 1) exit 1 }' "$page" >"$t/have"
	if [ $? -ne 0 ]; then
		hc_ok 1 "heapcycle.1 has one BEGIN/END GENERATED OPTIONS block"
	elif diff -u "$t/have" "$t/want" >"$t/diff"; then
		hc_ok 0 "heapcycle.1's option entries match src/options.def"
	else
		hc_ok 1 "heapcycle.1's option entries match src/options.def" \
			"regenerate: sh man/options-table.sh, and paste its output between the markers" \
			"$(head -n 40 "$t/diff")"
	fi
else
	hc_ok 1 "man/options-table.sh runs" "$(cat "$t/err")"
fi

# 2. No groff warnings.
for p in heapcycle.1 heapcycle.h.3 heapcycle-snapshot.5 heapcycle-report.5; do
	f=$HC_SRCDIR/man/$p
	if [ ! -f "$f" ]; then
		hc_ok 1 "groff -ww $p" "$f is missing"
		continue
	fi
	LC_ALL=C.UTF-8 groff -ww -man -Tutf8 "$f" >/dev/null 2>"$t/groff.err"
	rc=$?
	if [ $rc -eq 0 ] && [ ! -s "$t/groff.err" ]; then
		hc_ok 0 "groff -ww $p: no warnings"
	else
		hc_ok 1 "groff -ww $p: no warnings" "exit $rc" "$(head -n 20 "$t/groff.err")"
	fi
done

# 3. --help names every option.
"$HEAPCYCLE" --help >"$t/help" 2>&1 || true
missing=
for name in $(sed -n 's/^HC_OPTION([a-z]*, *\([a-z0-9_]*\),.*/\1/p' "$def"); do
	flag=--$(printf '%s' "$name" | tr _ -)
	grep -q -e "$flag\\([=[:space:]]\\|\$\\)" "$t/help" || missing="$missing $flag"
done
if [ -z "$missing" ]; then
	hc_ok 0 "heapcycle --help lists every option of options.def"
else
	hc_ok 1 "heapcycle --help lists every option of options.def" "missing:$missing"
fi

hc_finish
