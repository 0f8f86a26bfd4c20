#!/bin/sh
# SPDX-License-Identifier: MIT
# Suppressions and CI gating on real programs under the real shim:
# LeakSanitizer and Valgrind files, entries printed by --gen-suppressions
# fed back (they must suppress everything), the summary's suppressed count,
# unused suppressions, broken files (exit 2 naming file and line), and
# --check with fail_on and max_leaked_bytes.
[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/integration/lib.sh"

hc_require_env
hc_tmpdir
d=$HC_TMP
P=$HC_PROGRAMS
hc_require_programs leak_depths leak_list leak_person_cycle


has() # FILE REGEX
{
	grep -Eq -- "$2" "$1"
}

# 1. --gen-suppressions output fed back suppresses everything.
for p in leak_depths leak_list leak_person_cycle; do
	hc_run gen-$p --gen-suppressions -- "$P/$p"
	awk '/^\{$/ { on = 1 } on { print } /^\}$/ { on = 0 }' "$d/gen-$p.err" >"$d/$p.supp"
	n=$(grep -c '^{$' "$d/$p.supp")
	hc_ok $([ "$rc" -eq 0 ] && [ "$n" -ge 1 ] && has "$d/gen-$p.err" '^# LeakSanitizer form' &&
		! has "$d/$p.supp" 'fun:(shim_|hc_)'; echo $?) \
		"$p: --gen-suppressions prints $n Valgrind entries" "$(cat "$d/gen-$p.err")"
	hc_run fed-$p --suppressions="$d/$p.supp" --check -- "$P/$p"
	hc_ok $([ "$rc" -eq 0 ] && has "$d/fed-$p.err" 'SUMMARY: heapcycle: 0 byte\(s\) leaked in 0 allocation\(s\); suppressed: [1-9]' &&
		! has "$d/fed-$p.err" '^(Direct|Indirect) leak|^Leaked cycle'; echo $?) \
		"$p: the generated suppressions hide every leak, --check passes" "$(cat "$d/fed-$p.err")"
done
# The cycle: both members' stacks are needed; with one entry the cycle stays.
awk 'BEGIN { n = 0 } /^\{$/ { n++ } n == 1 { print }' "$d/leak_person_cycle.supp" >"$d/one.supp"
hc_run fed-one --suppressions="$d/one.supp" --check -- "$P/leak_person_cycle"
hc_ok $([ "$rc" -eq 0 ]; echo $?) \
	"leak_person_cycle: one entry matching both member stacks (same functions) suppresses the cycle" \
	"$(cat "$d/fed-one.err")"

# 2. LeakSanitizer format, with the used counts and the unused list.
cat >"$d/lsan.supp" <<'SUPP'
# LeakSanitizer suppressions
leak:depth6_c

leak:^leak_level_3$
leak:no_such_function_anywhere
race:ignored_by_heapcycle
SUPP
hc_run lsan --suppressions="$d/lsan.supp" --show-unused-suppressions -- "$P/leak_depths"
hc_ok $([ "$rc" -eq 0 ] && has "$d/lsan.err" 'suppressed: 112 bytes in 2 blocks' &&
	has "$d/lsan.err" '^ +1 +72 leak:depth6_c$' && has "$d/lsan.err" '^ +1 +40 leak:\^leak_level_3\$$' &&
	has "$d/lsan.err" 'lsan.supp:5: leak:no_such_function_anywhere' &&
	has "$d/lsan.err" 'lsan.supp:6: note: .*race:ignored_by_heapcycle' &&
	has "$d/lsan.err" 'Direct leak of 24 byte' && ! has "$d/lsan.err" 'Direct leak of (72|40) byte'; echo $?) \
	"LeakSanitizer file: 2 of 3 leaks suppressed, counts and unused listed" "$(cat "$d/lsan.err")"

# 3. Valgrind format: malloc frame first, '...', match-leak-kinds, a
#    Memcheck:Cond entry that is ignored.
cat >"$d/vg.supp" <<'SUPP'
{
   list_direct
   Memcheck:Leak
   match-leak-kinds: definite
   fun:malloc
   fun:list_push
   ...
   fun:main
}
{
   not_a_leak
   Memcheck:Cond
   fun:list_push
}
SUPP
hc_run vg --suppressions="$d/vg.supp" --format=json -- "$P/leak_list"
python3 - "$d/vg.err" >"$d/vg.py" 2>&1 <<'PY'
import json, sys
text = open(sys.argv[1]).read()
r = json.loads(text[text.index('{'):])
p = r["processes"][0]
sup = {l["class"]: l.get("suppressed_by") for l in p["leaks"]}
assert sup == {"direct": "list_direct", "indirect": None}, sup
assert p["summary"]["suppressed"] == {"blocks": 1, "bytes": 40}, p["summary"]
PY
py=$?
hc_ok $([ "$rc" -eq 0 ] && [ "$py" -eq 0 ]; echo $?) \
	"Valgrind file: the definite entry suppresses the direct group only (JSON suppressed_by)" \
	"$(cat "$d/vg.py" "$d/vg.err")"

# 4. Broken files: exit 2 and one line naming the file and line; PROG is
#    not run.
printf 'leak:ok\nthis is not a suppression\n' >"$d/bad1.supp"
hc_run bad1 --suppressions="$d/bad1.supp" -- "$P/leak_depths"
hc_ok $([ "$rc" -eq 2 ] && has "$d/bad1.err" "bad1.supp:2: bad suppression" &&
	! has "$d/bad1.err" 'SUMMARY'; echo $?) "broken LeakSanitizer file: exit 2, file:line" \
	"$(cat "$d/bad1.err")"
printf '{\n   name\n   Memcheck:Leak\n   fun:x\n   frame:y\n}\n' >"$d/bad2.supp"
hc_run bad2 --suppressions="$d/bad2.supp" -- "$P/leak_depths"
hc_ok $([ "$rc" -eq 2 ] && has "$d/bad2.err" "bad2.supp:5: bad suppression"; echo $?) \
	"broken Valgrind file: exit 2, file:line" "$(cat "$d/bad2.err")"
hc_run missing --suppressions="$d/none.supp" -- "$P/leak_depths"
hc_ok $([ "$rc" -eq 2 ] && has "$d/missing.err" "none.supp: cannot read"; echo $?) \
	"missing suppression file: exit 2" "$(cat "$d/missing.err")"

# 5. --check: fail_on classes and max_leaked_bytes (leak_list: 40 bytes
#    direct, 360 indirect; leak_depths: 136 bytes direct).
check() # EXPECTED DESCRIPTION OPTIONS... -- PROG
{
	_want=$1
	_desc=$2
	shift 2
	hc_run check "$@"
	hc_ok $([ "$rc" -eq "$_want" ]; echo $?) "$_desc (exit $rc, want $_want)" "$(tail -n 5 "$d/check.err")"
}
check 23 "--check fails on a leak" --check -- "$P/leak_depths"
check 0 "no --check: the program's status" -- "$P/leak_depths"
check 0 "--fail-on=cycle ignores direct leaks" --check --fail-on=cycle -- "$P/leak_depths"
check 23 "--fail-on=cycle fails on the person cycle" --check --fail-on=cycle -- "$P/leak_person_cycle"
check 0 "--fail-on=indirect,possible: leak_depths passes" --check --fail-on=indirect,possible -- "$P/leak_depths"
check 23 "--fail-on=indirect: leak_list fails" --check --fail-on=indirect -- "$P/leak_list"
check 0 "--max-leaked-bytes=136: exactly the budget passes" --check --max-leaked-bytes=136 -- "$P/leak_depths"
check 23 "--max-leaked-bytes=135: one byte over fails" --check --max-leaked-bytes=135 -- "$P/leak_depths"
check 0 "budget counts only fail_on classes (direct 40 <= 40)" --check --fail-on=direct --max-leaked-bytes=40 -- "$P/leak_list"
check 23 "budget over all classes (400 > 399)" --check --max-leaked-bytes=399 -- "$P/leak_list"
check 7 "--error-exitcode=7" --check --error-exitcode=7 -- "$P/leak_list"
check 0 "suppressed leaks never fail --check" --check --suppressions="$d/leak_list.supp" -- "$P/leak_list"
check 2 "--fail-on with a bad class is a usage error" --check --fail-on=direct,sometimes -- "$P/leak_list"
check 2 "--fail-on with an empty item is a usage error" --check --fail-on=direct, -- "$P/leak_list"

# 6. heapcycle report --check with the same options on a kept snapshot.
hc_run keep -o "$d/kept.%p.hcs" -- "$P/leak_list"
snap=$(ls "$d"/kept.*.hcs 2>/dev/null | head -n 1)
[ -n "$snap" ] || hc_bail "no snapshot written by leak_list"
timeout "$HC_TIMEOUT" "$HEAPCYCLE" report --check "$snap" >"$d/r1.out" 2>&1
r1=$?
timeout "$HC_TIMEOUT" "$HEAPCYCLE" report --check --suppressions="$d/vg.supp" --fail-on=direct "$snap" >"$d/r2.out" 2>&1
r2=$?
hc_ok $([ "$r1" -eq 23 ] && [ "$r2" -eq 0 ] && has "$d/r2.out" 'suppressed: 40 bytes in 1 blocks'; echo $?) \
	"report --check: 23, then 0 with the direct group suppressed and fail_on=direct" \
	"$(cat "$d/r1.out" "$d/r2.out")"

hc_finish
