# SPDX-License-Identifier: MIT
# Shared code of the stress suite (sourced by run_stress.sh, on top of
# tests/integration/lib.sh for TAP, temporary directories and the
# environment checks). hs_run runs one stress program natively and under
# `heapcycle run`, each under a watchdog, and checks the run against the
# native one and against what the program says it holds.
#
# The program's side of the protocol: at the end, each of its processes
# prints on standard output one line per claim (pid is getpid()):
#   stress: pid=P live fn=NAME blocks=N bytes=B
#       the process still holds N blocks (B requested bytes) whose
#       allocation stack has a frame NAME (NAME* matches a prefix), leaked
#       or not; blocks=LO..HI (and no bytes=) where a concurrent thread may
#       hold a few more at the moment of the snapshot;
#   stress: pid=P leak class=C fn=NAME blocks=N bytes=B
#       the process leaked these on purpose: the leak groups of class C
#       whose stack has a frame NAME add up to exactly N blocks, B bytes
#       (again blocks=LO..HI without bytes= for blocks in flight).
# "live~" and "leak~" mark counts that depend on timing: standard output is
# compared with the native run's with their numbers (and all pids) masked.
# Every leak group and every cycle of a process must be claimed by one of
# its leak lines, every process of the report must have announced itself
# and every announced process must have a snapshot.
#
# Environment, besides tests/integration/lib.sh's: HC_STRESS, the build
# directory of tests/stress (the programs and .libs/libstress_dl.so).

