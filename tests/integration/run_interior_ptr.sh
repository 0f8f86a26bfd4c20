#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/programs/interior_ptr.c: a block reachable only through an interior pointer is possible.
# The EXPECT lines of the program source say what the report must hold.
[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/integration/lib.sh"

hc_expect_program interior_ptr
hc_finish
