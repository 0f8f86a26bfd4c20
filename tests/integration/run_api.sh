#!/bin/sh
# SPDX-License-Identifier: MIT
# <heapcycle.h> under the real shim: CPython's gc module for C (and C++
# classes named from their vtables, cxx_types). Each program
# checks the API's answers itself (its exit status) and declares in EXPECT
# lines what the exit report must hold.
[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/integration/lib.sh"

for prog in api_person api_dataobject api_thresholds api_parent_child api_reclaim cxx_types; do
	hc_expect_program "$prog"
done
hc_finish