[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/integration/lib.sh"

: "${HS_TIMEOUT:=60}"		# seconds: a run that takes longer is a deadlock

hs_require_env()
{
	hc_require_env
	[ -n "$HC_STRESS" ] || hc_bail "HC_STRESS is not set (run through make check)"
	[ -d "$HC_STRESS" ] || hc_bail "HC_STRESS=$HC_STRESS is not a directory"
	hc_tmpdir
	HS_DIR=$HC_TMP
	hs_write_checker "$HS_DIR/check.py"
}

# hs_run LABEL STATUS [--no-snapshot] PROG [ARGS...]
# STATUS is the exit status the program must have natively (and so under
# heapcycle). With --no-snapshot the process is not expected to leave a
# snapshot (it dies of a signal): the tool must then say so on stderr.
hs_run()
{
	_hs_label=$1
	_hs_want=$2
	shift 2
	_hs_nosnap=
	if [ "$1" = --no-snapshot ]; then
		_hs_nosnap=--no-snapshot
		shift
	fi
	_hs_prog=$HC_STRESS/$1
	shift
	[ -x "$_hs_prog" ] || hc_bail "stress program $_hs_prog is missing"
	_hs_d=$HS_DIR/$(printf '%s' "$_hs_label" | tr -c 'A-Za-z0-9_.-' _)
	mkdir -p "$_hs_d/snap" || hc_bail "mkdir failed"

	_hs_t0=$(date +%s)
	timeout -k 5 "$HS_TIMEOUT" "$_hs_prog" "$@" >"$_hs_d/native.out" 2>"$_hs_d/native.err" </dev/null
	_hs_native=$?
	_hs_t1=$(date +%s)
	timeout -k 5 "$HS_TIMEOUT" "$HEAPCYCLE" run -o "$_hs_d/snap/s.%p.hcs" -- "$_hs_prog" "$@" \
		>"$_hs_d/run.out" 2>"$_hs_d/run.err" </dev/null
	_hs_run=$?
	_hs_t2=$(date +%s)
	echo "# $_hs_label: native ${_hs_native} in $((_hs_t1 - _hs_t0)) s, under heapcycle ${_hs_run} in $((_hs_t2 - _hs_t1)) s"

	hc_ok "$([ "$_hs_native" -eq "$_hs_want" ] && echo 0 || echo 1)" \
		"$_hs_label: native run exits $_hs_want" \
		"native exit status $_hs_native$([ "$_hs_native" -eq 124 ] && echo ' (timed out)')" \
		"$(tail -n 10 "$_hs_d/native.err")"
	if [ "$_hs_run" -eq 124 ] || [ "$_hs_run" -eq 137 ]; then
		hc_ok 1 "$_hs_label: no deadlock under heapcycle" \
			"killed by the ${HS_TIMEOUT} s watchdog (status $_hs_run)" \
			"$(tail -n 10 "$_hs_d/run.err")"
	else
		hc_ok 0 "$_hs_label: no deadlock under heapcycle"
	fi
	hc_ok "$([ "$_hs_run" -eq "$_hs_native" ] && echo 0 || echo 1)" \
		"$_hs_label: same exit status as natively" \
		"native $_hs_native, under heapcycle $_hs_run" "stderr under heapcycle:" \
		"$(tail -n 15 "$_hs_d/run.err")"

	set -- $(find "$_hs_d/snap" -type f -name 's.*.hcs*' | sort)
	_hs_nsnap=$#
	if [ "$_hs_nsnap" -gt 0 ]; then
		"$HEAPCYCLE" report --format json --show-reachable "$@" \
			>"$_hs_d/report.json" 2>"$_hs_d/report.err"
		_hs_report=$?
	else
		: >"$_hs_d/report.json"
		_hs_report=0
	fi
	python3 "$HS_DIR/check.py" --label "$_hs_label" --start "$HC_NTESTS" \
		--native "$_hs_d/native.out" --run "$_hs_d/run.out" \
		--run-stderr "$_hs_d/run.err" --json "$_hs_d/report.json" \
		--report-status "$_hs_report" --report-stderr "$_hs_d/report.err" \
		--snapshots "$_hs_nsnap" $_hs_nosnap >"$_hs_d/tap"
	_hs_py=$?
	cat "$_hs_d/tap"
	HC_NTESTS=$((HC_NTESTS + $(grep -c -E '^(not )?ok ' "$_hs_d/tap")))
	[ "$_hs_py" -le 1 ] || hc_ok 1 "$_hs_label: check.py ran" "check.py exited $_hs_py"
	if [ -n "$HC_KEEP" ]; then
		echo "# $_hs_label: files kept in $_hs_d"
		HC_TMPDIRS=$(printf '%s' "$HC_TMPDIRS" | sed "s| $HS_DIR||")
	fi
}

hs_write_checker()
{
	cat >"$1" <<'PYEOF'
import argparse, json, re, sys

LINE_RE = re.compile(r"^stress: pid=(\d+) (live|leak)~? (.*)$")
PID_RE = re.compile(r"\bpid=\d+")
VARY_RE = re.compile(r"^(stress: pid=\d+ (?:live|leak)~ .*?)\bblocks=\d+( bytes=\d+)?", re.M)
ap = argparse.ArgumentParser()
for a in ("--label", "--native", "--run", "--run-stderr", "--json", "--report-stderr"):
    ap.add_argument(a, required=True)
ap.add_argument("--start", type=int, required=True)
ap.add_argument("--report-status", type=int, required=True)
ap.add_argument("--snapshots", type=int, required=True)
ap.add_argument("--no-snapshot", action="store_true")
args = ap.parse_args()
n = args.start
failed = 0


def ok(cond, desc, diag=()):
    global n, failed
    n += 1
    print("%s %d - %s: %s" % ("ok" if cond else "not ok", n, args.label, desc.replace("#", "\\#")))
    if not cond:
        failed += 1
        for d in diag:
            for sub in str(d).splitlines() or [""]:
                print("# " + sub)


def text(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


native, run = text(args.native), text(args.run)
stderr_tail = ["stderr under heapcycle:"] + text(args.run_stderr).splitlines()[-12:]
# Pids differ between the runs and nothing else may.
# The counts of a "live~" or "leak~" line depend on timing.
norm_native = PID_RE.sub("pid=P", VARY_RE.sub(r"\1blocks=N bytes=B", native))
norm_run = PID_RE.sub("pid=P", VARY_RE.sub(r"\1blocks=N bytes=B", run))
if norm_native == norm_run:
    ok(True, "same standard output as natively (%d lines)" % len(native.splitlines()))
else:
    import difflib
    ok(False, "same standard output as natively",
       list(difflib.unified_diff(norm_native.splitlines(), norm_run.splitlines(),
                                 "native", "heapcycle", lineterm=""))[:30] + stderr_tail)


def parse_claim(kind, rest):
    kv = {}
    for tok in rest.split():
        k, _, v = tok.partition("=")
        kv[k] = v
    lo = hi = None
    b = kv.get("blocks", "")
    m = re.fullmatch(r"(\d+)(?:\.\.(\d+))?", b)
    if m:
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) else lo
    return {"kind": kind, "fn": kv.get("fn"), "cls": kv.get("class"), "lo": lo, "hi": hi,
            "bytes": int(kv["bytes"]) if "bytes" in kv else None, "text": kind + " " + rest}


claims = {}
for line in run.splitlines():
    m = LINE_RE.match(line)
    if m:
        claims.setdefault(int(m.group(1)), []).append(parse_claim(m.group(2), m.group(3)))
bad = [c["text"] for cs in claims.values() for c in cs
       if not c["fn"] or c["lo"] is None or (c["kind"] == "leak" and not c["cls"])]
ok(bool(claims) and not bad, "the program states what it holds (%d processes)" % len(claims),
   ["malformed claims: %s" % bad] if bad else ["no 'stress: pid=' line on stdout"])

if args.no_snapshot:
    err = text(args.run_stderr)
    ok(args.snapshots == 0, "no snapshot file (the process died of a signal)",
       ["%d snapshot files" % args.snapshots])
    ok("no snapshot" in err, "heapcycle run says there is no snapshot", stderr_tail)
    sys.exit(1 if failed else 0)

report = None
diag = ["heapcycle report exited %d" % args.report_status] + text(args.report_stderr).splitlines()[-8:]
if args.snapshots == 0:
    diag = ["no snapshot file was written"] + stderr_tail
elif args.report_status == 0:
    try:
        report = json.loads(text(args.json))
        if report.get("version") != 1 or not isinstance(report.get("processes"), list):
            diag.append("not a version 1 report")
            report = None
    except ValueError as e:
        diag.append("invalid JSON: %s" % e)
ok(report is not None, "heapcycle report reads the %d snapshot(s)" % args.snapshots, diag)
procs = report["processes"] if report else []
by_pid = {}
for p in procs:
    by_pid.setdefault(int(p.get("pid", -1)), []).append(p)
ok(report is not None and sorted(by_pid) == sorted(claims) and
   all(len(v) == 1 for v in by_pid.values()),
   "one snapshot per announced process (%d)" % len(claims),
   ["announced pids: %s" % sorted(claims),
    "snapshot pids: %s" % sorted((pid, len(v)) for pid, v in by_pid.items())])


def fn_match(frame, want):
    f = (frame.get("function") or "").split("@", 1)[0]
    if want.endswith("*"):
        return f.startswith(want[:-1])
    return f == want


def has_fn(stack, want):
    return any(fn_match(fr, want) for fr in stack or [])


def fmt(g):
    names = [(f.get("function") or "?") for f in (g.get("stack") or [])[:6]]
    return "%s blocks=%s bytes=%s at %s" % (g.get("class"), g.get("blocks"), g.get("bytes"),
                                            " <- ".join(names) or "(no stack)")


def in_range(c, blocks, nbytes):
    return c["lo"] <= blocks <= c["hi"] and (c["bytes"] is None or c["bytes"] == nbytes)


for pid in sorted(claims):
    cs = claims[pid]
    plist = by_pid.get(pid) or []
    if len(plist) != 1:
        continue
    p = plist[0]
    groups = p.get("leaks") or []
    leaks = [g for g in groups if g.get("class") != "reachable"]
    flags = p.get("flags") or []
    ok(not flags, "pid %d: the snapshot is complete (flags %s)" % (pid, flags),
       ["summary: %s" % json.dumps(p.get("summary"))] + stderr_tail)
    claimed = set()
    for c in cs:
        if c["kind"] == "leak":
            hit = [i for i, g in enumerate(leaks)
                   if g.get("class") == c["cls"] and has_fn(g.get("stack"), c["fn"])]
            claimed.update(hit)
            blocks = sum(leaks[i].get("blocks", 0) for i in hit)
            nbytes = sum(leaks[i].get("bytes", 0) for i in hit)
            what = "leaked"
        else:
            hit = [g for g in groups if has_fn(g.get("stack"), c["fn"])]
            blocks = sum(g.get("blocks", 0) for g in hit)
            nbytes = sum(g.get("bytes", 0) for g in hit)
            what = "live"
        ok(in_range(c, blocks, nbytes), "pid %d: %s" % (pid, c["text"]),
           ["the snapshot has %d blocks, %d bytes %s with %s in their stack" %
            (blocks, nbytes, what, c["fn"])] + [fmt(g) for g in groups][:25])
    extra = [fmt(g) for i, g in enumerate(leaks) if i not in claimed]
    cycles = p.get("cycles") or []
    ok(not extra and not cycles, "pid %d: no leak but the ones made on purpose" % pid,
       extra + ["%d leaked cycles" % len(cycles)] if cycles else extra)
    s = p.get("summary") or {}
    leaked = s.get("leaked") or {}
    ok(leaked.get("blocks") == sum(g.get("blocks", 0) for g in leaks) and
       leaked.get("bytes") == sum(g.get("bytes", 0) for g in leaks),
       "pid %d: the summary's leaked total is the sum of its groups" % pid,
       ["summary: %s" % json.dumps(s)])
sys.exit(1 if failed else 0)
PYEOF
}
