#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Prints the tables of the heapcycle benchmark suite from run.sh's raw
files and writes them as CSV. Standard library only.

Per workload and variant: the median wall time over the repetitions, its
ratio to the native (glibc malloc) median of the same run, and the median
peak RSS. memcheck runs on a reduced input: its time is scaled back up
linearly (x the input divisor) and its ratio is also given against native
on the same reduced input. Then the derived numbers issue 5 asks for, and
the scale benchmark."""
import argparse
import csv
import math
import statistics
import sys
from collections import defaultdict

ORDER = ["native", "jemalloc", "heapcycle", "heapcycle-nosnap",
         "heapcycle-nostacks", "heapcycle-noscrub", "heaptrack", "memcheck", "lsan"]
LABEL = {
    "native": "native (glibc)",
    "jemalloc": "jemalloc (LD_PRELOAD)",
    "heapcycle": "heapcycle run",
    "heapcycle-nosnap": "heapcycle, no exit snapshot",
    "heapcycle-nostacks": "heapcycle --no-stacks",
    "heapcycle-noscrub": "heapcycle --no-stacks --no-scrub-freed",
    "heaptrack": "heaptrack",
    "memcheck": "memcheck --leak-check=full",
    "lsan": "LeakSanitizer (clang)",
}
REAL = ["python", "sqlite", "gcc", "perl"]


def med(xs):
    return statistics.median(xs) if xs else None


def load(path):
    runs = defaultdict(list)
    fails = defaultdict(int)
    factor = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            wl, v, rep, wall, rss, st, size, fac = line.split()
            if st != "0":
                fails[(wl, v)] += 1
                continue
            runs[(wl, v)].append((float(wall), int(rss)))
            factor[(wl, v)] = float(fac)
    return runs, fails, factor


def fmt(x, spec):
    return "-" if x is None else format(x, spec)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--scale-raw")
    ap.add_argument("--csv", required=True)
    ap.add_argument("--scale-csv")
    ap.add_argument("--vg-div", default="10")
    ap.add_argument("--scale", default="1")
    a = ap.parse_args()

    runs, fails, factor = load(a.raw)
    workloads = []
    for (wl, _v) in list(runs) + list(fails):
        if wl not in workloads:
            workloads.append(wl)
    rows = []
    medians = {}
    for wl in workloads:
        nat = med([w for w, _ in runs.get((wl, "native"), [])])
        natred = med([w for w, _ in runs.get((wl, "native-reduced"), [])])
        for v in ORDER:
            rs = runs.get((wl, v), [])
            if not rs and not fails.get((wl, v)):
                continue
            t = med([w for w, _ in rs])
            rss = med([r for _, r in rs])
            note = ""
            ratio = None
            if t is not None and v == "memcheck":
                fac = factor[(wl, v)]
                same = t / natred if natred else None
                t = t * fac
                note = ("input 1/%g, time x%g (linear); same-input ratio %s; "
                        "RSS of the reduced run" % (fac, fac, fmt(same, ".1f")))
            if t is not None and nat:
                ratio = t / nat
            if fails.get((wl, v)):
                note = (note + "; " if note else "") + "%d run(s) failed" % fails[(wl, v)]
            if v == "heaptrack" and wl == "gcc":
                note = (note + "; " if note else "") + "driver only: heaptrack does not follow cc1/as"
            medians[(wl, v)] = t
            rows.append({
                "workload": wl, "variant": v, "runs": len(rs),
                "median_s": fmt(t, ".3f"), "ratio": fmt(ratio, ".2f"),
                "peak_rss_mib": fmt(rss / 1024 if rss is not None else None, ".1f"),
                "note": note})

    with open(a.csv, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()) if rows else ["workload"])
        w.writeheader()
        w.writerows(rows)

    print("heapcycle benchmarks (BENCH_SCALE=%s): median wall time, ratio to "
          "native glibc, median peak RSS" % a.scale)
    print()
    hdr = "| workload | variant | runs | median s | x native | peak RSS MiB | note |"
    print(hdr)
    print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
    for r in rows:
        print("| %s | %s | %d | %s | %s | %s | %s |" % (
            r["workload"], LABEL.get(r["variant"], r["variant"]), r["runs"],
            r["median_s"], r["ratio"], r["peak_rss_mib"], r["note"]))
    print()

    def ratio(wl, v):
        t, n = medians.get((wl, v)), medians.get((wl, "native"))
        return t / n if t and n else None

    print("Derived (issue 5 targets):")
    for wl in ("micro-1t", "micro-2t"):
        if (wl, "native") not in medians:
            continue
        hc, hcn, ht = ratio(wl, "heapcycle"), ratio(wl, "heapcycle-nostacks"), ratio(wl, "heaptrack")
        print("- %s: heapcycle %sx native (target <= 2), %s of heaptrack's time "
              "(target <= 0.20); --no-stacks %sx (target <= 1.2)" % (
                  wl, fmt(hc, ".2f"),
                  fmt(hc / ht if hc and ht else None, ".3f"), fmt(hcn, ".2f")))
        snap = None
        if medians.get((wl, "heapcycle")) and medians.get((wl, "heapcycle-nosnap")):
            snap = medians[(wl, "heapcycle")] - medians[(wl, "heapcycle-nosnap")]
        ns = ratio(wl, "heapcycle-noscrub")
        if ns:
            print("  %s: the bookkeeping alone (--no-stacks --no-scrub-freed) %sx native; "
                  "zeroing blocks for scrub_freed %sx" % (
                      wl, fmt(ns, ".2f"), fmt(hcn - ns if hcn else None, ".2f")))
        print("  %s: exit snapshot + report = %s s (heapcycle run minus the run "
              "with --no-snapshot-at-exit); heapcycle without it %sx native" % (
                  wl, fmt(snap, ".3f"), fmt(ratio(wl, "heapcycle-nosnap"), ".2f")))
    for v in ("native", "heapcycle", "heapcycle-nosnap", "heapcycle-nostacks", "jemalloc"):
        t1, t2 = medians.get(("micro-1t", v)), medians.get(("micro-2t", v))
        if t1 and t2:
            print("- 2-thread throughput / 1-thread, %s: %.2fx%s" % (
                LABEL[v], 2 * t1 / t2,
                " (target >= 1.7)" if v == "heapcycle" else ""))
    for v in ("heapcycle", "heapcycle-nosnap", "heapcycle-nostacks", "heaptrack"):
        rs = [ratio(wl, v) for wl in REAL if ratio(wl, v)]
        if rs:
            gm = math.exp(sum(math.log(x) for x in rs) / len(rs))
            print("- real programs, %s: geometric mean %.2fx native, max %.2fx "
                  "(%d programs)%s" % (LABEL[v], gm, max(rs), len(rs),
                                       " (targets: <= 1.3, none > 1.6)" if v == "heapcycle" else ""))
    print()

    if not a.scale_raw:
        return
    sc = defaultdict(list)
    with open(a.scale_raw) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            n, v, rep, wall, rss, st, exit_s, meta, sbytes = line.split()
            sc[(int(n), v)].append((float(wall), int(rss), st,
                                     None if exit_s == "-" else float(exit_s),
                                     None if meta == "-" else int(meta),
                                     None if sbytes == "-" else int(sbytes)))
    srows = []
    for n in sorted({k[0] for k in sc}):
        def m(v, i):
            return med([r[i] for r in sc.get((n, v), []) if r[2] == "0" and r[i] is not None])
        nosnap_exit, snap_exit = m("nosnap", 3), m("snap", 3)
        rep_t, rep_rss = m("report", 0), m("report", 1)
        meta = m("snap", 4)
        total = (snap_exit - nosnap_exit if snap_exit is not None and nosnap_exit is not None else None)
        both = total + rep_t if total is not None and rep_t is not None else None
        srows.append({
            "live_blocks": n,
            "native_s": fmt(m("native", 0), ".2f"),
            "shim_no_snapshot_s": fmt(m("nosnap", 0), ".2f"),
            "shim_snapshot_s": fmt(m("snap", 0), ".2f"),
            "exit_snapshot_s": fmt(total, ".2f"),
            "report_s": fmt(rep_t, ".2f"),
            "snapshot_plus_report_s": fmt(both, ".2f"),
            "native_rss_mib": fmt(m("native", 1) / 1024 if m("native", 1) else None, ".0f"),
            "shim_rss_no_snapshot_mib": fmt(m("nosnap", 1) / 1024 if m("nosnap", 1) else None, ".0f"),
            "shim_rss_snapshot_mib": fmt(m("snap", 1) / 1024 if m("snap", 1) else None, ".0f"),
            "report_rss_mib": fmt(rep_rss / 1024 if rep_rss else None, ".0f"),
            "metadata_bytes_per_block": fmt(meta / n if meta else None, ".1f"),
            "snapshot_mib": fmt(m("snap", 5) / 1048576 if m("snap", 5) else None, ".0f"),
            "failed_runs": sum(1 for k in sc if k[0] == n for r in sc[k] if r[2] != "0"),
        })
    if a.scale_csv and srows:
        with open(a.scale_csv, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(srows[0].keys()))
            w.writeheader()
            w.writerows(srows)
    print("Scale benchmark: N live blocks at exit, 1/10 leaked (40% in 2-cycles, "
          "30% in 3-cycles). Exit snapshot = exit time (runner end - program's "
          "timestamp before exit) with the snapshot minus without it; medians.")
    print()
    print("| live blocks | native s | shim, no snapshot s | shim + snapshot s "
          "| exit snapshot s | report s | snapshot + report s | RSS native / shim / "
          "shim+snapshot / report MiB | metadata B/block | snapshot file MiB |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in srows:
        print("| %d | %s | %s | %s | %s | %s | %s | %s / %s / %s / %s | %s | %s |" % (
            r["live_blocks"], r["native_s"], r["shim_no_snapshot_s"],
            r["shim_snapshot_s"], r["exit_snapshot_s"], r["report_s"],
            r["snapshot_plus_report_s"], r["native_rss_mib"],
            r["shim_rss_no_snapshot_mib"], r["shim_rss_snapshot_mib"],
            r["report_rss_mib"], r["metadata_bytes_per_block"], r["snapshot_mib"]))
    print("(targets: 1M blocks snapshot + report < 3 s and < 1 GiB; 10M < 30 s "
          "and < 8 GiB; metadata <= 48 B/block plus the stack depot)")


if __name__ == "__main__":
    sys.exit(main())
