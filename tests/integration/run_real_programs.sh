#!/bin/sh
# SPDX-License-Identifier: MIT
# Real, unmodified programs under `heapcycle run`: /bin/true, ls, python3,
# sqlite3 (skipped when not installed) and git.
#
# 1. Transparency: the program's standard output and exit status under
#    heapcycle equal those of a native run (the report may only go to
#    standard error).
# 2. No false direct leaks, judged by Valgrind memcheck (skipped when
#    valgrind is not installed): every direct leak group heapcycle reports
#    must also be "definitely lost" in `valgrind --leak-check=full
#    --xml=yes`. The matching rule: in each stack, skip the allocator's own
#    frames (malloc, calloc, realloc, reallocarray, posix_memalign,
#    aligned_alloc, memalign, valloc, pvalloc, the C++ operator new family,
#    and any frame in heapcycle's shim or Valgrind's preload); the first
#    frame left is the allocating function. A heapcycle group matches when
#    some definitely-lost record has the same allocating function name;
#    when heapcycle has no name for that frame, when some record's
#    allocating frame is in the same object file (base name). Addresses are
#    not compared: the two runs do not share a layout. The other direction
#    is not required: Valgrind calls one member of every leaked cycle
#    "definitely lost", heapcycle calls it a cycle.
[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/integration/lib.sh"

hc_require_env
hc_tmpdir
tmp=$HC_TMP
if command -v valgrind >/dev/null 2>&1; then have_valgrind=yes; else have_valgrind=no; fi

# The interpreter itself, not a wrapper such as a pyenv shim (which is a
# shell script that would run several processes before Python).
PYTHON=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
[ -x "$PYTHON" ] || hc_bail "cannot find the python3 executable"


# real_case NAME CMD...
real_case()
{
	name=$1
	shift
	d=$tmp/$name
	mkdir -p "$d/snap"

	timeout 60 "$@" >"$d/native.out" 2>"$d/native.err" </dev/null
	native=$?
	timeout 60 "$HEAPCYCLE" run -o "$d/snap/snap.%p.hcs" -- "$@" \
		>"$d/run.out" 2>"$d/run.err" </dev/null
	run=$?
	if [ "$run" -eq "$native" ] && cmp -s "$d/native.out" "$d/run.out"; then
		hc_ok 0 "$name: same stdout and exit status ($native) as natively"
	else
		hc_ok 1 "$name: same stdout and exit status as natively" \
			"exit status: native $native, under heapcycle $run" \
			"$(diff "$d/native.out" "$d/run.out" | head -n 20)" \
			"stderr under heapcycle:" "$(tail -n 15 "$d/run.err")"
	fi

	if [ "$have_valgrind" != yes ]; then
		hc_skip "$name: direct leaks are definitely lost in Valgrind" "valgrind is not installed"
		return
	fi
	set -- $(find "$d/snap" -name 'snap.*.hcs' -type f)
	if [ $# -eq 0 ]; then
		hc_ok 1 "$name: direct leaks are definitely lost in Valgrind" \
			"heapcycle run wrote no snapshot" "$(tail -n 15 "$d/run.err")"
		return
	fi
	if ! "$HEAPCYCLE" report --format json "$@" >"$d/report.json" 2>"$d/report.err"; then
		hc_ok 1 "$name: direct leaks are definitely lost in Valgrind" \
			"heapcycle report --format json failed" "$(tail -n 15 "$d/report.err")"
		return
	fi
	eval "set -- $cmd_quoted"
	timeout 120 valgrind -q --leak-check=full --show-leak-kinds=definite \
		--xml=yes --xml-file="$d/vg.xml" "$@" >/dev/null 2>"$d/vg.err" </dev/null
	vrc=$?
	if [ ! -s "$d/vg.xml" ] || [ "$vrc" -eq 124 ]; then
		hc_ok 1 "$name: direct leaks are definitely lost in Valgrind" \
			"valgrind failed (status $vrc)" "$(tail -n 10 "$d/vg.err")"
		return
	fi
	if python3 "$HC_SRCDIR/tests/integration/vgcompare.py" "$d/report.json" "$d/vg.xml" >"$d/cmp" 2>&1; then
		hc_ok 0 "$name: direct leaks are definitely lost in Valgrind ($(head -n 1 "$d/cmp"))"
	else
		hc_ok 1 "$name: direct leaks are definitely lost in Valgrind" "$(cat "$d/cmp")"
	fi
}

# The command of each case, quoted for eval (the case function reuses "$@").
run_real()
{
	name=$1
	shift
	cmd_quoted=
	for a in "$@"; do
		cmd_quoted="$cmd_quoted '$(printf '%s' "$a" | sed "s/'/'\\\\''/g")'"
	done
	real_case "$name" "$@"
}

run_real true /bin/true
run_real ls ls -l "$HC_SRCDIR/tests/programs"
run_real python3 "$PYTHON" -c 'print(1)'
if command -v sqlite3 >/dev/null 2>&1; then
	run_real sqlite3 sqlite3 :memory: 'select 1'
else
	hc_skip "sqlite3: same stdout and exit status as natively" "sqlite3 is not installed"
	hc_skip "sqlite3: direct leaks are definitely lost in Valgrind" "sqlite3 is not installed"
fi
run_real git git --version

hc_finish
