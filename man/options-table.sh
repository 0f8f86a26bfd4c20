#!/bin/sh
# SPDX-License-Identifier: MIT
# Prints the groff of heapcycle(1)'s option entries, generated from
# src/options.def: one .TP entry per HC_OPTION(type, name, default, help),
# with --name ('_' spelled '-'), its value type, its help text and its
# default. man/heapcycle.1 holds this output between the lines
#   .\" BEGIN GENERATED OPTIONS
#   .\" END GENERATED OPTIONS
# and tests/integration/run_docs.sh fails when the two differ. To update the
# man page after changing options.def:
#   sh man/options-table.sh > /tmp/t && (edit man/heapcycle.1 between the markers)
#
# Usage: options-table.sh [path/to/options.def]
# (default: ../src/options.def next to this script). Exits 1 on a line of
# options.def it cannot parse.

def=${1:-$(dirname "$0")/../src/options.def}
[ -r "$def" ] || { echo "options-table.sh: cannot read $def" >&2; exit 1; }

LC_ALL=C ${AWK:-awk} '
# Groff text: backslash, hyphen, and a control character at line start.
function esc(s) {
	gsub(/\\/, "\\e", s)
	gsub(/-/, "\\-", s)
	if (s ~ /^[.\047]/)
		s = "\\&" s
	return s
}
function fail(msg) {
	printf "options-table.sh: %s:%d: %s\n", FILENAME, start, msg > "/dev/stderr"
	bad = 1
	exit 1
}
# Reads a C string literal (or several, concatenated) at the front of rest;
# sets str and leaves rest after it.
function cstring(   out, c, i) {
	out = ""
	sub(/^[ \t]+/, "", rest)
	if (substr(rest, 1, 1) != "\"")
		fail("expected a string")
	while (substr(rest, 1, 1) == "\"") {
		for (i = 2; i <= length(rest); i++) {
			c = substr(rest, i, 1)
			if (c == "\\") {
				out = out substr(rest, i + 1, 1)
				i++
			} else if (c == "\"") {
				break
			} else {
				out = out c
			}
		}
		if (i > length(rest))
			fail("unterminated string")
		rest = substr(rest, i + 1)
		sub(/^[ \t]+/, "", rest)
	}
	str = out
}
function field(   v) {
	sub(/^[ \t]+/, "", rest)
	if (!match(rest, /^[^,]*/))
		fail("expected a field")
	v = substr(rest, 1, RLENGTH)
	rest = substr(rest, RLENGTH + 1)
	sub(/[ \t]+$/, "", v)
	return v
}
function comma() {
	sub(/^[ \t]+/, "", rest)
	if (substr(rest, 1, 1) != ",")
		fail("expected a comma")
	rest = substr(rest, 2)
}
function entry(text,   type, name, def, help, flag, shown) {
	rest = text
	sub(/^HC_OPTION\(/, "", rest)
	type = field(); comma()
	name = field(); comma()
	sub(/^[ \t]+/, "", rest)
	if (substr(rest, 1, 1) == "\"") {
		cstring()
		def = str
	} else {
		def = field()
	}
	comma()
	cstring()
	help = str
	if (rest !~ /^\)[ \t]*$/)
		fail("expected ) after the help text")
	if (type != "bool" && type != "int" && type != "string")
		fail("unknown type " type)
	if (name !~ /^[a-z][a-z0-9_]*$/)
		fail("bad option name " name)
	flag = name
	gsub(/_/, "-", flag)
	flag = esc("--" flag)
	print ".TP"
	if (type == "bool")
		printf ".BR %s \", \" \\-\\-no\\-%s\n", flag, substr(flag, 5)
	else
		printf ".BI %s= %s\n", flag, type
	print esc(help) "."
	if (type == "string" && def == "")
		shown = "empty"
	else
		shown = "\\fB" esc(def) "\\fP"
	printf "Type: \\fI%s\\fP; default: %s.\n", type, shown
}
/^HC_OPTION\(/ {
	text = $0
	start = FNR
	while (text !~ /\)[ \t]*$/) {
		if ((getline line) <= 0)
			fail("unterminated HC_OPTION")
		sub(/^[ \t]+/, " ", line)
		text = text line
	}
	entry(text)
	n++
	next
}
END {
	if (bad)
		exit 1
	if (n == 0) {
		print "options-table.sh: no HC_OPTION in " FILENAME > "/dev/stderr"
		exit 1
	}
}
' "$def"
