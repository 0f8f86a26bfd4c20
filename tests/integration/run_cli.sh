#!/bin/sh
# SPDX-License-Identifier: MIT
# The heapcycle command's own contract, independent of leak detection:
# --version, --help (every option of src/options.def), usage errors, the
# exit status and untouched standard output of `heapcycle run`, what it
# says and how --check ends when no snapshot could be written, the
# environment it gives the program, and `heapcycle report`'s errors. TAP for
# automake's tap-driver. Needs $HEAPCYCLE (the tool), $HEAPCYCLE_PRELOAD (the
# shim) and $HC_SRCDIR (the source tree).
set -u

: "${HEAPCYCLE:?HEAPCYCLE must name the heapcycle binary}"
: "${HEAPCYCLE_PRELOAD:?HEAPCYCLE_PRELOAD must name the shim}"
: "${HC_SRCDIR:?HC_SRCDIR must name the source directory}"
export HEAPCYCLE_PRELOAD
unset HEAPCYCLE_OPTIONS NO_COLOR

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hc-cli.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

n=0
fails=0
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
not_ok() {
	n=$((n + 1))
	fails=$((fails + 1))
	echo "not ok $n - $1"
	shift
	for line in "$@"; do
		echo "# $line"
	done
}
# check NAME COMMAND...: ok when COMMAND succeeds.
check() {
	name=$1
	shift
	if "$@"; then
		ok "$name"
	else
		not_ok "$name" "stdout: $(head -c 400 "$tmp/out" 2>/dev/null)" \
			"stderr: $(head -c 400 "$tmp/err" 2>/dev/null)"
	fi
}
echo "1..30"

# --version
"$HEAPCYCLE" --version > "$tmp/out" 2> "$tmp/err"
rc=$?
check "--version exits 0" [ $rc -eq 0 ]
check "--version prints 'heapcycle 0.1.0'" \
	[ "$(cat "$tmp/out")" = "heapcycle 0.1.0" ]

# --help: both commands and every option of options.def
"$HEAPCYCLE" --help > "$tmp/out" 2> "$tmp/err"
rc=$?
check "--help exits 0" [ $rc -eq 0 ]
check "--help lists run and report" \
	sh -c 'grep -q "heapcycle run" "$1" && grep -q "heapcycle report" "$1"' sh "$tmp/out"
sed -n 's/^HC_OPTION(\([a-z]*\), *\([a-z_0-9]*\),.*/\2/p' \
	"$HC_SRCDIR/src/options.def" | tr _ - > "$tmp/options"
missing=
while read -r opt; do
	grep -q -e "--$opt\\b" "$tmp/out" || missing="$missing $opt"
done < "$tmp/options"
if [ -s "$tmp/options" ] && [ -z "$missing" ]; then
	ok "--help lists all $(wc -l < "$tmp/options") options of options.def"
else
	not_ok "--help lists every option of options.def" "missing:$missing"
fi
"$HEAPCYCLE" help > "$tmp/out2" 2> "$tmp/err"
check "'heapcycle help' prints the same help" cmp -s "$tmp/out" "$tmp/out2"
"$HEAPCYCLE" run --help > "$tmp/out2" 2> "$tmp/err"
check "'heapcycle run --help' prints the help" \
	sh -c '[ $1 -eq 0 ] && cmp -s "$2" "$3"' sh $? "$tmp/out" "$tmp/out2"

# usage errors: one line naming the culprit, exit 2
"$HEAPCYCLE" --no-such-option > "$tmp/out" 2> "$tmp/err"
rc=$?
check "unknown option exits 2" [ $rc -eq 2 ]
check "unknown option: one line naming it and pointing at --help" \
	sh -c 'one() { [ "$(wc -l < "$1")" -eq 1 ]; }; one "$1" &&
		grep -q -e "--no-such-option" "$1" && grep -q "heapcycle --help" "$1"' \
	sh "$tmp/err"
"$HEAPCYCLE" run --bogus-flag /bin/true > "$tmp/out" 2> "$tmp/err"
rc=$?
check "unknown option after 'run' exits 2 with one line" \
	sh -c '[ $1 -eq 2 ] && [ "$(wc -l < "$2")" -eq 1 ] && grep -q -e "--bogus-flag" "$2"' \
	sh $rc "$tmp/err"
"$HEAPCYCLE" frobnicate > "$tmp/out" 2> "$tmp/err"
rc=$?
check "unknown command exits 2 with one line naming it" \
	sh -c '[ $1 -eq 2 ] && [ "$(wc -l < "$2")" -eq 1 ] && grep -q frobnicate "$2"' \
	sh $rc "$tmp/err"
"$HEAPCYCLE" run --stack-depth=lots /bin/true > "$tmp/out" 2> "$tmp/err"
rc=$?
check "bad option value exits 2 with one line" \
	sh -c '[ $1 -eq 2 ] && [ "$(wc -l < "$2")" -eq 1 ] && grep -q stack "$2"' \
	sh $rc "$tmp/err"

