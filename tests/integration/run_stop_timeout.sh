#!/bin/sh
# SPDX-License-Identifier: MIT
# A thread that blocks the stop signal (tests/programs/blocked_signals.c):
# the exit snapshot waits --stop-timeout-ms for it once, not once per round
# of its thread listing, and says its roots are incomplete. Before the fix
# the run took two timeouts (4 s here), in a sched_yield loop.
[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/integration/lib.sh"

hc_require_env
hc_require_programs blocked_signals
hc_tmpdir

start=$(date +%s%N)
hc_run blocked --stop-timeout-ms=2000 -- "$HC_PROGRAMS/blocked_signals"
end=$(date +%s%N)
ms=$(( (end - start) / 1000000 ))
hc_ok "$rc" "heapcycle run exits 0" "exit status $rc" "$(tail -5 "$HC_TMP/blocked.err")"
grep -q "roots incomplete" "$HC_TMP/blocked.err"
hc_ok $? "the report says the roots are incomplete" "$(tail -5 "$HC_TMP/blocked.err")"
grep -q "Direct leak of 99 byte" "$HC_TMP/blocked.err"
hc_ok $? "the 99-byte leak is reported all the same" "$(cat "$HC_TMP/blocked.err")"
# One timeout is 2 s; two would be 4 s. 3.5 s leaves room for a slow machine.
[ "$ms" -ge 2000 ] && [ "$ms" -lt 3500 ]
hc_ok $? "the snapshot waited one stop timeout (2 s), not two" "the run took $ms ms"
hc_finish
