#!/bin/sh
# SPDX-License-Identifier: MIT
# A bare LD_PRELOAD run given an empty output= in HEAPCYCLE_OPTIONS writes
# its snapshot where it would with no output option at all, the default
# heapcycle.%p.hcs in the current directory, as `heapcycle run` also takes
# an empty output as none; the directory itself is no file name. TAP.
[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/integration/lib.sh"
hc_require_env
unset HEAPCYCLE_OPTIONS LD_PRELOAD
hc_tmpdir
d=$HC_TMP

# LD_PRELOAD goes to sh alone (after timeout and env), whose pid names the
# file; sh prints it.
(cd "$d" && timeout "$HC_TIMEOUT" env LD_PRELOAD="$HEAPCYCLE_PRELOAD" \
	HEAPCYCLE_OPTIONS="output=" sh -c 'echo $$' >"$d/out" 2>"$d/err" </dev/null)
rc=$?
pid=$(cat "$d/out")
hc_ok "$([ "$rc" -eq 0 ] && [ ! -s "$d/err" ] && echo 0 || echo 1)" \
	"output=: the program exits 0 and the shim says nothing" \
	"exit status $rc" "stderr: $(cat "$d/err")"
"$HEAPCYCLE" report "$d/heapcycle.$pid.hcs" >/dev/null 2>"$d/report.err"
hc_ok $? "output=: the snapshot is heapcycle.$pid.hcs in the current directory" \
	"files: $(ls "$d")" "$(cat "$d/report.err")"
hc_finish
