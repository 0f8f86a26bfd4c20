#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/programs/leak_depths.c: direct leaks at stack depths 1, 3 and 6.
# The EXPECT lines of the program source say what the report must hold.
[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/integration/lib.sh"

hc_expect_program leak_depths
hc_finish
