#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/programs/leak_cxx.cpp: new, new[] (with an array cookie) and new int[].
# The EXPECT lines of the program source say what the report must hold.
[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/integration/lib.sh"

hc_expect_program leak_cxx
hc_finish
