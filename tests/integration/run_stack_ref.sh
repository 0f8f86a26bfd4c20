#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/programs/stack_ref.c: a block held only by a live thread's stack is no leak.
# The EXPECT lines of the program source say what the report must hold.
[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/integration/lib.sh"

hc_expect_program stack_ref
hc_finish
