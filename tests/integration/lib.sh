# SPDX-License-Identifier: MIT
# Shared code of the integration tests (sourced by run_*.sh). Each script
# prints TAP: its test lines as the runs go, numbered across all its runs,
# then the plan ("1..N") once at the end (hc_finish).
#
# Environment (set by `make check`, see AM_TESTS_ENVIRONMENT):
#   HEAPCYCLE          the heapcycle tool
#   HEAPCYCLE_PRELOAD  the shim, libheapcycle.so
#   HC_PROGRAMS        directory of the built test programs
#   HC_SRCDIR          the source tree (EXPECT lines, test data)
# A missing tool, shim or program is a failure (Bail out!), never a skip.

: "${HC_TIMEOUT:=60}"		# seconds a single run may take
HC_NTESTS=0
HC_TMPDIRS=

hc_bail()
{
	echo "Bail out! $*"
	exit 1
}

hc_cleanup()
{
	for d in $HC_TMPDIRS; do
		rm -rf "$d"
	done
}
trap hc_cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# hc_tmpdir: prints a new temporary directory, removed when the script ends.
# Call it in the current shell (not in $(...)): it sets HC_TMP.
hc_tmpdir()
{
	HC_TMP=$(mktemp -d "${TMPDIR:-/tmp}/heapcycle-test.XXXXXX") ||
		hc_bail "mktemp -d failed"
	HC_TMPDIRS="$HC_TMPDIRS $HC_TMP"
}

hc_require_env()
{
	[ -n "$HEAPCYCLE" ] || hc_bail "HEAPCYCLE is not set (run through make check)"
	[ -n "$HC_SRCDIR" ] || hc_bail "HC_SRCDIR is not set (run through make check)"
	[ -x "$HEAPCYCLE" ] || hc_bail "the tool $HEAPCYCLE is missing or not executable"
	[ -n "$HEAPCYCLE_PRELOAD" ] || hc_bail "HEAPCYCLE_PRELOAD is not set"
	[ -f "$HEAPCYCLE_PRELOAD" ] || hc_bail "the shim $HEAPCYCLE_PRELOAD is missing"
	command -v python3 >/dev/null 2>&1 || hc_bail "python3 is required by the integration tests"
	command -v timeout >/dev/null 2>&1 || hc_bail "timeout(1) is required by the integration tests"
	export HEAPCYCLE_PRELOAD
}

# hc_ok COND DESCRIPTION [DIAGNOSTIC...]: one TAP line; COND is 0 for ok.
hc_ok()
{
	_hc_cond=$1
	shift
	_hc_desc=$1
	shift
	HC_NTESTS=$((HC_NTESTS + 1))
	if [ "$_hc_cond" -eq 0 ]; then
		echo "ok $HC_NTESTS - $_hc_desc"
	else
		echo "not ok $HC_NTESTS - $_hc_desc"
		for _hc_line in "$@"; do
			printf '%s\n' "$_hc_line" | sed 's/^/# /'
		done
	fi
}

# hc_require_programs PROG...: each built test program must exist.
hc_require_programs()
{
	for _hc_p in "$@"; do
		[ -x "$HC_PROGRAMS/$_hc_p" ] || hc_bail "test program $HC_PROGRAMS/$_hc_p is missing"
	done
}

# hc_run NAME [heapcycle run options...] -- PROG...: runs heapcycle with
# standard output in $HC_TMP/NAME.out, standard error in $HC_TMP/NAME.err
# and its exit status in $rc. Needs hc_tmpdir first.
hc_run()
{
	_hc_n=$1
	shift
	timeout "$HC_TIMEOUT" "$HEAPCYCLE" run "$@" >"$HC_TMP/$_hc_n.out" 2>"$HC_TMP/$_hc_n.err" </dev/null
	rc=$?
}

# hc_run_json PROG: runs $HC_PROGRAMS/PROG under heapcycle (snapshots in a
# fresh $HC_TMP/snap), checks that run and report exit 0, and leaves the
# text report in $HC_TMP/run.err and the JSON one in $HC_TMP/report.json.
hc_run_json()
{
	[ -x "$HC_PROGRAMS/$1" ] || hc_bail "test program $HC_PROGRAMS/$1 is missing"
	hc_tmpdir
	mkdir "$HC_TMP/snap" || hc_bail "mkdir failed"
	timeout "$HC_TIMEOUT" "$HEAPCYCLE" run -o "$HC_TMP/snap/snap.%p.hcs" -- "$HC_PROGRAMS/$1" \
		>"$HC_TMP/run.out" 2>"$HC_TMP/run.err" </dev/null
	_hj_run=$?
	hc_ok "$_hj_run" "$1: heapcycle run exits 0" "exit status $_hj_run"
	"$HEAPCYCLE" report --format json "$HC_TMP/snap" >"$HC_TMP/report.json" 2>"$HC_TMP/report.err"
	_hj_rep=$?
	hc_ok "$_hj_rep" "$1: heapcycle report --format json exits 0" "exit status $_hj_rep"
	[ "$_hj_rep" -eq 0 ] || hc_diag_file "$HC_TMP/report.err"
}

