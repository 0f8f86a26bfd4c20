#!/bin/sh
# SPDX-License-Identifier: MIT
# A program that exits while processes it started still run (here a
# shell's background job): heapcycle run names them and keeps the private
# directory they will write their snapshots to, instead of deleting it
# under them (they then said "cannot create the snapshot" after the
# report, and their snapshots were lost).
[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/integration/lib.sh"

hc_require_env
hc_tmpdir

hc_run orphan -- sh -c '(sleep 1; exec true) & echo "bg=$!"; exit 0'
hc_ok "$rc" "heapcycle run exits with the program's status, 0" "exit status $rc" \
	"$(cat "$HC_TMP/orphan.err")"
bg=$(sed -n 's/^bg=//p' "$HC_TMP/orphan.out")
note=$(grep "heapcycle: note: 1 process started by sh was still running" "$HC_TMP/orphan.err")
case $note in
*"(pid $bg)"*) true ;;
*) false ;;
esac
hc_ok $? "the note names the background process ($bg)" "$(cat "$HC_TMP/orphan.err")"
dir=$(printf '%s\n' "$note" | sed -n 's/.*exits, to //p')
[ -n "$dir" ] && [ -d "$dir" ]
hc_ok $? "the note names the directory, which is kept" "$note"

# The background job ends a second later and writes its snapshots there.
i=0
while [ "$i" -lt 100 ] && ! ls "$dir"/*."$bg".hcs* >/dev/null 2>&1; do
	sleep 0.1
	i=$((i + 1))
done
sleep 0.3
ls "$dir"/*."$bg".hcs* >/dev/null 2>&1
hc_ok $? "the background process wrote its snapshot to that directory" "$(ls -l "$dir" 2>&1)"
! grep -q "cannot create the snapshot" "$HC_TMP/orphan.err"
hc_ok $? "no process failed to write its snapshot" "$(cat "$HC_TMP/orphan.err")"
"$HEAPCYCLE" report --format json "$dir" >"$HC_TMP/orphan.json" 2>"$HC_TMP/report.err"
grep -q "\"pid\": $bg," "$HC_TMP/orphan.json"
hc_ok $? "heapcycle report of the directory has the background process" \
	"$(cat "$HC_TMP/report.err")"
[ -n "$dir" ] && rm -rf "$dir"
hc_finish
