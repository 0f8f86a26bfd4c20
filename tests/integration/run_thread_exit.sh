#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/programs/thread_exit.c: exit() called from a thread, with a 16 KiB
# stack and with the default one; the report must hold the leak, and the
# program its exit status.
[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/integration/lib.sh"

hc_expect_program thread_exit
hc_expect_program thread_exit small
hc_finish
