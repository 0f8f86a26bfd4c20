#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/programs/leak_person_cycle.c (and the README's examples/person_cycle.c): one leaked 2-member cycle.
# The EXPECT lines of the program source say what the report must hold.
[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/integration/lib.sh"

hc_expect_program leak_person_cycle
# The README's example, as built by the project: $HC_PROGRAMS is
# <builddir>/tests/programs.
hc_expect_binary examples/person_cycle "$HC_PROGRAMS/../../examples/person_cycle" \
	"$HC_SRCDIR/examples/person_cycle.c"
hc_finish
