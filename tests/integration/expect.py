#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks a heapcycle JSON report against the EXPECT lines of a test program.

A test program under tests/programs/ declares what it leaks in comments, like
LeakSanitizer's CHECK lines (STYLE.md, section 8). One directive per comment:

  /* EXPECT: direct blocks=1 bytes=40 fn=leak_level_3 fn=main */
  /* EXPECT: indirect blocks=9 bytes=360 fn=list_push */
  /* EXPECT: possible blocks=1 bytes=64 fn=make_interior */
      A leak group of that class (one allocation stack) with exactly these
      blocks and bytes. Every fn= must name a frame of the group's stack, in
      the order given, innermost first (other frames may come between).
  /* EXPECT: cycle members=2 bytes=96 retained=96 fn=person_new */
  /* EXPECT: cycle members=2 bytes=96 type=Person fn=person_new */
      An entry of the process' "cycles" array with that many members and
      bytes (retained= checks retained_bytes, root=true|false the root flag,
      type=T that every member's type is T, or T with a note in
      parentheses after it; types=A,B that the members' types are A and
      B, one member each, notes allowed as for type=); the fn= frames must
      all be in one member's stack.
  /* EXPECT: no-leaks */
      No leak group, no cycle, nothing leaked in the summary.
  /* EXPECT: reachable-at-least blocks=1 bytes=48 */
      The summary's still-reachable totals are at least these.
  /* EXPECT: processes=2 */     the report holds that many processes.
  /* EXPECT: exit=3 */          the program's exit status, both under
                                heapcycle and run natively (default 0).
  /* EXPECT: stdout=TEXT */     TEXT (the rest of the comment) is a whole
                                line of the program's standard output.

Scoping prefixes:
  mode=NAME  the line applies only when the program is run with
             --mode NAME (its argument; see run_exit_paths.sh).
  role=NAME  the line applies to one process of a multi-process report. The
             program names its processes by printing
             "heapcycle-test: role=NAME pid=PID" on standard output; the
             report's process with that pid is the one checked. A leak line
             without role= is checked against the only process, and is an
             error when the report holds more than one.

Exactness: besides one TAP test per EXPECT line, one test per process
requires that it holds no leak group (direct, indirect or possible) and no
cycle that no EXPECT line claimed, that its "cycle" leak groups are exactly
the cycle-class members of the claimed cycles, and that its summary's leaked
total equals the sum of its groups. A process no role names must not leak.

