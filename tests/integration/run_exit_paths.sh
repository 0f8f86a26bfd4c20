#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/programs/exit_paths.c: the leak is reported whichever way the process ends.
# The EXPECT lines of the program source say what the report must hold.
[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/integration/lib.sh"

hc_expect_program exit_paths return
hc_expect_program exit_paths exit
hc_expect_program exit_paths _exit
hc_expect_program exit_paths exit-from-thread
hc_expect_program exit_paths quick_exit
hc_finish
