#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""vgcompare.py REPORT.json VALGRIND.xml...: every direct leak heapcycle
reports must be definitely lost in Valgrind memcheck's XML (one file per
process). A leak is matched on its allocating function, the innermost frame
that is not an allocator (by object when the function is unknown). Prints a
summary line, then the unmatched leaks; exits 1 when there are any. Used by
run_real_programs.sh and run_real_suites.sh."""
import json, os, sys
import xml.etree.ElementTree as ET

ALLOC = {"malloc", "calloc", "realloc", "reallocarray", "free",
         "posix_memalign", "aligned_alloc", "memalign", "valloc", "pvalloc",
         "operator new", "operator new[]", "_Znwm", "_Znam", "_ZnwmRKSt9nothrow_t", "_ZnamRKSt9nothrow_t",
         "_ZnwmSt11align_val_t", "_ZnamSt11align_val_t"}


def is_alloc(fn, obj):
    base = os.path.basename(obj or "")
    if base.startswith("libheapcycle") or base.startswith("vgpreload_"):
        return True
    if not fn:
        return False
    name = fn.split("(", 1)[0].strip()
    return name in ALLOC or name.startswith("operator new") or name.startswith("operator delete")


def alloc_site(frames):
    for fn, obj in frames:
        if not is_alloc(fn, obj):
            return fn or None, os.path.basename(obj or "") or None
    return None, None


def fn_key(fn):
    return fn.split("(", 1)[0].split("@", 1)[0].strip() if fn else None


report = json.load(open(sys.argv[1]))
names, objs, nlost = set(), set(), 0
for path in sys.argv[2:]:
    try:
        vg = ET.parse(path).getroot()
    except ET.ParseError as e:
        print("unreadable Valgrind XML %s: %s" % (path, e))
        sys.exit(1)
    for err in vg.iter("error"):
        if (err.findtext("kind") or "") != "Leak_DefinitelyLost":
            continue
        nlost += 1
        stack = err.find("stack")
        frames = [(fr.findtext("fn"), fr.findtext("obj"))
                  for fr in (stack.findall("frame") if stack is not None else [])]
        fn, obj = alloc_site(frames)
        if fn:
            names.add(fn_key(fn))
        if obj:
            objs.add(obj)
bad, ndirect = [], 0
for proc in report.get("processes", []):
    for g in proc.get("leaks") or []:
        if g.get("class") != "direct":
            continue
        ndirect += 1
        fn, obj = alloc_site([(f.get("function"), f.get("module")) for f in g.get("stack") or []])
        if not ((fn_key(fn) in names) if fn else (obj is not None and obj in objs)):
            bad.append("%s: direct blocks=%s bytes=%s allocated in %s (%s): not definitely lost in Valgrind"
                       % (os.path.basename(proc.get("exe") or "?"), g.get("blocks"), g.get("bytes"),
                          fn or "?", obj or "?"))
print("heapcycle: %d direct groups in %d processes; valgrind: %d definitely-lost records in %d processes"
      % (ndirect, len(report.get("processes", [])), nlost, len(sys.argv) - 2))
if bad:
    print("valgrind's allocating functions: %s" % (", ".join(sorted(names)) or "none"))
    print("\n".join(bad[:20]))
    sys.exit(1)
