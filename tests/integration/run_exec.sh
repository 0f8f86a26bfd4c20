#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/programs/exec_chain.c: heapcycle follows exec. The program execs
# itself 3 times (4 images, one pid); each image leaks one block of
# 100 + N bytes from leak_in_image, and tries an exec that fails first. The
# snapshots must be one per image (snap.PID.hcs, .1, .2, .3), every one a
# report of that pid whose only leak is its own image's block: a failed
# exec leaves none. expect.py's role= lines tell processes
# apart by pid, which exec keeps, so this script checks with its own code.
[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/integration/lib.sh"

hc_require_env
prog=$HC_PROGRAMS/exec_chain
[ -x "$prog" ] || hc_bail "test program $prog is missing"
hc_tmpdir
d=$HC_TMP
mkdir "$d/snap" || hc_bail "mkdir failed"
count=3

timeout "$HC_TIMEOUT" "$prog" "$count" >"$d/native.out" 2>"$d/native.err" </dev/null
native=$?
timeout "$HC_TIMEOUT" "$HEAPCYCLE" run -o "$d/snap/snap.%p.hcs" -- "$prog" "$count" \
	>"$d/run.out" 2>"$d/run.err" </dev/null
run=$?
hc_ok "$([ "$native" -eq 0 ] && [ "$run" -eq 0 ] && echo 0 || echo 1)" \
	"exec_chain: exit status 0 natively and under heapcycle" \
	"native $native, under heapcycle $run" "$(tail -n 15 "$d/run.err")"
sed 's/pid=[0-9]*/pid=P/' "$d/native.out" >"$d/native.norm"
sed 's/pid=[0-9]*/pid=P/' "$d/run.out" >"$d/run.norm"
hc_ok "$(cmp -s "$d/native.norm" "$d/run.norm" && echo 0 || echo 1)" \
	"exec_chain: same output as natively (pids aside)" \
	"$(diff "$d/native.norm" "$d/run.norm" | head -n 20)"

ls "$d/snap" >"$d/files"
set -- $(find "$d/snap" -type f -name 'snap.*' | sort)
if [ $# -gt 0 ]; then
	"$HEAPCYCLE" report --format json "$@" >"$d/report.json" 2>"$d/report.err"
	rstatus=$?
else
	: >"$d/report.json"
	rstatus=255
fi
python3 - "$d/run.out" "$d/files" "$d/report.json" "$rstatus" "$count" "$HC_NTESTS" \
	"$d/report.err" >"$d/tap" <<'PYEOF'
import json, re, sys

out, files, rep, rstatus, count, start, rerr = sys.argv[1:8]
rstatus, count, n = int(rstatus), int(count), int(start)


def ok(cond, desc, diag=()):
    global n
    n += 1
    print("%s %d - exec_chain: %s" % ("ok" if cond else "not ok", n, desc))
    if not cond:
        for d in diag:
            for sub in str(d).splitlines() or [""]:
                print("# " + sub)


images = [tuple(map(int, m.groups())) for m in
          re.finditer(r"^exec_chain: image=(\d+) pid=(\d+)$", open(out).read(), re.M)]
pids = {pid for _, pid in images}
ok([i for i, _ in images] == list(range(count, -1, -1)) and len(pids) == 1,
   "%d images ran in one process" % (count + 1), ["images: %s" % images])
pid = images[0][1] if images else -1
names = sorted(open(files).read().split())
want = ["snap.%d.hcs" % pid] + ["snap.%d.hcs.%d" % (pid, k) for k in range(1, count + 1)]
ok(sorted(names) == sorted(want), "one snapshot per image: %s" % ", ".join(want),
   ["files: %s" % names])
report = None
try:
    if rstatus == 0:
        report = json.load(open(rep))
except ValueError as e:
    pass
ok(report is not None, "heapcycle report reads them",
   ["report exited %d" % rstatus] + open(rerr).read().splitlines()[-8:])
procs = report.get("processes", []) if report else []


def order(p):
    # snap.PID.hcs is the first image, .1 the second, ...
    m = re.search(r"\.hcs(?:\.(\d+))?$", p.get("snapshot") or "")
    return int(m.group(1) or 0) if m else 99


procs.sort(key=order)
ok(len(procs) == count + 1 and all(p.get("pid") == pid for p in procs),
   "the report holds %d processes with pid %d" % (count + 1, pid),
   ["pids: %s" % [p.get("pid") for p in procs]])
for k, p in enumerate(procs[:count + 1]):
    image = count - k
    leaks = [g for g in p.get("leaks") or [] if g.get("class") != "reachable"]
    fns = [[f.get("function") for f in g.get("stack") or []] for g in leaks]
    good = (len(leaks) == 1 and leaks[0].get("class") == "direct" and
            leaks[0].get("blocks") == 1 and leaks[0].get("bytes") == 100 + image and
            "leak_in_image" in fns[0] and not p.get("cycles"))
    ok(good, "snapshot %s (image %d) holds only its leak: direct 1 block of %d bytes in leak_in_image"
       % ((p.get("snapshot") or "?").rsplit("/", 1)[-1], image, 100 + image),
       ["leaks: %s" % [(g.get("class"), g.get("blocks"), g.get("bytes"), f[:3])
                       for g, f in zip(leaks, fns)], "cycles: %d" % len(p.get("cycles") or [])])
PYEOF
cat "$d/tap"
HC_NTESTS=$((HC_NTESTS + $(grep -c -E '^(not )?ok ' "$d/tap")))
[ -s "$d/tap" ] || hc_ok 1 "exec_chain: the checker ran"

# One image: its 100 bytes are counted once, at exit, not also at the
# failed exec, so a budget of 100 bytes holds.
timeout "$HC_TIMEOUT" "$HEAPCYCLE" run --check --max-leaked-bytes=100 -- "$prog" 0 \
	>"$d/budget.out" 2>"$d/budget.err" </dev/null
budget=$?
hc_ok "$([ "$budget" -eq 0 ] && echo 0 || echo 1)" \
	"exec_chain 0: --check --max-leaked-bytes=100 passes (the leak counted once)" \
	"exit status $budget" "$(tail -n 15 "$d/budget.err")"
hc_finish