Prints TAP test lines numbered from --start + 1 (no plan: lib.sh prints it
once for all the runs of a script) and "# " diagnostics on failure.
"""

import argparse
import json
import re
import sys

LEAK_CLASSES = ("direct", "indirect", "possible")
ROLE_RE = re.compile(r"^heapcycle-test: role=(\S+) pid=(\d+)\s*$")
EXPECT_RE = re.compile(r"EXPECT:\s*(.*?)\s*(?:\*/\s*)?$")


class Tap:
    def __init__(self, start, label):
        self.n = start
        self.label = label
        self.failed = 0

    def result(self, ok, desc, diag=()):
        self.n += 1
        desc = desc.replace("#", "\\#")
        print("%s %d - %s: %s" % ("ok" if ok else "not ok", self.n, self.label, desc))
        if not ok:
            self.failed += 1
            for line in diag:
                for sub in str(line).splitlines() or [""]:
                    print("# " + sub)
        sys.stdout.flush()


class Expect:
    def __init__(self, lineno, text):
        self.lineno = lineno
        self.text = text
        self.mode = None
        self.role = None
        self.kind = None
        self.kv = {}
        self.fns = []
        self.stdout = None
        self.error = None
        self._parse()

    def _parse(self):
        rest = self.text
        while True:
            m = re.match(r"(mode|role)=(\S+)\s*", rest)
            if not m:
                break
            setattr(self, m.group(1), m.group(2))
            rest = rest[m.end():]
        if rest.startswith("stdout="):
            self.kind = "stdout"
            self.stdout = rest[len("stdout="):]
            return
        toks = rest.split()
        if not toks:
            self.error = "empty EXPECT"
            return
        head = toks[0]
        if "=" in head:
            key, _, val = head.partition("=")
            if key not in ("exit", "processes") or len(toks) != 1:
                self.error = "unknown EXPECT %r" % rest
                return
            self.kind = key
            try:
                self.kv[key] = int(val)
            except ValueError:
                self.error = "%s= needs an integer" % key
            return
        self.kind = head
        allowed = {
            "direct": ("blocks", "bytes", "fn"),
            "indirect": ("blocks", "bytes", "fn"),
            "possible": ("blocks", "bytes", "fn"),
            "cycle": ("members", "bytes", "retained", "root", "type", "types", "fn"),
            "reachable-at-least": ("blocks", "bytes"),
            "no-leaks": (),
        }
        required = {
            "direct": ("blocks", "bytes", "fn"),
            "indirect": ("blocks", "bytes", "fn"),
            "possible": ("blocks", "bytes", "fn"),
            "cycle": ("members", "bytes", "fn"),
            "reachable-at-least": ("blocks",),
            "no-leaks": (),
        }
        if head not in allowed:
            self.error = "unknown EXPECT directive %r" % head
            return
        for tok in toks[1:]:
            key, eq, val = tok.partition("=")
            if not eq or key not in allowed[head]:
                self.error = "bad field %r for %s" % (tok, head)
                return
            if key == "fn":
                self.fns.append(val)
            elif key == "root":
                if val not in ("true", "false"):
                    self.error = "root= is true or false"
                    return
                self.kv[key] = val == "true"
            elif key in ("type", "types"):
                self.kv[key] = val
            else:
                try:
                    self.kv[key] = int(val)
                except ValueError:
                    self.error = "%s= needs an integer" % key
                    return
        for key in required[head]:
            if key == "fn" and not self.fns:
                self.error = "%s needs at least one fn=" % head
            elif key != "fn" and key not in self.kv:
                self.error = "%s needs %s=" % (head, key)

    def describe(self):
        return "line %d: %s" % (self.lineno, self.text)


def type_is(got, want):
    """A member's type is want, or want followed by a note in parentheses
    ("Node (in a shared_ptr control block)")."""
    return isinstance(got, str) and (got == want or got.startswith(want + " ("))


def parse_source(path):
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for i, line in enumerate(f, 1):
            if "EXPECT:" not in line:
                continue
            m = EXPECT_RE.search(line.rstrip("\n"))
            if m:
                out.append(Expect(i, m.group(1)))
    return out


def func_matches(frame_fn, want):
    """fn=NAME matches a frame whose function is NAME, or whose demangled
    C++ name is NAME(...) or ends in ::NAME(...). A fn= containing '(' must
    equal the whole demangled name."""
    if not frame_fn:
        return False
    if "(" in want:
        return frame_fn == want
    base = frame_fn.split("(", 1)[0]
    return base == want or base.endswith("::" + want)


def stack_has(stack, fns):
    """True when every name of fns names a frame of stack, in that order."""
    i = 0
    for frame in stack or []:
        if i < len(fns) and func_matches(frame.get("function"), fns[i]):
            i += 1
    return i == len(fns)


def stack_key(stack):
    return tuple((f.get("function"), str(f.get("pc"))) for f in stack or [])


def fmt_stack(stack, limit=8):
    names = []
    for f in (stack or [])[:limit]:
        name = f.get("function") or "?"
        if f.get("file"):
            name += " (%s:%s)" % (f.get("file").rsplit("/", 1)[-1], f.get("line"))
        names.append(name)
    if stack and len(stack) > limit:
        names.append("...")
    return " <- ".join(names) if names else "(no stack)"


def dump_process(proc):
    lines = ["process pid=%s exe=%s reason=%s" %
             (proc.get("pid"), proc.get("exe"), proc.get("reason"))]
    lines.append("  summary: %s" % json.dumps(proc.get("summary"), sort_keys=True))
    for g in proc.get("leaks") or []:
        lines.append("  leak %s blocks=%s bytes=%s at %s" %
                     (g.get("class"), g.get("blocks"), g.get("bytes"),
                      fmt_stack(g.get("stack"))))
    for c in proc.get("cycles") or []:
        mem = c.get("members") or []
        lines.append("  cycle members=%d bytes=%s retained=%s root=%s" %
                     (len(mem), c.get("bytes"), c.get("retained_bytes"), c.get("root")))
        for m in mem:
            lines.append("    member %s size=%s class=%s at %s" %
                         (m.get("address"), m.get("size"), m.get("class"),
                          fmt_stack(m.get("stack"))))
    if not (proc.get("leaks") or proc.get("cycles")):
        lines.append("  (no leaks, no cycles)")
    return lines


def summary_pair(summary, key):
    v = (summary or {}).get(key)
    if isinstance(v, dict):
        return v.get("blocks"), v.get("bytes")
    return None, None


def read_text(path):
    if not path:
        return ""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--mode", default=None)
    ap.add_argument("--label", default="test")
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--run-status", type=int, required=True)
    ap.add_argument("--native-status", type=int, default=None)
    ap.add_argument("--report-status", type=int, required=True)
    ap.add_argument("--snapshots", type=int, required=True)
    ap.add_argument("--stdout", default=None)
    ap.add_argument("--native-stdout", default=None)
    ap.add_argument("--stderr", default=None)
    ap.add_argument("--report-stderr", default=None)
    args = ap.parse_args()
    tap = Tap(args.start, args.label)

    try:
        all_expects = parse_source(args.source)
    except OSError as e:
        tap.result(False, "read EXPECT lines", [str(e)])
        return 1
    expects = [e for e in all_expects if e.mode is None or e.mode == args.mode]
    run_stderr = read_text(args.stderr)

    def stderr_tail():
        lines = run_stderr.splitlines()
        return ["stderr of heapcycle run (last 15 lines):"] + lines[-15:]

    bad = [e for e in all_expects if e.error]
    tap.result(bool(all_expects) and not bad,
               "source has well-formed EXPECT lines",
               ["%s: %s" % (e.describe(), e.error) for e in bad] or
               ["no EXPECT line in %s" % args.source])
    expects = [e for e in expects if not e.error]

    tap.result(args.snapshots >= 1, "heapcycle run wrote a snapshot",
               ["no snapshot file found; heapcycle run exited %d" % args.run_status]
               + stderr_tail())
    report = None
    diag = ["heapcycle report exited %d" % args.report_status]
    diag += read_text(args.report_stderr).splitlines()[-10:]
    if args.report_status == 0:
        try:
            with open(args.json, encoding="utf-8") as f:
                report = json.load(f)
            if not isinstance(report, dict) or not isinstance(report.get("processes"), list):
                diag.append("no \"processes\" array at the top level")
                report = None
            elif report.get("version") != 1:
                diag.append("version is %r, want 1" % report.get("version"))
                report = None
        except (OSError, ValueError) as e:
            diag.append("invalid JSON: %s" % e)
            report = None
    tap.result(report is not None, "heapcycle report --format json gives a version 1 report", diag)
    procs = report["processes"] if report else []

    # Exit status: under heapcycle and natively.
    exit_exp = [e for e in expects if e.kind == "exit"]
    want_exit = exit_exp[-1].kv["exit"] if exit_exp else 0
    d = ["under heapcycle: %d; natively: %s; expected %d" %
         (args.run_status, args.native_status, want_exit)]
    if args.run_status == 124:
        d.append("(124: the run timed out)")
    tap.result(args.run_status == want_exit and
               (args.native_status is None or args.native_status == want_exit),
               "exit status %d under heapcycle and natively" % want_exit, d + stderr_tail())

    out_text = read_text(args.stdout)
    out_lines = out_text.splitlines()
    for e in expects:
        if e.kind == "stdout":
            native = read_text(args.native_stdout).splitlines() if args.native_stdout else None
            ok = e.stdout in out_lines and (native is None or e.stdout in native)
            tap.result(ok, "%s (under heapcycle and natively)" % e.describe(),
                       ["stdout under heapcycle:"] + out_lines[-10:] +
                       (["stdout natively:"] + native[-10:] if native is not None else []))

    for e in expects:
        if e.kind == "processes":
            tap.result(report is not None and len(procs) == e.kv["processes"], e.describe(),
                       ["the report holds %d processes" % len(procs)] +
                       sum((dump_process(p) for p in procs), []))

    # Which process each expectation is about.
    roles = {}
    for line in out_lines:
        m = ROLE_RE.match(line)
        if m:
            roles[m.group(1)] = int(m.group(2))
    by_pid = {}
    for p in procs:
        try:
            by_pid[int(p.get("pid"))] = p
        except (TypeError, ValueError):
            pass

    def process_for(e):
        """Returns (process or None, why)."""
        if report is None:
            return None, "no report"
        if e.role is not None:
            if e.role not in roles:
                return None, "the program printed no pid for role=%s" % e.role
            p = by_pid.get(roles[e.role])
            if p is None:
                return None, "no process with pid %d (role=%s) in the report; pids: %s" % (
                    roles[e.role], e.role, sorted(by_pid))
            return p, ""
        if len(procs) != 1:
            return None, "%d processes in the report and no role= on this line" % len(procs)
        return procs[0], ""

    claimed_groups = {}   # id(proc) -> set of group indices
    claimed_cycles = {}   # id(proc) -> set of cycle indices
    scoped = {}           # id(proc) -> True when some leak EXPECT line is about it

    leak_kinds = LEAK_CLASSES + ("cycle", "no-leaks", "reachable-at-least")
    for e in expects:
        if e.kind not in leak_kinds:
            continue
        proc, why = process_for(e)
        if proc is None:
            tap.result(False, e.describe(), [why])
            continue
        scoped[id(proc)] = True
        groups = proc.get("leaks") or []
        cycles = proc.get("cycles") or []
        cg = claimed_groups.setdefault(id(proc), set())
        cc = claimed_cycles.setdefault(id(proc), set())
        summary = proc.get("summary") or {}
        if e.kind in LEAK_CLASSES:
            hit = None
            for i, g in enumerate(groups):
                if (i not in cg and g.get("class") == e.kind and
                        g.get("blocks") == e.kv["blocks"] and g.get("bytes") == e.kv["bytes"] and
                        stack_has(g.get("stack"), e.fns)):
                    hit = i
                    break
            if hit is not None:
                cg.add(hit)
            tap.result(hit is not None, e.describe(),
                       ["no unclaimed %s group with blocks=%d bytes=%d and frames %s" %
                        (e.kind, e.kv["blocks"], e.kv["bytes"], " <- ".join(e.fns))] +
                       dump_process(proc))
        elif e.kind == "cycle":
            hit = None
            for i, c in enumerate(cycles):
                mem = c.get("members") or []
                if (i in cc or len(mem) != e.kv["members"] or c.get("bytes") != e.kv["bytes"]):
                    continue
                if "retained" in e.kv and c.get("retained_bytes") != e.kv["retained"]:
                    continue
                if "root" in e.kv and c.get("root") is not e.kv["root"]:
                    continue
                # type=T: every member is named T (heapcycle_set_type, or a
                # C++ class from its vtable)
                if "type" in e.kv and not all(type_is(m.get("type"), e.kv["type"])
                                              for m in mem):
                    continue
                # types=A,B: one member named each, no other member
                if "types" in e.kv:
                    left = [m.get("type") for m in mem]
                    for want in e.kv["types"].split(","):
                        at = next((k for k, t in enumerate(left) if type_is(t, want)), None)
                        if at is None:
                            break
                        del left[at]
                    if at is None or left:
                        continue
                if not any(stack_has(m.get("stack"), e.fns) for m in mem):
                    continue
                hit = i
                break
            if hit is not None:
                cc.add(hit)
            tap.result(hit is not None, e.describe(),
                       ["no unclaimed cycle matches"] + dump_process(proc))
        elif e.kind == "no-leaks":
            leaked = summary_pair(summary, "leaked")
            ok = not groups and not cycles and leaked[0] in (None, 0)
            tap.result(ok, e.describe(), dump_process(proc))
        elif e.kind == "reachable-at-least":
            blocks, nbytes = summary_pair(summary, "reachable")
            ok = (isinstance(blocks, int) and blocks >= e.kv["blocks"] and
                  ("bytes" not in e.kv or (isinstance(nbytes, int) and nbytes >= e.kv["bytes"])))
            tap.result(ok, e.describe(),
                       ["summary.reachable: blocks=%s bytes=%s" % (blocks, nbytes)] +
                       dump_process(proc))

    # Exactness, per process.
    for proc in procs:
        groups = proc.get("leaks") or []
        cycles = proc.get("cycles") or []
        cg = claimed_groups.get(id(proc), set())
        cc = claimed_cycles.get(id(proc), set())
        problems = []
        for i, g in enumerate(groups):
            if g.get("class") in LEAK_CLASSES and i not in cg:
                problems.append("unexpected %s group: blocks=%s bytes=%s at %s" %
                                (g.get("class"), g.get("blocks"), g.get("bytes"),
                                 fmt_stack(g.get("stack"))))
            elif g.get("class") not in LEAK_CLASSES + ("cycle",):
                problems.append("leak group with unknown class %r" % g.get("class"))
        for i, c in enumerate(cycles):
            if i not in cc:
                problems.append("unexpected cycle: members=%d bytes=%s" %
                                (len(c.get("members") or []), c.get("bytes")))
        # "cycle" groups are the claimed cycles' cycle-class members,
        # grouped by allocation stack.
        member_stacks = {}
        want_blocks = want_bytes = 0
        for i in cc:
            for m in cycles[i].get("members") or []:
                if m.get("class") == "cycle":
                    want_blocks += 1
                    want_bytes += m.get("size") or 0
                    member_stacks.setdefault(stack_key(m.get("stack")), 0)
                    member_stacks[stack_key(m.get("stack"))] += 1
        got_blocks = got_bytes = 0
        for g in groups:
            if g.get("class") != "cycle":
                continue
            got_blocks += g.get("blocks") or 0
            got_bytes += g.get("bytes") or 0
            key = stack_key(g.get("stack"))
            if member_stacks.get(key) != g.get("blocks"):
                problems.append("cycle group blocks=%s bytes=%s at %s: %s members of the "
                                "expected cycles have that stack" %
                                (g.get("blocks"), g.get("bytes"), fmt_stack(g.get("stack")),
                                 member_stacks.get(key, 0)))
        if (got_blocks, got_bytes) != (want_blocks, want_bytes):
            problems.append("cycle groups total blocks=%d bytes=%d, but the expected cycles "
                            "have %d cycle-class members of %d bytes" %
                            (got_blocks, got_bytes, want_blocks, want_bytes))
        lb, lbytes = summary_pair(proc.get("summary"), "leaked")
        sb = sum(g.get("blocks") or 0 for g in groups)
        sbytes = sum(g.get("bytes") or 0 for g in groups)
        if lb is None:
            problems.append("summary has no leaked totals")
        elif (lb, lbytes) != (sb, sbytes):
            problems.append("summary.leaked blocks=%s bytes=%s, leak groups sum to %d/%d" %
                            (lb, lbytes, sb, sbytes))
        who = [r for r, pid in roles.items() if by_pid.get(pid) is proc]
        name = "process %s%s" % (proc.get("pid"), " (role=%s)" % who[0] if who else "")
        if not scoped.get(id(proc)) and not problems:
            note = " (no EXPECT line names it, so it must not leak)"
        else:
            note = ""
        tap.result(not problems, "%s has exactly the expected leaks and cycles%s" % (name, note),
                   problems + dump_process(proc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
