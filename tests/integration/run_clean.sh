#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/programs/clean.c: everything freed, nothing reported.
# The EXPECT lines of the program source say what the report must hold.
[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/integration/lib.sh"

hc_expect_program clean
hc_finish
