#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/programs/cycle_global.c: a cycle still referenced from a global is no leak.
# The EXPECT lines of the program source say what the report must hold.
[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/integration/lib.sh"

hc_expect_program cycle_global
hc_finish
