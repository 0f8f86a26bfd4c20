#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/programs/leak_cycle3.c: one leaked 3-member cycle.
# The EXPECT lines of the program source say what the report must hold.
[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/integration/lib.sh"

hc_expect_program leak_cycle3
hc_finish
