#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/programs/leak_list.c: a leaked 10-node list, 1 direct + 9 indirect.
# The EXPECT lines of the program source say what the report must hold.
[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/integration/lib.sh"

hc_expect_program leak_list
hc_finish
