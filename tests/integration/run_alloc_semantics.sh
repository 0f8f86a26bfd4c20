#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/programs/alloc_semantics.c: the shim keeps malloc's documented semantics.
# The EXPECT lines of the program source say what the report must hold.
[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/integration/lib.sh"

hc_expect_program alloc_semantics
hc_finish
