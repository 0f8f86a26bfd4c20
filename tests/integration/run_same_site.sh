#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/programs/same_site.c: two call paths through one call site with the
# same stack pointer get their own stacks (the shim's stack cache must
# check the return addresses, not just the call site).
[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/integration/lib.sh"

hc_expect_program same_site
hc_finish