# hc_check_json FILE DESCRIPTION CODE [PRELUDE]: one TAP test. Runs the
# Python PRELUDE, then CODE, with `p` the only process of the JSON report
# FILE; CODE prints what is wrong, nothing when the check holds.
hc_check_json()
{
	_hc_msg=$(python3 - "$1" "$3" "${4:-}" 2>&1 <<'PY'
import json, sys
try:
    with open(sys.argv[1]) as f:
        report = json.load(f)
    procs = report["processes"]
    if len(procs) != 1:
        print("expected 1 process, the report has %d" % len(procs))
        sys.exit(0)
    g = {"p": procs[0]}
    exec(sys.argv[3], g)
    exec(sys.argv[2], g)
except Exception as e:
    print("cannot check the report: %r" % (e,))
PY
)
	[ -z "$_hc_msg" ]
	hc_ok $? "$2" "$_hc_msg"
}

# hc_skip DESCRIPTION REASON: one skipped TAP test.
hc_skip()
{
	HC_NTESTS=$((HC_NTESTS + 1))
	echo "ok $HC_NTESTS - $1 # SKIP $2"
}

# hc_diag_file FILE [N]: the last N (15) lines of FILE as TAP diagnostics.
hc_diag_file()
{
	[ -s "$1" ] || return 0
	tail -n "${2:-15}" "$1" | sed 's/^/# /'
}

# hc_expect_program PROG [ARG]
# Runs $HC_PROGRAMS/PROG [ARG] natively and under `heapcycle run`, reports
# the snapshots as JSON and checks them against the EXPECT lines of
# tests/programs/PROG.c (or .cpp). ARG is also the mode that selects the
# mode=ARG EXPECT lines.
hc_expect_program()
{
	hc_require_env
	_hc_src=$HC_SRCDIR/tests/programs/$1.c
	[ -f "$_hc_src" ] || _hc_src=$HC_SRCDIR/tests/programs/$1.cpp
	[ -f "$_hc_src" ] || hc_bail "no source for $1 in $HC_SRCDIR/tests/programs"
	hc_expect_binary "$1" "$HC_PROGRAMS/$1" "$_hc_src" ${2+"$2"}
}

# hc_expect_binary LABEL EXE SOURCE [ARG]: hc_expect_program for any
# program and the source that holds its EXPECT lines.
hc_expect_binary()
{
	hc_require_env
	_hc_prog=$1
	_hc_exe=$2
	_hc_src=$3
	_hc_mode=${4-}
	[ -x "$_hc_exe" ] || hc_bail "test program $_hc_exe is missing"
	[ -f "$_hc_src" ] || hc_bail "source $_hc_src is missing"

	hc_tmpdir
	_hc_dir=$HC_TMP
	mkdir "$_hc_dir/snap" || hc_bail "mkdir failed"
	set -- "$_hc_exe"
	[ -n "$_hc_mode" ] && set -- "$@" "$_hc_mode"

	# Natively: the program itself must behave as its EXPECT lines say.
	timeout "$HC_TIMEOUT" "$@" >"$_hc_dir/native.out" 2>"$_hc_dir/native.err" </dev/null
	_hc_native=$?

	timeout "$HC_TIMEOUT" "$HEAPCYCLE" run -o "$_hc_dir/snap/snap.%p.hcs" -- "$@" \
		>"$_hc_dir/run.out" 2>"$_hc_dir/run.err" </dev/null
	_hc_run=$?

	_hc_nsnap=$(find "$_hc_dir/snap" -name 'snap.*.hcs' -type f | wc -l)
	if [ "$_hc_nsnap" -gt 0 ]; then
		"$HEAPCYCLE" report --format json "$_hc_dir/snap" \
			>"$_hc_dir/report.json" 2>"$_hc_dir/report.err"
		_hc_report=$?
		if [ "$_hc_report" -ne 0 ] && [ ! -s "$_hc_dir/report.json" ]; then
			# Older or stricter tools take files, not a directory.
			"$HEAPCYCLE" report --format json "$_hc_dir"/snap/snap.*.hcs \
				>"$_hc_dir/report.json" 2>"$_hc_dir/report.err"
			_hc_report=$?
		fi
	else
		: >"$_hc_dir/report.json"
		_hc_report=255
	fi

	_hc_label=$_hc_prog${_hc_mode:+ $_hc_mode}
	python3 "$HC_SRCDIR/tests/integration/expect.py" \
		--json "$_hc_dir/report.json" --source "$_hc_src" \
		${_hc_mode:+--mode "$_hc_mode"} --label "$_hc_label" --start "$HC_NTESTS" \
		--run-status "$_hc_run" --native-status "$_hc_native" \
		--report-status "$_hc_report" --snapshots "$_hc_nsnap" \
		--stdout "$_hc_dir/run.out" --native-stdout "$_hc_dir/native.out" \
		--stderr "$_hc_dir/run.err" --report-stderr "$_hc_dir/report.err" \
		>"$_hc_dir/tap"
	_hc_py=$?
	cat "$_hc_dir/tap"
	HC_NTESTS=$((HC_NTESTS + $(grep -c -E '^(not )?ok ' "$_hc_dir/tap")))
	if [ "$_hc_py" -ne 0 ]; then
		hc_ok 1 "$_hc_label: expect.py ran" "expect.py exited $_hc_py"
	fi
	if [ -n "$HC_KEEP" ]; then
		echo "# $_hc_label: files kept in $_hc_dir"
		HC_TMPDIRS=$(printf '%s' "$HC_TMPDIRS" | sed "s| $_hc_dir||")
	fi
}

# hc_finish: prints the plan. A script that ran no test fails.
hc_finish()
{
	[ "$HC_NTESTS" -gt 0 ] || hc_bail "no test ran"
	echo "1..$HC_NTESTS"
}
