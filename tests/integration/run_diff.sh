#!/bin/sh
# SPDX-License-Identifier: MIT
# heapcycle diff on real snapshots: a program built here takes two
# snapshots with heapcycle_snapshot() under the real shim, growing one
# stack and leaking a new block and a new cycle in between; and two runs of
# one program (other pids, other addresses) compare as equal.
[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/integration/lib.sh"

hc_require_env
hc_tmpdir
d=$HC_TMP
cc=${CC:-cc}
command -v "$cc" >/dev/null 2>&1 || hc_bail "a C compiler ($cc) is required by the diff test"
[ -x "$HC_PROGRAMS/leak_depths" ] || hc_bail "test program leak_depths is missing"

cat >"$d/grow.c" <<'SRC'
#pragma GCC optimize("O0")
#include <stdlib.h>
#include <heapcycle.h>

struct node { struct node *next; char pad[56]; };
void *volatile kept[64];
void *volatile sink;

__attribute__((noinline)) static void grow(int from, int to)
{
	for (int i = from; i < to; i++)
		kept[i] = malloc(100);
}

__attribute__((noinline)) static void leak_new_block(void)
{
	sink = malloc(333);
	sink = NULL;
}

__attribute__((noinline)) static void leak_new_cycle(void)
{
	struct node *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));

	a->next = b;
	b->next = a;
	a = b = NULL;
}

int main(int argc, char **argv)
{
	volatile char scrub[16384];

	/* One call site, so that both phases grow the same stack. */
	for (int phase = 0; phase < 2; phase++) {
		grow(phase ? 2 : 0, phase ? 7 : 2);
		if (phase == 0 && heapcycle_snapshot(argv[1]) != 0)
			return 1;
	}
	leak_new_block();
	leak_new_cycle();
	for (size_t i = 0; i < sizeof(scrub); i++)
		scrub[i] = 0;
	return heapcycle_snapshot(argv[2]) != 0;
}
SRC
"$cc" -O0 -g -fno-omit-frame-pointer -I"$HC_SRCDIR/include" -o "$d/grow" "$d/grow.c" 2>"$d/cc.err" ||
	hc_bail "cannot build the diff test program: $(head -n 3 "$d/cc.err")"

HEAPCYCLE_OPTIONS="output=$d/exit.%p.hcs" LD_PRELOAD="$HEAPCYCLE_PRELOAD" \
	timeout "$HC_TIMEOUT" "$d/grow" "$d/a.hcs" "$d/b.hcs" >"$d/run.out" 2>&1
rc=$?
hc_ok $([ "$rc" -eq 0 ] && [ -s "$d/a.hcs" ] && [ -s "$d/b.hcs" ]; echo $?) \
	"two snapshots taken with heapcycle_snapshot()" "$(cat "$d/run.out")"
[ -s "$d/b.hcs" ] || hc_bail "no snapshots to compare"

timeout "$HC_TIMEOUT" "$HEAPCYCLE" diff "$d/a.hcs" "$d/b.hcs" >"$d/diff.txt" 2>"$d/diff.err"
rc=$?
hc_ok $([ "$rc" -eq 0 ] &&
	grep -q '^+500 byte(s) in +5 block(s) (A: 200 bytes in 2, B: 700 bytes in 7) allocated from:' "$d/diff.txt" &&
	grep -A1 '^+500 byte' "$d/diff.txt" | grep -q ' in grow ' &&
	grep -q '^Direct leak of 333 byte(s) in 1 object(s)' "$d/diff.txt" &&
	grep -A1 '^Direct leak of 333' "$d/diff.txt" | grep -q 'leak_new_block' &&
	grep -q '^Leaked cycles new in B: 1$' "$d/diff.txt" &&
	grep -q '^Leaked cycle of 128 byte(s) in 2 object(s)' "$d/diff.txt" &&
	! grep -q 'different processes' "$d/diff.txt"; echo $?) \
	"text diff: growth of grow(), the new leak and the new cycle" "$(cat "$d/diff.txt" "$d/diff.err")"