# run: a program that does not exist
"$HEAPCYCLE" run "$tmp/no-such-program" > "$tmp/out" 2> "$tmp/err"
rc=$?
check "run of a missing program exits 127" [ $rc -eq 127 ]
check "run of a missing program says so in one line" \
	sh -c 'one() { [ "$(wc -l < "$1")" -eq 1 ]; }; one "$1" &&
		grep -q "cannot run .*no-such-program: No such file or directory" "$1"' \
	sh "$tmp/err"

# run: the program's standard output and exit status are its own
"$HEAPCYCLE" run sh -c 'echo hi; exit 7' > "$tmp/out" 2> "$tmp/err"
rc=$?
check "run returns the program's exit status (7)" [ $rc -eq 7 ]
check "run leaves the program's stdout alone" [ "$(cat "$tmp/out")" = "hi" ]
"$HEAPCYCLE" run -- sh -c 'kill -TERM $$' > "$tmp/out" 2> "$tmp/err"
rc=$?
check "run returns 128+15 for a program killed by SIGTERM" [ $rc -eq 143 ]
printf 'from stdin\n' | "$HEAPCYCLE" run cat > "$tmp/out" 2> "$tmp/err"
rc=$?
check "run passes standard input through" \
	sh -c '[ $1 -eq 0 ] && [ "$(cat "$2")" = "from stdin" ]' sh $rc "$tmp/out"

# run: no snapshot could be written. One line names the file and why;
# the program's status stands, but --check fails: nothing shows the run
# clean.
# no_snapshot NAME WHY RUN-OPTION...: runs `sh -c 'exit 3'` with RUN-OPTIONs,
# then `--check` with them, and checks the status and the line of each.
no_snapshot() {
	case_name=$1
	why=$2
	shift 2
	"$HEAPCYCLE" run "$@" -- sh -c 'exit 3' > "$tmp/out" 2> "$tmp/err"
	rc=$?
	check "run, $case_name: the program's status (3) and a line naming the file and why" \
		sh -c '[ $1 -eq 3 ] && grep -q -F -e "$2" "$3"' sh $rc \
		"heapcycle: no snapshot was written: cannot create $why" "$tmp/err"
	"$HEAPCYCLE" run --check "$@" -- sh -c 'exit 3' > "$tmp/out" 2> "$tmp/err"
	rc=$?
	check "run --check, $case_name: exits 23 with a line saying --check fails and why" \
		sh -c '[ $1 -eq 23 ] && grep -q -F -e "$2" "$3"' sh $rc \
		"heapcycle: no snapshot was written, so --check fails: cannot create $why" "$tmp/err"
}
no_snapshot "missing output directory" \
	"$tmp/nodir/x.hcs: the directory $tmp/nodir does not exist" -o "$tmp/nodir/x.hcs"
: > "$tmp/file"
no_snapshot "output directory is a file" \
	"$tmp/file/x.hcs: $tmp/file is not a directory" -o "$tmp/file/x.hcs"
long=$(printf 'j%.0s' $(seq 300))
no_snapshot "file name too long" \
	"$tmp/$long.hcs: the file name is longer than" -o "$tmp/$long.hcs"
"$HEAPCYCLE" run --check --no-snapshot-at-exit -- sh -c 'exit 0' > "$tmp/out" 2> "$tmp/err"
rc=$?
check "run --check --no-snapshot-at-exit exits 23 and says why" \
	sh -c '[ $1 -eq 23 ] && grep -q -F -e "$2" "$3"' sh $rc \
	"no snapshot was written, so --check fails: snapshot_at_exit is off" "$tmp/err"

# run: the environment the program gets
env -u LD_PRELOAD -u G_SLICE "$HEAPCYCLE" run --stack-depth=17 sh -c \
	'printf "%s\n%s\n%s\n" "$LD_PRELOAD" "$HEAPCYCLE_OPTIONS" "$G_SLICE"' \
	> "$tmp/out" 2> "$tmp/err"
shim_line=$(sed -n 1p "$tmp/out")
opts_line=$(sed -n 2p "$tmp/out")
check "run sets G_SLICE=always-malloc" [ "$(sed -n 3p "$tmp/out")" = always-malloc ]
case $shim_line in
*/libheapcycle.so|*/"$(basename "$HEAPCYCLE_PRELOAD")") ok "run puts the shim in LD_PRELOAD" ;;
*) not_ok "run puts the shim in LD_PRELOAD" "LD_PRELOAD=$shim_line" ;;
esac
case $opts_line in
*stack_depth=17*output=*|*output=*stack_depth=17*)
	ok "run passes its options and output pattern in HEAPCYCLE_OPTIONS" ;;
*) not_ok "run passes its options in HEAPCYCLE_OPTIONS" "HEAPCYCLE_OPTIONS=$opts_line" ;;
esac

# report: a file that does not exist
"$HEAPCYCLE" report "$tmp/missing.hcs" > "$tmp/out" 2> "$tmp/err"
rc=$?
check "report of a missing file exits 2" [ $rc -eq 2 ]
check "report of a missing file: one line naming the file" \
	sh -c '[ "$(wc -l < "$1")" -eq 1 ] && grep -q "missing.hcs" "$1"' sh "$tmp/err"

[ $fails -eq 0 ]
