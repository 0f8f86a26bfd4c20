#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/programs/fork_leak.c: parent and child each report their own leak.
# The EXPECT lines of the program source say what the report must hold.
[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/integration/lib.sh"

hc_expect_program fork_leak
hc_finish