timeout "$HC_TIMEOUT" "$HEAPCYCLE" diff --format json "$d/a.hcs" "$d/b.hcs" >"$d/diff.json" 2>"$d/diffj.err"
rc=$?
python3 - "$d/diff.json" >"$d/py.out" 2>&1 <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["kind"] == "diff" and r["version"] == 1 and r["same_process"] is True, r
g = r["growth"]
assert g and g[0]["bytes"] == 500 and g[0]["blocks"] == 5, g[:1]
assert g[0]["stack"][0]["function"] == "grow", g[0]["stack"][:1]
assert all(x["bytes"] > 0 for x in g), "only positive growth by default"
assert all(g[i]["bytes"] >= g[i + 1]["bytes"] for i in range(len(g) - 1)), "largest first"
nl = {(l["class"], l["bytes"], l["stack"][0]["function"]) for l in r["new_leaks"]}
assert ("direct", 333, "leak_new_block") in nl, nl
assert not any(f == "grow" for _, _, f in nl), nl
assert len(r["new_cycles"]) == 1 and r["new_cycles"][0]["bytes"] == 128, r["new_cycles"]
assert r["summary"]["new_cycles"] == 1
PY
py=$?
hc_ok $([ "$rc" -eq 0 ] && [ "$py" -eq 0 ]; echo $?) "JSON diff: same figures" "$(cat "$d/py.out" "$d/diffj.err")"

# Backwards: nothing grew, nothing is new.
timeout "$HC_TIMEOUT" "$HEAPCYCLE" diff "$d/b.hcs" "$d/a.hcs" >"$d/back.txt" 2>&1
rc=$?
hc_ok $([ "$rc" -eq 0 ] && grep -q 'largest first: 0 stack(s)' "$d/back.txt" &&
	grep -q '^Leaks new in B: 0 group(s)$' "$d/back.txt" && grep -q '^Leaked cycles new in B: 0$' "$d/back.txt" &&
	grep -q 'note: A was taken after B' "$d/back.txt"; echo $?) \
	"B to A: no growth, no new leak or cycle" "$(cat "$d/back.txt")"
timeout "$HC_TIMEOUT" "$HEAPCYCLE" diff --all "$d/b.hcs" "$d/a.hcs" >"$d/all.txt" 2>&1
hc_ok $(grep -q '^-500 byte(s) in -5 block(s)' "$d/all.txt"; echo $?) "--all lists shrinking stacks too" \
	"$(cat "$d/all.txt")"

# Two runs of one program: other pids and addresses, same stacks.
mkdir -p "$d/runs"
for k in 1 2; do
	timeout "$HC_TIMEOUT" "$HEAPCYCLE" run -o "$d/runs/r$k.%p.hcs" -- "$HC_PROGRAMS/leak_depths" >/dev/null 2>&1
done
set -- "$d"/runs/r1.*.hcs "$d"/runs/r2.*.hcs
[ -f "$1" ] && [ -f "$2" ] || hc_bail "leak_depths wrote no snapshots"
timeout "$HC_TIMEOUT" "$HEAPCYCLE" diff "$1" "$2" >"$d/runs.txt" 2>&1
rc=$?
hc_ok $([ "$rc" -eq 0 ] && grep -q 'note: the snapshots are of different processes' "$d/runs.txt" &&
	grep -q '^Leaks new in B: 0 group(s)$' "$d/runs.txt" &&
	grep -q '^SUMMARY: heapcycle diff: +0 byte(s) in +0 block(s) live; 0 new leak group(s)' "$d/runs.txt"; echo $?) \
	"two runs of leak_depths: different pids said, nothing new" "$(cat "$d/runs.txt")"

# Usage errors.
timeout "$HC_TIMEOUT" "$HEAPCYCLE" diff "$d/a.hcs" >/dev/null 2>"$d/u1.err"
r1=$?
timeout "$HC_TIMEOUT" "$HEAPCYCLE" diff --format sarif "$d/a.hcs" "$d/b.hcs" >/dev/null 2>"$d/u2.err"
r2=$?
head -c 100 "$d/b.hcs" >"$d/cut.hcs"
timeout "$HC_TIMEOUT" "$HEAPCYCLE" diff "$d/a.hcs" "$d/cut.hcs" >/dev/null 2>"$d/u3.err"
r3=$?
hc_ok $([ "$r1" -eq 2 ] && [ "$r2" -eq 2 ] && [ "$r3" -eq 2 ] && grep -q 'cut.hcs' "$d/u3.err"; echo $?) \
	"one snapshot, an unsupported format, a truncated snapshot: exit 2" \
	"$r1 $r2 $r3" "$(cat "$d/u1.err" "$d/u2.err" "$d/u3.err")"

hc_finish
