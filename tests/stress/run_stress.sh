#!/bin/sh
# SPDX-License-Identifier: MIT
# The stress suite (issue 6, "never break the program under it"): each
# program of tests/stress runs natively and under `heapcycle run`, under a
# 60 s watchdog (a timeout is a deadlock, a failure). Under heapcycle it
# must exit as natively, print the same output, leave one readable
# snapshot per process whose leaks are exactly those the program made on
# purpose, and hold the blocks the program says it holds (tests/stress/lib.sh
# describes the protocol).
[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/stress/lib.sh"

hs_require_env
lib=$HC_STRESS/.libs/libstress_dl.so
[ -f "$lib" ] || hc_bail "the dlopen stress library $lib is missing"

hs_run threads 0 stress_threads
hs_run fork 0 stress_fork
hs_run signal 0 stress_signal
hs_run dlopen 0 stress_dlopen "$lib"
hs_run exit-thread 3 stress_exit exit-thread
hs_run _exit 4 stress_exit _exit
hs_run abort 134 --no-snapshot stress_exit abort
hs_run return 5 stress_exit return
hs_run many-threads 0 stress_many_threads
hs_run semantics 0 stress_semantics
hc_finish
